"""What one `ci run` did, as data: the outputs, the step summary and the commit
status are all rendered from a `RunReport`, so they can never disagree.

Pure: no I/O. The use case fills the report as the run goes (it is mutable
for that reason) and hands it to the renderers at the end, failed or not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from gitops_action.domain.errors import GitopsError

TestOutcome = Literal["success", "failure", "skipped"]
"""The vocabulary of `steps.<id>.outcome`, so workflows can compare the same words."""

STATUS_CONTEXT = "gitops-action/build"
STATUS_DESCRIPTION_MAX = 140
"""GitHub refuses longer commit status descriptions."""

OUTPUT_NAMES = ("skipped", "image", "tags", "digest", "imageid", "metadata", "test-outcome")


@dataclass
class RunReport:
    """The run so far; every field has a value that is true even after a failure."""

    skipped: bool = False
    skip_reason: str = ""
    ref: str = ""
    sha: str = ""
    test_command: str = ""
    test_outcome: TestOutcome = "skipped"
    test_exit_code: int | None = None
    references: tuple[str, ...] = ()
    """`IMAGE:TAG` for every image and tag, in push order."""
    built: bool = False
    push: bool = False
    push_reason: str = ""
    pushed: tuple[str, ...] = ()
    digest: str = ""
    digests: dict[str, str] = field(default_factory=dict)
    """Reference -> registry manifest digest, as each push reported it."""
    image_id: str = ""
    builder: str = ""
    """How the image was built: buildx and its builder, or the engine's BuildKit."""
    metadata: str = ""
    """The build's metadata JSON (buildx `--metadata-file`), compact."""
    steps: int = 0
    cached_steps: int = 0
    """Dockerfile steps in the build, and how many of them came from the cache."""
    platform: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    """Phase -> seconds, in the order the phases ran (`total` last)."""
    failure: GitopsError | None = None
    failed_phase: str = ""
    status_note: str = ""
    """What happened to the commit status (empty when none was asked for)."""
    dry_run: bool = False
    """Inputs checked and the plan made; no test run, no docker call, no file written."""

    @property
    def image(self) -> str:
        """The `image` output: the first image at its first tag (`user/app:v1.0.0`)."""
        return self.references[0] if self.built and self.references else ""

    @property
    def result(self) -> str:
        """One word for the summary title and the commit status."""
        if self.skipped:
            return "skipped"
        if self.failure is not None:
            return f"{self.failed_phase or 'run'} failed"
        if self.pushed:
            return "pushed"
        if self.dry_run:
            return "planned (dry run)"
        return "built" if self.built else "nothing built"

    def outputs(self) -> dict[str, str]:
        """The step outputs (`$GITHUB_OUTPUT`), every name always present."""
        built = self.built and not self.skipped
        return {
            "skipped": "true" if self.skipped else "false",
            "image": self.image,
            "tags": "\n".join(self.references) if built else "",
            "digest": self.digest,
            "imageid": self.image_id if built else "",
            "metadata": self.metadata if built else "",
            "test-outcome": self.test_outcome,
        }

    def stdout_lines(self) -> list[str]:
        """Machine output: `name=value` per output, one `tag=` line per reference."""
        outputs = self.outputs()
        lines = [f"{name}={outputs[name]}" for name in OUTPUT_NAMES if name != "tags"]
        lines.extend(f"tag={reference}" for reference in outputs["tags"].splitlines())
        return lines

    def plan_lines(self) -> list[str]:
        """`--dry-run` machine output: what a real run would do, `name=value` per line."""
        lines = [f"skipped={'true' if self.skipped else 'false'}"]
        if self.skipped or self.failure is not None:
            return lines
        lines.append(f"test-command={self.test_command}")
        lines.append(f"push={'true' if self.push else 'false'}")
        lines.extend(f"tag={reference}" for reference in self.references)
        lines.extend(f"label={key}={value}" for key, value in self.labels.items())
        return lines

    def as_record(self) -> dict[str, Any]:
        """`--output json`: the whole report as data (the outputs under `outputs`)."""
        return {
            "result": self.result,
            "dryRun": self.dry_run,
            "skipped": self.skipped,
            "skipReason": self.skip_reason,
            "ref": self.ref,
            "sha": self.sha,
            "outputs": self.outputs(),
            "test": {
                "command": self.test_command,
                "outcome": self.test_outcome,
                "exitCode": self.test_exit_code,
            },
            "references": list(self.references),
            "push": self.push,
            "pushReason": self.push_reason,
            "pushed": list(self.pushed),
            "digests": dict(self.digests),
            "imageId": self.image_id,
            "builder": self.builder,
            "steps": {"total": self.steps, "cached": self.cached_steps},
            "platform": self.platform,
            "labels": dict(self.labels),
            "timings": {phase: round(value, 3) for phase, value in self.timings.items()},
            "failure": None if self.failure is None else str(self.failure),
            "failedPhase": self.failed_phase or None,
            "statusNote": self.status_note or None,
        }

    def status(self) -> tuple[str, str]:
        """(state, description) of the `gitops-action/build` commit status."""
        if self.failure is not None:
            text = " ".join(str(self.failure).split())
            return "failure", _clip(f"{self.result}: {text}")
        if self.pushed:
            count = len(self.pushed)
            noun = "tag" if count == 1 else "tags"
            return "success", _clip(f"{self.digest} ({count} {noun} pushed)")
        built = self.image or "the image"
        return "success", _clip(f"built {built}, not pushed ({self.push_reason})")


def _clip(text: str) -> str:
    if len(text) <= STATUS_DESCRIPTION_MAX:
        return text
    return text[: STATUS_DESCRIPTION_MAX - 1] + "\u2026"
