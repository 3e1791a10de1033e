"""A bounded fuzz suite over what a config-repo writer or a registry controls (issue 14).

Runs in the normal test run (`scripts/test.sh`, `.ci/run`), a few seconds in
all; `GITOPS_FUZZ_EXAMPLES` raises the example count for a long run.

- `update` on generated YAML with markers (anchors, tags, quotes, flow and
  block collections, empty values, aliases): either an input error, or the
  output parses and is the input with only the marked scalars changed;
- marker comments, semver ranges, filterTags patterns and extract templates
  from arbitrary text: each is accepted or refused with our error, never
  another exception;
- the console script on arbitrary `policy select` input and `update` trees:
  exit 0, 1 or 2, never 3 and never a traceback.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitops_action.app.update import plan_update
from gitops_action.domain.errors import GitopsError, InvalidPattern, InvalidRange
from gitops_action.domain.markers import ImageSetting, PolicyRef, parse_marker
from gitops_action.domain.policies import AlphabeticalPolicy, TagFilter, select_tag
from gitops_action.domain.ranges import parse_range
from gitops_action.domain.versions import parse_tag

EXAMPLES = int(os.environ.get("GITOPS_FUZZ_EXAMPLES", "60"))
_QUIET = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
FAST = settings(deadline=None, max_examples=EXAMPLES, suppress_health_check=_QUIET)
CLI_RUNS = settings(deadline=None, max_examples=max(EXAMPLES // 6, 5), suppress_health_check=_QUIET)
CLI = Path(sys.executable).with_name("gitops-action")

POLICY = PolicyRef("apps", "app")
OLD = "registry.example.com/app:v1.0.0"
NEW = "registry.example.com/app:v2.0.0"
MARKER = '# {"$imagepolicy": "apps:app"}'

# --- generated manifests -------------------------------------------------------------

words = st.sampled_from(["a", "b", "name", "x-y", "port", "true", "1.10", "null", "v1", "on"])
plain = st.sampled_from(["alpha", "beta", "42", "1.5", "true", "~", "some text", "x:y", ""])


@st.composite
def scalar(draw: st.DrawFn, anchors: list[str], marked: bool) -> str:
    """One scalar's text (after `key: ` or `- `), maybe anchored, tagged, quoted or marked."""
    if marked:
        value = draw(st.sampled_from([OLD, f"'{OLD}'", f'"{OLD}"', ""]))
    else:
        value = draw(plain)
        style = draw(st.sampled_from(["plain", "single", "double"]))
        if style == "single":
            value = "'" + value.replace("'", "''") + "'"
        elif style == "double":
            value = '"' + value + '"'
        elif value in ("", "~") or ":" in value:
            value = "'" + value + "'"
    parts = []
    if draw(st.booleans()) and (marked or draw(st.booleans())):  # properties: often on markers
        anchor = f"a{len(anchors)}"
        anchors.append(anchor)
        parts.append(f"&{anchor}")
    if draw(st.booleans()) and (marked or draw(st.booleans())):
        parts.append("!!str")
    parts.append(value)
    text = " ".join(part for part in parts if part)
    return f"{text} {MARKER}" if marked else text


@st.composite
def block(draw: st.DrawFn, indent: int, depth: int, anchors: list[str]) -> list[str]:
    """Lines of a block mapping or sequence at `indent`."""
    as_sequence = draw(st.booleans())
    lines: list[str] = []
    keys = draw(st.lists(words, min_size=1, max_size=4, unique=True))
    pad = " " * indent
    for key in keys:
        lead = f"{pad}- " if as_sequence else f"{pad}{key}: "
        choice = draw(st.sampled_from(["scalar", "marked", "alias", "flow", "nested"]))
        if choice == "nested" and depth < 3:
            lines.append(lead.rstrip() if as_sequence else f"{pad}{key}:")
            lines += draw(block(indent + 2, depth + 1, anchors))
        elif choice == "alias" and anchors:
            lines.append(lead + "*" + draw(st.sampled_from(anchors)))
        elif choice == "flow":
            items = draw(st.lists(plain.filter(lambda v: v and ":" not in v and v != "~"),
                                  max_size=3))  # fmt: skip
            lines.append(lead + "[" + ", ".join(items) + "]")
        else:
            lines.append(lead + draw(scalar(anchors, marked=choice == "marked")))
        if draw(st.booleans()) and draw(st.booleans()):
            lines.append(f"{pad}# a comment with $imagepolicy in it")
    return lines


@st.composite
def manifests(draw: st.DrawFn) -> str:
    documents = []
    for _ in range(draw(st.integers(1, 2))):
        documents.append("\n".join(draw(block(0, 0, []))) + "\n")
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return "---\n".join(documents).replace("\n", newline)


def _replaced(data: Any) -> Any:
    if isinstance(data, dict):
        return {key: _replaced(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_replaced(value) for value in data]
    return NEW if data == OLD else data


@FAST
@given(text=manifests())
def test_update_output_parses_and_differs_only_in_the_marked_scalars(
    tmp_path_factory: Any, text: str
) -> None:
    try:
        before = list(yaml.safe_load_all(text))
    except yaml.YAMLError:
        return  # the generator can write invalid YAML; update must refuse it (next test)
    root = tmp_path_factory.mktemp("fuzz")
    (root / "m.yaml").write_bytes(text.encode())
    try:
        plan = plan_update(root, [ImageSetting(POLICY, "registry.example.com/app", "v2.0.0")])
    except GitopsError:
        return  # refused as input: allowed, never a crash
    after_text = plan.files[0].after if plan.files else text
    after = list(yaml.safe_load_all(after_text))
    assert after == _replaced(before), after_text


@FAST
@given(text=st.text(max_size=300))
def test_update_on_arbitrary_text_is_ok_or_an_input_error(tmp_path_factory: Any, text: str) -> None:
    root = tmp_path_factory.mktemp("fuzz")
    (root / "m.yaml").write_text(f"image: {OLD} {MARKER}\n" + text, encoding="utf-8",
                                 errors="surrogatepass")  # fmt: skip
    with contextlib.suppress(GitopsError):
        plan_update(root, [ImageSetting(POLICY, "registry.example.com/app", "v2.0.0")])


# --- markers, ranges, patterns ----------------------------------------------------------

json_ish = st.text(alphabet='{}[]":,$ imagepolicyns0\\', max_size=80)


@FAST
@given(body=st.one_of(json_ish, st.text(max_size=120)))
def test_a_marker_comment_is_a_marker_none_or_our_error(body: str) -> None:
    for comment in (f"# {body}", f'# {{"$imagepolicy": {body}}}', "#" + body):
        with contextlib.suppress(GitopsError):
            parse_marker(comment, "f.yaml:1")


range_text = st.text(alphabet="0123456789.^~<>=!|*xX-+ ,vVa", max_size=40)


@FAST
@given(text=st.one_of(range_text, st.text(max_size=40)), tags=st.lists(range_text, max_size=5))
def test_a_range_parses_or_is_invalid_and_admits_without_crashing(
    text: str, tags: list[str]
) -> None:
    try:
        parsed = parse_range(text)
    except InvalidRange:
        return
    for tag in tags:
        version = parse_tag(tag)
        if version is not None:
            parsed.admits(version)


pattern_text = st.text(alphabet="^$()[]{}?*+|.\\-<>Pa1_dw:", max_size=24)
short_tags = st.lists(st.text(alphabet="av1.-_x", max_size=12), max_size=8)


@FAST
@given(pattern=pattern_text, extract=st.text(alphabet="$a1{}_", max_size=8), tags=short_tags)
def test_a_pattern_compiles_or_is_invalid_and_selects_without_crashing(
    pattern: str, extract: str, tags: list[str]
) -> None:
    try:
        tag_filter = TagFilter.compile(pattern, extract)
    except InvalidPattern:
        return
    select_tag(tags, AlphabeticalPolicy("asc"), tag_filter=tag_filter, oci_only=True)


# --- the console script: exit codes only 0/1/2 ------------------------------------------


def _run(*args: str, stdin: str = "", cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(CLI), *args], input=stdin, capture_output=True, text=True,
                          timeout=60, check=False, cwd=cwd)  # fmt: skip
    assert done.returncode in (0, 1, 2), (args, done.returncode, done.stderr[-800:])
    assert "Traceback" not in done.stderr, done.stderr[-800:]
    return done


@CLI_RUNS
@given(
    kind=st.sampled_from(["--semver", "--alphabetical", "--numerical"]),
    value=st.one_of(range_text, st.sampled_from(["asc", "desc", "ASC"])),
    pattern=st.one_of(st.none(), pattern_text),
    tags=st.lists(st.text(alphabet="v0123456789.-+abc\u202e$`()", max_size=20), max_size=10),
)
def test_policy_select_exits_0_1_or_2(
    kind: str, value: str, pattern: str | None, tags: list[str]
) -> None:
    args = ["policy", "select", kind, value, "--explain"]
    if pattern is not None:
        args += ["--pattern", pattern]
    _run(*args, stdin="\n".join(tags) + "\n")


@CLI_RUNS
@given(text=manifests(), garbage=st.text(max_size=60))
def test_update_cli_exits_0_1_or_2(tmp_path_factory: Any, text: str, garbage: str) -> None:
    root = tmp_path_factory.mktemp("fuzz-cli")
    (root / "m.yaml").write_bytes(text.encode())
    (root / "n.yaml").write_text(f"x: {OLD} {MARKER}\n{garbage}\n", encoding="utf-8",
                                 errors="surrogatepass")  # fmt: skip
    _run("update", str(root), "--set", f"apps:app={NEW}")
    _run("update", str(root), "--set", f"apps:app={NEW}", "--dry-run", "--output", "json")
