"""Pure pieces of the stand-in, tested directly: merge order, field sets, selectors, patches."""

from __future__ import annotations

import pytest

from tests.kubeapi.apply import ordered_union
from tests.kubeapi.errors import ApiError
from tests.kubeapi.fieldsets import decode, encode, leaves, path_text
from tests.kubeapi.patches import strategic_merge_patch
from tests.kubeapi.selectors import parse_labels
from tests.kubeapi.shapes import Shape

POD_SHAPE = Shape("Deployment", custom=False, schema=None)


@pytest.mark.parametrize(
    ("live", "applied", "expected"),
    [
        (["a", "b"], ["a", "b"], ["a", "b"]),
        (["a", "b"], ["b", "a"], ["b", "a"]),  # shared items follow the applied order
        (["a", "b", "c"], ["c", "a"], ["b", "c", "a"]),  # live-only items stay in place
        (["a"], ["x", "a", "y"], ["x", "a", "y"]),
        (["a", "b"], [], ["a", "b"]),
        ([], ["a"], ["a"]),
    ],
)
def test_ordered_union(live: list[str], applied: list[str], expected: list[str]) -> None:
    assert ordered_union(live, applied) == expected


def test_field_sets_round_trip_through_fields_v1() -> None:
    obj = {
        "metadata": {"labels": {"app": "web"}, "finalizers": ["x"]},
        "spec": {
            "replicas": 2,
            "template": {
                "spec": {
                    "containers": [{"name": "app", "image": "i", "ports": [{"containerPort": 80}]}]
                }
            },
        },
    }
    paths = set(leaves(obj, POD_SHAPE))
    fields = encode(paths)
    container = fields["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"app"}']
    assert "." in container and "f:image" in container
    assert 'k:{"containerPort":80,"protocol":"TCP"}' in container["f:ports"]
    assert 'v:"x"' in fields["f:metadata"]["f:finalizers"]
    assert decode(fields) == paths
    texts = {path_text(p) for p in paths}
    assert '.spec.template.spec.containers[name="app"].image' in texts


@pytest.mark.parametrize("bad", ["app in web", "a b", "!", "app=(x)", "x in ()", "bad key!=1"])
def test_malformed_label_selectors_are_400(bad: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_labels(bad)
    assert caught.value.code == 400


def test_strategic_merge_patch_directives() -> None:
    live = {
        "metadata": {"finalizers": ["a", "b"]},
        "spec": {
            "template": {"spec": {"containers": [{"name": "x"}, {"name": "y"}, {"name": "z"}]}}
        },
    }
    patch = {
        "metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]},
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "z"}, {"name": "x"}],
                    "containers": [{"name": "y", "$patch": "delete"}],
                }
            }
        },
    }
    out = strategic_merge_patch(live, patch, POD_SHAPE)
    assert out["metadata"]["finalizers"] == ["b"]
    assert [c["name"] for c in out["spec"]["template"]["spec"]["containers"]] == ["z", "x"]
