"""The Markdown step summary of `ci run`, rendered from a `RunReport`.

GitHub shows `$GITHUB_STEP_SUMMARY` on the run's page: the first place a
person looks to learn which tags a release pushed and with which digest. It is
GitHub-flavoured Markdown, so every value a user controls (a test command, a
tag, an error message) is put in a code span or block whose fence it cannot
close, and `|` is escaped inside table cells.

Pure: no I/O.
"""

from __future__ import annotations

import re

from gitops_action.domain.ci_report import RunReport

_BACKTICKS = re.compile(r"`+")
_ICONS = {"success": "\u2705", "failure": "\u274c", "skipped": "\u23ed\ufe0f"}


def code(text: str) -> str:
    """An inline code span that `text` cannot break out of (usable in a table cell)."""
    text = " ".join(text.split()) or " "
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}".replace("|", "\\|")


def code_block(text: str, language: str = "") -> str:
    """A fenced block longer than any backtick run inside it."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


def seconds(value: float) -> str:
    """`0.04 s`, `3.21 s`, `75.3 s`: two decimals while they mean something."""
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def render_summary(report: RunReport) -> str:
    """The whole summary, ending with a newline."""
    parts = [_title(report), "", *_facts(report)]
    if report.test_command and not report.skipped:
        parts += ["", "**Test command**", "", code_block(report.test_command, "sh")]
    if report.references and report.built:
        parts += ["", "**Tags**" if report.pushed else "**Tags (built locally, not pushed)**", ""]
        parts += [f"- {code(reference)}" for reference in report.references]
    if report.labels:
        parts += ["", "<details><summary>Labels</summary>", ""]
        parts += ["| Label | Value |", "| --- | --- |"]
        parts += [f"| {code(key)} | {code(value)} |" for key, value in report.labels.items()]
        parts += ["", "</details>"]
    if report.timings:
        parts += ["", "| Phase | Time |", "| --- | ---: |"]
        parts += [f"| {phase} | {seconds(value)} |" for phase, value in report.timings.items()]
    return "\n".join(parts) + "\n"


def _title(report: RunReport) -> str:
    if report.skipped:
        return "### gitops-action: skipped"
    if report.failure is not None:
        return f"### \u274c gitops-action: {report.result}"
    if report.pushed:
        return f"### \u2705 gitops-action: pushed {code(report.image)}"
    return f"### \u2705 gitops-action: built {code(report.image)} (not pushed)"


def _facts(report: RunReport) -> list[str]:
    rows: list[tuple[str, str]] = []
    if report.skipped:
        rows.append(("Skipped", code(report.skip_reason)))
    if report.ref:
        rows.append(("Ref", f"{code(report.ref)} at {code(report.sha[:7] or '?')}"))
    if report.failure is not None:
        rows.append(("Error", code(str(report.failure))))
    rows.append(("Tests", _tests(report)))
    if report.digest:
        rows.append(("Digest", code(report.digest)))
    if report.built:
        rows.append(("Pushed", "yes" if report.pushed else f"no ({report.push_reason})"))
    if report.platform:
        rows.append(("Platform", code(report.platform)))
    if report.builder:
        rows.append(("Builder", code(report.builder)))
    if report.built:
        took = report.timings.get("build")
        rows.append(("Build time", seconds(took) if took is not None else "?"))
        rows.append(("Cached steps", f"{report.cached_steps} of {report.steps}"))
    if report.status_note:
        rows.append(("Commit status", report.status_note))
    return ["| | |", "| --- | --- |", *(f"| **{key}** | {value} |" for key, value in rows)]


def _tests(report: RunReport) -> str:
    icon = _ICONS[report.test_outcome]
    if report.test_outcome == "skipped":
        why = "run skipped" if report.skipped else "no test command"
        if not report.skipped and report.test_command:
            why = "not run"
        return f"{icon} skipped ({why})"
    took = report.timings.get("tests")
    timing = f" in {seconds(took)}" if took is not None else ""
    if report.test_outcome == "failure":
        return f"{icon} failed (exit code {report.test_exit_code}){timing}"
    return f"{icon} passed{timing}"
