"""Properties of the template engine over arbitrary input.

The one that matters most: whatever a user writes in ``messageTemplate``,
parsing and rendering either succeed or raise our `ConfigError` (exit 2
with a message), never an internal exception (exit 3, "a bug").
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_action.domain.errors import ConfigError
from gitops_action.domain.markers import Change, MarkerField, ObjectRef, PolicyRef, UpdateResult
from gitops_action.domain.template_data import TemplateData, template_data
from gitops_action.domain.templates import render_template


def _data() -> TemplateData:
    deployment = ObjectRef("Deployment", "default", "app", "apps/v1")
    result = UpdateResult(
        (
            Change(
                "a.yaml",
                3,
                PolicyRef("ns", "app"),
                MarkerField.FULL,
                "x:1",
                "x:2",
                "x:2",
                deployment,
            ),
            Change("b.yaml", 1, PolicyRef("ns", "web"), MarkerField.TAG, "1", "2", "y:2", None),
        )
    )
    return template_data(result, "ns", "auto", {"k": "v"})


DATA = _data()

# Pieces of template syntax, so generated text reaches deep into the parser and executor.
_PIECES = [
    "{{",
    "}}",
    "{{- ",
    " -}}",
    "{{/*",
    "*/}}",
    " ",
    "\n",
    ".",
    "$",
    "$x",
    "$i",
    "$v",
    ":=",
    "=",
    "|",
    "(",
    ")",
    ",",
    "range",
    "if",
    "else",
    "end",
    "with",
    "break",
    "continue",
    "define",
    "printf",
    "print",
    "println",
    "len",
    "index",
    "slice",
    "and",
    "or",
    "not",
    "eq",
    "lt",
    "ge",
    "lower",
    "title",
    "join",
    "default",
    "quote",
    "trunc",
    "indent",
    "contains",
    "replace",
    '"%s"',
    '"%d"',
    '"%q"',
    '"%-5.2v"',
    '"%*d"',
    '"%"',
    "`raw`",
    "'a'",
    "'\\n'",
    "1",
    "-1",
    "0",
    "0x1F",
    "1e3",
    "1.5",
    "99999999999999999999",
    "nil",
    "true",
    "false",
    '"a\\x00"',
    '"\\q"',
    ".Updated",
    ".Images",
    ".Changed",
    ".Changes",
    ".Objects",
    ".FileChanges",
    ".ImageResult",
    ".Values",
    ".k",
    ".AutomationObject",
    ".Name",
    ".Kind",
    ".OldValue",
    ".Identifier",
    ".Policy",
    "{{ range $i, $v := .Changed.Changes }}",
    "{{ range 3 }}",
    "{{ if .Values.k }}",
    "{{ end }}",
    "{{ else }}",
    "x",
    '"',
    "\\",
    "}",
    "{",
    "-",
    "é",
    "\x00",
]

template_soup = st.lists(st.sampled_from(_PIECES), max_size=30).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=60) | template_soup)
def test_rendering_raises_only_config_errors(text: str) -> None:
    try:
        output = render_template(text, DATA)
    except ConfigError as err:
        assert "\n" not in str(err)  # one-line messages
    else:
        assert isinstance(output, str)


@given(st.text(max_size=80).filter(lambda text: "{{" not in text))
def test_text_without_actions_renders_verbatim(text: str) -> None:
    # Go copies text outside {{ }} as it is (an empty template is Flux's default message).
    if text:
        assert render_template(text, DATA) == text


@given(st.text(max_size=40).filter(lambda text: "`" not in text))
def test_raw_strings_print_their_text_without_carriage_returns(text: str) -> None:
    assert render_template("{{ `" + text + "` }}", DATA) == text.replace("\r", "")


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_integer_literals_print_in_decimal(number: int) -> None:
    assert render_template(f"{{{{ {number} }}}}", DATA) == str(number)
