"""Matching degree, region filter, Case 1 / Case 2 on hand-built groups, replacement."""

import math

import numpy as np
import pytest

from crowdsense.ldpf.ctbc.errors import NotEnoughCandidatesError, SelectionShortfallError
from crowdsense.ldpf.ctbc.geometry import Region, Task
from crowdsense.errors import InputError
from crowdsense.ldpf.ctbc.matching import fill_selection, matching_degree, rank_candidates


def task_at_origin(n, side=100.0):
    return Task((0.0, 0.0), n, Region.square((0.0, 0.0), side))


def test_matching_degree_by_hand():
    # centre (3, 4): distance 5, RMSE = sqrt((9 + 16) / 2) = 5 / sqrt 2
    got = matching_degree([[3.0, 4.0], [0.0, 0.0]], (0.0, 0.0))
    assert got[0] == pytest.approx(1.0 / (1.0 + 5.0 / math.sqrt(2.0)), rel=1e-15)
    assert got[1] == 1.0


def test_case_1_picks_n_members_of_the_best_group():
    # group 0 at (1, 0) with 4 members, group 1 at (5, 0) with 3; N = 3 <= 4
    centres = [[1.0, 0.0], [5.0, 0.0]]
    labels = np.array([1, 0, 1, 0, 0, 1, 0])
    cand = rank_candidates(centres, labels, task_at_origin(3), random_state=0)
    sel = fill_selection(cand, lambda u: True)
    assert cand.case == 1 and sel.case == 1
    assert set(sel.users.tolist()) <= {1, 3, 4, 6} and len(set(sel.users.tolist())) == 3
    assert sel.groups.tolist() == [0, 0, 0]


def test_case_1_choice_is_random_over_the_best_group():
    centres = [[1.0, 0.0], [5.0, 0.0]]
    labels = np.array([1, 0, 1, 0, 0, 1, 0])
    seen = set()
    for seed in range(40):
        cand = rank_candidates(centres, labels, task_at_origin(3), random_state=seed)
        seen |= set(fill_selection(cand, lambda u: True).users.tolist())
    assert seen == {1, 3, 4, 6}


def test_case_2_takes_groups_in_order_until_n():
    # best group 2 (2 members), then group 0 (3 members), then group 1 (3 members); N = 4
    centres = [[3.0, 0.0], [8.0, 0.0], [1.0, 1.0]]
    labels = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    cand = rank_candidates(centres, labels, task_at_origin(4), random_state=1)
    sel = fill_selection(cand, lambda u: True)
    assert cand.case == 2
    assert cand.group_order.tolist() == [2, 0, 1]
    assert sorted(sel.users[:2].tolist()) == [2, 5]  # all of the best group first
    assert set(sel.users[2:].tolist()) < {0, 3, 6}  # then two of the next group
    assert sel.groups.tolist() == [2, 2, 0, 0]


def test_groups_outside_the_region_are_dropped():
    # the best-matching group (0) lies outside a region that excludes x < 0
    centres = [[-1.0, 0.0], [20.0, 0.0]]
    labels = np.array([0, 0, 1, 1])
    task = Task((0.0, 0.0), 2, Region.from_bounds(0.0, 50.0, -10.0, 10.0))
    cand = rank_candidates(centres, labels, task, random_state=0)
    assert cand.in_region.tolist() == [False, True]
    assert sorted(fill_selection(cand, lambda u: True).users.tolist()) == [2, 3]


def test_rotated_region_uses_exact_geometry():
    region = Region((0.0, 0.0), 1.0, 1.0, math.pi / 4)  # a diamond reaching x = sqrt 2
    assert region.contains([[1.3, 0.0], [0.9, 0.9], [0.0, -1.4]]).tolist() == [True, False, True]


def test_equal_degrees_rank_lower_group_first():
    centres = [[0.0, 2.0], [2.0, 0.0], [0.0, -2.0]]
    cand = rank_candidates(centres, np.array([0, 1, 2, 0, 1, 2]), task_at_origin(2), random_state=0)
    assert cand.group_order.tolist() == [0, 1, 2]


def test_more_required_than_candidates_is_rejected():
    with pytest.raises(NotEnoughCandidatesError, match="N=5.*only 4 user"):
        rank_candidates([[1.0, 0.0], [2.0, 0.0]], np.array([0, 0, 1, 1]), task_at_origin(5))


def test_failed_reveal_is_replaced_by_next_candidate():
    centres = [[1.0, 0.0], [5.0, 0.0]]
    labels = np.array([0, 0, 0, 1, 1, 1])
    cand = rank_candidates(centres, labels, task_at_origin(2), random_state=3)
    bad = {int(cand.queue[0])}
    sel = fill_selection(cand, lambda u: u not in bad)
    assert sel.failed == tuple(bad)
    assert sel.users.tolist() == [int(u) for u in cand.queue if u not in bad][:2]


def test_replacement_reaches_the_next_group():
    centres = [[1.0, 0.0], [5.0, 0.0]]
    labels = np.array([0, 0, 1, 1, 1])
    cand = rank_candidates(centres, labels, task_at_origin(2), random_state=0)
    sel = fill_selection(cand, lambda u: u != 0)  # user 0 of the best group fails
    # whatever the order inside group 0, user 1 is taken and the second place goes to group 1
    assert sel.users[0] == 1 and sel.users[1] in {2, 3, 4}
    assert sel.groups.tolist() == [0, 1]
    assert sel.failed == (0,)


def test_running_out_of_candidates_raises_with_partial_selection():
    cand = rank_candidates([[1.0, 0.0]], np.array([0, 0, 0]), task_at_origin(2), random_state=0)
    with pytest.raises(SelectionShortfallError) as info:
        fill_selection(cand, lambda u: u == 2)
    assert info.value.selection.users.tolist() == [2]
    assert len(info.value.selection.failed) == 2


# ------------------------------------------------------------------ found by mutation testing


def test_matching_degree_off_the_origin_uses_both_coordinate_differences():
    # task centre (1, 2), group centre (4, 6): dx = 3, dy = 4, distance 5, RMSE 5 / sqrt 2
    got = matching_degree([[4.0, 6.0], [1.0, 2.0]], (1.0, 2.0))
    assert got.tolist() == pytest.approx([1.0 / (1.0 + 5.0 / math.sqrt(2.0)), 1.0], rel=1e-15)


@pytest.mark.parametrize("call, name", [
    (lambda: matching_degree([[0.0, 1.0, 2.0]], (0.0, 0.0)), "centres"),
    (lambda: matching_degree([[0.0, 1.0]], (0.0, 1.0, 2.0)), "task center"),
    (lambda: rank_candidates([[0.0, 1.0, 2.0]], np.array([0]), task_at_origin(1)), "centres"),
])
def test_bad_coordinates_are_refused_naming_the_argument(call, name):
    with pytest.raises(InputError) as info:
        call()
    assert str(info.value).startswith(f"{name} must")


@pytest.mark.parametrize("labels, expected", [
    (np.array([[0, 1], [1, 0]]), "1-D integer array"),  # integer but 2-D
    (np.array([0.0, 1.0]), "1-D integer array"),  # 1-D but not integer
    (np.array([0, 1, 3]), r"in \[0, 3\).*got range \[0, 3\]"),  # one past the last group
    (np.array([-1, 0, 1]), r"in \[0, 3\).*got range \[-1, 1\]"),  # negative, maximum in range
])
def test_bad_labels_are_refused_saying_what_was_given(labels, expected):
    centres = [[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]]
    with pytest.raises(InputError, match=expected):
        rank_candidates(centres, labels, task_at_origin(1))


def test_task_of_the_wrong_type_is_refused_naming_its_type():
    with pytest.raises(InputError, match="task must be a Task, got dict"):
        rank_candidates([[1.0, 0.0]], np.array([0]), {"n": 1})


def test_same_seed_gives_the_same_queue_and_another_seed_another():
    centres = [[1.0, 0.0]]
    labels = np.zeros(12, dtype=np.int64)
    queue = lambda seed: rank_candidates(centres, labels, task_at_origin(3), random_state=seed).queue.tolist()
    assert queue(7) == queue(7)
    assert len({tuple(queue(seed)) for seed in range(5)}) > 1


def test_ties_between_many_groups_rank_lower_group_first():
    # 60 groups at three distances from the task centre, interleaved: runs of 20 equal
    # degrees, longer than the size below which any sort happens to keep the input order
    centres = [[float(3 - g % 3), 0.0] for g in range(60)]
    cand = rank_candidates(centres, np.arange(60), task_at_origin(5, side=20.0), random_state=0)
    assert cand.group_order.tolist() == [g for r in (1, 2, 3) for g in range(60) if 3 - g % 3 == r]
    assert cand.degree.tolist() == matching_degree(centres, (0.0, 0.0)).tolist()


def test_empty_last_group_inside_the_region_is_ranked_with_no_candidates():
    # group 2 has no member: it is ranked like any group and contributes nobody
    centres = [[1.0, 0.0], [2.0, 0.0], [0.5, 0.0]]
    cand = rank_candidates(centres, np.array([0, 0, 1, 1]), task_at_origin(3), random_state=0)
    assert cand.group_order.tolist() == [2, 0, 1]
    assert sorted(cand.queue.tolist()) == [0, 1, 2, 3]
    assert cand.case == 2


def test_best_group_with_exactly_n_members_is_case_1():
    cand = rank_candidates([[1.0, 0.0], [5.0, 0.0]], np.array([0, 0, 0, 1]), task_at_origin(3), random_state=0)
    assert cand.case == 1
    assert sorted(cand.queue[:3].tolist()) == [0, 1, 2]


def test_not_enough_candidates_carries_the_counts():
    with pytest.raises(NotEnoughCandidatesError) as info:
        rank_candidates([[1.0, 0.0], [2.0, 0.0], [500.0, 0.0]], np.array([0, 1, 2, 2]), task_at_origin(4))
    assert (info.value.n_required, info.value.n_candidates, info.value.n_groups) == (4, 2, 2)


def test_shortfall_with_nobody_verified_keeps_integer_arrays_and_n():
    cand = rank_candidates([[1.0, 0.0]], np.array([0, 0]), task_at_origin(2), random_state=0)
    with pytest.raises(SelectionShortfallError) as info:
        fill_selection(cand, lambda u: False)
    sel = info.value.selection
    assert info.value.n_required == 2 and sel.n_required == 2
    assert sel.users.size == 0 and np.issubdtype(sel.users.dtype, np.integer)
    assert sel.groups.size == 0 and np.issubdtype(sel.groups.dtype, np.integer)
    assert sorted(sel.failed) == [0, 1]
