"""Pure pieces of `ci run`: inputs, redaction, the report and its summary."""

from __future__ import annotations

import base64

import pytest

from gitops_action.domain import build_inputs as bi
from gitops_action.domain.ci_report import RunReport
from gitops_action.domain.ci_tags import plan_tags
from gitops_action.domain.errors import InvalidBuildInput, ProjectTestsFailed
from gitops_action.domain.redact import Redactor, mask_values
from gitops_action.domain.refs import parse_image_name
from gitops_action.domain.summary import code, code_block, render_summary

SHA = "89abcdef0123456789abcdef0123456789abcdef"


# -- inputs -----------------------------------------------------------------------------


def test_build_args_later_key_wins_and_values_keep_equals() -> None:
    assert bi.parse_build_args(("A=1", "B=x=y", "A=2", "EMPTY=")) == {
        "A": "2",
        "B": "x=y",
        "EMPTY": "",
    }


@pytest.mark.parametrize("line", ["NOEQUALS", "=v", "1A=v", "A B=v"])
def test_bad_build_arg_is_named_by_number_not_text(line: str) -> None:
    with pytest.raises(InvalidBuildInput) as caught:
        bi.parse_build_args(("OK=1", line))
    assert "build-arg 2" in str(caught.value)
    assert line not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("linux/amd64", "linux/amd64"),
        ("linux/x86_64", "linux/amd64"),
        ("linux/amd64/v1", "linux/amd64"),
        ("linux/arm64/v8", "linux/arm64"),
        ("Linux/AArch64", "linux/arm64"),
        ("linux/arm/v7", "linux/arm/v7"),
    ],
)
def test_platforms_normalise(text: str, expected: str) -> None:
    assert str(bi.parse_platform(text)) == expected


@pytest.mark.parametrize("text", ["linux", "linux/amd64/v1/x", "linux//amd64", "linux/amd 64"])
def test_bad_platform_is_named(text: str) -> None:
    with pytest.raises(InvalidBuildInput, match="os/arch"):
        bi.parse_platform(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", None), ("auto", None), ("AUTO", None), ("true", True), ("Yes", True), ("0", False)],
)
def test_push_mode(value: str, expected: bool | None) -> None:
    assert bi.parse_push_mode(value) is expected


def test_push_mode_rejects_other_words() -> None:
    with pytest.raises(InvalidBuildInput, match="'sometimes'"):
        bi.parse_push_mode("sometimes")


def test_auto_push_builds_pull_requests_without_pushing() -> None:
    assert bi.decide_push(None, "push")[0] is True
    assert bi.decide_push(None, "pull_request") == (
        False,
        "pull_request builds are not pushed (push: auto)",
    )
    assert bi.decide_push(True, "pull_request")[0] is True
    assert bi.decide_push(False, "push")[0] is False


def test_login_hosts_every_image_host_or_the_named_registry() -> None:
    images = tuple(
        parse_image_name(name) for name in ("ghcr.io/acme/app", "acme/app", "ghcr.io/acme/other")
    )
    assert bi.login_hosts(images) == ("ghcr.io", "docker.io")
    assert bi.login_hosts(images, "https://index.docker.io/v1/") == ("docker.io",)
    assert bi.login_hosts(images, "GHCR.IO") == ("ghcr.io",)
    with pytest.raises(InvalidBuildInput, match=r"'quay\.io' is not the host of any image"):
        bi.login_hosts(images, "quay.io")


def test_credentials_come_in_pairs() -> None:
    assert bi.check_credentials("", "") is False
    assert bi.check_credentials("u", "p") is True
    with pytest.raises(InvalidBuildInput, match="password given without a username"):
        bi.check_credentials("", "p")


def test_oci_labels() -> None:
    plan = plan_tags("refs/tags/v3.0.0+build.7", SHA)
    labels = bi.oci_labels(
        plan,
        source=bi.source_url("https://github.com/", "acme/app"),
        created=bi.rfc3339(1714564800.9),
    )
    assert labels == {
        "org.opencontainers.image.source": "https://github.com/acme/app",
        "org.opencontainers.image.version": "v3.0.0+build.7",
        "org.opencontainers.image.revision": SHA,
        "org.opencontainers.image.created": "2024-05-01T12:00:00Z",
    }
    assert bi.source_url("", "") == ""


# -- redaction --------------------------------------------------------------------------


def test_redactor_hides_the_secret_and_its_wire_forms() -> None:
    redact = Redactor()
    redact.add('pa"ss', "user")
    basic = base64.b64encode(b'user:pa"ss').decode()
    text = f'pw=pa"ss json="pa\\"ss" basic={basic}'
    assert redact(text) == 'pw=*** json="***" basic=***'
    assert redact.one_line('a\n  pa"ss\tb') == "a *** b"


def test_mask_values_registers_each_line_of_a_multiline_secret() -> None:
    assert mask_values("") == []
    assert mask_values("one") == ["one"]
    assert mask_values("l1\nl2\n") == ["l1\nl2\n", "l1", "l2"]


# -- report and summary -----------------------------------------------------------------


def pushed_report() -> RunReport:
    refs = ("r.example/app:v1.2.3", "r.example/app:latest", "r.example/app:sha-89abcde")
    return RunReport(
        ref="refs/tags/v1.2.3",
        sha=SHA,
        test_command="pytest -k 'a | b'",
        test_outcome="success",
        references=refs,
        built=True,
        push=True,
        pushed=refs,
        digest="sha256:" + "a" * 64,
        image_id="sha256:" + "b" * 64,
        metadata='{"containerimage.digest":"sha256:' + "a" * 64 + '"}',
        builder="docker buildx build (builder ci, driver remote)",
        steps=4,
        cached_steps=3,
        timings={"skip check": 0.01, "tests": 1.25, "build": 2.0, "push": 0.5, "total": 3.8},
    )


def test_outputs_and_stdout_lines() -> None:
    report = pushed_report()
    assert report.outputs() == {
        "skipped": "false",
        "image": "r.example/app:v1.2.3",
        "tags": "r.example/app:v1.2.3\nr.example/app:latest\nr.example/app:sha-89abcde",
        "digest": "sha256:" + "a" * 64,
        "imageid": "sha256:" + "b" * 64,
        "metadata": '{"containerimage.digest":"sha256:' + "a" * 64 + '"}',
        "test-outcome": "success",
    }
    assert report.stdout_lines()[-1] == "tag=r.example/app:sha-89abcde"
    assert report.status() == ("success", "sha256:" + "a" * 64 + " (3 tags pushed)")


def test_failed_report_has_no_image_and_a_failure_status() -> None:
    report = RunReport(test_outcome="failure", test_exit_code=3, references=("r/app:v1",))
    report.failure = ProjectTestsFailed("tests failed: exit 3")
    report.failed_phase = "tests"
    assert report.outputs()["image"] == ""
    assert report.outputs()["tags"] == ""
    state, description = report.status()
    assert state == "failure"
    assert description == "tests failed: tests failed: exit 3"
    long = RunReport(failure=ProjectTestsFailed("x" * 300), failed_phase="tests")
    assert len(long.status()[1]) == 140


def test_summary_lists_tags_digest_tests_and_timings() -> None:
    text = render_summary(pushed_report())
    assert text.startswith("### \u2705 gitops-action: pushed `r.example/app:v1.2.3`\n")
    assert "| **Digest** | `sha256:" in text
    assert "- `r.example/app:sha-89abcde`" in text
    assert "\u2705 passed in 1.25 s" in text
    assert "| tests | 1.25 s |" in text
    assert "| total | 3.80 s |" in text
    assert "```sh\npytest -k 'a | b'\n```" in text
    assert "| **Builder** | `docker buildx build (builder ci, driver remote)` |" in text
    assert "| **Build time** | 2.00 s |" in text
    assert "| **Cached steps** | 3 of 4 |" in text


def test_summary_of_a_skipped_run() -> None:
    text = render_summary(RunReport(skipped=True, skip_reason="all commits by bots"))
    assert text.startswith("### gitops-action: skipped\n")
    assert "`all commits by bots`" in text
    assert "Tags" not in text


def test_user_text_cannot_break_out_of_code_spans_or_cells() -> None:
    assert code("a`b") == "``a`b``"
    assert code("`x`") == "`` `x` ``"
    assert code("a|b") == "`a\\|b`"
    assert code_block("```\ninner\n```") == "````\n```\ninner\n```\n````"


def test_a_skipped_or_failed_dry_run_plans_nothing_more() -> None:
    skipped = RunReport(skipped=True, dry_run=True, references=("r.example/app:v1",))
    assert skipped.plan_lines() == ["skipped=true"]
    failed = RunReport(dry_run=True, failure=InvalidBuildInput("bad"), references=("r/a:v1",))
    assert failed.plan_lines() == ["skipped=false"]
    planned = RunReport(dry_run=True, references=("r.example/app:v1",), push=False)
    assert planned.result == "planned (dry run)"
    assert planned.plan_lines() == [
        "skipped=false",
        "test-command=",
        "push=false",
        "tag=r.example/app:v1",
    ]
    assert planned.as_record()["outputs"]["tags"] == ""  # nothing was built
