"""Tests of the size-aware k-means (crowdsense.pmcb.balance): bounds, hand-worked
assignments, and the error paths of ``min_share``."""

from __future__ import annotations

import math

import numpy as np
import pytest

from crowdsense.errors import InputError
from crowdsense.pmcb.balance import (
    SizeBounds,
    _repair,
    balanced_kmeans,
    check_min_share,
    constrained_assign,
    size_bounds,
)
from crowdsense.pmcb.kmeans import kmeans


def test_size_bounds_are_share_and_complement_of_the_even_share():
    b = size_bounds(300, 3, 0.5)
    assert (b.low, b.high) == (50.0, 150.0)
    assert b.low / b.high == pytest.approx(1 / 3)
    assert size_bounds(300, 3, 1.0) == SizeBounds(100.0, 100.0)
    assert size_bounds(300, 3, 0.0) == SizeBounds(0.0, 200.0)


def test_assignment_moves_the_cheapest_point_to_the_small_cluster():
    # Points 0, 1, 2, 3 and 10; centres 0 and 10; sizes in [2, 3]. Unconstrained: {0,1,2,3}, {10}.
    # Moving 3 to centre 10 costs 7**2 - 3**2 = 40, moving 2 costs 64 - 4 = 60: 3 moves.
    x = np.array([0.0, 1.0, 2.0, 3.0, 10.0])
    cost = (x[:, None] - np.array([0.0, 10.0])[None, :]) ** 2
    labels, prices = constrained_assign(cost, np.ones(5), SizeBounds(2, 3))
    assert labels.tolist() == [0, 0, 0, 1, 1]
    assert np.array_equal(labels, (cost - prices).argmin(axis=1))  # a power-diagram cell per cluster


def test_assignment_moves_the_cheapest_point_out_of_the_big_cluster():
    # Points 0, 1, 2, 3 and 11; centres 0 and 20; sizes in [1, 3]. Unconstrained: {0,1,2,3}
    # (one too many) and {11}. Moving 3 to centre 20 costs 17**2 - 3**2 = 280, moving 2 costs
    # 18**2 - 2**2 = 320: 3 moves, and only 3.
    x = np.array([0.0, 1.0, 2.0, 3.0, 11.0])
    cost = (x[:, None] - np.array([0.0, 20.0])[None, :]) ** 2
    labels, _ = constrained_assign(cost, np.ones(5), SizeBounds(1, 3))
    assert labels.tolist() == [0, 0, 0, 1, 1]


def test_assignment_within_bounds_is_the_nearest_centre():
    rng = np.random.default_rng(1)
    cost = rng.uniform(size=(40, 3))
    near = cost.argmin(axis=1)
    sizes = np.bincount(near, minlength=3)
    labels, prices = constrained_assign(cost, np.ones(40), SizeBounds(sizes.min(), sizes.max()))
    assert np.array_equal(labels, near) and np.all(prices == 0)


def test_assignment_respects_weights():
    # One point of weight 5 and five of weight 1; each cluster must hold exactly 5.
    cost = np.array([[0.0, 9.0]] + [[1.0, 2.0]] * 5)
    w = np.array([5.0, 1, 1, 1, 1, 1])
    labels, _ = constrained_assign(cost, w, SizeBounds(5, 5))
    assert np.bincount(labels, weights=w).tolist() == [5.0, 5.0]
    assert labels[0] == 0


def test_infeasible_bounds_rejected():
    with pytest.raises(InputError, match="cannot hold"):
        constrained_assign(np.zeros((4, 2)), np.ones(4), SizeBounds(3, 3))


def test_repair_moves_the_cheapest_point_into_bounds():
    x = np.array([0.0, 1.0, 2.0, 3.0, 10.0])
    cost = (x[:, None] - np.array([0.0, 10.0])[None, :]) ** 2
    labels = _repair(cost, np.ones(5), np.array([0, 0, 0, 0, 1]), SizeBounds(2, 3))
    assert labels.tolist() == [0, 0, 0, 1, 1]


def test_balanced_kmeans_keeps_sizes_within_bounds_on_unbalanced_blobs():
    rng = np.random.default_rng(2)
    x = np.vstack([rng.normal(0, 1, size=(200, 2)), rng.normal(10, 1, size=(20, 2))])
    plain = kmeans(x, 2, random_state=0).labels
    assert sorted(np.bincount(plain).tolist()) == [20, 200]
    labels = balanced_kmeans(x, 2, min_share=0.5, random_state=0)
    sizes = sorted(np.bincount(labels).tolist())
    # n = 220, even share 110: sizes in [55, 165], hence exactly 55 and 165 here.
    assert sizes == [55, 165]
    assert np.all(labels[200:] == labels[200])  # the small blob stays together
    assert balanced_kmeans(x, 2, min_share=0.0, random_state=0).tolist() == plain.tolist()


def test_balanced_kmeans_full_share_gives_equal_sizes():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(90, 3))
    assert np.bincount(balanced_kmeans(x, 3, min_share=1.0, random_state=0)).tolist() == [30, 30, 30]


@pytest.mark.parametrize("bad", [-0.1, 1.5, math.nan, math.inf, "0.5", True, None])
def test_bad_min_share_rejected(bad):
    with pytest.raises(InputError, match="min_share"):
        check_min_share(bad)
    with pytest.raises(InputError, match="min_share"):
        balanced_kmeans(np.arange(10.0).reshape(5, 2), 2, min_share=bad)
