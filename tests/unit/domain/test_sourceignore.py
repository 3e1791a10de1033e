"""Flux's default exclusions and .sourceignore patterns (go-git gitignore semantics)."""

from __future__ import annotations

import pytest

from gitops_action.domain.sourceignore import Matcher, read_patterns


def parts(path: str) -> list[str]:
    return path.split("/")


@pytest.mark.parametrize(
    ("path", "is_dir", "ignored"),
    [
        (".github", True, True),
        (".github/workflows/ci.yaml", False, True),
        (".git", True, True),
        ("apps/.gitignore", False, True),
        ("docs/diagram.png", False, True),
        ("build/release.tar.gz", False, True),
        ("sub/.sops.yaml", False, True),
        ("cloudbuild.yaml", False, True),
        ("clusters/production/apps.yaml", False, False),
        ("apps/github/deploy.yaml", False, False),
    ],
)
def test_flux_default_exclusions(path: str, is_dir: bool, ignored: bool) -> None:
    assert Matcher.of([]).ignored(parts(path), is_dir) is ignored


def test_sourceignore_patterns_are_scoped_and_later_lines_win() -> None:
    root = read_patterns("# comment\n\n*.md\n/scripts/\ncharts/**/templates\n")
    nested = read_patterns("!keep.md\n", ["docs"])
    matcher = Matcher.of([*root, *nested])
    assert matcher.ignored(parts("README.md"), False)
    assert matcher.ignored(parts("apps/notes.md"), False)
    assert not matcher.ignored(parts("docs/keep.md"), False)
    assert matcher.ignored(parts("docs/other.md"), False)
    assert matcher.ignored(parts("scripts"), True)
    assert not matcher.ignored(parts("apps/scripts"), True)
    assert matcher.ignored(parts("charts/web/templates"), True)
    assert not matcher.ignored(parts("charts/web/values.yaml"), False)


def test_directory_only_patterns_do_not_match_files() -> None:
    matcher = Matcher.of(read_patterns("cache/\n"))
    assert matcher.ignored(parts("cache"), True)
    assert not matcher.ignored(parts("cache"), False)
    assert matcher.ignored(parts("cache/x.yaml"), False)
