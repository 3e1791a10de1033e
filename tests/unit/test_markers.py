"""The pure marker logic: reading markers and --set values, quoting, planning, rendering."""

from __future__ import annotations

import re

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from gitops_action.domain.errors import InvalidManifest, InvalidSetting
from gitops_action.domain.markers import (
    Change,
    FilePlan,
    ImageSetting,
    Marker,
    MarkerField,
    ObjectRef,
    PolicyRef,
    ScalarSpan,
    ScalarStyle,
    UpdateResult,
    index_settings,
    line_comment,
    needs_quotes,
    parse_marker,
    parse_setting,
    plan_file,
    render_scalar,
    unified_diff,
)

APP = PolicyRef("flux-system", "app")

# --- markers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("comment", "field"),
    [
        ('# {"$imagepolicy": "flux-system:app"}', MarkerField.FULL),
        ('#{"$imagepolicy":"flux-system:app"}', MarkerField.FULL),
        ('### {"$imagepolicy": "flux-system:app:tag"}   ', MarkerField.TAG),
        ('#  {"$imagepolicy": "flux-system:app:name", "note": 1}', MarkerField.NAME),
    ],
)
def test_markers_read_as_json_after_the_hashes(comment: str, field: MarkerField) -> None:
    assert parse_marker(comment, "f.yaml:3") == Marker(APP, field)


@pytest.mark.parametrize("comment", ["# pinned", "#", '# {"$kpt-set": "image"}', "# TODO"])
def test_comments_without_the_key_are_not_markers(comment: str) -> None:
    assert parse_marker(comment, "f.yaml:1") is None


@pytest.mark.parametrize(
    ("comment", "message"),
    [
        ('# {"$imagepolicy": "flux-system:app"', "f.yaml:7: marker is not valid JSON: "),
        ("# {'$imagepolicy': 'flux-system:app'}", "f.yaml:7: marker is not valid JSON: "),
        ('# {"$imagepolicy": "flux-system:app"} # pinned', "f.yaml:7: marker is not valid JSON"),
        ('# ["$imagepolicy"]', "f.yaml:7: marker is not a JSON object"),
        ('# {"$imagepolicy": null}', 'f.yaml:7: marker has no string "$imagepolicy" value'),
        ('# {"note": "$imagepolicy"}', 'f.yaml:7: marker has no string "$imagepolicy" value'),
        ('# {"$imagepolicy": "app"}', "the namespace is required"),
        ('# {"$imagepolicy": ":app"}', "is not ns:name[:tag|:name|:digest]"),
        ('# {"$imagepolicy": "flux-system:app:size"}', "is not ns:name[:tag|:name|:digest]"),
        ('# {"$imagepolicy": "a:b:c:d"}', "is not ns:name[:tag|:name|:digest]"),
        ('# {"$imagepolicy": "flux system:app"}', "is not ns:name[:tag|:name|:digest]"),
    ],
)
def test_malformed_markers_name_file_and_line(comment: str, message: str) -> None:
    with pytest.raises(InvalidManifest) as raised:
        parse_marker(comment, "f.yaml:7")
    assert message in str(raised.value)
    assert str(raised.value).startswith("f.yaml:7: ")
    assert "\n" not in str(raised.value)


# --- --set values ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "image", "tag"),
    [
        ("flux-system:app=chripp/app:v1.1.0", "chripp/app", "v1.1.0"),
        ("ns:a=127.0.0.1:5000/app:v1", "127.0.0.1:5000/app", "v1"),
        (
            "ns:a=localhost:5000/team/sub/app:sha-1a2b3c4",
            "localhost:5000/team/sub/app",
            "sha-1a2b3c4",
        ),
        ("ns:a=Registry.Example.com/a_b__c-d.e:1.10", "Registry.Example.com/a_b__c-d.e", "1.10"),
        ("ns:a=app:latest", "app", "latest"),
    ],
)
def test_settings_split_at_the_last_colon(text: str, image: str, tag: str) -> None:
    setting = parse_setting(text)
    assert (setting.image, setting.tag) == (image, tag)
    assert setting.ref == f"{image}:{tag}"
    assert setting.policy == PolicyRef(*text.split("=", maxsplit=1)[0].split(":"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("flux-system:app", "expected NS:NAME=IMAGE:TAG"),
        ("app=chripp/app:v1", "the namespace is required"),
        ("a:b:c=chripp/app:v1", "is not NS:NAME"),
        ("flux-system:app=chripp/app", "has no tag"),
        ("flux-system:app=127.0.0.1:5000/app", "has no tag"),
        ("flux-system:app=chripp/app:", "has no tag"),
        ("flux-system:app=chripp/app:-v1", "has no tag"),
        ("flux-system:app=:v1", "is empty"),
        ("flux-system:app=chripp/App:v1", "invalid repository path"),
        ("flux-system:app=chripp/app:v1@sha256:abc", "is not a digest"),
        ("flux-system:app=chripp app:v1", "invalid repository path"),
    ],
)
def test_bad_settings_are_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidSetting) as raised:
        parse_setting(text)
    assert message in str(raised.value)
    assert repr(text) in str(raised.value)


def test_a_policy_set_twice_must_agree() -> None:
    same = parse_setting("ns:a=app:v1")
    assert index_settings([same, parse_setting("ns:a=app:v1")]) == {PolicyRef("ns", "a"): same}
    with pytest.raises(InvalidSetting, match="given twice"):
        index_settings([same, parse_setting("ns:a=app:v2")])


def test_setters_pick_their_part() -> None:
    setting = ImageSetting(APP, "127.0.0.1:5000/app", "v2")
    assert setting.value_for(MarkerField.FULL) == "127.0.0.1:5000/app:v2"
    assert setting.value_for(MarkerField.TAG) == "v2"
    assert setting.value_for(MarkerField.NAME) == "127.0.0.1:5000/app"


# --- quoting --------------------------------------------------------------------------

NOT_STRINGS = [
    "1.10",
    "1",
    "-1",
    "+12",
    "0x1F",
    "0o17",
    "017",
    "0b101",
    "1_000",
    "20240101",
    "1e3",
    "1E-3",
    ".5",
    "1.",
    ".inf",
    "-.Inf",
    ".nan",
    "1:20",
    "1:20.5",
    "true",
    "False",
    "yes",
    "No",
    "on",
    "OFF",
    "y",
    "N",
    "null",
    "Null",
    "~",
    "",
    "2024-01-01",
    "2001-12-14t21:59:43.10-05:00",
    "<<",
    "=",
]
PLAIN_STRINGS = [
    "v1.10",
    "1.0.0",
    "chripp/app:v1.0.0",
    "127.0.0.1:5000/app",
    "sha-1a2b3c4",
    "latest",
    "app@sha256:0123abcd",
    "1.2.3-rc.1",
    "2024.06.1",
    "nullable",
    "yes-please",
    "v0x1F",
]


@pytest.mark.parametrize("value", NOT_STRINGS)
def test_values_that_would_not_read_back_as_strings_need_quotes(value: str) -> None:
    assert needs_quotes(value)
    assert render_scalar(value, ScalarStyle.PLAIN) == f'"{value}"'


@pytest.mark.parametrize("value", PLAIN_STRINGS)
def test_ordinary_image_refs_stay_plain(value: str) -> None:
    assert not needs_quotes(value)
    assert render_scalar(value, ScalarStyle.PLAIN) == value
    assert yaml.safe_load(f"k: {value}")["k"] == value


@pytest.mark.parametrize(
    "value",
    [
        "a: b",
        "a #b",
        "-",
        "- a",
        "[a]",
        "{a}",
        "a,b",
        "'a",
        '"a',
        "&a",
        "*a",
        "!a",
        "%a",
        "@a",
        "`a",
        "|",
        ">",
        "?",
        "a:",
        " a",
        "a ",
        "a\nb",
        "#a",
    ],
)
def test_values_that_are_not_plain_syntax_need_quotes(value: str) -> None:
    assert needs_quotes(value)


def test_quoted_styles_are_kept() -> None:
    assert render_scalar("1.10", ScalarStyle.SINGLE) == "'1.10'"
    assert render_scalar("1.10", ScalarStyle.DOUBLE) == '"1.10"'
    assert render_scalar("it's", ScalarStyle.SINGLE) == "'it''s'"
    assert render_scalar('say "hi" \\o/', ScalarStyle.DOUBLE) == '"say \\"hi\\" \\\\o/"'
    assert render_scalar("a\tb\u2028", ScalarStyle.SINGLE) == '"a\\tb\\u2028"'


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=20))
def test_every_rendering_reads_back_as_the_same_string(value: str) -> None:
    for style in (ScalarStyle.PLAIN, ScalarStyle.SINGLE, ScalarStyle.DOUBLE):
        rendered = render_scalar(value, style)
        for document in (f"k: {rendered}\n", f"- {rendered}\n", f"[{rendered}]\n"):
            loaded = yaml.safe_load(document)
            read = loaded["k"] if isinstance(loaded, dict) else loaded[0]
            assert read == value, (style, document)


@given(st.from_regex(r"[A-Za-z0-9_.][A-Za-z0-9_.+-]{0,10}", fullmatch=True))
def test_plain_tags_never_change_type(value: str) -> None:
    if not needs_quotes(value):
        assert yaml.safe_load(f"k: {value}")["k"] == value


# --- planning ---------------------------------------------------------------------------


def _spans(text: str, *scalars: tuple[int, str, ScalarStyle]) -> list[ScalarSpan]:
    """Spans as the adapter reports them, for (line, written text, style) triples."""
    starts = [0] + [match.end() for match in re.finditer("\n", text)]
    spans = []
    for line, written, style in scalars:
        start = text.index(written, starts[line - 1])
        value = yaml.safe_load(f"v: {written}")["v"]
        spans.append(ScalarSpan(start, start + len(written), line, line, style, str(value)))
    return spans


SETTINGS = {APP: ImageSetting(APP, "chripp/app", "v1.1.0")}


def test_plan_rewrites_only_marked_scalars_and_keeps_crlf() -> None:
    text = (
        'a: chripp/app:v1.0.0 # {"$imagepolicy": "flux-system:app"}\r\n'
        'b: \'v1.0.0\'   #{"$imagepolicy":"flux-system:app:tag"}  \r\n'
        "c: v1.0.0 # plain comment\r\n"
        'd: x:v1 # {"$imagepolicy": "other:policy"}\r\n'
    )
    spans = _spans(
        text,
        (1, "chripp/app:v1.0.0", ScalarStyle.PLAIN),
        (2, "'v1.0.0'", ScalarStyle.SINGLE),
        (3, "v1.0.0", ScalarStyle.PLAIN),
        (4, "x:v1", ScalarStyle.PLAIN),
    )
    plan = plan_file("k.yaml", text, spans, SETTINGS)
    assert plan.after == (
        'a: chripp/app:v1.1.0 # {"$imagepolicy": "flux-system:app"}\r\n'
        'b: \'v1.1.0\'   #{"$imagepolicy":"flux-system:app:tag"}  \r\n'
        "c: v1.0.0 # plain comment\r\n"
        'd: x:v1 # {"$imagepolicy": "other:policy"}\r\n'
    )
    assert [(c.line, c.field, c.old, c.new, c.image) for c in plan.changes] == [
        (1, MarkerField.FULL, "chripp/app:v1.0.0", "chripp/app:v1.1.0", "chripp/app:v1.1.0"),
        (2, MarkerField.TAG, "v1.0.0", "v1.1.0", "chripp/app:v1.1.0"),
    ]


def test_plan_leaves_current_values_block_scalars_and_empty_scalars() -> None:
    text = (
        'a: chripp/app:v1.1.0 # {"$imagepolicy": "flux-system:app"}\n'
        'b: | # {"$imagepolicy": "flux-system:app"}\n'
        "  x\n"
        'c: # {"$imagepolicy": "flux-system:app"}\n'
    )
    spans = [
        *_spans(text, (1, "chripp/app:v1.1.0", ScalarStyle.PLAIN)),
        ScalarSpan(text.index("|"), text.index("c:"), 2, 3, ScalarStyle.LITERAL, "x\n"),
        ScalarSpan(text.index("c:") + 2, text.index("c:") + 2, 4, 4, ScalarStyle.PLAIN, ""),
    ]
    plan = plan_file("k.yaml", text, spans, SETTINGS)
    assert (plan.after, plan.changes, plan.changed) == (text, (), False)


def test_markers_are_validated_even_when_their_policy_is_not_set() -> None:
    text = 'a: x:v1 # {"$imagepolicy": "nobody"}\n'
    spans = _spans(text, (1, "x:v1", ScalarStyle.PLAIN))
    with pytest.raises(InvalidManifest, match=r"^k\.yaml:1: .*namespace is required"):
        plan_file("k.yaml", text, spans, SETTINGS, strict=True)
    plan = plan_file("k.yaml", text, spans, SETTINGS)  # as Flux: not a marker, a warning
    assert not plan.changed
    assert len(plan.warnings) == 1
    assert plan.warnings[0].startswith("k.yaml:1: ")
    assert "namespace is required" in plan.warnings[0]


def test_digest_markers_and_tag_at_digest_settings() -> None:
    digest = "sha256:" + "ab" * 32
    setting = parse_setting(f"flux-system:app=reg.example:5000/app:v2@{digest}")
    assert (setting.image, setting.tag, setting.digest) == ("reg.example:5000/app", "v2", digest)
    assert setting.ref == f"reg.example:5000/app:v2@{digest}"
    marker = parse_marker('# {"$imagepolicy": "flux-system:app:digest"}', "f.yaml:1")
    assert marker is not None and marker.field is MarkerField.DIGEST
    assert setting.value_for(MarkerField.DIGEST) == digest
    assert setting.value_for(MarkerField.FULL) == f"reg.example:5000/app:v2@{digest}"
    assert setting.value_for(MarkerField.TAG) == "v2"
    without = parse_setting("flux-system:app=reg.example/app:v2")
    assert without.value_for(MarkerField.DIGEST) is None  # left as is, with a warning


def test_a_marker_needs_whitespace_before_the_hash() -> None:
    assert line_comment('a: "x"# {"$imagepolicy": "a:b"}\n', 6) is None
    assert line_comment("a: x \t# c \r\nb", 4) == "# c"
    assert line_comment("a: x, # c\n", 4) is None


def test_aliases_repeating_a_span_change_it_once() -> None:
    text = 'a: &x chripp/app:v1.0.0 # {"$imagepolicy": "flux-system:app"}\nb: *x\n'
    span = _spans(text, (1, "chripp/app:v1.0.0", ScalarStyle.PLAIN))[0]
    plan = plan_file("k.yaml", text, [span, span], SETTINGS)
    assert plan.after == text.replace("v1.0.0", "v1.1.0")
    assert len(plan.changes) == 1


# --- results and rendering ---------------------------------------------------------------


def _change(file: str, line: int, image: str, obj: ObjectRef | None = None) -> Change:
    return Change(file, line, APP, MarkerField.FULL, "old", image, image, obj)


def test_result_groups_changes_by_file_object_and_image() -> None:
    deploy = ObjectRef("Deployment", "default", "app", "apps/v1")
    pod = ObjectRef("Pod", "", "debug", "v1")
    plans = [
        FilePlan("b.yaml", "x", "y", (_change("b.yaml", 3, "app:v2", pod),)),
        FilePlan(
            "a.yaml",
            "x",
            "y",
            (_change("a.yaml", 1, "app:v2", deploy), _change("a.yaml", 9, "app:v1", deploy)),
        ),
        FilePlan("c.yaml", "x", "x", ()),
    ]
    result = UpdateResult.of(plans)
    assert list(result.files) == ["a.yaml", "b.yaml"]
    assert [c.line for c in result.files["a.yaml"]] == [1, 9]
    assert list(result.objects) == [("a.yaml", deploy), ("b.yaml", pod)]
    assert result.images == ("app:v1", "app:v2")
    assert result.policies == (APP,)
    assert str(deploy) == "Deployment/default/app" and str(pod) == "Pod/debug"
    assert bool(result) and not UpdateResult.of([])
    record = result.changes[0].as_record()
    assert record["policy"] == "flux-system:app" and record["field"] == "full"
    assert record["object"]["kind"] == "Deployment"


def test_diff_has_git_paths_and_marks_a_missing_final_newline() -> None:
    plans = [
        FilePlan("z/b.yaml", "a: 1\nb: 2", "a: 1\nb: 3", ()),
        FilePlan("a.yaml", "x: 1\n", "x: 2\n", ()),
        FilePlan("same.yaml", "x\n", "x\n", ()),
    ]
    diff = unified_diff(plans)
    assert diff == (
        "--- a/a.yaml\n+++ b/a.yaml\n@@ -1 +1 @@\n-x: 1\n+x: 2\n"
        "--- a/z/b.yaml\n+++ b/z/b.yaml\n@@ -1,2 +1,2 @@\n a: 1\n"
        "-b: 2\n\\ No newline at end of file\n+b: 3\n\\ No newline at end of file\n"
    )
    assert re.search("same.yaml", diff) is None
