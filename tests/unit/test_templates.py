"""Commit message templates: the Go text/template subset and Flux's data model.

Expected outputs are written from Go's documented semantics (text/template,
fmt, Sprig) and Flux's TemplateData, never copied from this implementation.
"""

from __future__ import annotations

from typing import Any

import pytest

from gitops_action.domain.errors import ConfigError, InvalidTemplate
from gitops_action.domain.gotemplate.gofmt import format_float
from gitops_action.domain.markers import Change, MarkerField, ObjectRef, PolicyRef, UpdateResult
from gitops_action.domain.template_data import template_data
from gitops_action.domain.templates import (
    DEFAULT_MESSAGE_TEMPLATE,
    parse_template,
    render_template,
)

DEPLOYMENT = ObjectRef("Deployment", "default", "app", "apps/v1")
RELEASE = ObjectRef("HelmRelease", "web", "web", "helm.toolkit.fluxcd.io/v2")
APP = PolicyRef("flux-system", "app")
WEB = PolicyRef("flux-system", "web")


def change(
    file: str,
    old: str,
    new: str,
    image: str,
    *,
    policy: PolicyRef = APP,
    field: MarkerField = MarkerField.FULL,
    obj: ObjectRef | None = DEPLOYMENT,
    line: int = 1,
) -> Change:
    return Change(file, line, policy, field, old, new, image, obj)


def seed_result() -> UpdateResult:
    """What `update` reports for the seed tutorial after CI pushed v1.0.1."""
    return UpdateResult(
        (change("deployment.yaml", "chripp/app:v1.0.0", "chripp/app:v1.0.1", "chripp/app:v1.0.1"),)
    )


def two_file_result() -> UpdateResult:
    """A full-image marker in a Deployment and tag/name markers in a HelmRelease."""
    return UpdateResult(
        (
            change("apps/app.yaml", "chripp/app:v1.0.0", "chripp/app:v1.1.0", "chripp/app:v1.1.0"),
            change(
                "apps/web.yaml",
                "ghcr.io/acme/old",
                "ghcr.io/acme/web",
                "ghcr.io/acme/web:1.2.0",
                policy=WEB,
                field=MarkerField.NAME,
                obj=RELEASE,
                line=6,
            ),
            change(
                "apps/web.yaml",
                "1.0.0",
                "1.2.0",
                "ghcr.io/acme/web:1.2.0",
                policy=WEB,
                field=MarkerField.TAG,
                obj=RELEASE,
                line=7,
            ),
        )
    )


def render(text: str, data: Any = None) -> str:
    return render_template(text, {} if data is None else data)


def flux(text: str, result: UpdateResult, values: dict[str, str] | None = None) -> str:
    data = template_data(result, "flux-system", "flux-system", values)
    return render_template(text, data)


# --- the seed tutorial and Flux's data model ------------------------------------------


def test_seed_template_prints_each_image_on_its_own_line() -> None:
    text = "{{range .Updated.Images}}{{println .}}{{end}}"
    assert flux(text, seed_result()) == "chripp/app:v1.0.1\n"


def test_updated_images_lists_each_image_once() -> None:
    same_image_twice = UpdateResult(
        (
            change("a.yaml", "chripp/app:v1", "chripp/app:v2", "chripp/app:v2"),
            change("b.yaml", "chripp/app:v1", "chripp/app:v2", "chripp/app:v2"),
        )
    )
    text = "{{range .Updated.Images}}{{println .}}{{end}}"
    assert flux(text, same_image_twice) == "chripp/app:v2\n"
    assert flux(text, two_file_result()) == "chripp/app:v1.1.0\nghcr.io/acme/web:1.2.0\n"


def test_empty_template_is_fluxs_default_message() -> None:
    assert flux("", seed_result()) == "Update from image update automation"
    assert DEFAULT_MESSAGE_TEMPLATE == "Update from image update automation"


def test_flux_v1_documentation_example() -> None:
    # The example from Flux's ImageUpdateAutomation v1 docs, rendered by hand.
    text = (
        "Automated image update\n"
        "\n"
        "Automation name: {{ .AutomationObject }}\n"
        "\n"
        "Files:\n"
        "{{ range $filename, $_ := .Changed.FileChanges -}}\n"
        "- {{ $filename }}\n"
        "{{ end -}}\n"
        "\n"
        "Objects:\n"
        "{{ range $resource, $changes := .Changed.Objects -}}\n"
        "- {{ $resource.Kind }} {{ $resource.Name }}\n"
        "  Changes:\n"
        "{{- range $_, $change := $changes }}\n"
        "    - {{ $change.OldValue }} -> {{ $change.NewValue }}\n"
        "{{ end -}}\n"
        "{{ end -}}\n"
    )
    # Objects sort by apiVersion first: apps/v1 < helm.toolkit.fluxcd.io/v2.
    assert flux(text, two_file_result()) == (
        "Automated image update\n"
        "\n"
        "Automation name: flux-system/flux-system\n"
        "\n"
        "Files:\n"
        "- apps/app.yaml\n"
        "- apps/web.yaml\n"
        # `{{ end -}}` trims every white space after it, the blank line included.
        "Objects:\n"
        "- Deployment app\n"
        "  Changes:\n"
        "    - chripp/app:v1.0.0 -> chripp/app:v1.1.0\n"
        "- HelmRelease web\n"
        "  Changes:\n"
        "    - ghcr.io/acme/old -> ghcr.io/acme/web\n"
        # Each change's text starts with the newline after `}}`: a blank line between two.
        "\n"
        "    - 1.0.0 -> 1.2.0\n"
    )


def test_changed_changes_carry_old_new_and_setter() -> None:
    text = (
        "{{ range .Changed.Changes }}{{ .Setter }}: {{ .OldValue }} => {{ .NewValue }}\n{{ end }}"
    )
    assert flux(text, two_file_result()) == (
        "flux-system:app: chripp/app:v1.0.0 => chripp/app:v1.1.0\n"
        "flux-system:web:name: ghcr.io/acme/old => ghcr.io/acme/web\n"
        "flux-system:web:tag: 1.0.0 => 1.2.0\n"
    )


def test_a_change_prints_as_a_go_struct() -> None:
    assert flux("{{ index .Changed.Changes 0 }}", seed_result()) == (
        "{chripp/app:v1.0.0 chripp/app:v1.0.1 flux-system:app}"
    )


def test_changed_image_result_is_the_v1beta1_result() -> None:
    text = "{{ range .Changed.ImageResult.Images }}{{ . }};{{ end }}"
    assert flux(text, two_file_result()) == "chripp/app:v1.1.0;ghcr.io/acme/web:1.2.0;"


def test_file_changes_nest_objects_then_changes() -> None:
    text = (
        "{{ range $file, $objects := .Changed.FileChanges }}{{ $file }}:"
        "{{ range $obj, $changes := $objects }} "
        "{{ $obj.Kind }}/{{ $obj.Namespace }}/{{ $obj.Name }}"
        "={{ len $changes }}{{ end }}\n{{ end }}"
    )
    assert flux(text, two_file_result()) == (
        "apps/app.yaml: Deployment/default/app=1\napps/web.yaml: HelmRelease/web/web=2\n"
    )


def test_updated_files_and_objects() -> None:
    text = (
        "{{ range $file, $result := .Updated.Files }}{{ $file }} "
        "{{ range $obj, $images := $result.Objects }}{{ $obj.Kind }}{{ $images }}{{ end }}"
        "\n{{ end }}"
        "{{ len .Updated.Objects }}"
    )
    assert flux(text, two_file_result()) == (
        "apps/app.yaml Deployment[chripp/app:v1.1.0]\n"
        "apps/web.yaml HelmRelease[ghcr.io/acme/web:1.2.0]\n"
        "2"
    )


def test_object_identifier_prints_as_kyamls_nested_struct() -> None:
    assert flux("{{ range $o, $_ := .Changed.Objects }}{{ $o }}{{ end }}", seed_result()) == (
        "{{{apps/v1 Deployment} {app default}}}"
    )
    not_an_object = UpdateResult((change("values.yaml", "1", "2", "x:2", obj=None),))
    text = "{{ range $o, $_ := .Changed.Objects }}[{{ $o.Kind }}]{{ $o }}{{ end }}"
    assert flux(text, not_an_object) == "[]{{{ } { }}}"


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (
            "chripp/app:v1.0.1",
            "chripp/app index.docker.io v1.0.1 index.docker.io/chripp/app:v1.0.1",
        ),
        ("alpine:3.20", "library/alpine index.docker.io 3.20 index.docker.io/library/alpine:3.20"),
        (
            "localhost:5000/team/app:1.2",
            "team/app localhost:5000 1.2 localhost:5000/team/app:1.2",
        ),
    ],
)
def test_image_ref_methods_follow_go_containerregistry(image: str, expected: str) -> None:
    result = UpdateResult((change("a.yaml", "old", image, image),))
    text = (
        "{{ range .Updated.Images }}"
        "{{ .Repository }} {{ .Registry }} {{ .Identifier }} {{ .Name }}{{ end }}"
    )
    assert flux(text, result) == expected


def test_image_ref_names_its_policy() -> None:
    text = (
        "{{ range .Updated.Images }}{{ .Policy }} {{ .Policy.Namespace }} {{ .Policy.Name }}"
        "{{ end }}"
    )
    assert flux(text, seed_result()) == "flux-system/app flux-system app"


def test_automation_object_fields() -> None:
    data = template_data(seed_result(), "apps", "auto")
    assert (
        render_template("{{ .AutomationObject.Namespace }}:{{ .AutomationObject.Name }}", data)
        == "apps:auto"
    )


def test_values_from_message_template_values() -> None:
    text = (
        'cluster={{ .Values.cluster }} missing={{ .Values.nope }} index={{ index .Values "nope" }}.'
    )
    # A missing key read as a field is Go's invalid value (<no value>); `index` returns the
    # element type's zero value, the empty string.
    assert (
        flux(text, seed_result(), {"cluster": "prod"}) == "cluster=prod missing=<no value> index=."
    )


def test_maps_range_in_sorted_key_order() -> None:
    text = "{{ range $k, $v := . }}{{ $k }}={{ $v }};{{ end }}"
    assert render(text, {"b": 2, "a": 1, "c": 3}) == "a=1;b=2;c=3;"
    files = UpdateResult(
        (
            change("z.yaml", "x:1", "x:2", "x:2"),
            change("a.yaml", "x:1", "x:2", "x:2"),
        )
    )
    assert flux("{{ range $f, $_ := .Changed.FileChanges }}{{ $f }} {{ end }}", files) == (
        "a.yaml z.yaml "
    )


# --- actions, control structures, variables ------------------------------------------


def test_text_without_actions_is_unchanged() -> None:
    assert render("plain text\nwith lines } { }") == "plain text\nwith lines } { }"


def test_range_with_one_and_two_variables() -> None:
    data = {"L": ("a", "b")}
    assert render("{{ range .L }}<{{ . }}>{{ end }}", data) == "<a><b>"
    assert render("{{ range $v := .L }}{{ $v }}{{ end }}", data) == "ab"
    assert render("{{ range $i, $v := .L }}{{ $i }}={{ $v }} {{ end }}", data) == "0=a 1=b "


def test_range_else_runs_when_there_is_nothing_to_walk() -> None:
    template = "{{ range .X }}item{{ else }}none{{ end }}"
    assert render(template, {"X": ()}) == "none"
    assert render(template, {"X": {}}) == "none"
    assert render(template, {}) == "none"  # a missing key is no value: nothing to walk


def test_range_over_an_integer_counts_from_zero() -> None:
    assert render("{{ range 3 }}{{ . }}{{ end }}") == "012"
    assert render("{{ range $i := 2 }}[{{ $i }}]{{ end }}") == "[0][1]"


def test_break_and_continue() -> None:
    text = (
        "{{ range . }}{{ if eq . 2 }}{{ continue }}{{ end }}"
        "{{ if eq . 4 }}{{ break }}{{ end }}{{ . }}{{ end }}"
    )
    assert render(text, (1, 2, 3, 4, 5)) == "13"


def test_if_else_if_else_chain() -> None:
    text = "{{ if .A }}a{{ else if .B }}b{{ else }}none{{ end }}"
    assert render(text, {"A": 1, "B": 1}) == "a"
    assert render(text, {"A": 0, "B": 1}) == "b"
    assert render(text, {"A": 0, "B": 0}) == "none"


def test_with_moves_the_dot_and_has_an_else() -> None:
    text = "{{ with .A }}[{{ . }}]{{ else }}empty{{ end }}"
    assert render(text, {"A": "x"}) == "[x]"
    assert render(text, {"A": ""}) == "empty"
    assert render("{{ with .A }}1{{ else with .B }}{{ . }}{{ end }}", {"A": "", "B": "b"}) == "b"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "F"),
        (1, "T"),
        (-1, "T"),
        (0.0, "F"),
        ("", "F"),
        ("0", "T"),
        ((), "F"),
        ((0,), "T"),
        ({}, "F"),
        ({"k": 0}, "T"),
        (False, "F"),
        (True, "T"),
        (None, "F"),
    ],
)
def test_truthiness_is_gos(value: object, expected: str) -> None:
    assert render("{{ if .V }}T{{ else }}F{{ end }}", {"V": value}) == expected


def test_a_struct_is_always_true() -> None:
    assert flux("{{ if .AutomationObject }}T{{ end }}", seed_result()) == "T"


def test_trim_markers_remove_all_white_space_on_their_side() -> None:
    assert render("a  \n\t {{- 1 -}} \n  b") == "a1b"
    assert render("a {{- 1 }} b") == "a1 b"
    assert render("a {{ 1 -}} b") == "a 1b"
    # Without the space, "-3" is a number and nothing is trimmed.
    assert render("a {{-3}} b") == "a -3 b"


def test_comments_print_nothing_and_may_trim() -> None:
    assert render("a{{/* a comment */}}b") == "ab"
    assert render("a \n{{- /* multi\nline */ -}}\n b") == "ab"


def test_variables_declare_assign_and_scope() -> None:
    text = (
        '{{ $x := "a" }}{{ $x }}{{ if true }}{{ $x = "b" }}{{ $y := "c" }}{{ $y }}{{ end }}{{ $x }}'
    )
    assert render(text) == "acb"
    assert render("{{ $ }}", "root") == "root"
    assert (
        render("{{ range .L }}{{ $.Name }}{{ . }}{{ end }}", {"L": (1, 2), "Name": "n"}) == "n1n2"
    )


def test_a_declaration_prints_nothing() -> None:
    assert render("{{ $x := 5 }}") == ""


def test_pipelines_pass_the_value_as_the_last_argument() -> None:
    assert render('{{ "x" | printf "%s-%s" "y" }}') == "y-x"
    assert render('{{ .A | lower | printf "%q" }}', {"A": "HeLLo"}) == '"hello"'
    assert render("{{ (len .L) }} {{ (index .L 1) }}", {"L": ("a", "b")}) == "2 b"


def test_missing_field_on_a_map_is_no_value_and_stays_so() -> None:
    assert render("{{ .Nope }}|{{ .Nope.Deeper }}", {}) == "<no value>|<no value>"


# --- printing -----------------------------------------------------------------------------


def test_print_adds_spaces_only_between_non_strings() -> None:
    assert render('{{ print "a" 1 2 "b" }}') == "a1 2b"
    assert render('{{ print "a" "b" }}') == "ab"


def test_println_always_separates_and_ends_the_line() -> None:
    assert render('{{ println 1 "a" }}') == "1 a\n"
    assert render("{{ println }}") == "\n"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ('{{ printf "%s|%d|%v|%q" "s" 42 true "q" }}', 's|42|true|"q"'),
        ('{{ printf "%5s|%-5s|%05d|%+d|%.2s" "a" "b" 42 7 "abc" }}', "    a|b    |00042|+7|ab"),
        ('{{ printf "%*d" 4 7 }}', "   7"),
        ('{{ printf "100%%" }}', "100%"),
        ('{{ printf "%d" "x" }}', "%!d(string=x)"),
        ('{{ printf "%s" 5 }}', "%!s(int=5)"),
        ('{{ printf "%s %s" "a" }}', "a %!s(MISSING)"),
        ('{{ printf "%s" "a" "b" }}', "a%!(EXTRA string=b)"),
        ('{{ printf "%s" nil }}', "%!s(<nil>)"),
        ('{{ printf "%v" nil }}', "<nil>"),
        ('{{ printf "%q" 65 }}', "'A'"),
        ('{{ printf "%q" "a\\"b\\n\\t\\u00e9\\x01" }}', '"a\\"b\\n\\té\\x01"'),
        ('{{ printf "%+q" "é" }}', '"\\u00e9"'),
        ('{{ printf "%" }}', "%!(NOVERB)"),
        ('{{ printf "%v" . }}', "[1 2]"),
    ],
)
def test_printf_follows_go_fmt(template: str, expected: str) -> None:
    assert render(template, (1, 2)) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.5, "1.5"),
        (100000.0, "100000"),
        (1000000.0, "1e+06"),
        (123456789.0, "1.23456789e+08"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (-2.5e-7, "-2.5e-07"),
        (3.0, "3"),
        (0.0, "0"),
    ],
)
def test_floats_print_as_go_percent_v(value: float, expected: str) -> None:
    assert format_float(value) == expected


def test_number_literals() -> None:
    assert render("{{ 0x1F }} {{ 0o17 }} {{ 017 }} {{ 0b101 }} {{ 1_000 }} {{ 'a' }}") == (
        "31 15 15 5 1000 97"
    )
    assert render("{{ 1e3 }} {{ 3.0 }} {{ -1.5 }}") == "1000 3 -1.5"


def test_string_literals_unquote_like_go() -> None:
    assert render('{{ "tab\\there" }}|{{ `raw\\t` }}|{{ "\\u263a" }}') == "tab\there|raw\\t|☺"


def test_print_of_slices_and_maps() -> None:
    assert render("{{ . }}", {"b": (1, "x"), "a": True}) == "map[a:true b:[1 x]]"


# --- builtin functions ----------------------------------------------------------------------


def test_len_counts_bytes_of_strings_like_go() -> None:
    assert render('{{ len "héllo" }} {{ len . }}', (1, 2, 3)) == "6 3"


def test_index_and_slice() -> None:
    data = {"L": ("a", "b", "c"), "M": {"k": "v"}}
    assert render('{{ index .L 2 }} {{ index .M "k" }}', data) == "c v"
    assert render('{{ index "abc" 1 }}') == "98"  # a byte, printed as a number
    assert render('{{ slice "abcdef" 1 3 }} {{ slice .L 1 }}', data) == "bc [b c]"


def test_and_or_return_an_operand() -> None:
    assert render('{{ and 1 0 2 }}|{{ and 1 2 }}|{{ or 0 "" "x" }}|{{ or 0 "" }}') == "0|2|x|"
    assert render("{{ not 0 }} {{ not 1 }}") == "true false"


def test_comparisons() -> None:
    text = (
        '{{ eq 1 1 }} {{ eq 2 1 3 2 }} {{ ne "a" "b" }} {{ lt 1 2 }} {{ le 2 2 }} '
        '{{ gt "a" "b" }} {{ ge 1.5 2.5 }}'
    )
    assert render(text) == "true true true true true false false"


def test_comparing_different_kinds_is_an_error() -> None:
    with pytest.raises(InvalidTemplate, match="incompatible types for comparison"):
        render("{{ eq 1 1.0 }}")
    with pytest.raises(InvalidTemplate, match="invalid type for comparison"):
        render("{{ lt true false }}")


# --- Sprig functions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ('{{ lower "HeLLo" }}', "hello"),
        ('{{ upper "straße" }}', "STRAßE"),  # rune by rune, as Go's ToUpper
        ('{{ title "hello wide-world" }}', "Hello Wide-World"),
        ('{{ trim "  x \\n" }}', "x"),
        ('{{ trimPrefix "v" "v1.2" }} {{ trimSuffix ".yaml" "a.yaml" }}', "1.2 a"),
        (
            '{{ contains "b" "abc" }} {{ hasPrefix "a" "abc" }} {{ hasSuffix "a" "abc" }}',
            "true true false",
        ),
        ('{{ replace "a" "o" "banana" }}', "bonono"),
        ('{{ join ", " . }}', "x, y"),
        ('{{ quote "a" }} {{ squote "b" }}', "\"a\" 'b'"),
        ('{{ default "d" "" }} {{ default "d" "x" }} {{ default "d" .Missing }}', "d x d"),
        ('{{ empty "" }} {{ empty "x" }}', "true false"),
        ('{{ trunc 3 "abcdef" }} {{ trunc -2 "abcdef" }}', "abc ef"),
        ('{{ indent 2 "a\\nb" }}|{{ nindent 2 "c" }}', "  a\n  b|\n  c"),
        ("{{ toString 5 }}", "5"),
    ],
)
def test_sprig_functions(template: str, expected: str) -> None:
    data: Any = ("x", "y") if "join" in template else {}
    assert render(template, data) == expected


def test_flux_docs_example_with_sprig() -> None:
    text = (
        "{{ range $resource, $changes := .Changed.Objects -}}\n"
        "- {{ $resource.Kind | lower }} {{ $resource.Name | lower }}\n"
        "{{- range $_, $change := $changes }}\n"
        '  {{ if contains "1.1.0" $change.NewValue -}}\n'
        "  - {{ $change.OldValue }} -> {{ $change.NewValue }}\n"
        "  {{ else -}}\n"
        "  [skip ci] other image\n"
        "  {{ end -}}\n"
        "{{ end -}}\n"
        "{{ end -}}\n"
    )
    # Per change: the "\n  " before `{{ if`, then the kept branch up to the next action,
    # whose `-}}`/`{{-` markers trim the rest.
    assert flux(text, two_file_result()) == (
        "- deployment app"
        "\n  - chripp/app:v1.0.0 -> chripp/app:v1.1.0\n  "
        "- helmrelease web"
        "\n  [skip ci] other image\n  "
        "\n  [skip ci] other image\n  "
    )


# --- errors name the template and the position ----------------------------------------------


@pytest.mark.parametrize(
    ("template", "position", "problem"),
    [
        ("{{ foo }}", "line 1, column 4", 'function "foo" not defined'),
        ("ok\n  {{ .A", "line 2, column 3", "unclosed action"),
        ("{{ end }}", "line 1, column 4", "unexpected {{end}}"),
        ("{{ else }}", "line 1, column 4", "unexpected {{else}}"),
        ("{{ if .A }}x", "line 1, column 13", "unexpected EOF"),
        ("{{ $nope }}", "line 1, column 4", 'undefined variable "$nope"'),
        ('{{ template "x" }}', "line 1, column 4", "{{template}} is not supported"),
        ('{{ define "x" }}{{ end }}', "line 1, column 4", "{{define}} is not supported"),
        ("{{ break }}", "line 1, column 4", "{{break}} outside {{range}}"),
        ("{{ }}", "line 1, column 1", "missing value for command"),
        ('{{ "a" | "b" }}', "line 1, column 10", "non executable command in pipeline stage 2"),
        ("{{ 12ab }}", "line 1, column 4", 'bad number syntax: "12a"'),
        ('{{ "abc }}', "line 1, column 4", "unterminated quoted string"),
        ("{{ /* c */ }}", "line 1, column 4", "unrecognized character"),
        ("{{/* c */ x}}", "line 1, column 10", "comment ends before closing delimiter"),
        ("{{ 1i }}", "line 1, column 4", "complex number"),
        ("{{ ( .A }}", "line 1, column 9", "unclosed left paren"),
        (
            "{{ if true }}{{ $y := 1 }}{{ end }}{{ $y }}",
            "line 1, column 39",
            'undefined variable "$y"',
        ),
    ],
)
def test_parse_errors_name_the_position(template: str, position: str, problem: str) -> None:
    with pytest.raises(InvalidTemplate) as caught:
        parse_template(template, "auto.yaml: messageTemplate")
    message = str(caught.value)
    assert message.startswith(f"auto.yaml: messageTemplate: {position}: "), message
    assert problem in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("template", "position", "problem"),
    [
        (
            "{{ range .Changed.Changes }}\n{{ .Foo }}{{ end }}",
            "line 2, column 4",
            "can't evaluate field Foo in type update.Change",
        ),
        (
            "{{ .AutomationObject.Name.Deeper }}",
            "line 1, column 4",
            "can't evaluate field Deeper in type string",
        ),
        ('{{ printf "%x" 1 }}', "line 1, column 4", "printf verb %x is not supported"),
        ("{{ nil }}", "line 1, column 4", "nil is not a command"),
        ('{{ .Values "x" }}', "line 1, column 4", "Values has arguments but cannot be invoked"),
        (
            '{{ .Changed.Changes "x" }}',
            "line 1, column 4",
            "wrong number of args for Changes: want 0 got 1",
        ),
        ("{{ lower 5 }}", "line 1, column 10", "expected string; got int"),
        ("{{ lower .Values.nope }}", "line 1, column 10", "invalid value; expected string"),
        ("{{ len 3 }}", "line 1, column 4", "len of type int"),
        ("{{ index .Changed.Changes 5 }}", "line 1, column 4", "index out of range: 5"),
        ("{{ index .Values 1 }}", "line 1, column 4", "value has type int; should be string"),
        (
            "{{ range .AutomationObject }}{{ end }}",
            "line 1, column 4",
            "range can't iterate over flux-system/flux-system",
        ),
        (
            "{{ printf }}",
            "line 1, column 4",
            "wrong number of args for printf: want at least 1 got 0",
        ),
        ("{{ 3 | lower }}", "line 1, column 8", "expected string; got int"),
    ],
)
def test_execution_errors_name_the_position(template: str, position: str, problem: str) -> None:
    with pytest.raises(InvalidTemplate) as caught:
        flux_render_named(template)
    message = str(caught.value)
    assert message.startswith(f"tmpl: {position}: "), message
    assert problem in message


def flux_render_named(template: str) -> str:
    data = template_data(seed_result(), "flux-system", "flux-system")
    return parse_template(template, "tmpl").render(data)


def test_errors_are_config_errors_with_one_line() -> None:
    with pytest.raises(ConfigError) as caught:
        render('{{ printf "%d" }}\n{{ foo "multi\\nline" }}')
    assert "\n" not in str(caught.value)
    assert "line 2, column 4" in str(caught.value)


def test_runaway_templates_are_stopped() -> None:
    with pytest.raises(InvalidTemplate, match="more than 500000 steps"):
        render("{{ range 100000000 }}{{ end }}")
    with pytest.raises(InvalidTemplate, match="output is longer than"):
        render('{{ range 100000 }}{{ "0123456789abcdef0123" }}{{ end }}')
    with pytest.raises(InvalidTemplate, match="nested more than 50 levels"):
        render("{{ " + "(" * 60 + "1" + ")" * 60 + " }}")


def test_default_template_name_is_fluxs() -> None:
    with pytest.raises(InvalidTemplate, match=r"^commit message: line 1, column 4: "):
        render("{{ foo }}")
