"""What `ci run` says: its log (`Console`), the step outputs, the summary, the commit status.

All rendered from the one `RunReport` (domain/ci_report.py), whatever
happened; every line passes the `Redactor`. Split from `ci_run` so the use
case reads as the run's order alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from gitops_action.adapters import github_api, github_env
from gitops_action.domain import build_inputs
from gitops_action.domain.ci_report import STATUS_CONTEXT, RunReport
from gitops_action.domain.errors import GitHubApiError
from gitops_action.domain.redact import Redactor
from gitops_action.domain.summary import render_summary


class Console:
    """The run's log (stderr): every line redacted; workflow commands as the runner reads them."""

    def __init__(self, write: Callable[[str], None], redact: Redactor) -> None:
        self._write = write
        self.redact = redact

    def info(self, message: str) -> None:
        self._write(f"gitops-action: {self.redact.one_line(message)}")

    def line(self, text: str) -> None:
        self._write(self.redact(text))

    def annotate(self, level: str, message: str, title: str) -> None:
        text = self.redact.one_line(message)
        self._write(github_env.annotation(level, text, title=title))

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        self._write(github_env.group(self.redact.one_line(title)))
        try:
            yield
        finally:
            self._write(github_env.end_group())


def report_status(report: RunReport, environ: Mapping[str, str], console: Console) -> None:
    """Set the `gitops-action/build` commit status; a failure here is a warning only.

    The image is pushed by now (or the run failed for its own reason): a
    status the API refuses must not turn a good release into a red one.
    """
    env = github_env.ActionsEnv.from_environ(environ)
    payload, _ = github_env.read_event(env.event_path)
    sha = _status_sha(env.event_name, payload, env.sha)
    if not env.token or not env.repository or not sha:
        note = "not set: report-status needs github-token, GITHUB_REPOSITORY and GITHUB_SHA"
        report.status_note = note
        console.annotate("warning", note, title="gitops-action: commit status")
        return
    state, description = report.status()
    try:
        github_api.create_commit_status(
            env.repository,
            sha,
            state=state,
            description=console.redact.one_line(description),
            context=STATUS_CONTEXT,
            target_url=_run_url(environ),
            token=env.token,
            base_url=env.api_url,
        )
    except GitHubApiError as error:
        report.status_note = f"not set: {error}"
        console.annotate("warning", str(error), title="gitops-action: commit status")
        return
    report.status_note = f"`{state}` set on `{sha[:7]}` as `{STATUS_CONTEXT}`"
    console.info(f"commit status {STATUS_CONTEXT} = {state} on {sha[:7]}")


def _status_sha(event_name: str, payload: Mapping[str, object] | None, sha: str) -> str:
    """The commit a status belongs on: a pull request's head, not its merge commit."""
    if event_name in build_inputs.PULL_REQUEST_EVENTS and payload:
        pull = payload.get("pull_request")
        head = pull.get("head") if isinstance(pull, dict) else None
        head_sha = head.get("sha") if isinstance(head, dict) else None
        if isinstance(head_sha, str) and head_sha:
            return head_sha
    return sha


def _run_url(environ: Mapping[str, str]) -> str:
    server = environ.get("GITHUB_SERVER_URL", "").rstrip("/")
    repository, run_id = environ.get("GITHUB_REPOSITORY", ""), environ.get("GITHUB_RUN_ID", "")
    if not (server and repository and run_id):
        return ""
    return f"{server}/{repository}/actions/runs/{run_id}"


def publish(report: RunReport, environ: Mapping[str, str], console: Console) -> None:
    """Outputs and summary; a file that cannot be written is a warning, not a failure."""
    output_path = environ.get("GITHUB_OUTPUT", "")
    summary_path = environ.get("GITHUB_STEP_SUMMARY", "")
    writes: list[tuple[str, str, Callable[[], None]]] = []
    if output_path:
        outputs = report.outputs()
        writes.append(
            ("$GITHUB_OUTPUT", output_path, lambda: github_env.write_outputs(output_path, outputs))
        )
    if summary_path:
        markdown = console.redact(render_summary(report))
        writes.append(
            (
                "$GITHUB_STEP_SUMMARY",
                summary_path,
                lambda: github_env.append_step_summary(summary_path, markdown),
            )
        )
    for name, path, write in writes:
        try:
            write()
        except OSError as error:
            problem = f"could not write {name} ({path}): {error.strerror or error}"
            console.annotate("warning", problem, title="gitops-action")
