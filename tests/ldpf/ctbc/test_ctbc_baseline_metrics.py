"""The trusted k-anonymity baseline and the drift degree."""

import numpy as np
import pytest

from crowdsense.ldpf.ctbc.baseline import kanonymity_baseline, knn_cloaks
from crowdsense.ldpf.ctbc.geometry import Region, Task
from crowdsense.ldpf.ctbc.metrics import drift_degree, drift_distances
from crowdsense.errors import InputError


def test_drift_degree_by_hand():
    stats = drift_degree([[0.0, 0.0], [3.0, 4.0]], [[0.0, 1.0], [0.0, 0.0]])
    # distances 1 and 5
    assert (stats.mean, stats.std, stats.min, stats.max, stats.n) == (3.0, 2.0, 1.0, 5.0, 2)


def test_drift_rejects_empty_and_mismatched_input():
    with pytest.raises(InputError, match="at least one"):
        drift_degree(np.empty((0, 2)), np.empty((0, 2)))
    with pytest.raises(InputError, match="same shape"):
        drift_distances([[0.0, 0.0]], [[0.0, 0.0], [1.0, 1.0]])


def test_knn_cloak_is_mean_of_self_and_k_minus_1_nearest():
    p = np.random.default_rng(0).normal(scale=50.0, size=(60, 2))
    k = 4
    got = knn_cloaks(p, k=k)
    for i in range(len(p)):
        d = np.hypot(*(p - p[i]).T)
        nearest = np.argsort(d)[:k]  # includes i itself at distance 0
        assert got[i] == pytest.approx(p[nearest].mean(axis=0), abs=1e-9)


def test_knn_baseline_selects_best_cloaks_in_region():
    p = np.random.default_rng(1).uniform(-1000, 1000, size=(200, 2))
    task = Task((0.0, 0.0), 8, Region.square((0.0, 0.0), 1200.0))
    res = kanonymity_baseline(p, task, k=3, method="knn", random_state=0)
    cloaks = knn_cloaks(p, k=3)
    inside = np.flatnonzero(task.region.contains(cloaks))
    best = inside[np.argsort(np.hypot(*cloaks[inside].T))[:8]]
    assert sorted(res.selection.users.tolist()) == sorted(best.tolist())
    expected = np.hypot(*(p[res.selection.users] - cloaks[res.selection.users]).T).mean()
    assert res.drift.mean == pytest.approx(expected, abs=1e-9)


def test_mdav_baseline_drift_is_distance_to_group_centre():
    p = np.random.default_rng(2).uniform(-1000, 1000, size=(100, 2))
    task = Task((0.0, 0.0), 5, Region.square((0.0, 0.0), 2000.0))
    res = kanonymity_baseline(p, task, k=5, random_state=0)
    sel = res.selection.users
    assert len(sel) == 5
    # a user's group = the users sharing its cloaked location; drift = distance to their mean
    centres = np.array([p[np.all(res.cloaked == res.cloaked[u], axis=1)].mean(axis=0) for u in sel])
    assert res.drift.mean == pytest.approx(np.hypot(*(p[sel] - centres).T).mean(), abs=1e-9)


def test_unknown_baseline_method_is_rejected():
    p = np.zeros((4, 2))
    with pytest.raises(InputError, match="'mdav' or 'knn'"):
        kanonymity_baseline(p, Task((0.0, 0.0), 1, Region.square((0.0, 0.0), 1.0)), k=2, method="grid")
