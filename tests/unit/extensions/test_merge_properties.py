"""Properties of the prepare merge patch over arbitrary JSON (hypothesis)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard.extensions.prepare_output import merge_patch

scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
uuids = st.sampled_from(["a", "b", "c"])


def json_values() -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.sampled_from(["x", "y", "z", "nics"]), children, max_size=3)
            | st.lists(st.fixed_dictionaries({"uuid": uuids}, optional={"mac": children, "ip": scalars}), max_size=3)
        ),
        max_leaves=6,
    )


objects = st.dictionaries(st.sampled_from(["x", "y", "z", "nics", "details"]), json_values(), max_size=4)


@settings(max_examples=80, deadline=None)
@given(objects)
def test_empty_patch_changes_nothing(target: dict[str, Any]) -> None:
    assert merge_patch(target, {}) == target


@settings(max_examples=80, deadline=None)
@given(objects, objects)
def test_applying_a_patch_twice_is_the_same_as_once(target: dict[str, Any], patch: dict[str, Any]) -> None:
    once = merge_patch(target, patch)
    assert merge_patch(once, patch) == once


@settings(max_examples=80, deadline=None)
@given(objects, objects)
def test_patch_scalars_win_and_untouched_keys_stay(target: dict[str, Any], patch: dict[str, Any]) -> None:
    merged = merge_patch(target, patch)
    for key, value in target.items():
        if key not in patch:
            assert merged[key] == value
    for key, value in patch.items():
        if not isinstance(value, dict | list):
            assert merged[key] == value
