"""What of a Flux source is content: `.sourceignore` files and Flux's default exclusions.

Flux's source-controller leaves these files out of the artifact the
kustomize-controller builds (`fluxcd/pkg/sourceignore`): version control
files, CI definitions (`.github/`, ...), images and archives, then whatever
`.sourceignore` files in the tree say (gitignore syntax, each scoped to its
directory, a later pattern winning over an earlier one, `!` re-including).
The matching follows go-git's `gitignore` package, which Flux uses.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

IGNORE_FILE: Final = ".sourceignore"
EXCLUDE_VCS: Final = ".git/,.gitignore,.gitmodules,.gitattributes"
EXCLUDE_EXT: Final = "*.jpg,*.jpeg,*.gif,*.png,*.wmv,*.flv,*.tar.gz,*.zip"
EXCLUDE_CI: Final = (
    ".github/,.circleci/,.travis.yml,.gitlab-ci.yml,appveyor.yml,.drone.yml,cloudbuild.yaml,"
    "codeship-services.yml,codeship-steps.yml"
)
EXCLUDE_EXTRA: Final = "**/.goreleaser.yml,**/.sops.yaml,**/.flux.yaml"
_ANY_DIRS: Final = "**"


@dataclass(frozen=True)
class Pattern:
    """One gitignore line, scoped to the directory (`domain`) whose file holds it."""

    domain: tuple[str, ...]
    parts: tuple[str, ...]
    include: bool
    dir_only: bool
    is_glob: bool

    @classmethod
    def parse(cls, line: str, domain: Sequence[str] = ()) -> Pattern:
        include = line.startswith("!")
        text = line[1:] if include else line
        if not text.endswith("\\ "):
            text = text.rstrip()
        dir_only = text.endswith("/")
        text = text.removesuffix("/")
        is_glob = "/" in text
        return cls(tuple(domain), tuple(text.split("/")), include, dir_only, is_glob)

    def match(self, path: Sequence[str], is_dir: bool) -> bool | None:
        """True: ignore; False: re-included (`!`); None: the pattern says nothing."""
        if len(path) <= len(self.domain) or tuple(path[: len(self.domain)]) != self.domain:
            return None
        rest = list(path[len(self.domain) :])
        hit = self._glob(rest, is_dir) if self.is_glob else self._simple(rest, is_dir)
        if not hit:
            return None
        return not self.include

    def _simple(self, path: list[str], is_dir: bool) -> bool:
        for index, name in enumerate(path):
            if not fnmatch.fnmatchcase(name, self.parts[0]):
                continue
            return not (self.dir_only and not is_dir and index == len(path) - 1)
        return False

    def _glob(self, path: list[str], is_dir: bool) -> bool:
        matched = traverse = False
        for index, part in enumerate(self.parts):
            if part == "":
                traverse = False
                continue
            if part == _ANY_DIRS:
                if index == len(self.parts) - 1:
                    break
                traverse = True
                continue
            if _ANY_DIRS in part or not path:
                return False
            if traverse:
                traverse = False
                while path:
                    name = path.pop(0)
                    if fnmatch.fnmatchcase(name, part):
                        matched = True
                        break
                    if not path:
                        matched = False
            else:
                if not fnmatch.fnmatchcase(path[0], part):
                    return False
                matched = True
                path = path[1:]
        if matched and self.dir_only and not is_dir and not path:
            return False
        return matched


def default_patterns() -> list[Pattern]:
    """Flux's built-in exclusions (lowest priority)."""
    lines = ",".join((EXCLUDE_VCS, EXCLUDE_EXT, EXCLUDE_CI, EXCLUDE_EXTRA)).split(",")
    return [Pattern.parse(line) for line in lines]


def read_patterns(text: str, domain: Sequence[str] = ()) -> list[Pattern]:
    """The patterns of one ignore file (comments and blank lines skipped)."""
    return [
        Pattern.parse(line, domain)
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    ]


@dataclass(frozen=True)
class Matcher:
    patterns: tuple[Pattern, ...]

    @classmethod
    def of(cls, patterns: Iterable[Pattern]) -> Matcher:
        return cls((*default_patterns(), *patterns))

    def ignored(self, path: Sequence[str], is_dir: bool) -> bool:
        """Whether `path` (parts relative to the source root) is left out; the last pattern
        that speaks decides."""
        for pattern in reversed(self.patterns):
            verdict = pattern.match(path, is_dir)
            if verdict is not None:
                return verdict
        return False
