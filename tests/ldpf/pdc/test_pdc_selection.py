"""Selecting the N nearest receivers within the region."""

import warnings
from pathlib import Path

import pytest

from crowdsense.errors import InputError
from crowdsense.ldpf.pdc.errors import SelectionWarning
from crowdsense.ldpf.pdc import selection
from crowdsense.ldpf.pdc.selection import Selected, select_nearest

DISTANCES = {"a": 7, "b": 2, "c": 9, "d": 2, "e": 4}


def test_selects_smallest_distances_in_order():
    chosen = select_nearest(DISTANCES, 3, random_state=1)
    assert [s.distance for s in chosen] == [2, 2, 4]
    assert {s.receiver for s in chosen} == {"b", "d", "e"}


def test_max_distance_cuts_the_region():
    with pytest.warns(SelectionWarning, match="only 3"):
        chosen = select_nearest(DISTANCES, 5, max_distance=4, random_state=0)
    assert {s.receiver for s in chosen} == {"b", "d", "e"}


def test_max_distance_is_inclusive():
    assert select_nearest({"x": 4}, 1, max_distance=4) == [Selected("x", 4)]


def test_too_few_receivers_warns_and_returns_all():
    with pytest.warns(SelectionWarning):
        chosen = select_nearest({"x": 1}, 3)
    assert chosen == [Selected("x", 1)]


def test_ties_are_reproducible_with_random_state():
    tied = {name: 5 for name in "abcdefgh"}
    first = select_nearest(tied, 3, random_state=42)
    assert select_nearest(tied, 3, random_state=42) == first


def test_ties_do_not_favour_identifiers():
    # Over many seeds each of the tied receivers must win the single slot sometimes.
    tied = {"a": 1, "b": 1, "c": 1}
    winners = {select_nearest(tied, 1, random_state=seed)[0].receiver for seed in range(60)}
    assert winners == {"a", "b", "c"}


def test_empty_distances_warn_and_return_empty():
    with pytest.warns(SelectionWarning):
        assert select_nearest({}, 1) == []


@pytest.mark.parametrize("n_select", [0, -1, 1.5, True, "2"])
def test_rejects_bad_n_select(n_select):
    with pytest.raises(InputError, match="n_select"):
        select_nearest(DISTANCES, n_select)


@pytest.mark.parametrize("max_distance", [-1, 2.5, "3"])
def test_rejects_bad_max_distance(max_distance):
    with pytest.raises(InputError, match="max_distance"):
        select_nearest(DISTANCES, 1, max_distance=max_distance)


@pytest.mark.parametrize("distances", [{"a": -1}, {"a": 1.0}, {1: 2}, [("a", 1)]])
def test_rejects_bad_distances(distances):
    with pytest.raises(InputError):
        select_nearest(distances, 1)


# ------------------------------------------------------------------ found by mutation testing


def test_zero_radius_keeps_only_the_receivers_at_the_task_centre():
    got = select_nearest({"a": 0, "b": 1, "c": 0}, 2, max_distance=0, random_state=0)
    assert sorted(s.receiver for s in got) == ["a", "c"]


def test_exactly_n_eligible_receivers_are_selected_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = select_nearest({"a": 1, "b": 2, "c": 9}, 2, max_distance=2, random_state=0)
    assert [s.receiver for s in got] == ["a", "b"]


def test_shortfall_warning_points_at_the_callers_line():
    with pytest.warns(SelectionWarning) as record:
        select_nearest({"a": 1}, 2)
    assert record[0].filename != selection.__file__
    # under mutation testing, mutmut's trampoline is the frame that calls select_nearest
    assert record[0].filename == __file__ or Path(record[0].filename).name == "trampoline.py"


@pytest.mark.parametrize("distances, given", [
    ([("a", 1)], "got list"),
    ({5: 1}, "got 5"),
    ({"a": -1}, "'a' must be an int >= 0, got -1"),
])
def test_bad_distances_are_refused_saying_what_was_given(distances, given):
    with pytest.raises(InputError, match=given):
        select_nearest(distances, 1)
