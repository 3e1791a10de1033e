"""`gitops-action check`: a tree with one error of each kind reports them all (exit 2);
the repository's own cluster/ reports nothing (exit 0)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CLI = Path(sys.executable).with_name("gitops-action")
ROOT = Path(__file__).resolve().parents[2]

TREE = {
    "Kustomization": """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
images:
  - name: app
    newTag: v1 # {"$imagepolicy": "flux-system:app:tag"
""",
    "auto.yaml": """\
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageUpdateAutomation
metadata:
  name: auto
  namespace: flux-system
spec:
  interval: 5m
  sourceRef:
    kind: GitRepository
    name: flux-system
  git:
    commit:
      author:
        email: bot@example.com
        name: bot
      messageTemplate: "{{ .Nope"
  update:
    path: ./
    strategy: Setters
""",
    "broken.yaml": """\
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: x
  bad: [unclosed
""",
    "canary.yaml": """\
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: app
  namespace: apps
spec:
  provider: gatewayapi:v1
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: app
  service:
    port: 80
    gatewayRefs:
      - name: public
        namespace: gateway
  analysis:
    interval: 1m
    threshold: 5
    maxWeight: 50
    stepWeight: 10
    metrics:
      - name: errors
        templateRef:
          name: not-there
        thresholdRange:
          max: 1
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata:
  name: latency
  namespace: apps
spec:
  provider:
    type: datadog
  query: avg
""",
    "deploy.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  template:
    spec:
      containers:
        - name: app
          image: registry.example/app:v1 # {"$imagepolicy": "app"}
        - name: side
          image: registry.example/side:v1 # {"$imagepolicy": "flux-system:nope"}
""",
    "hr.yaml": """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: apps
spec:
  interval: 10m
""",
    "images.yaml": """\
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageRepository
metadata:
  name: app
  namespace: flux-system
spec:
  image: registry.example/app
  interval: 1m
---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageRepository
metadata:
  name: app
  namespace: flux-system
spec:
  image: registry.example/app
  interval: 1m
---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImagePolicy
metadata:
  name: app
  namespace: flux-system
spec:
  imageRepositoryRef:
    name: app
  policy:
    semver:
      range: ">=1.0 <<2"
---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImagePolicy
metadata:
  name: web
  namespace: flux-system
spec:
  imageRepositoryRef:
    name: missing
  filterTags:
    pattern: '^(?=v)v[0-9]+$'
  policy:
    semver:
      range: ">=1.0.0"
---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImagePolicy
metadata:
  name: api
  namespace: flux-system
spec:
  imageRepositoryRef:
    name: other
  policy:
    alphabetical:
      order: asc
""",
    "ks.yaml": """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  decryption:
    provider: sops
""",
}

# One line per problem: (file, a fragment naming the document and field, the reason).
EXPECTED = [
    ("Kustomization", "Kustomization:5: ", "marker is not valid JSON"),
    (
        "auto.yaml",
        "(ImageUpdateAutomation flux-system/auto): spec.git.commit.messageTemplate",
        "unclosed action",
    ),
    ("broken.yaml", "broken.yaml:6: ", "invalid YAML"),
    ("canary.yaml", "(Canary apps/app): spec.analysis.metrics[0].templateRef", "does not exist"),
    (
        "canary.yaml",
        "(MetricTemplate apps/latency): spec.provider.type",
        "'datadog' is not supported",
    ),
    ("deploy.yaml", "deploy.yaml:10: ", "namespace is required"),
    (
        "deploy.yaml",
        "deploy.yaml:12: ",
        "ImagePolicy flux-system:nope, which is not in the repository",
    ),
    ("hr.yaml", "(HelmRelease podinfo): spec.chart", "spec.chart or spec.chartRef"),
    ("images.yaml", "document 2 (ImageRepository flux-system/app): metadata.name", "duplicate"),
    (
        "images.yaml",
        "(ImagePolicy flux-system/app): spec.policy.semver.range",
        "invalid semver range",
    ),
    (
        "images.yaml",
        "(ImagePolicy flux-system/web): spec.filterTags.pattern",
        "invalid perl operator",
    ),
    (
        "images.yaml",
        "(ImagePolicy flux-system/api): spec.imageRepositoryRef",
        "flux-system/other is not in",
    ),
    (
        "ks.yaml",
        "Kustomization flux-system/apps: spec.decryption",
        "SOPS decryption is not supported",
    ),
]


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), "check", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for name, text in TREE.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def test_every_problem_is_reported_at_once(tree: Path) -> None:
    done = run(tree)

    assert done.returncode == 2, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == len(EXPECTED), done.stdout
    for line, (file, where, reason) in zip(lines, EXPECTED, strict=True):
        assert line.startswith(file), line
        assert where in line and reason in line, line
    assert done.stderr.strip() == "gitops-action: error: check: 13 problems in 8 files"


def test_json_output_lists_the_same_problems(tree: Path) -> None:
    done = run(tree, "--output", "json")

    assert done.returncode == 2, done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is False
    assert [problem["file"] for problem in report["problems"]] == [f for f, _, _ in EXPECTED]
    assert report["objects"] == 10


def test_a_fixed_tree_is_clean(tree: Path) -> None:
    for name in ("broken.yaml", "canary.yaml", "hr.yaml", "ks.yaml", "auto.yaml", "Kustomization"):
        (tree / name).unlink()
    (tree / "deploy.yaml").write_text(
        'image: registry.example/app:v1 # {"$imagepolicy": "flux-system:web"}\n'
    )
    images = (tree / "images.yaml").read_text().split("---\n")
    (tree / "images.yaml").write_text(
        "---\n".join([images[0], images[3].replace("missing", "app").replace("(?=v)", "")])
    )

    done = run(tree)

    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_the_repositorys_own_cluster_directory_is_clean() -> None:
    done = run(ROOT / "cluster")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
