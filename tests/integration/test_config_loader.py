"""Loading the Flux config from real directories.

Files that do not mention ``image.toolkit.fluxcd.io`` are never parsed, and
neither are documents of a mixed file that do not mention it: the tests prove
it by planting invalid YAML there, which would fail loading if it were read.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gitops_action.adapters.config_loader import load_config, read_documents, split_documents
from gitops_action.domain.config import ObjectKey
from gitops_action.domain.errors import ConfigError, InvalidConfig, InvalidManifest

REPO = Path(__file__).resolve().parents[2]
SEED = ("app-registry.yaml", "app-policy.yaml", "demo-automation.yaml", "deployment.yaml")
BROKEN_YAML = "key: [unclosed\n  - {{ .Values.image }}\n"

POLICY = """\
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImagePolicy
metadata:
  name: {name}
  namespace: flux-system
spec:
  imageRepositoryRef:
    name: app
  policy:
    semver:
      range: ">=1.0.0"
"""


def seed_tree(root: Path) -> Path:
    """A repo with the seed tutorial's cluster/ directory, copied byte for byte."""
    (root / "cluster").mkdir(parents=True)
    for name in SEED:
        shutil.copyfile(REPO / "cluster" / name, root / "cluster" / name)
    return root


def test_the_seed_cluster_directory_loads(tmp_path: Path) -> None:
    loaded = load_config(seed_tree(tmp_path))
    key = ObjectKey("flux-system", "app")
    assert list(loaded.repositories) == [key]
    assert list(loaded.policies) == [key]
    (automation,) = loaded.automations
    assert automation.update_path == "cluster"
    assert automation.source.file == "cluster/demo-automation.yaml"
    assert (automation.source.document, automation.source.line) == (1, 2)


def test_the_repos_own_cluster_directory_loads() -> None:
    loaded = load_config(REPO / "cluster")
    assert {str(key) for key in loaded.policies} == {"flux-system/app"}


def test_unrelated_files_are_never_parsed(tmp_path: Path) -> None:
    root = seed_tree(tmp_path)
    # Invalid YAML everywhere the loader must not look: a file without the group,
    # a Helm template, a non-YAML file that mentions the group, and .git.
    (root / "charts" / "app" / "templates").mkdir(parents=True)
    (root / "charts" / "app" / "templates" / "deployment.yaml").write_text(BROKEN_YAML)
    (root / "notes.md").write_text("image.toolkit.fluxcd.io/v1beta2\n" + BROKEN_YAML)
    (root / ".git").mkdir()
    (root / ".git" / "policy.yaml").write_text(
        "apiVersion: image.toolkit.fluxcd.io/v1\n" + BROKEN_YAML
    )
    for number in range(200):
        (root / "charts" / f"values-{number}.yml").write_text(BROKEN_YAML)
    loaded = load_config(root)
    assert len(loaded.policies) == 1
    # The same broken text in a file that mentions the group is read, and reported.
    (root / "charts" / "flux.yaml").write_text("# image.toolkit.fluxcd.io\n" + BROKEN_YAML)
    with pytest.raises(InvalidManifest, match=r"^charts/flux\.yaml:3: invalid YAML"):
        load_config(root)


def test_only_documents_that_mention_the_group_are_parsed(tmp_path: Path) -> None:
    root = seed_tree(tmp_path)
    (root / "cluster" / "mixed.yaml").write_text(
        "---\n"
        + BROKEN_YAML  # document 1: a broken Helm-ish document, never parsed
        + "---\n"
        "apiVersion: apps/v1\n"  # document 2: a plain manifest
        "kind: ConfigMap\n"
        "metadata: {name: x}\n"
        "---\n" + POLICY.format(name="second")  # document 3
    )
    loaded = load_config(root)
    second = loaded.policies[ObjectKey("flux-system", "second")]
    assert (second.source.file, second.source.document, second.source.line) == (
        "cluster/mixed.yaml",
        3,
        9,  # the "---" is on line 8, the document's content starts on line 9
    )


def test_document_numbers_count_like_a_reader(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "# a comment before the first marker is not a document\n"
        "---\n"
        "kind: ConfigMap\n"
        "...\n"
        "---\n" + POLICY.format(name="b").replace("name: app", "name: nope")
    )
    (document,) = read_documents(tmp_path)
    assert (document.source.document, document.source.line) == (2, 6)
    numbers = [number for number, _line, _text in split_documents("a: 1\n---\nb: 2\n---\n---\nc\n")]
    assert numbers == [1, 2, 3, 4]


def test_yaml_errors_name_the_file_and_its_line(tmp_path: Path) -> None:
    (tmp_path / "policies.yaml").write_text(
        POLICY.format(name="one")
        + "---\n"
        + POLICY.format(name="two").replace('range: ">=1.0.0"', "range: a: b")
    )
    with pytest.raises(InvalidManifest) as caught:
        load_config(tmp_path)
    # The second document starts on line 13; its range is on its line 11, so line 23.
    # (libyaml ends the sentence "in this context", pure-Python PyYAML "here".)
    assert str(caught.value).startswith(
        "policies.yaml:23: invalid YAML: mapping values are not allowed"
    )


def test_validation_errors_name_file_and_document(tmp_path: Path) -> None:
    root = seed_tree(tmp_path)
    policy_file = root / "cluster" / "app-policy.yaml"
    policy_file.write_text(policy_file.read_text().replace("^v1.0.0", "banana"))
    with pytest.raises(InvalidConfig) as caught:
        load_config(root)
    assert str(caught.value).startswith(
        "cluster/app-policy.yaml: document 1 (ImagePolicy flux-system/app): "
        "spec.policy.semver.range: invalid semver range 'banana'"
    )


def test_crlf_and_byte_order_mark_files_load(tmp_path: Path) -> None:
    text = "\ufeff---\r\n" + POLICY.format(name="app").replace("\n", "\r\n")
    (tmp_path / "policy.yaml").write_bytes(text.encode("utf-8"))
    registry = (REPO / "cluster" / "app-registry.yaml").read_text()
    (tmp_path / "registry.yml").write_text(registry)
    loaded = load_config(tmp_path)
    assert loaded.policies[ObjectKey("flux-system", "app")].policy_spec["range"] == ">=1.0.0"


def test_non_utf8_flux_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "latin1.yaml").write_bytes(b"# image.toolkit.fluxcd.io caf\xe9\n")
    with pytest.raises(InvalidManifest, match=r"^latin1\.yaml:1: not UTF-8"):
        load_config(tmp_path)


def test_a_missing_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a directory"):
        load_config(tmp_path / "nope")


def test_an_empty_tree_is_an_empty_config(tmp_path: Path) -> None:
    (tmp_path / "deployment.yaml").write_text("apiVersion: apps/v1\nkind: Deployment\n")
    loaded = load_config(tmp_path)
    assert (loaded.repositories, loaded.policies, loaded.automations) == ({}, {}, ())
