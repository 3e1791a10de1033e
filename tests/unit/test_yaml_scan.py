"""The YAML adapter's spans: exact offsets, the same from the C and the pure-Python loader."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml

from gitops_action.adapters import yaml_scan
from gitops_action.domain.errors import InvalidManifest
from gitops_action.domain.markers import ObjectRef, ScalarStyle

COMPOSERS = yaml_scan.composers()

TEXT = (
    "\ufeff# caf\u00e9 \u2603 \U0001f680\r\n"
    "apiVersion: apps/v1\r\n"
    "kind: Deployment\r\n"
    "metadata: {name: app, namespace: default}\r\n"
    "spec:\r\n"
    '  note: "h\u00e9llo \U0001f600"\r\n'
    "  images:\r\n"
    '    - &img !!str \'chripp/app:v1.0.0\' # {"$imagepolicy": "flux-system:app"}\r\n'
    "    - *img\r\n"
    "    - |\r\n"
    "      block text\r\n"
    "    - plain\r\n"
    "      folded over lines # c\r\n"
    "---\r\n"
    "- \u00fc: \u00f6\r\n"
)


@pytest.fixture(params=COMPOSERS, ids=lambda composer: composer.__name__)
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Run the test once with libyaml's composer and once with the pure-Python one."""
    monkeypatch.setattr(yaml_scan, "composers", lambda: (request.param,))
    yield request.param


def test_libyaml_is_preferred_when_built_in() -> None:
    names = [composer.__name__ for composer in COMPOSERS]  # type: ignore[attr-defined]
    assert names == (["LibyamlComposer"] if yaml.__with_libyaml__ else []) + ["PureComposer"]


def test_spans_cover_exactly_the_scalar_text(loader: object) -> None:
    spans = yaml_scan.scan_scalars("f.yaml", TEXT)
    ordered = sorted(spans, key=lambda span: span.start)
    assert [(TEXT[s.start : s.end], s.style, s.value, s.end_line) for s in ordered] == [
        ("apps/v1", ScalarStyle.PLAIN, "apps/v1", 2),
        ("Deployment", ScalarStyle.PLAIN, "Deployment", 3),
        ("app", ScalarStyle.PLAIN, "app", 4),
        ("default", ScalarStyle.PLAIN, "default", 4),
        ('"h\u00e9llo \U0001f600"', ScalarStyle.DOUBLE, "h\u00e9llo \U0001f600", 6),
        ("'chripp/app:v1.0.0'", ScalarStyle.SINGLE, "chripp/app:v1.0.0", 8),
        ("'chripp/app:v1.0.0'", ScalarStyle.SINGLE, "chripp/app:v1.0.0", 8),  # the alias
        ("|\r\n      block text\r\n", ScalarStyle.LITERAL, "block text\n", 12),
        ("plain\r\n      folded over lines", ScalarStyle.PLAIN, "plain folded over lines", 13),
        ("\u00f6", ScalarStyle.PLAIN, "\u00f6", 15),
    ]


def test_both_loaders_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    results = []
    assert len(COMPOSERS) == 2, "PyYAML here is built with libyaml"
    for each in COMPOSERS:
        monkeypatch.setattr(yaml_scan, "composers", lambda each=each: (each,))
        results.append(yaml_scan.scan_scalars("f.yaml", TEXT))
    assert all(result == results[0] for result in results)


def test_spans_name_their_kubernetes_object(loader: object) -> None:
    spans = yaml_scan.scan_scalars("f.yaml", TEXT)
    objects = {span.obj for span in spans}
    assert objects == {ObjectRef("Deployment", "default", "app", "apps/v1"), None}


def test_keys_are_never_spans(loader: object) -> None:
    text = 'image: # {"$imagepolicy": "a:b"}\n  name: x\n? complex\n: value\n'
    values = sorted(span.value for span in yaml_scan.scan_scalars("f.yaml", text))
    assert values == ["value", "x"]


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("a: 1\nb: c: d\n", 2, "mapping values are not allowed"),
        ("a: 1\n- b\n", 2, "block mapping"),
        ("a: *nowhere\n", 1, "undefined alias"),
        ("a: [1, 2\n", 2, "flow sequence"),
        ("a: 1\nb: \x07\n", 2, "U+0007"),
        ("ok: 1\n---\nbad: 'open\n", 4, "quoted scalar"),
    ],
)
def test_invalid_yaml_names_file_and_line(
    loader: object, text: str, line: int, reason: str
) -> None:
    with pytest.raises(InvalidManifest) as raised:
        yaml_scan.scan_scalars("dir/f.yaml", text)
    message = str(raised.value)
    assert message.startswith(f"dir/f.yaml:{line}: invalid YAML: ")
    assert reason in message
    assert "\n" not in message


def test_empty_and_comment_only_files_have_no_spans(loader: object) -> None:
    assert yaml_scan.scan_scalars("f.yaml", "") == []
    assert yaml_scan.scan_scalars("f.yaml", '# {"$imagepolicy": "a:b"}\n---\n') == []
