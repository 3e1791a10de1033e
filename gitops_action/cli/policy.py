"""`gitops-action policy select`: pick a tag from stdin the way a Flux ImagePolicy would.

This module only parses flags, reads stdin and renders the domain's
`Selection`; the semantics live in `gitops_action.domain.policies`. It must
stay light (no kubernetes/docker/github, no yaml): it is a cold-start path.
"""

from __future__ import annotations

import sys

import click

from gitops_action.cli.output import output_option
from gitops_action.domain.errors import NoMatch
from gitops_action.domain.policies import (
    ORDERS,
    AlphabeticalPolicy,
    Exclusions,
    NumericalPolicy,
    Policy,
    Selection,
    SemverPolicy,
    TagFilter,
    parse_order,
    select_tag,
)
from gitops_action.domain.untrusted import shown

_EPILOG = """\b
Examples:
  printf 'v1.9.0\\nv1.10.0\\nlatest\\n' | gitops-action policy select --semver '^v1.0.0'
      prints v1.10.0
  ... | gitops-action policy select --semver '>=2.0.0-0'
      prereleases only match when the range names one
  ... | gitops-action policy select --numerical asc \\
          --pattern '^main-[a-f0-9]+-(?P<ts>[0-9]+)$' --extract '$ts'
      newest main build by timestamp; prints the whole tag
  ... | gitops-action policy select --alphabetical asc --exclude '^latest$' --explain

\b
Exit codes: 0 a tag was selected; 1 nothing matched (reason on stderr);
2 bad flag, range, regex or template.  See docs/policy.md.
"""


@click.group(name="policy")
def policy() -> None:
    """Select image tags like a Flux ImagePolicy."""


@policy.command(name="select", epilog=_EPILOG)
@click.option(
    "--semver",
    "semver_range",
    metavar="RANGE",
    help="Highest version in a Masterminds/semver v3 range (^ ~ x * - || , and spaces).",
)
@click.option(
    "--alphabetical",
    type=click.Choice(ORDERS, case_sensitive=False),
    metavar="asc|desc",
    help="Last tag in code-point order (asc, as Flux), or first (desc).",
)
@click.option(
    "--numerical",
    type=click.Choice(ORDERS, case_sensitive=False),
    metavar="asc|desc",
    help="Highest number (asc, as Flux) or lowest (desc); non-numbers are dropped.",
)
@click.option(
    "--pattern",
    metavar="REGEX",
    help="Flux filterTags.pattern: drop tags it does not match (search, not anchored).",
)
@click.option(
    "--extract",
    metavar="TEMPLATE",
    help="Flux filterTags.extract: compare this ($name, ${name}, $1) instead of the tag.",
)
@click.option(
    "--exclude",
    metavar="REGEX",
    multiple=True,
    help="Flux exclusionList entry (repeatable). Default ^.*\\.sig$; any --exclude replaces it.",
)
@click.option("--explain", is_flag=True, help="On stderr, say why each tag was kept or dropped.")
@output_option("text: the selected tag; json: selected, policy and every decision.")
def select(
    *,
    semver_range: str | None,
    alphabetical: str | None,
    numerical: str | None,
    pattern: str | None,
    extract: str | None,
    exclude: tuple[str, ...],
    explain: bool,
    output: str,
) -> None:
    """Read candidate tags from stdin (one per line) and print the selected one.

    The tag is printed exactly as written. Exactly one of --semver,
    --alphabetical, --numerical is required. Tags are read as Flux reads
    them: one leading 'v' is dropped and the rest must be strict SemVer, so
    '1.2', '01.2.3' and 'latest' are skipped by --semver. A prerelease only
    matches a range that itself names a prerelease ('>=2.0.0-0').
    """
    chosen = _policy(semver_range, alphabetical, numerical)
    if extract is not None and pattern is None:
        raise click.UsageError("--extract needs --pattern (its groups are what it extracts)")
    tag_filter = TagFilter.compile(pattern, extract or "") if pattern is not None else None
    exclusions = Exclusions.compile(list(exclude) if exclude else None)
    selection = select_tag(_read_tags(), chosen, tag_filter=tag_filter, exclusions=exclusions)
    if explain:
        _explain(selection)
    if output == "json":
        import json

        click.echo(json.dumps(selection.as_dict(), indent=2))
    elif selection.selected is not None:
        sys.stdout.buffer.write(_encode(selection.selected) + b"\n")
        sys.stdout.flush()
    if selection.selected is None:
        raise NoMatch(selection.no_match_reason())


def _policy(semver_range: str | None, alphabetical: str | None, numerical: str | None) -> Policy:
    given = [
        name
        for name, value in (
            ("--semver", semver_range),
            ("--alphabetical", alphabetical),
            ("--numerical", numerical),
        )
        if value is not None
    ]
    if len(given) != 1:
        found = f"got {' and '.join(given)}" if given else "got none"
        raise click.UsageError(
            f"give exactly one of --semver, --alphabetical, --numerical ({found})"
        )
    if semver_range is not None:
        return SemverPolicy.from_range(semver_range)
    if alphabetical is not None:
        return AlphabeticalPolicy(parse_order(alphabetical))
    assert numerical is not None  # exactly one was given
    return NumericalPolicy(parse_order(numerical))


def _read_tags() -> list[str]:
    """Lines of stdin, stripped, blanks skipped. Undecodable bytes survive the
    round trip (surrogateescape), so whatever is selected is printed as given."""
    data = sys.stdin.buffer.read().decode("utf-8", errors="surrogateescape")
    return [line.strip() for line in data.splitlines() if line.strip()]


def _encode(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogateescape")


EXPLAIN_LIMIT = 200


def _explain(selection: Selection) -> None:
    """Every decision on stderr, aligned, in input order."""
    parts = [selection.policy.describe()]
    if selection.tag_filter is not None:
        parts.append(f"pattern {selection.tag_filter.pattern_text!r}")
        if selection.tag_filter.extract_text:
            parts.append(f"extract {selection.tag_filter.extract_text!r}")
    excluded = " ".join(text for text, _ in selection.exclusions.patterns) or "(nothing)"
    parts.append(f"exclude {excluded}")
    lines = ["policy: " + "; ".join(parts)]
    width = min(max((len(d.tag) for d in selection.decisions), default=0), 48)
    for decision in selection.decisions:
        status = "selected" if decision.selected else "kept" if decision.kept else "dropped"
        tag = shown(decision.tag, EXPLAIN_LIMIT)  # stdin text: escaped, never raw
        text = tag if decision.value == decision.tag else f"{tag} (value {decision.value!r})"
        reason = "" if decision.selected else f"  {decision.reason}"
        lines.append(f"  {status:<8}  {text:<{width}}{reason}".rstrip())
    sys.stderr.buffer.write(_encode("\n".join(lines) + "\n"))
    sys.stderr.flush()
