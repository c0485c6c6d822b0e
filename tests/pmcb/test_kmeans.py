"""k-means and silhouette of crowdsense.pmcb.kmeans, against scikit-learn as the reference.

scikit-learn is a development dependency only: the tests compare partitions up to label
permutation (adjusted Rand index), inertias within a relative tolerance (both are heuristics
from random seedings), and, from the same initial centres, the Lloyd iterations themselves
(same labels, centres, inertia and iteration count). The silhouette is exact, so it must equal
scikit-learn's to 1e-9.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.metrics import silhouette_score as sklearn_silhouette

from crowdsense.errors import InputError
from crowdsense.pmcb import kmeans as kmeans_module
from crowdsense.pmcb.kmeans import kmeans, silhouette_score


def blobs(n_per: int, centres: list[tuple[float, ...]], spread: float,
          seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs of ``n_per`` points around each centre, and the blob of each point."""
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(len(centres)), n_per)
    points = np.asarray(centres, dtype=float)[truth]
    return points + rng.normal(0.0, spread, points.shape), truth


CENTRES = [(0.0, 0.0, 0.0), (10.0, 0.0, 0.0), (0.0, 10.0, 0.0), (0.0, 0.0, 10.0), (10.0, 10.0, 10.0)]


# ------------------------------------------------------------------------------- k-means


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_well_separated_blobs_same_partition_as_sklearn(seed):
    x, truth = blobs(60, CENTRES, 0.5, seed)
    ours = kmeans(x, 5, random_state=seed)
    reference = KMeans(5, n_init=10, random_state=seed).fit(x)
    assert adjusted_rand_score(truth, ours.labels) == 1.0
    assert adjusted_rand_score(reference.labels_, ours.labels) == 1.0
    assert ours.inertia == pytest.approx(reference.inertia_, rel=1e-9)


def test_weighted_blobs_same_partition_as_sklearn():
    x, truth = blobs(40, CENTRES[:3], 0.8, 3)
    w = np.random.default_rng(3).integers(1, 50, truth.size).astype(float)
    ours = kmeans(x, 3, sample_weight=w, random_state=0)
    reference = KMeans(3, n_init=10, random_state=0).fit(x, sample_weight=w)
    assert adjusted_rand_score(truth, ours.labels) == 1.0
    assert adjusted_rand_score(reference.labels_, ours.labels) == 1.0
    assert ours.inertia == pytest.approx(reference.inertia_, rel=1e-9)


@pytest.mark.parametrize(("n", "d", "k", "seed"),
                         [(400, 2, 4, 0), (1000, 5, 8, 1), (3000, 3, 3, 2), (500, 10, 6, 3)])
def test_inertia_on_random_data_close_to_sklearn(n, d, k, seed):
    # No cluster structure: both are local optima from random seedings, so only close.
    x = np.random.default_rng(seed).standard_normal((n, d))
    ours = kmeans(x, k, random_state=seed)
    reference = KMeans(k, n_init=10, random_state=seed).fit(x)
    assert abs(ours.inertia - reference.inertia_) <= 0.02 * reference.inertia_
    # The inertia returned is that of the labels and centres returned.
    assert ours.inertia == pytest.approx(((x - ours.centers[ours.labels]) ** 2).sum(), rel=1e-12)
    assert np.array_equal(ours.labels, np.argmin(((x[:, None, :] - ours.centers) ** 2).sum(axis=2), axis=1))


@pytest.mark.parametrize("weighted", [False, True])
def test_lloyd_iterations_match_sklearn_from_the_same_centres(weighted):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((800, 4)) + 50.0  # far from the origin: the centring must keep accuracy
    w = rng.uniform(0.5, 3.0, x.shape[0]) if weighted else None
    init = x[rng.choice(x.shape[0], 6, replace=False)]
    ours = kmeans(x, 6, init=init, n_init=1, sample_weight=w)
    reference = KMeans(6, init=init, n_init=1, algorithm="lloyd").fit(x, sample_weight=w)
    assert np.array_equal(ours.labels, reference.labels_)
    assert np.allclose(ours.centers, reference.cluster_centers_, rtol=0, atol=1e-9)
    assert ours.inertia == pytest.approx(reference.inertia_, rel=1e-10)
    assert ours.n_iter == reference.n_iter_


def test_empty_cluster_is_reseeded_from_the_farthest_point():
    # The third initial centre is far from every point: it wins none in the first assignment.
    x = np.random.default_rng(5).standard_normal((200, 2))
    init = np.array([[-0.5, 0.0], [0.5, 0.0], [100.0, 100.0]])
    ours = kmeans(x, 3, init=init, n_init=1)
    assert np.bincount(ours.labels, minlength=3).min() > 0
    assert np.abs(ours.centers).max() < 5.0  # the far centre moved into the data
    reference = KMeans(3, init=init, n_init=1, algorithm="lloyd").fit(x)
    assert np.array_equal(ours.labels, reference.labels_)
    assert ours.inertia == pytest.approx(reference.inertia_, rel=1e-10)


def test_empty_cluster_reseed_takes_the_point_farthest_from_its_centre():
    # One assignment and one update (max_iter=1): the centre at (50, 50) wins nothing, and the
    # point farthest from its own centre, (9, 0), becomes its centre.
    x = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [9.0, 0.0]])
    ours = kmeans(x, 2, init=[[1.0, 0.0], [50.0, 50.0]], n_init=1, max_iter=1)
    assert np.allclose(ours.centers, [[1.0, 0.0], [9.0, 0.0]])
    assert ours.labels.tolist() == [0, 0, 0, 1]


def test_fewer_distinct_points_than_clusters_does_not_fail():
    x = np.repeat(np.array([[0.0, 0.0], [1.0, 1.0], [5.0, 0.0]]), 4, axis=0)
    result = kmeans(x, 5, random_state=0)
    assert result.inertia == 0.0
    assert len(set(result.labels.tolist())) == 3
    assert np.allclose(result.centers[result.labels], x)


def test_same_seed_same_result_and_generator_accepted():
    x = np.random.default_rng(11).standard_normal((700, 3))
    a = kmeans(x, 5, random_state=42)
    b = kmeans(x, 5, random_state=42)
    c = kmeans(x, 5, random_state=np.random.default_rng(42))
    assert np.array_equal(a.labels, b.labels) and np.array_equal(a.centers, b.centers)
    assert a.inertia == b.inertia
    assert np.array_equal(a.labels, c.labels)


def test_restarts_keep_the_lowest_inertia():
    x = np.random.default_rng(13).standard_normal((600, 2))
    single = [kmeans(x, 7, n_init=1, random_state=np.random.default_rng(s)).inertia for s in range(5)]
    assert kmeans(x, 7, n_init=20, random_state=0).inertia <= max(single)


def test_blocks_give_the_same_result(monkeypatch):
    x, _ = blobs(50, CENTRES, 2.0, 4)
    whole = kmeans(x, 5, random_state=1)
    monkeypatch.setattr(kmeans_module, "_BLOCK_ELEMENTS", 16)  # blocks of 3 rows
    blocked = kmeans(x, 5, random_state=1)
    assert np.array_equal(whole.labels, blocked.labels)
    assert whole.inertia == pytest.approx(blocked.inertia, rel=1e-12)


@pytest.mark.parametrize(("data", "k", "options", "message"), [
    (np.zeros((3, 2)), 4, {}, r"n_clusters must be an int in \[1, 3\], got 4"),
    (np.zeros((3, 2)), 0, {}, r"n_clusters must be an int in \[1, 3\], got 0"),
    (np.zeros((3, 2)), 2.0, {}, r"n_clusters must be an int in \[1, 3\], got 2\.0"),
    ([[0.0, 1.0], [np.nan, 2.0]], 1, {}, r"finite, got NaN"),
    ([[0.0, 1.0], [np.inf, 2.0]], 1, {}, r"finite, got NaN or infinite"),
    (np.zeros((0, 2)), 1, {}, r"non-empty"),
    (np.zeros((3, 2)), 2, {"sample_weight": [1.0, -1.0, 1.0]},
     r"sample_weight must be 3 finite numbers >= 0 with a positive sum, got 3 value"),
    (np.zeros((3, 2)), 2, {"sample_weight": [1.0, 1.0]}, r"sample_weight must be 3 .* shape \(2,\)"),
    (np.zeros((3, 2)), 2, {"sample_weight": [0.0, 0.0, 0.0]}, r"positive sum"),
    (np.zeros((3, 2)), 2, {"n_init": 0}, r"n_init must be an int >= 1, got 0"),
    (np.zeros((3, 2)), 2, {"max_iter": 0}, r"max_iter must be an int >= 1, got 0"),
    (np.zeros((3, 2)), 2, {"tol": -1.0}, r"tol must be a finite number >= 0, got -1\.0"),
    (np.zeros((3, 2)), 2, {"init": "random"},
     r"init must be 'k-means\+\+' or a finite 2 x 2 array of centres, got 'random'"),
    (np.zeros((3, 2)), 2, {"init": np.zeros((3, 2))}, r"finite 2 x 2 array of centres, got shape \(3, 2\)"),
    (np.zeros((3, 2)), 2, {"init": np.zeros((2, 2))}, r"n_init must be 1 when init gives the centres"),
])
def test_bad_input_is_an_input_error(data, k, options, message):
    with pytest.raises(InputError, match=message):
        kmeans(data, k, **options)


# ---------------------------------------------------------------------------- silhouette


@pytest.mark.parametrize(("n", "d", "k", "seed"), [(60, 2, 2, 0), (300, 4, 5, 1), (500, 3, 9, 2)])
def test_silhouette_equals_sklearn(n, d, k, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    labels = rng.integers(0, k, n)
    assert silhouette_score(x, labels) == pytest.approx(sklearn_silhouette(x, labels), abs=1e-9)
    clustered = kmeans(x, k, random_state=seed).labels
    assert silhouette_score(x, clustered) == pytest.approx(sklearn_silhouette(x, clustered), abs=1e-9)


def test_silhouette_singletons_and_string_labels_equal_sklearn():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((40, 2))
    labels = np.array(["a"] * 20 + ["b"] * 18 + ["c", "d"])  # two one-point clusters (s = 0)
    assert silhouette_score(x, labels) == pytest.approx(sklearn_silhouette(x, labels), abs=1e-9)


def test_silhouette_in_blocks_equals_sklearn(monkeypatch):
    x, truth = blobs(30, CENTRES, 3.0, 6)
    monkeypatch.setattr(kmeans_module, "_BLOCK_ELEMENTS", 200)  # blocks of one row
    assert silhouette_score(x, truth) == pytest.approx(sklearn_silhouette(x, truth), abs=1e-9)


def test_silhouette_sample_is_seeded_and_close_to_the_full_score():
    x, truth = blobs(600, CENTRES, 3.0, 8)
    full = silhouette_score(x, truth)
    a = silhouette_score(x, truth, sample_size=800, random_state=1)
    assert a == silhouette_score(x, truth, sample_size=800, random_state=1)
    assert a != full and abs(a - full) < 0.05
    assert silhouette_score(x, truth, sample_size=x.shape[0], random_state=1) == full


@pytest.mark.parametrize(("data", "labels", "options", "message"), [
    (np.zeros((4, 2)), [0, 0, 0, 0], {}, r"at least 2 clusters, got 1"),
    (np.zeros((4, 2)), [0, 1, 0], {}, r"one entry per row \(4\), got 3"),
    ([[0.0, np.nan], [1.0, 1.0]], [0, 1], {}, r"finite, got NaN"),
    (np.zeros((4, 2)), [0, 1, 0, 1], {"sample_size": 1}, r"sample_size must be an int >= 2, got 1"),
])
def test_silhouette_bad_input_is_an_input_error(data, labels, options, message):
    with pytest.raises(InputError, match=message):
        silhouette_score(data, labels, **options)


# ------------------------------------------------------------------------- dependencies


def test_classifier_runs_without_sklearn_threadpoolctl_or_networkx(tmp_path):
    # Only reads sys.modules, in a fresh interpreter: the classification pipeline, its k-means
    # baseline and quality measures load none of the optional libraries.
    code = """
import sys
from crowdsense.pmcb.classify import classify_graph, kmeans_baseline, partition_quality
from crowdsense.pmcb.graph_io import from_edges
ring = [(i, (i + 1) % 30) for i in range(30)] + [(0, k) for k in range(3, 27, 3)]
result = classify_graph(from_edges(ring), n_levels=2, random_state=0, n_jobs=1)
labels = kmeans_baseline(result.features, n_clusters=2, random_state=0)
partition_quality(result.partition.similarity, result.features, labels)
print(sorted(m for m in ("sklearn", "threadpoolctl", "networkx") if m in sys.modules))
"""
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
