"""Label and field selectors on list."""

from __future__ import annotations

import pytest
from kubernetes import client

from tests.kubeapi.helpers import api_error, configmap

LABELS = {
    "a": {"app": "web", "tier": "front"},
    "b": {"app": "web", "tier": "back"},
    "c": {"app": "db"},
    "d": {},
}


@pytest.fixture
def labelled(core: client.CoreV1Api, ns: str) -> str:
    for name, labels in LABELS.items():
        core.create_namespaced_config_map(ns, configmap(name, ns, labels=labels))
    return ns


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=web", {"a", "b"}),
        ("app==web", {"a", "b"}),
        ("app!=web", {"c", "d"}),  # absent counts as "not equal"
        ("tier", {"a", "b"}),
        ("!tier", {"c", "d"}),
        ("tier in (front, middle)", {"a"}),
        ("tier notin (front)", {"b", "c", "d"}),
        ("app=web,tier=back", {"b"}),
        ("app in (web,db),!tier", {"c"}),
    ],
)
def test_label_selectors(
    core: client.CoreV1Api, labelled: str, selector: str, expected: set[str]
) -> None:
    listed = core.list_namespaced_config_map(labelled, label_selector=selector)
    assert {i.metadata.name for i in listed.items} & set(LABELS) == expected


def test_field_selectors(core: client.CoreV1Api, labelled: str) -> None:
    listed = core.list_namespaced_config_map(labelled, field_selector="metadata.name=b")
    assert [i.metadata.name for i in listed.items] == ["b"]
    listed = core.list_namespaced_config_map(labelled, field_selector="metadata.name!=b")
    assert "b" not in {i.metadata.name for i in listed.items}
    everywhere = core.list_config_map_for_all_namespaces(
        field_selector=f"metadata.namespace={labelled}"
    )
    assert {i.metadata.namespace for i in everywhere.items} == {labelled}


def test_bad_selectors_are_400(core: client.CoreV1Api, labelled: str) -> None:
    assert (
        api_error(lambda: core.list_namespaced_config_map(labelled, label_selector="app in web"))[0]
        == 400
    )
    assert (
        api_error(lambda: core.list_namespaced_config_map(labelled, field_selector="spec.x=1"))[0]
        == 400
    )


def test_list_is_sorted_and_pages(core: client.CoreV1Api, labelled: str) -> None:
    first = core.list_namespaced_config_map(labelled, label_selector="app", limit=2)
    assert [i.metadata.name for i in first.items] == ["a", "b"]
    assert first.metadata._continue
    rest = core.list_namespaced_config_map(
        labelled, label_selector="app", limit=2, _continue=first.metadata._continue
    )
    assert [i.metadata.name for i in rest.items] == ["c"]
    assert int(first.metadata.resource_version) > 0
