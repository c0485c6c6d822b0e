"""k-anonymity groups: sizes, group centres, invariance under the transform, a reference MDAV."""

import math

import numpy as np
import pytest

from crowdsense.ldpf.ctbc.grouping import group_centres, k_anonymity_groups, mdav_labels
from crowdsense.ldpf.ctbc.transform import RigidTransform, draw_transform


def reference_mdav(points, k):
    """Plain-Python MDAV (Domingo-Ferrer & Torra 2005), written from the paper's description."""
    pts = [tuple(map(float, p)) for p in points]
    left = list(range(len(pts)))
    groups = []

    def dist(i, c):
        return math.hypot(pts[i][0] - c[0], pts[i][1] - c[1])

    def centroid(ids):
        return (sum(pts[i][0] for i in ids) / len(ids), sum(pts[i][1] for i in ids) / len(ids))

    def group_around(r):
        near = sorted(left, key=lambda j: (j != r, dist(j, pts[r])))[:k]
        for j in near:
            left.remove(j)
        groups.append(sorted(near))

    while len(left) >= 3 * k:
        c = centroid(left)
        r = max(left, key=lambda i: dist(i, c))
        xr = pts[r]
        group_around(r)
        s = max(left, key=lambda i: dist(i, xr))
        group_around(s)
    if len(left) >= 2 * k:
        c = centroid(left)
        group_around(max(left, key=lambda i: dist(i, c)))
    if left:
        groups.append(sorted(left))
        left.clear()
    return groups


def as_groups(labels):
    return [sorted(np.flatnonzero(labels == g).tolist()) for g in range(labels.max() + 1)]


@pytest.mark.parametrize("n,k", [(10, 2), (37, 3), (100, 5), (101, 10), (64, 7)])
def test_mdav_matches_reference_implementation(n, k):
    p = np.random.default_rng(n * k).normal(scale=500.0, size=(n, 2))
    assert as_groups(mdav_labels(p, k=k)) == reference_mdav(p, k)


@pytest.mark.parametrize("n,k", [(2, 2), (9, 2), (50, 5), (54, 5), (333, 10), (1000, 7)])
def test_every_group_has_k_to_2k_minus_1_members(n, k):
    p = np.random.default_rng(n).uniform(0, 1000, size=(n, 2))
    sizes = np.bincount(mdav_labels(p, k=k))
    assert sizes.min() >= k and sizes.max() <= 2 * k - 1
    assert (sizes != k).sum() <= 1  # only the last group may be larger
    assert sizes.sum() == n


def test_two_far_clusters_become_two_groups():
    a = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)]
    b = [(100.0, 100.0), (101.0, 100.0), (100.0, 101.0)]
    groups = as_groups(mdav_labels(np.array(a + b), k=3))
    assert sorted(groups) == [[0, 1, 2], [3, 4, 5]]


def test_collinear_pairs_grouped_by_hand():
    # centroid 5.5; 0 and 11 tie as farthest, the first (index 0) is taken with its neighbour 1
    p = np.array([[0.0, 0.0], [1.0, 0.0], [10.0, 0.0], [11.0, 0.0]])
    assert as_groups(mdav_labels(p, k=2)) == [[0, 1], [2, 3]]


def test_fewer_than_2k_users_form_one_group():
    p = np.random.default_rng(1).normal(size=(7, 2))
    assert set(mdav_labels(p, k=4).tolist()) == {0}


def test_group_centre_is_member_mean():
    p = np.random.default_rng(2).normal(scale=100.0, size=(40, 2))
    g = k_anonymity_groups(p, k=4)
    for label in range(g.n_groups):
        members = p[g.labels == label]
        assert g.centres[label] == pytest.approx(members.mean(axis=0), abs=1e-9)
        assert g.sizes[label] == len(members)


def test_group_centres_by_hand():
    points = [[0.0, 0.0], [2.0, 4.0], [10.0, 10.0], [20.0, 30.0]]
    centres, sizes = group_centres(points, np.array([0, 0, 1, 1]))
    assert centres.tolist() == [[1.0, 2.0], [15.0, 20.0]] and sizes.tolist() == [2, 2]


@pytest.mark.parametrize("seed", range(4))
def test_grouping_transformed_positions_gives_the_real_groups(seed):
    p = np.random.default_rng(seed).uniform(-10_000, 10_000, size=(500, 2))
    t = draw_transform()
    real = k_anonymity_groups(p, k=5)
    moved = k_anonymity_groups(t.forward(p), k=5)
    assert np.array_equal(real.labels, moved.labels)
    # and the transformed centres are the transformed real centres (means commute with R p + t)
    assert moved.centres == pytest.approx(t.forward(real.centres), abs=1e-8)


def test_duplicate_points_still_give_valid_groups():
    p = np.zeros((12, 2))
    sizes = np.bincount(mdav_labels(p, k=3))
    assert sizes.tolist() == [3, 3, 3, 3]


def test_rotation_by_fixed_angle_keeps_groups():
    p = np.random.default_rng(11).normal(scale=300.0, size=(200, 2))
    t = RigidTransform(2.0, -70_000.0, 30_000.0)
    assert np.array_equal(mdav_labels(p, k=6), mdav_labels(t.forward(p), k=6))
