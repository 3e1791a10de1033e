"""Smoke tests of the real-service fixtures: each fails unless the service answers.

They are the first thing to run when another integration test misbehaves: a
failure here means the environment (Debian packages, ports, the fixture code),
not the code under test, is at fault.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import httpx
import pytest

from testbed.dockerd import DockerEngine
from testbed.git_server import GitDaemon, GitHttpServer
from testbed.gitenv import run_git
from testbed.images import DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, MANIFEST_ACCEPT, OCI_INDEX
from testbed.metrics_exporter import MetricsExporter
from testbed.paging_registry import PagingRegistry
from testbed.prometheus import PrometheusService
from testbed.registry import RegistryService

pytestmark = pytest.mark.services

_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


# -- registry ------------------------------------------------------------------
def test_registry_push_with_auth_then_list_and_head(registry: RegistryService) -> None:
    digest = registry.push_image("smoke/app", ["v1.0.0", "latest"], labels={"k": "v"})

    assert registry.list_tags("smoke/app") == ["latest", "v1.0.0"]
    with httpx.Client(base_url=registry.url, auth=(registry.username, registry.password)) as c:
        head = c.head("/v2/smoke/app/manifests/v1.0.0", headers={"Accept": MANIFEST_ACCEPT})
        manifest = c.get("/v2/smoke/app/manifests/latest", headers={"Accept": MANIFEST_ACCEPT})
        layer = manifest.json()["layers"][0]
        blob = c.get(f"/v2/smoke/app/blobs/{layer['digest']}")
    assert head.status_code == 200
    assert head.headers["Docker-Content-Digest"] == digest
    assert head.headers["Content-Type"] == DOCKER_MANIFEST
    assert "sha256:" + hashlib.sha256(manifest.content).hexdigest() == digest
    assert "sha256:" + hashlib.sha256(blob.content).hexdigest() == layer["digest"]


def test_registry_rejects_wrong_or_missing_credentials(registry: RegistryService) -> None:
    registry.push_image("smoke/private", "v1")
    wrong = httpx.get(f"{registry.url}/v2/smoke/private/tags/list", auth=(registry.username, "no"))
    anonymous = httpx.get(f"{registry.url}/v2/smoke/private/tags/list")

    assert wrong.status_code == 401
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Basic ")


def test_registry_index_and_delete(registry: RegistryService) -> None:
    index = registry.push_index("smoke/multi", ["v2.0.0"], oci=True)
    docker_list = registry.push_index("smoke/multi", ["v2.0.1"])
    media_type, body = registry.get_manifest("smoke/multi", "v2.0.0")

    assert media_type == OCI_INDEX
    assert registry.get_manifest("smoke/multi", "v2.0.1")[0] == DOCKER_MANIFEST_LIST
    assert registry.manifest_digest("smoke/multi", "v2.0.1") == docker_list.digest
    assert [m["digest"] for m in body["manifests"]] == [i.digest for i in index.images]

    assert registry.delete("smoke/multi", "v2.0.0") == index.digest
    assert registry.list_tags("smoke/multi") == ["v2.0.1"]
    assert registry.manifest_digest("smoke/multi", "v2.0.0") is None


# -- paging registry -------------------------------------------------------------
def test_paging_registry_pages_with_link_headers(paging_registry: PagingRegistry) -> None:
    tags = [f"1.0.{i}" for i in range(12)] + ["latest", "v2.0.0", "0.9.0"]
    paging_registry.set_tags("team/app", tags)

    collected: list[str] = []
    url: str | None = "/v2/team/app/tags/list?n=4"
    with httpx.Client(base_url=paging_registry.url) as client:
        while url:
            response = client.get(url)
            assert response.status_code == 200
            collected += response.json()["tags"]
            match = _NEXT.search(response.headers.get("Link", ""))
            url = match.group(1) if match else None

    assert collected == sorted(tags)
    assert len(paging_registry.tag_list_requests("team/app")) == 4  # 15 tags, pages of 4


def test_paging_registry_429_then_success(paging_registry: PagingRegistry) -> None:
    paging_registry.set_tags("team/app", ["v1"])
    paging_registry.fail_next(429, times=2, retry_after=1)

    with httpx.Client(base_url=paging_registry.url) as client:
        answers = [client.get("/v2/team/app/tags/list") for _ in range(3)]

    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].headers["Retry-After"] == "1"
    assert answers[2].json() == {"name": "team/app", "tags": ["v1"]}
    assert [r.status for r in paging_registry.requests] == [429, 429, 200]


def test_paging_registry_auth_and_unknown_repo(paging_registry: PagingRegistry) -> None:
    paging_registry.require_auth("u", "p")
    paging_registry.set_tags("known", ["a"])
    with httpx.Client(base_url=paging_registry.url) as client:
        anonymous = client.get("/v2/known/tags/list")
        unknown = client.get("/v2/unknown/tags/list", auth=("u", "p"))
    assert anonymous.status_code == 401
    assert unknown.status_code == 404


# -- dockerd -------------------------------------------------------------------
def test_dockerd_builds_scratch_image_and_pushes_with_auth(
    dockerd: DockerEngine, registry: RegistryService
) -> None:
    assert dockerd.ping()
    repository = f"{registry.host}/smoke/built"
    image_id = dockerd.build_scratch_image(
        {"app/hello.txt": "hello\n"}, f"{repository}:v1", labels={"smoke": "yes"}
    )
    with dockerd.client() as client:
        assert client.images.get(f"{repository}:v1").labels == {"smoke": "yes"}
    assert image_id.startswith("sha256:")

    digest = dockerd.push(repository, "v1", username=registry.username, password=registry.password)

    assert registry.list_tags("smoke/built") == ["v1"]
    assert registry.manifest_digest("smoke/built", "v1") == digest
    with pytest.raises(RuntimeError, match="push of"):
        dockerd.push(repository, "v1", username=registry.username, password="wrong")


# -- git over smart HTTP ---------------------------------------------------------
def test_git_server_clone_gzip_fetch_and_chunked_push(
    git_server: GitHttpServer, git_env: dict[str, str], tmp_path: Path
) -> None:
    seed = git_server.create_repo("smoke-http", {"README.md": "hello\n"})
    for i in range(40):  # 40 distinct tag objects: a fetch request over 1 KiB, sent gzipped
        run_git("--git-dir", str(seed), "tag", "-a", "-m", f"t{i}", f"t{i}", "main", env=git_env)
    work = tmp_path / "clone"

    run_git("clone", git_server.repo_url("smoke-http"), str(work), env=git_env)
    (work / "big.bin").write_bytes(os.urandom(256 * 1024))  # incompressible: pack > postBuffer
    run_git("add", "big.bin", cwd=work, env=git_env)
    run_git("commit", "-m", "big file", cwd=work, env=git_env)
    run_git("-c", "http.postBuffer=65536", "push", "origin", "main", cwd=work, env=git_env)

    local_head = run_git("rev-parse", "HEAD", cwd=work, env=git_env).stdout.strip()
    assert git_server.head("smoke-http") == local_head
    assert git_server.log("smoke-http") == ["big file", "seed"]
    assert len(run_git("tag", cwd=work, env=git_env).stdout.split()) == 40
    counters = git_server.counters()
    assert counters.pushes == 1
    assert counters.chunked_requests >= 1
    assert counters.gzip_requests >= 1
    assert counters.fetches == 1
    assert counters.failed_cgi == 0


def test_git_server_refuses_wrong_and_missing_credentials(
    git_server: GitHttpServer, git_env: dict[str, str], tmp_path: Path
) -> None:
    git_server.create_repo("smoke-auth", {"a.txt": "a\n"})
    wrong = git_server.repo_url("smoke-auth").replace(git_server.password, "wrong-pass")

    bad = run_git("clone", wrong, str(tmp_path / "bad"), env=git_env, check=False)
    anonymous = run_git(
        "clone", git_server.repo_url("smoke-auth", auth=False), str(tmp_path / "anon"),
        env=git_env, check=False,
    )  # fmt: skip

    assert bad.returncode != 0
    assert "Authentication failed" in bad.stderr
    assert anonymous.returncode != 0
    assert "could not read Username" in anonymous.stderr
    assert git_server.counters().unauthorized >= 2


def test_git_server_failure_modes(git_server: GitHttpServer, git_env: dict[str, str]) -> None:
    git_server.create_repo("smoke-down", {"a.txt": "a\n"})
    url = git_server.repo_url("smoke-down")

    with git_server.failing("503"):
        unavailable = run_git("ls-remote", url, env=git_env, check=False)
    with git_server.failing("drop"):
        dropped = run_git("ls-remote", url, env=git_env, check=False)
    with git_server.stopped():
        refused = run_git("ls-remote", url, env=git_env, check=False)
    back = run_git("ls-remote", url, env=git_env, check=False)

    assert unavailable.returncode != 0
    assert "503" in unavailable.stderr
    assert dropped.returncode != 0
    assert "Empty reply from server" in dropped.stderr
    assert refused.returncode != 0
    assert "Failed to connect" in refused.stderr or "Couldn't connect" in refused.stderr
    assert back.returncode == 0
    assert (git_server.head("smoke-down") or "no head") in back.stdout


# -- git daemon ----------------------------------------------------------------
def test_git_daemon_clone_and_push_without_auth(
    git_daemon: GitDaemon, git_env: dict[str, str], tmp_path: Path
) -> None:
    git_daemon.create_repo("smoke-daemon", {"a.txt": "a\n"})
    work = tmp_path / "clone"

    run_git("clone", git_daemon.repo_url("smoke-daemon"), str(work), env=git_env)
    (work / "b.txt").write_text("b\n")
    run_git("add", "b.txt", cwd=work, env=git_env)
    run_git("commit", "-m", "add b", cwd=work, env=git_env)
    run_git("push", "origin", "main", cwd=work, env=git_env)

    local_head = run_git("rev-parse", "HEAD", cwd=work, env=git_env).stdout.strip()
    assert git_daemon.head("smoke-daemon") == local_head
    assert git_daemon.log("smoke-daemon") == ["add b", "seed"]


# -- prometheus ----------------------------------------------------------------
def test_prometheus_returns_the_exporters_value(
    prometheus: PrometheusService, metrics_exporter: MetricsExporter
) -> None:
    assert prometheus.query("gitops_smoke_value") is None
    metrics_exporter.set_gauge("gitops_smoke_value", 42.5, app="smoke")

    assert prometheus.wait_for('gitops_smoke_value{app="smoke"}', lambda v: v == 42.5) == 42.5


def test_prometheus_sees_the_error_rate_the_test_sets(
    prometheus: PrometheusService, metrics_exporter: MetricsExporter
) -> None:
    metrics_exporter.set_traffic("smoke-canary", rps=400, error_rate=0.25, latency=0.2)
    errors = (
        'sum(rate(http_requests_total{app="smoke-canary",status=~"5.."}[3s]))'
        ' / sum(rate(http_requests_total{app="smoke-canary"}[3s]))'
    )
    p99 = (
        "histogram_quantile(0.99, sum(rate("
        'http_request_duration_seconds_bucket{app="smoke-canary"}[3s])) by (le))'
    )

    ratio = prometheus.wait_for(errors, lambda v: abs(v - 0.25) < 0.03)
    latency = prometheus.wait_for(p99, lambda v: 0.1 < v <= 0.25)

    assert abs(ratio - 0.25) < 0.03
    assert 0.1 < latency <= 0.25
