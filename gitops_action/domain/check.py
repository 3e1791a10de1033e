"""`check`: every problem of a config repository, as data.

`gitops-action check` reads a config repository offline and reports every
problem at once, each naming the file, the document and the field, so a
pull request shows all its mistakes in one run. The loaders that `automate`,
`sync` and `canary` use stop at the first error; this module runs the same
validators document by document and collects what they raise, then runs the
cross-checks (duplicates, references between objects, markers naming a
policy that does not exist) over what did validate.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gitops_action.domain.config import (
    Document,
    FluxObject,
    ImagePolicy,
    ImageRepository,
    ObjectKey,
)
from gitops_action.domain.markers import PolicyRef


@dataclass(frozen=True, order=True)
class Problem:
    """One problem: the file it is in and a one-line message that names
    the document and field (the message starts with the file, as every
    error of the tool does)."""

    file: str
    message: str

    def as_record(self) -> dict[str, str]:
        return {"file": self.file, "message": self.message}


@dataclass(frozen=True)
class CheckReport:
    """Every problem found, sorted by file then message, and what was read."""

    problems: tuple[Problem, ...]
    files: int
    objects: int

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "files": self.files,
            "objects": self.objects,
            "problems": [problem.as_record() for problem in self.problems],
        }


def problem(file: str, message: str) -> Problem:
    """A problem whose message is made to start with `file`."""
    text = " ".join(message.split())
    return Problem(file, text if text.startswith(file) else f"{file}: {text}")


def flux_cross_problems(objects: Sequence[FluxObject]) -> list[Problem]:
    """Duplicates and policies whose ImageRepository is not in the repository."""
    found: list[Problem] = []
    seen: dict[tuple[str, ObjectKey], FluxObject] = {}
    for obj in objects:
        first = seen.setdefault((obj.kind, obj.key), obj)
        if first is not obj:
            found.append(
                problem(
                    obj.source.file,
                    f"{obj.where}: metadata.name: duplicate {obj.description}, "
                    f"already defined in {first.source}",
                )
            )
    repositories = {obj.key for obj in objects if isinstance(obj, ImageRepository)}
    for obj in objects:
        if isinstance(obj, ImagePolicy) and obj.repository not in repositories:
            found.append(
                problem(
                    obj.source.file,
                    f"{obj.where}: spec.imageRepositoryRef: ImageRepository {obj.repository} "
                    "is not in the repository",
                )
            )
    return found


def unknown_policy_problems(
    markers: Iterable[tuple[str, int, PolicyRef]], policies: Iterable[ObjectKey]
) -> list[Problem]:
    """Markers (file, line, policy) naming an ImagePolicy the repository does not define.

    Only reported when the repository defines image policies at all: a tree
    of manifests without its Flux objects (they live elsewhere) is not wrong.
    """
    known = {(key.namespace, key.name) for key in policies}
    if not known:
        return []
    return [
        problem(
            file, f"{file}:{line}: marker names ImagePolicy {ref}, which is not in the repository"
        )
        for file, line, ref in markers
        if (ref.namespace, ref.name) not in known
    ]


def documents_of_kind(documents: Iterable[Document], group: str) -> list[Document]:
    """The documents whose apiVersion is in `group`."""
    return [
        document
        for document in documents
        if str(document.data.get("apiVersion", "")).partition("/")[0] == group
    ]
