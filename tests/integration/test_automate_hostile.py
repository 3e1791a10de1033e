"""`automate` against registries that answer as an attacker would (issue 14, items 3 and 4).

Everything runs on 127.0.0.1: the paging registry serves a hostile tag list,
in-test servers trickle or flood their answers.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from testbed.git_server import GitHttpServer
from testbed.gitenv import run_git
from testbed.hostile import hostile_server, trickle
from testbed.paging_registry import PagingRegistry
from tests.integration.automate_support import Cli, cli_env

pytestmark = pytest.mark.services

CONFIG = """\
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageRepository
metadata:
  name: {name}
  namespace: flux-system
spec:
  image: {image}
  interval: 1m
---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImagePolicy
metadata:
  name: {name}
  namespace: flux-system
spec:
  imageRepositoryRef:
    name: {name}
  policy:
    alphabetical:
      order: asc
"""
MANIFEST = 'image: {image}:a1 # {{"$imagepolicy": "flux-system:{name}"}}\n'

HOSTILE_TAGS = [
    "a1",
    "a2",
    "z\nforged=line",
    "z$(touch /tmp/pwned)",
    "z`id`",
    "z\u202etxt.exe",
    "z" + "9" * 5000,
    "z tab\there",
]


def test_tags_that_are_not_oci_tags_are_dropped_never_pushed_nor_printed(
    paging_registry: PagingRegistry,
    git_server: GitHttpServer,
    git_env: dict[str, str],
    tmp_path: Path,
) -> None:
    image = f"{paging_registry.host}/hostile/tags"
    paging_registry.set_tags("hostile/tags", HOSTILE_TAGS)
    files = {
        "config.yaml": CONFIG.format(name="tags", image=image),
        "app.yaml": MANIFEST.format(name="tags", image=image),
    }
    git_server.create_repo("hostile-tags", files)
    env = cli_env(
        git_env,
        cache=tmp_path / "cache",
        git_user=git_server.username,
        git_password=git_server.password,
        insecure=paging_registry.host,
    )

    result = Cli(env).run(
        "automate", "--repo", git_server.repo_url("hostile-tags", auth=False), "--output", "json"
    )

    pushed = git_server.repos.read_file("hostile-tags", "app.yaml")
    assert pushed == MANIFEST.format(name="tags", image=image).replace(":a1 ", ":a2 ")
    assert result.json()["policies"][0]["selected"] == "a2"
    for output in (result.stdout, result.stderr):
        assert "forged=line" not in output.splitlines()
        assert "\n" + "forged" not in output
        assert "\u202e" not in output and "9" * 200 not in output


def _two_policies(
    git_server: GitHttpServer,
    paging_registry: PagingRegistry,
    bad_port: int,
    repo: str,
) -> tuple[dict[str, str], str]:
    good = f"{paging_registry.host}/fine/app"
    bad = f"127.0.0.1:{bad_port}/hostile/app"
    paging_registry.set_tags("fine/app", ["a1", "a2"])
    files = {
        "good.yaml": CONFIG.format(name="good", image=good),
        "bad.yaml": CONFIG.format(name="bad", image=bad),
        "app.yaml": MANIFEST.format(name="good", image=good)
        + MANIFEST.format(name="bad", image=bad).replace("image:", "other:"),
    }
    git_server.create_repo(repo, files)
    return files, good


def _env(git_env: dict[str, str], tmp_path: Path, git_server: GitHttpServer, *hosts: str):
    return cli_env(
        git_env,
        cache=tmp_path / "cache",
        git_user=git_server.username,
        git_password=git_server.password,
        insecure=" ".join(hosts),
    )


def test_a_trickling_registry_fails_its_policy_within_the_deadline_and_the_run_goes_on(
    paging_registry: PagingRegistry,
    git_server: GitHttpServer,
    git_env: dict[str, str],
    tmp_path: Path,
) -> None:
    stop = threading.Event()
    slow = trickle(200, "application/json", b" ", every=1.0, limit=40, stop=stop,
                   prefix=b'{"tags": ["a9"]', suffix=b"}")  # fmt: skip
    with hostile_server(slow, "trickling-registry") as (port, seen):
        files, good = _two_policies(git_server, paging_registry, port, "hostile-slow")
        env = _env(git_env, tmp_path, git_server, paging_registry.host, f"127.0.0.1:{port}")
        env["GITOPS_REGISTRY_TIMEOUT"] = "3"
        try:
            result = Cli(env).run(
                "automate", "--repo", git_server.repo_url("hostile-slow", auth=False),
                "--output", "json", check=None, timeout=25,
            )  # fmt: skip
        finally:
            stop.set()
    assert seen.requests, "the hostile registry was asked"
    assert result.code == 1, result.stderr
    policies = {p["policy"]: p for p in result.json()["policies"]}
    assert policies["flux-system:good"]["action"] == "updated"
    assert "3s (total deadline)" in policies["flux-system:bad"]["error"]
    pushed = git_server.repos.read_file("hostile-slow", "app.yaml")
    assert pushed == files["app.yaml"].replace(f"{good}:a1", f"{good}:a2")


def test_a_flooding_registry_is_cut_off_at_the_body_cap(
    paging_registry: PagingRegistry,
    git_server: GitHttpServer,
    git_env: dict[str, str],
    tmp_path: Path,
) -> None:
    sent: list[int] = []
    flood = trickle(200, "application/json", b"x" * (1 << 20), every=0, limit=160,
                    prefix=b'{"tags": ["', suffix=b'"]}', sent=sent)  # fmt: skip
    with hostile_server(flood, "flooding-registry") as (port, _seen):
        _two_policies(git_server, paging_registry, port, "hostile-flood")
        env = _env(git_env, tmp_path, git_server, paging_registry.host, f"127.0.0.1:{port}")
        result = Cli(env).run(
            "automate", "--repo", git_server.repo_url("hostile-flood", auth=False),
            "--output", "json", check=1, timeout=60,
        )  # fmt: skip
    policies = {p["policy"]: p for p in result.json()["policies"]}
    assert policies["flux-system:good"]["action"] == "updated"
    assert "larger than 33554432 bytes" in policies["flux-system:bad"]["error"]
    assert sum(sent) < 80 * (1 << 20), "the client stopped reading long before the end"


AUTOMATION = """\
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageUpdateAutomation
metadata:
  name: flux-system
  namespace: flux-system
spec:
  git:
    checkout:
      ref:
        branch: main
    commit:
      author:
        email: bot@example.com
        name: bot
    push:
      branch: main
  interval: 1m
  sourceRef:
    kind: GitRepository
    name: flux-system
  update:
    path: ./deploy
    strategy: Setters
"""


def test_a_symlinked_update_path_never_rewrites_files_outside_the_clone(
    paging_registry: PagingRegistry,
    git_server: GitHttpServer,
    git_env: dict[str, str],
    tmp_path: Path,
) -> None:
    image = f"{paging_registry.host}/hostile/link"
    paging_registry.set_tags("hostile/link", ["a1", "a2"])
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim.yaml"
    victim.write_text(MANIFEST.format(name="link", image=image))
    work = tmp_path / "work"
    work.mkdir()
    (work / "config.yaml").write_text(
        CONFIG.format(name="link", image=image) + "---\n" + AUTOMATION
    )
    (work / "deploy").symlink_to(outside)  # committed as a symlink, as git stores it
    bare = git_server.create_repo("hostile-link")
    run_git("init", "--quiet", "--initial-branch=main", str(work), env=git_env)
    run_git("add", "--all", cwd=work, env=git_env)
    run_git("commit", "--quiet", "-m", "seed", cwd=work, env=git_env)
    run_git("push", "--quiet", str(bare), "HEAD:refs/heads/main", cwd=work, env=git_env)
    env = _env(git_env, tmp_path, git_server, paging_registry.host)

    result = Cli(env).run(
        "automate", "--repo", git_server.repo_url("hostile-link", auth=False), check=None
    )

    assert victim.read_text() == MANIFEST.format(name="link", image=image)
    assert result.code == 2, result.stderr
    assert "spec.update.path deploy: leaves the checkout" in result.stderr


def test_a_push_the_server_refuses_still_prints_the_json_report(
    paging_registry: PagingRegistry,
    git_server: GitHttpServer,
    git_env: dict[str, str],
    tmp_path: Path,
) -> None:
    image = f"{paging_registry.host}/hostile/refused"
    paging_registry.set_tags("hostile/refused", ["a1", "a2"])
    bare = git_server.create_repo("hostile-refused", {
        "config.yaml": CONFIG.format(name="refused", image=image),
        "app.yaml": MANIFEST.format(name="refused", image=image),
    })  # fmt: skip
    hook = bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'denied by branch protection' >&2\nexit 1\n")
    hook.chmod(0o755)
    env = _env(git_env, tmp_path, git_server, paging_registry.host)

    result = Cli(env).run(
        "automate", "--repo", git_server.repo_url("hostile-refused", auth=False),
        "--output", "json", check=1,
    )  # fmt: skip

    report = result.json()
    assert report["pushed"] is False and len(report["commits"]) == 1
    assert [p["selected"] for p in report["policies"]] == ["a2"]
    assert "refused" in report["error"] or "rejected" in report["error"]
    pushed = git_server.repos.read_file("hostile-refused", "app.yaml")
    assert pushed == MANIFEST.format(name="refused", image=image)
