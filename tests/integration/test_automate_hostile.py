"""`automate` against registries that answer as an attacker would (issue 14, items 3 and 4).

Everything runs on 127.0.0.1: the paging registry serves a hostile tag list,
in-test servers trickle or flood their answers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from testbed.git_server import GitHttpServer
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
