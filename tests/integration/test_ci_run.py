"""`gitops-action ci run` against a real dockerd and a real registry (Distribution 2.8).

The builds go through `docker buildx build` on buildx's default builder, the
engine's own BuildKit (driver `docker`); test_ci_run_buildkit.py covers a
real buildkitd (driver `remote`), test_ci_run_engine.py the path without
buildx (`DOCKER_BUILDKIT=1 docker build`).

Each test runs the console script in a subprocess with a clean environment
(no inherited GITHUB_* / GITOPS_*), a GitHub-shaped event file and its own
repository name in the session registry. Outputs are read back with the
runner's parser (testbed/githubapi/runner.py), never with our own formatter.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from testbed.actionrunner.scenario import (
    BOT,
    SHA,
    CountingListener,
    make_project,
    pull_request_event,
    push_event,
)
from testbed.dockerd import DockerEngine
from testbed.githubapi.runner import parse_workflow_command
from testbed.githubapi.server import DEFAULT_TOKEN, GitHubApiStub
from testbed.githubapi.shapes import GitIdentity
from testbed.registry import RegistryService
from tests.integration.ci_run_support import (
    FAKE_CREDENTIALS,
    ci_run,
    credentials,
    image_config,
    unique_repo,
)

ADA = GitIdentity("Ada Lovelace", "ada@acme.example")

pytestmark = pytest.mark.services


# -- the release path -------------------------------------------------------------------


def test_tag_build_pushes_version_latest_and_sha_with_one_digest(
    tmp_path: Path, registry: RegistryService, dockerd: DockerEngine
) -> None:
    repo = unique_repo("release")
    image = f"{registry.host}/{repo}"
    marker = tmp_path / "tests-ran"
    run = ci_run(
        tmp_path,
        image=image,
        docker_host=dockerd.docker_host,
        extra_env={**credentials(registry), "GITOPS_TEST_COMMAND": f"touch {marker}"},
    )
    assert run.code == 0, run.stderr
    assert marker.exists()
    assert registry.list_tags(repo) == ["latest", "sha-89abcde", "v1.2.3"]
    digests = {
        tag: registry.manifest_digest(repo, tag) for tag in ("v1.2.3", "latest", "sha-89abcde")
    }
    assert len(set(digests.values())) == 1
    digest = digests["v1.2.3"]
    assert digest is not None and digest.startswith("sha256:")
    metadata = json.loads(run.outputs["metadata"])
    assert metadata["containerimage.digest"] == digest
    assert run.outputs["imageid"] == metadata["containerimage.config.digest"]
    assert run.outputs == {
        "skipped": "false",
        "image": f"{image}:v1.2.3",
        "tags": f"{image}:v1.2.3\n{image}:latest\n{image}:sha-89abcde",
        "digest": digest,
        "imageid": run.outputs["imageid"],
        "metadata": run.outputs["metadata"],
        "test-outcome": "success",
    }
    assert run.stdout.splitlines() == [
        "skipped=false",
        f"image={image}:v1.2.3",
        f"digest={digest}",
        f"imageid={run.outputs['imageid']}",
        f"metadata={run.outputs['metadata']}",
        "test-outcome=success",
        f"tag={image}:v1.2.3",
        f"tag={image}:latest",
        f"tag={image}:sha-89abcde",
    ]
    labels = image_config(registry, repo, "v1.2.3")["config"]["Labels"]
    assert labels["org.opencontainers.image.source"] == "https://github.com/acme/app"
    assert labels["org.opencontainers.image.revision"] == SHA
    assert labels["org.opencontainers.image.version"] == "v1.2.3"
    assert labels["org.opencontainers.image.created"].endswith("Z")
    assert digest in run.summary
    assert f"`{image}:sha-89abcde`" in run.summary
    assert "passed" in run.summary
    assert "docker buildx build (builder default, driver docker)" in run.summary
    assert "| **Cached steps** | " in run.summary and "| **Build time** | " in run.summary


def test_two_images_get_every_tag_each_push_logged_once_in_tag_order(
    tmp_path: Path, registry: RegistryService, dockerd: DockerEngine
) -> None:
    """One build names and pushes every tag of every image: one digest, logged in tag order."""
    repos = [unique_repo("two-a"), unique_repo("two-b")]
    images = [f"{registry.host}/{repo}" for repo in repos]
    run = ci_run(
        tmp_path,
        image="\n".join(images),
        docker_host=dockerd.docker_host,
        extra_env=credentials(registry),
    )
    assert run.code == 0, run.stderr
    tags = ["v1.2.3", "latest", "sha-89abcde"]
    digests = {registry.manifest_digest(repo, tag) for repo in repos for tag in tags}
    assert len(digests) == 1
    (digest,) = digests
    assert all(registry.list_tags(repo) == sorted(tags) for repo in repos)
    references = [f"{image}:{tag}" for image in images for tag in tags]
    assert run.outputs["tags"] == "\n".join(references)
    pushed = [line for line in run.stderr.splitlines() if line.startswith("gitops-action: pushed ")]
    assert pushed == [f"gitops-action: pushed {ref} ({digest})" for ref in references]
    assert run.outputs["digest"] == digest


def test_tag_pushed_by_the_bot_is_not_skipped(
    tmp_path: Path, registry: RegistryService, dockerd: DockerEngine
) -> None:
    repo = unique_repo("bot-tag")
    event = push_event("refs/tags/v2.0.0", by=BOT)
    run = ci_run(
        tmp_path,
        image=f"{registry.host}/{repo}",
        docker_host=dockerd.docker_host,
        ref="refs/tags/v2.0.0",
        event=event,
        extra_env={
            **credentials(registry),
            "GITHUB_ACTOR": "gitops-bot",
            "GITOPS_BOT": "gitops-bot",
        },
    )
    assert run.code == 0, run.stderr
    assert run.outputs["skipped"] == "false"
    assert "tag builds are never skipped" in run.stderr
    assert registry.list_tags(repo) == ["latest", "sha-89abcde", "v2.0.0"]


def test_build_metadata_version_goes_to_the_label_only(
    tmp_path: Path, registry: RegistryService, dockerd: DockerEngine
) -> None:
    repo = unique_repo("meta")
    run = ci_run(
        tmp_path,
        image=f"{registry.host}/{repo}",
        docker_host=dockerd.docker_host,
        ref="refs/tags/v3.0.0+build.7",
        extra_env={**credentials(registry), "SOURCE_DATE_EPOCH": "1714564800"},
    )
    assert run.code == 0, run.stderr
    assert registry.list_tags(repo) == ["latest", "sha-89abcde", "v3.0.0"]
    labels = image_config(registry, repo, "v3.0.0")["config"]["Labels"]
    assert labels["org.opencontainers.image.version"] == "v3.0.0+build.7"
    assert labels["org.opencontainers.image.created"] == "2024-05-01T12:00:00Z"


def test_build_args_target_and_file_reach_the_build(
    tmp_path: Path, registry: RegistryService, dockerd: DockerEngine
) -> None:
    repo = unique_repo("args")
    dockerfile = (
        "FROM scratch AS base\nARG GREETING\nLABEL greeting=$GREETING\nCOPY app.txt /\n"
        "FROM base AS final\nLABEL stage=final\n"
    )
    workspace = make_project(
        tmp_path / "ws", dockerfile=None, files={"build/App.Dockerfile": dockerfile}
    )
    run = ci_run(
        tmp_path,
        image=f"{registry.host}/{repo}",
        docker_host=dockerd.docker_host,
        workspace=workspace,
        extra_env={
            **credentials(registry),
            "GITOPS_FILE": "build/App.Dockerfile",
            "GITOPS_BUILD_ARG": "GREETING=hello world\n\nUNUSED=1\n",
            "GITOPS_TARGET": "base",
        },
    )
    assert run.code == 0, run.stderr
    labels = image_config(registry, repo, "v1.2.3")["config"]["Labels"]
    assert labels["greeting"] == "hello world"
    assert "stage" not in labels  # the `final` stage was not built
    assert labels["org.opencontainers.image.version"] == "v1.2.3"  # on the target stage


def test_label_values_and_user_labels_reach_the_image(
    tmp_path: Path, registry: RegistryService, dockerd: DockerEngine
) -> None:
    """Our OCI labels and the `labels` input, quotes and `$` kept; the user wins on a key."""
    repo = unique_repo("labels")
    labels = {"a": 'x$y "q" \\z ${HOME} `b`', "b": "it's", "org.example.c": "d=e"}
    run = ci_run(
        tmp_path,
        image=f"{registry.host}/{repo}",
        docker_host=dockerd.docker_host,
        extra_env={
            **credentials(registry),
            "GITOPS_LABELS": "\n".join(f"{k}={v}" for k, v in labels.items())
            + "\norg.opencontainers.image.source=https://example.com/mirror",
        },
    )
    assert run.code == 0, run.stderr
    found = image_config(registry, repo, "v1.2.3")["config"]["Labels"]
    assert {k: found[k] for k in labels} == labels
    assert found["org.opencontainers.image.source"] == "https://example.com/mirror"
    assert found["org.opencontainers.image.revision"] == SHA


def test_pull_request_is_built_not_pushed(
    tmp_path: Path, registry: RegistryService, dockerd: DockerEngine
) -> None:
    repo = unique_repo("pr")
    image = f"{registry.host}/{repo}"
    run = ci_run(
        tmp_path,
        image=image,
        docker_host=dockerd.docker_host,
        ref="refs/pull/42/merge",
        event_name="pull_request",
        event=pull_request_event(42, "2" * 40),
        extra_env={"GITOPS_PLATFORM": "linux/amd64"},  # the engine's own: accepted
    )
    assert run.code == 0, run.stderr
    assert registry.list_tags(repo) == []
    assert run.outputs["image"] == f"{image}:pr-42"
    assert run.outputs["tags"] == f"{image}:pr-42\n{image}:sha-89abcde"
    assert run.outputs["digest"] == ""
    assert "not pushed" in run.summary
    with dockerd.client() as client:
        assert (
            client.images.get(f"{image}:pr-42").labels["org.opencontainers.image.version"]
            == "pr-42"
        )


# -- failures ---------------------------------------------------------------------------


def test_failing_tests_build_and_push_nothing(
    tmp_path: Path, registry: RegistryService, dockerd: DockerEngine
) -> None:
    repo = unique_repo("red")
    image = f"{registry.host}/{repo}"
    run = ci_run(
        tmp_path,
        image=image,
        docker_host=dockerd.docker_host,
        extra_env={**credentials(registry), "GITOPS_TEST_COMMAND": "echo 'FAILED test_x'\nexit 3"},
    )
    assert run.code == 1
    assert registry.list_tags(repo) == []
    with dockerd.client() as client:
        assert client.images.list(name=image) == []
    commands = [parse_workflow_command(line) for line in run.stderr.splitlines()]
    errors = [c for c in commands if c is not None and c.name == "error"]
    assert len(errors) == 1
    assert "exited with code 3" in errors[0].data
    assert "FAILED test_x" in run.stderr  # the test output is shown
    assert run.outputs["test-outcome"] == "failure"
    assert run.outputs["digest"] == ""
    assert "tests failed" in run.summary


def test_wrong_password_is_one_error_line_and_pushes_nothing(
    tmp_path: Path, registry: RegistryService, dockerd: DockerEngine
) -> None:
    repo = unique_repo("badpw")
    secret = f"Wrong-{uuid.uuid4().hex}"
    run = ci_run(
        tmp_path,
        image=f"{registry.host}/{repo}",
        docker_host=dockerd.docker_host,
        extra_env=credentials(registry, password=secret),
    )
    assert run.code == 1
    errors = run.errors()
    assert len(errors) == 1, run.stderr
    assert errors[0].startswith("gitops-action: error: registry login to")
    assert registry.host in errors[0]
    assert "401" in errors[0]
    assert "Traceback" not in run.stderr
    assert registry.list_tags(repo) == []
    for text in (run.stdout, run.stderr, run.output_text, run.summary):
        assert secret not in text


def test_a_second_registry_login_failure_pushes_to_neither(
    tmp_path: Path, registry: RegistryService, dockerd: DockerEngine
) -> None:
    """Logins happen for every host before any push: the good registry gets nothing either."""
    repo = unique_repo("two")
    with CountingListener() as other:  # a "registry" that refuses to talk
        images = f"{registry.host}/{repo}\n127.0.0.1:{other.port}/{repo}"
        run = ci_run(
            tmp_path, image=images, docker_host=dockerd.docker_host, extra_env=credentials(registry)
        )
    assert run.code == 1
    assert len(run.errors()) == 1, run.stderr
    assert f"registry login to 127.0.0.1:{other.port}" in run.errors()[0]
    assert registry.list_tags(repo) == []


def test_missing_dockerfile_is_exit_2_naming_it_before_any_docker_call(tmp_path: Path) -> None:
    workspace = make_project(tmp_path / "ws", dockerfile=None)
    marker = tmp_path / "tests-ran"
    with CountingListener() as engine:
        run = ci_run(
            tmp_path,
            image="127.0.0.1:5000/acme/app",
            docker_host=engine.docker_host,
            workspace=workspace,
            extra_env={"GITOPS_TEST_COMMAND": f"touch {marker}"},
        )
    assert run.code == 2
    assert engine.connections == 0
    assert not marker.exists()
    (error,) = run.errors()
    assert "Dockerfile" in error
    assert str(workspace / "Dockerfile") in error


def test_invalid_image_name_is_exit_2_naming_it(tmp_path: Path) -> None:
    with CountingListener() as engine:
        run = ci_run(tmp_path, image="127.0.0.1:5000/Acme/App", docker_host=engine.docker_host)
    assert run.code == 2
    assert engine.connections == 0
    (error,) = run.errors()
    assert "'127.0.0.1:5000/Acme/App'" in error


def test_bad_build_arg_is_exit_2_without_echoing_it(tmp_path: Path) -> None:
    with CountingListener() as engine:
        run = ci_run(
            tmp_path,
            image="127.0.0.1:5000/acme/app",
            docker_host=engine.docker_host,
            extra_env={"GITOPS_BUILD_ARG": "OK=1\ntoken-without-equals-s3cret"},
        )
    assert run.code == 2
    (error,) = run.errors()
    assert "build-arg 2" in error
    assert "s3cret" not in run.stderr


def test_unreachable_engine_is_exit_1_naming_docker_host(tmp_path: Path) -> None:
    socket_path = tmp_path / "nothing.sock"
    run = ci_run(tmp_path, image="127.0.0.1:5000/acme/app", docker_host=f"unix://{socket_path}")
    assert run.code == 1
    (error,) = [line for line in run.errors() if line.startswith("gitops-action: error:")]
    assert str(socket_path) in error
    assert run.stderr.rstrip().endswith(error)  # the run's last word


# -- dry run and JSON -------------------------------------------------------------------


def test_dry_run_plans_without_tests_docker_or_files(tmp_path: Path) -> None:
    marker = tmp_path / "tests-ran"
    with CountingListener() as engine:
        run = ci_run(
            tmp_path,
            image="127.0.0.1:5000/acme/app",
            docker_host=engine.docker_host,
            extra_env={**FAKE_CREDENTIALS, "GITOPS_TEST_COMMAND": f"touch {marker}"},
            args=("--dry-run",),
        )
    assert run.code == 0, run.stderr
    assert engine.connections == 0
    assert not marker.exists()
    assert run.output_text == "" and run.summary == ""
    image = "127.0.0.1:5000/acme/app"
    lines = run.stdout.splitlines()
    assert lines[:6] == [
        "skipped=false",
        f"test-command=touch {marker}",
        "push=true",
        f"tag={image}:v1.2.3",
        f"tag={image}:latest",
        f"tag={image}:sha-89abcde",
    ]
    assert f"label=org.opencontainers.image.revision={SHA}" in lines
    assert FAKE_CREDENTIALS["GITOPS_REGISTRY_PASSWORD"] not in run.stdout + run.stderr


def test_dry_run_still_refuses_bad_input_with_exit_2(tmp_path: Path) -> None:
    with CountingListener() as engine:
        run = ci_run(
            tmp_path,
            image="127.0.0.1:5000/acme/app",
            docker_host=engine.docker_host,
            args=("--dry-run", "--file", "missing/Dockerfile"),
        )
    assert run.code == 2
    assert engine.connections == 0
    (error,) = run.errors()
    assert "Dockerfile 'missing/Dockerfile' does not exist" in error


def test_a_skipped_or_refused_dry_run_still_reports_itself_as_a_dry_run(tmp_path: Path) -> None:
    with CountingListener() as engine:
        skipped = ci_run(
            tmp_path,
            image="127.0.0.1:5000/acme/app",
            docker_host=engine.docker_host,
            ref="refs/heads/main",
            event=push_event("refs/heads/main", by=BOT),
            extra_env={"GITOPS_BOT": "gitops-bot"},
            args=("--dry-run", "--output", "json"),
        )
        refused = ci_run(
            tmp_path,
            image="127.0.0.1:5000/acme/app",
            docker_host=engine.docker_host,
            args=("--dry-run", "--output", "json", "--file", "missing/Dockerfile"),
        )
    assert engine.connections == 0
    assert skipped.code == 0, skipped.stderr
    assert json.loads(skipped.stdout)["dryRun"] is True
    assert json.loads(skipped.stdout)["result"] == "skipped"
    assert skipped.output_text == "" and skipped.summary == ""
    assert refused.code == 2
    assert json.loads(refused.stdout)["dryRun"] is True


def test_json_output_is_the_report_and_agrees_with_the_step_outputs(
    tmp_path: Path, registry: RegistryService, dockerd: DockerEngine
) -> None:
    repo = unique_repo("json")
    image = f"{registry.host}/{repo}"
    run = ci_run(
        tmp_path,
        image=image,
        docker_host=dockerd.docker_host,
        extra_env=credentials(registry),
        args=("--output", "json"),
    )
    assert run.code == 0, run.stderr
    record = json.loads(run.stdout)
    assert record["outputs"] == run.outputs
    assert record["result"] == "pushed" and record["dryRun"] is False
    assert record["pushed"] == [f"{image}:{tag}" for tag in ("v1.2.3", "latest", "sha-89abcde")]
    assert set(record["digests"].values()) == {registry.manifest_digest(repo, "v1.2.3")}
    assert list(record["timings"]) == ["skip check", "registry login", "build", "total"]
    assert record["builder"] == "docker buildx build (builder default, driver docker)"
    assert record["steps"]["total"] >= 1
    assert record["failure"] is None
    assert registry.password not in run.stdout


# -- skipping ---------------------------------------------------------------------------


def test_bot_push_is_skipped_without_tests_or_docker(tmp_path: Path) -> None:
    marker = tmp_path / "tests-ran"
    with CountingListener() as engine:
        run = ci_run(
            tmp_path,
            image="127.0.0.1:5000/acme/app",
            docker_host=engine.docker_host,
            ref="refs/heads/main",
            event=push_event("refs/heads/main", by=BOT),
            extra_env={"GITOPS_BOT": "gitops-bot", "GITOPS_TEST_COMMAND": f"touch {marker}"},
        )
    assert run.code == 0, run.stderr
    assert engine.connections == 0
    assert not marker.exists()
    assert run.outputs == {
        "skipped": "true",
        "image": "",
        "tags": "",
        "digest": "",
        "imageid": "",
        "metadata": "",
        "test-outcome": "skipped",
    }
    assert "made by bots: gitops-bot" in run.summary


# -- secrets ----------------------------------------------------------------------------


def test_tests_do_not_see_the_registry_password_and_it_is_masked(
    tmp_path: Path, registry: RegistryService, dockerd: DockerEngine
) -> None:
    repo = unique_repo("mask")
    run = ci_run(
        tmp_path,
        image=f"{registry.host}/{repo}",
        docker_host=dockerd.docker_host,
        extra_env={
            **credentials(registry),
            "GITHUB_ACTIONS": "true",
            "GITOPS_TEST_COMMAND": 'echo "pw=${GITOPS_REGISTRY_PASSWORD:-unset}"',
        },
    )
    assert run.code == 0, run.stderr
    lines = run.stderr.splitlines()
    masks = [c.data for c in map(parse_workflow_command, lines) if c and c.name == "add-mask"]
    assert masks[0] == registry.password  # the very first line registers the mask
    assert lines[0].startswith("::add-mask::")
    assert "pw=unset" in lines
    outside_masks = [line for line in lines if not line.startswith("::add-mask::")]
    for text in ("\n".join(outside_masks), run.stdout, run.output_text, run.summary):
        assert registry.password not in text
    dockerd_log = dockerd.process.log_path.read_text(errors="replace")
    assert registry.password not in dockerd_log


# -- commit status ----------------------------------------------------------------------


def status_env(stub: GitHubApiStub) -> dict[str, str]:
    return {
        "GITHUB_API_URL": stub.url,
        "GITOPS_GITHUB_TOKEN": DEFAULT_TOKEN,
        "GITOPS_REPORT_STATUS": "true",
    }


def test_report_status_sets_success_with_the_digest(
    tmp_path: Path, registry: RegistryService, dockerd: DockerEngine, github_api: GitHubApiStub
) -> None:
    github_api.add_commit("acme/app", SHA, author=ADA, author_login="ada")
    repo = unique_repo("status")
    run = ci_run(
        tmp_path,
        image=f"{registry.host}/{repo}",
        docker_host=dockerd.docker_host,
        extra_env={**credentials(registry), **status_env(github_api)},
    )
    assert run.code == 0, run.stderr
    (request,) = github_api.requests
    assert (request.method, request.path, request.status) == (
        "POST",
        f"/repos/acme/app/statuses/{SHA}",
        201,
    )
    assert request.headers["authorization"] == f"token {DEFAULT_TOKEN}"
    body = request.json()
    assert body["state"] == "success"
    assert body["context"] == "gitops-action/build"
    assert body["description"].startswith(run.outputs["digest"])
    assert body["target_url"] == "https://github.com/acme/app/actions/runs/4242"
    (stored,) = github_api.statuses("acme/app", SHA)
    assert stored["state"] == "success"
    assert "gitops-action/build" in run.summary


def test_report_status_failure_on_failed_tests_and_pr_head_sha(
    tmp_path: Path, dockerd: DockerEngine, github_api: GitHubApiStub
) -> None:
    head = "3" * 40
    github_api.add_commit("acme/app", head, author=ADA, author_login="ada")
    run = ci_run(
        tmp_path,
        image="127.0.0.1:5000/acme/app",
        docker_host=dockerd.docker_host,
        ref="refs/pull/7/merge",
        event_name="pull_request",
        event=pull_request_event(7, head),
        extra_env={**status_env(github_api), "GITOPS_TEST_COMMAND": "false"},
    )
    assert run.code == 1
    posts = github_api.requests_to("POST", f"/repos/acme/app/statuses/{head}")
    assert len(posts) == 1
    assert posts[0].json()["state"] == "failure"
    assert "tests failed" in posts[0].json()["description"]


def test_status_api_failure_is_a_warning_not_a_failed_release(
    tmp_path: Path, registry: RegistryService, dockerd: DockerEngine, github_api: GitHubApiStub
) -> None:
    repo = unique_repo("status-down")
    github_api.add_commit("acme/app", SHA, author=ADA)
    github_api.token = "some-other-token"  # our token is refused: 401 Bad credentials
    run = ci_run(
        tmp_path,
        image=f"{registry.host}/{repo}",
        docker_host=dockerd.docker_host,
        extra_env={**credentials(registry), **status_env(github_api)},
    )
    assert run.code == 0, run.stderr
    warnings = [
        c for c in map(parse_workflow_command, run.stderr.splitlines()) if c and c.name == "warning"
    ]
    assert len(warnings) == 1
    assert "401 Bad credentials" in warnings[0].data
    assert DEFAULT_TOKEN not in run.stderr
    assert registry.list_tags(repo) == ["latest", "sha-89abcde", "v1.2.3"]
