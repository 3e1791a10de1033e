"""A rewrite may change the marked scalars and nothing else."""

from __future__ import annotations

from gitops_action.domain.markers import Change, MarkerField, PolicyRef
from gitops_action.domain.rewrite_check import Event, rewrite_problem

REF = PolicyRef("apps", "app")


def scalar(value: str, line: int, anchor: str = "", tag: str = "") -> Event:
    return Event("scalar", value, anchor, tag, line)


def change(line: int, old: str, new: str) -> Change:
    return Change("f.yaml", line, REF, MarkerField.FULL, old, new, f"app:{new}", None)


BEFORE = [
    Event("document", "", "", "", 1),
    Event("mapping", "", "", "", 1),
    scalar("image", 1),
    scalar("app:v1", 1, anchor="x"),
    scalar("copy", 2),
    Event("alias", "x", "", "", 2),
    Event("end", "", "", "", 3),
    Event("end", "", "", "", 3),
]


def test_exactly_the_planned_change_passes() -> None:
    after = list(BEFORE)
    after[3] = scalar("app:v2", 1, anchor="x")
    assert rewrite_problem(BEFORE, after, [change(1, "app:v1", "app:v2")]) is None


def test_an_unplanned_value_change_is_named() -> None:
    after = list(BEFORE)
    after[4] = scalar("kopy", 2)
    problem = rewrite_problem(BEFORE, after, [])
    assert problem == "line 2: the rewrite changes 'copy' into 'kopy'"


def test_a_lost_anchor_or_changed_structure_is_refused() -> None:
    after = list(BEFORE)
    after[3] = scalar("app:v2", 1)
    assert "changes a scalar" in str(
        rewrite_problem(BEFORE, after, [change(1, "app:v1", "app:v2")])
    )
    assert "structure" in str(rewrite_problem(BEFORE, BEFORE[:-1], []))


def test_a_planned_change_that_did_not_land_is_refused() -> None:
    problem = rewrite_problem(BEFORE, BEFORE, [change(1, "app:v1", "app:v2")])
    assert problem == "line 1: the marked scalar does not read back as 'app:v2'"
