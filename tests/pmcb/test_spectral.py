"""Tests of the similarity graph (crowdsense.pmcb.similarity) and the RatioCut spectral partition
(crowdsense.pmcb.spectral), which the similarity graph exists for.

References: brute-force nearest neighbours with numpy, a dense generalized eigensolver
(scipy.linalg.eigh), RatioCut values worked out by hand, and planted clusters.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
from scipy.sparse.csgraph import connected_components
from sklearn.metrics import adjusted_rand_score

import crowdsense.pmcb.similarity as similarity_module
import crowdsense.pmcb.spectral as spectral_module
from crowdsense.errors import InputError
from crowdsense.pmcb.balance import balanced_kmeans
from crowdsense.pmcb.spectral import (
    merge_points,
    DisconnectedSimilarityWarning,
    ratiocut,
    ratiocut_embedding,
    similarity_graph,
    spectral_partition,
    standardize,
)


def blobs(sizes, centres, scale, seed):
    rng = np.random.default_rng(seed)
    x = np.vstack([rng.normal(c, scale, size=(s, len(c))) for s, c in zip(sizes, centres)])
    truth = np.repeat(np.arange(len(sizes)), sizes)
    return x, truth


def brute_knn_sets(points, k):
    d = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=2)
    np.fill_diagonal(d, np.inf)
    return [set(np.argsort(row, kind="stable")[:k].tolist()) for row in d], d


# ---------------------------------------------------------------------------- similarity


def test_standardize_gives_zero_mean_unit_std_and_zero_for_constant_column():
    x = np.array([[1.0, 5.0, 2.0], [3.0, 5.0, 4.0], [5.0, 5.0, 9.0]])
    z = standardize(x)
    assert z.mean(axis=0) == pytest.approx([0, 0, 0], abs=1e-9)
    assert z[:, [0, 2]].std(axis=0) == pytest.approx([1, 1], abs=1e-8)
    assert np.all(z[:, 1] == 0.0)


def test_identical_vectors_merged_into_one_weighted_point():
    x = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [2.0, 1.0], [3.0, 5.0], [0.0, 2.0]])
    sim = similarity_graph(x, n_neighbors=2)
    assert sim.n_points == 4
    p = sim.point_of_node
    assert p[0] == p[1] == p[2] and len({p[0], p[3], p[4], p[5]}) == 4
    assert sim.multiplicity[p[0]] == 3 and sim.multiplicity.sum() == 6


def test_vectors_equal_up_to_rounding_noise_are_merged():
    x = np.array([[0.1 + 0.2, 1.0], [0.3, 1.0], [2.0, 0.0], [4.0, 3.0]])
    assert similarity_graph(x, n_neighbors=1).n_points == 3


def test_knn_graph_is_symmetric_union_of_k_nearest():
    x, _ = blobs([40], [[0, 0, 0, 0]], 1.0, seed=1)
    k = 4
    sim = similarity_graph(x, n_neighbors=k)
    z = sim.points
    near, _ = brute_knn_sets(z, k)
    w = sim.weights.toarray()
    assert np.allclose(w, w.T) and np.all(np.diag(w) == 0)
    for i in range(len(z)):
        for j in range(len(z)):
            if i != j:
                assert (w[i, j] > 0) == (j in near[i] or i in near[j]), (i, j)


def test_weights_are_gaussian_of_standardized_distance():
    x, _ = blobs([30], [[0, 0, 0, 0]], 1.0, seed=2)
    sim = similarity_graph(x, n_neighbors=3, sigma=0.7)
    w = sim.weights.tocoo()
    d = np.linalg.norm(sim.points[w.row] - sim.points[w.col], axis=1)
    assert w.data == pytest.approx(np.exp(-d**2 / (2 * 0.7**2)), rel=1e-12)


def test_max_knn_sigma_is_longest_knn_edge():
    x, _ = blobs([30], [[0, 0, 0, 0]], 1.0, seed=3)
    sim = similarity_graph(x, n_neighbors=3, sigma="max-knn")
    w = sim.weights.tocoo()
    d = np.linalg.norm(sim.points[w.row] - sim.points[w.col], axis=1)
    assert sim.sigma == pytest.approx(d.max(), rel=1e-12)
    assert w.data.min() >= math.exp(-0.5) - 1e-12


def test_median_knn_sigma_is_median_kth_neighbour_distance():
    x, _ = blobs([30], [[0, 0, 0, 0]], 1.0, seed=4)
    sim = similarity_graph(x, n_neighbors=3, sigma="median-knn")
    _, d = brute_knn_sets(sim.points, 3)
    kth = np.sort(d, axis=1)[:, 2]
    assert sim.sigma == pytest.approx(np.median(kth), rel=1e-12)


def test_ties_at_kth_distance_all_included():
    # Points 0, 1, 2, ..., 6 on a line: with K = 1, point 3's nearest are 2 and 4 (a tie).
    x = np.column_stack([np.arange(7.0), np.zeros(7)])
    sim = similarity_graph(x, n_neighbors=1)
    w = sim.weights.toarray()
    middle = sim.point_of_node[3]
    neighbours = {int(j) for j in np.flatnonzero(w[middle])}
    assert neighbours == {int(sim.point_of_node[2]), int(sim.point_of_node[4])}


def test_disconnected_knn_graph_bridged_between_closest_points():
    x, _ = blobs([15, 12], [[0, 0, 0, 0], [50, 50, 50, 50]], 1.0, seed=5)
    with pytest.warns(DisconnectedSimilarityWarning, match="2 components"):
        sim = similarity_graph(x, n_neighbors=3, connect="bridge")
    assert sim.n_components == 2
    assert connected_components(sim.weights, directed=False)[0] == 1
    assert sim.bridges.shape == (1, 2)
    # Without the bridge the graph falls apart; the bridge joins the closest cross pair.
    w = sim.weights.toarray()
    i, j = sim.bridges[0]
    w[i, j] = w[j, i] = 0.0
    n_comp, comp = connected_components(w, directed=False)
    assert n_comp == 2
    _, d = brute_knn_sets(sim.points, 1)
    cross = comp[:, None] != comp[None, :]
    a, b = np.unravel_index(np.argmin(np.where(cross, d, np.inf)), d.shape)
    assert sorted([int(i), int(j)]) == sorted([int(a), int(b)])


def _line(values):
    """Nodes on a line (a constant second feature, which standardizes to 0): standardizing
    divides every distance by the same standard deviation, so ratios of distances, and with
    the default sigma every weight, are those of the raw values."""
    return np.column_stack([np.asarray(values, dtype=float), np.zeros(len(values))])


def test_bridge_weight_is_the_similarity_of_its_ends():
    # K = 1 on 0, 10, 11 | 14, 15: 0-10, 10-11 and 14-15 are the kNN edges (11's nearest is 10,
    # at 1, not 14, at 3), so {0, 10, 11} and {14, 15} are the components, joined by the
    # closest cross pair 11-14 at distance 3. Sigma is the longest kNN edge, 10, so the bridge
    # weighs exp(-3**2 / (2 * 10**2)) = exp(-0.045), above the smallest kNN weight exp(-1/2).
    with pytest.warns(DisconnectedSimilarityWarning, match="2 components"):
        sim = similarity_graph(_line([0, 10, 11, 14, 15]), n_neighbors=1, sigma="max-knn", connect="bridge")
    p = sim.point_of_node
    assert sim.bridges.tolist() == [sorted([int(p[2]), int(p[3])])]
    w = sim.weights.toarray()
    assert w[p[2], p[3]] == w[p[3], p[2]] == pytest.approx(math.exp(-0.045), rel=1e-7)
    assert w[p[0], p[1]] == pytest.approx(math.exp(-0.5), rel=1e-7)  # the longest kNN edge


def test_bridge_weight_is_raised_to_the_smallest_knn_weight():
    # K = 1 on -2, -1 | 1, 2: the kNN edges have length 1 (sigma = 1, weight exp(-1/2)); the
    # bridge -1-1 has length 2, similarity exp(-2**2 / 2) = exp(-2), raised to exp(-1/2).
    with pytest.warns(DisconnectedSimilarityWarning, match="2 components"):
        sim = similarity_graph(_line([-2, -1, 1, 2]), n_neighbors=1, sigma="max-knn", connect="bridge")
    p = sim.point_of_node
    assert sim.bridges.tolist() == [sorted([int(p[1]), int(p[2])])]
    w = sim.weights.toarray()
    assert w[p[1], p[2]] == pytest.approx(math.exp(-0.5), rel=1e-7)
    assert w[p[0], p[1]] == w[p[2], p[3]] == pytest.approx(math.exp(-0.5), rel=1e-7)


def test_connected_knn_graph_has_no_bridge():
    x, _ = blobs([40], [[0, 0, 0, 0]], 1.0, seed=6)
    sim = similarity_graph(x, n_neighbors=8)
    assert sim.n_components == 1 and sim.bridges.shape[0] == 0


def test_laplacian_is_unnormalized_degree_minus_weights():
    x, _ = blobs([25], [[0, 0, 0, 0]], 1.0, seed=7)
    sim = similarity_graph(x, n_neighbors=4)
    w = sim.weights.toarray()
    assert np.allclose(sim.laplacian().toarray(), np.diag(w.sum(axis=1)) - w)


# ----------------------------------------------------------------------------- RatioCut


@pytest.mark.parametrize("dense_max", [10_000, 10])  # dense solver, then the sparse one
def test_embedding_solves_generalized_problem_L_h_eq_lambda_M_h(monkeypatch, dense_max):
    monkeypatch.setattr(spectral_module, "DENSE_MAX_POINTS", dense_max)
    x, _ = blobs([30, 25, 20], [[0, 0, 0, 0], [4, 0, 0, 0], [0, 4, 0, 0]], 1.0, seed=8)
    x = np.vstack([x, x[:10]])  # duplicates: points of weight 2
    sim = similarity_graph(x, n_neighbors=5)
    vals, h, solver = ratiocut_embedding(sim, n_clusters=3, random_state=0)
    lap = sim.laplacian().toarray()
    m = np.diag(sim.multiplicity.astype(float))
    ref = scipy.linalg.eigh(lap, m, eigvals_only=True)[:4]
    assert vals == pytest.approx(ref, abs=1e-8)
    assert solver == ("dense" if dense_max > 100 else "shift-invert")
    for c in range(3):
        assert lap @ h[:, c] == pytest.approx(vals[c] * (m @ h[:, c]), abs=1e-7)
    assert h.T @ m @ h == pytest.approx(np.eye(3), abs=1e-7)


@pytest.mark.parametrize("t", [2, 3, 4])
def test_planted_clusters_recovered(t):
    centres = [[0, 0, 0, 0], [6, 0, 0, 0], [0, 6, 0, 0], [0, 0, 6, 0]][:t]
    x, truth = blobs([60, 45, 50, 40][:t], centres, 1.0, seed=10 + t)
    part = spectral_partition(x, n_clusters=t, n_neighbors=10, random_state=0)
    assert adjusted_rand_score(truth, part.labels) >= 0.95


def test_unbalanced_bridge_does_not_beat_balanced_split():
    # Two equal blobs joined by a thin chain: RatioCut cuts the chain, not a stray point.
    x, truth = blobs([80, 80], [[0, 0, 0, 0], [8, 0, 0, 0]], 1.0, seed=12)
    part = spectral_partition(x, n_clusters=2, n_neighbors=8, random_state=1)
    assert adjusted_rand_score(truth, part.labels) >= 0.95


def test_fixed_seed_reproduces_partition():
    x, _ = blobs([50, 50, 50], [[0, 0, 0, 0], [2, 0, 0, 0], [1, 2, 0, 0]], 1.0, seed=13)
    a = spectral_partition(x, n_clusters=3, random_state=7)
    b = spectral_partition(x, n_clusters=3, random_state=7)
    assert np.array_equal(a.labels, b.labels)
    assert np.array_equal(a.eigenvalues, b.eigenvalues)


def test_labels_numbered_by_first_appearance():
    x, _ = blobs([20, 20], [[5, 0, 0, 0], [0, 0, 0, 0]], 0.5, seed=14)
    labels = spectral_partition(x, n_clusters=2, random_state=0).labels
    _, first = np.unique(labels, return_index=True)
    assert labels[0] == 0 and np.all(np.diff(first) > 0)


def test_identical_vectors_always_share_a_cluster():
    x, _ = blobs([30, 30], [[0, 0, 0, 0], [5, 0, 0, 0]], 1.0, seed=15)
    x = np.vstack([x, np.repeat(x[:1], 20, axis=0), np.repeat(x[-1:], 20, axis=0)])
    labels = spectral_partition(x, n_clusters=2, random_state=0).labels
    assert len(set(labels[60:80].tolist() + [labels[0]])) == 1
    assert len(set(labels[80:].tolist() + [labels[59]])) == 1


def test_ratiocut_value_by_hand():
    # Path 0-1-2-3 with weights 1, 0.5, 1; clusters {0,1}, {2,3}: cut = 0.5 each side,
    # RatioCut = 0.5/2 + 0.5/2 = 0.5. With sizes weighted (3, 1, 1, 1): 0.5/4 + 0.5/2.
    w = np.zeros((4, 4))
    for i, j, v in [(0, 1, 1.0), (1, 2, 0.5), (2, 3, 1.0)]:
        w[i, j] = w[j, i] = v
    assert ratiocut(w, [0, 0, 1, 1]) == pytest.approx(0.5)
    assert ratiocut(w, [0, 0, 1, 1], sizes_weight=[3, 1, 1, 1]) == pytest.approx(0.5 / 4 + 0.5 / 2)


@pytest.mark.filterwarnings("ignore::crowdsense.pmcb.spectral.DisconnectedSimilarityWarning")
def test_partition_minimizes_ratiocut_against_every_split_of_tiny_graph():
    # Six points in two tight groups of three: among all 31 two-way splits the spectral
    # answer has the smallest RatioCut on its own similarity graph.
    x = np.array([[0, 0], [0.1, 0], [0, 0.1], [3, 3], [3.1, 3], [3, 3.1]], dtype=float)
    part = spectral_partition(x, n_clusters=2, n_neighbors=2, random_state=0)
    sim = part.similarity
    best = min(ratiocut(sim.weights, [(mask >> i) & 1 for i in range(6)])
               for mask in range(1, 63))
    got = ratiocut(sim.weights, part.labels[np.argsort(sim.point_of_node)])
    assert got == pytest.approx(best, abs=1e-12)


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("t", [1, 0, 101, 2.0, True])
def test_bad_cluster_count_rejected(t):
    x, _ = blobs([100], [[0, 0, 0, 0]], 1.0, seed=16)
    with pytest.raises(InputError, match="n_clusters"):
        spectral_partition(x, n_clusters=t)


@pytest.mark.parametrize("k", [0, -1, 1.5])
def test_bad_neighbour_count_rejected(k):
    x, _ = blobs([20], [[0, 0, 0, 0]], 1.0, seed=17)
    with pytest.raises(InputError, match="n_neighbors"):
        similarity_graph(x, n_neighbors=k)


@pytest.mark.parametrize("sigma", [0.0, -1.0, float("nan"), "auto"])
def test_bad_sigma_rejected(sigma):
    x, _ = blobs([20], [[0, 0, 0, 0]], 1.0, seed=18)
    with pytest.raises(InputError, match="sigma"):
        similarity_graph(x, sigma=sigma)


def test_non_finite_features_rejected():
    x = np.array([[1.0, 2.0], [np.nan, 1.0], [0.0, 0.0]])
    with pytest.raises(InputError, match="finite"):
        similarity_graph(x)


@pytest.mark.filterwarnings("ignore:n_neighbors=10:UserWarning")
def test_more_clusters_than_distinct_vectors_rejected():
    x = np.array([[0.0, 1.0]] * 5 + [[1.0, 0.0]] * 5)
    with pytest.raises(InputError, match="only 2 distinct node vectors"):
        spectral_partition(x, n_clusters=3)


def test_too_many_neighbours_lowered_with_warning():
    x, _ = blobs([6], [[0, 0, 0, 0]], 1.0, seed=19)
    with pytest.warns(UserWarning, match="using K=5"):
        assert similarity_graph(x, n_neighbors=50).n_neighbors == 5


@pytest.mark.parametrize("case", range(6))
def test_bridge_search_finds_closest_cross_pair(case):
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(case)
    if case < 4:
        pts = rng.standard_normal((int(rng.integers(20, 300)), 3)) * rng.uniform(0.1, 3, 3)
        inside = pts[:, 0] > rng.normal() if case % 2 else rng.integers(0, 3, len(pts)) == 0
    else:  # a dense blob far from the rest: forces the search past 256 neighbours
        pts = np.vstack([rng.normal(0, 0.01, (1500, 3)), rng.normal(10, 1, (300, 3))])
        inside = np.arange(1800) < 1500
    members = np.flatnonzero(inside)
    i, j, d = similarity_module._nearest_outside(pts, members, inside, cKDTree(pts))
    brute = np.linalg.norm(pts[members][:, None] - pts[~inside][None], axis=2)
    assert d == pytest.approx(brute.min(), abs=1e-12)
    assert inside[i] and not inside[j]
    assert np.linalg.norm(pts[i] - pts[j]) == pytest.approx(d, abs=1e-12)


def test_lobpcg_fallback_when_shift_invert_fails(monkeypatch):
    monkeypatch.setattr(spectral_module, "DENSE_MAX_POINTS", 10)

    def refuse(*args, **kwargs):
        raise RuntimeError("factor is exactly singular")

    monkeypatch.setattr(spectral_module.spla, "eigsh", refuse)
    x, _ = blobs([40, 35], [[0, 0, 0, 0], [3, 0, 0, 0]], 1.0, seed=20)
    sim = similarity_graph(x, n_neighbors=6)
    vals, h, solver = ratiocut_embedding(sim, n_clusters=2, random_state=0)
    lap = sim.laplacian().toarray()
    ref = scipy.linalg.eigh(lap, np.diag(sim.multiplicity.astype(float)), eigvals_only=True)[:3]
    assert solver == "lobpcg"
    assert vals == pytest.approx(ref, abs=1e-6)


def test_knn_keeps_more_ties_than_fetched_neighbours():
    # The centre has 12 lattice points at distance exactly 5 and none closer: with K = 1
    # all 12 are its nearest neighbours, more than the extra neighbours fetched at first.
    ring = [(3, 4), (4, 3), (5, 0), (0, 5)]
    pts = [(0, 0)] + [(sx * a, sy * b) for a, b in ring for sx in (1, -1) for sy in (1, -1)]
    pts = np.array(sorted(set(pts)), dtype=float)
    centre = int(np.flatnonzero((pts == 0).all(axis=1))[0])
    rows, cols, dists = similarity_module._knn(pts, 1)
    assert sorted(cols[rows == centre].tolist()) == sorted(set(range(len(pts))) - {centre})
    assert dists[rows == centre] == pytest.approx([5.0] * 12)


# ------------------------------------------------- connectivity, scaling, local sigma, balance


def test_k_grows_to_the_smallest_value_giving_one_component():
    # 0, 1, 2 | 10, 11, 12 on a line. K = 1 and K = 2 keep the two triples apart (every point's
    # two nearest are in its own triple); with K = 3, 2's third nearest is 10 (at 8): connected.
    sim = similarity_graph(_line([0, 1, 2, 10, 11, 12]), n_neighbors=1)
    assert sim.n_neighbors == 3 and sim.requested_neighbors == 1
    assert sim.components_at_requested == 2 and sim.n_components == 1 and sim.bridges.shape[0] == 0
    assert connected_components(sim.weights, directed=False)[0] == 1


def test_connected_graph_keeps_the_requested_k():
    x, _ = blobs([40], [[0, 0, 0, 0]], 1.0, seed=21)
    sim = similarity_graph(x, n_neighbors=8)
    assert sim.n_neighbors == 8 and sim.components_at_requested == 1


def test_grown_k_is_the_brute_force_smallest_connected_k():
    x, _ = blobs([15, 12, 9], [[0, 0, 0, 0], [9, 9, 0, 0], [0, 20, 5, 0]], 1.0, seed=22)
    sim = similarity_graph(x, n_neighbors=2)
    z = sim.points

    def comps(k):
        near, _ = brute_knn_sets(z, k)
        a = np.zeros((len(z), len(z)))
        for i, js in enumerate(near):
            a[i, list(js)] = 1
        return connected_components(a, directed=False)[0]

    expected = next(k for k in range(2, len(z)) if comps(k) == 1)
    assert expected > 2 and sim.n_neighbors == expected


def test_log_scaling_of_degree_and_betweenness_by_hand():
    e = math.e
    # D = 0, e-1, e^2-1 -> log1p: 0, 1, 2. BC = 0, 2, 4: median positive 3 -> log1p(0, 2/3, 4/3).
    x = np.array([[0.0, 0.0, 0.1, 1.0], [e - 1, 2.0, 0.5, 2.0], [e * e - 1, 4.0, 0.9, 3.0]])
    scaled = similarity_module.robust_scale(x)
    assert scaled[:, 0] == pytest.approx([0, 1, 2], abs=1e-12)
    assert scaled[:, 1] == pytest.approx([0, math.log1p(2 / 3), math.log1p(4 / 3)], abs=1e-12)
    assert np.array_equal(scaled[:, 2:], x[:, 2:])
    z = standardize(x)
    assert z[:, 0] == pytest.approx(np.array([-1, 0, 1]) / np.std([0, 1, 2]), abs=1e-8)
    assert not np.allclose(standardize(x, scaling="none")[:, 0], z[:, 0])


def test_log_scaling_leaves_generic_data_alone():
    x = np.array([[-1.0, 2.0, 0.0, 1.0], [3.0, 4.0, 1.0, 0.0]])
    assert np.array_equal(similarity_module.robust_scale(x), x)  # a negative "degree": not node vectors
    y = np.array([[1.0, 2.0], [3.0, 5.0]])
    assert np.array_equal(similarity_module.robust_scale(y), y)


def test_one_hub_does_not_dominate_after_log_scaling():
    # 99 nodes of degree 1..3 and one hub of degree 1000: z-scores put the bulk within 0.1 of
    # each other; after log1p the bulk spreads over a real range.
    d = np.r_[np.tile([1.0, 2.0, 3.0], 33), 1000.0]
    x = np.column_stack([d, np.zeros(100), np.zeros(100), np.zeros(100)])
    raw = standardize(x, scaling="none")[:99, 0]
    logged = standardize(x)[:99, 0]
    assert np.ptp(raw) < 0.1 < 1.0 < np.ptp(logged)


def test_local_sigma_weights_by_hand():
    # Line 0, 1, 3 (K = 1): sigma_0 = 1, sigma_1 = 1, sigma_3 = 2 (its nearest, 1, is at 2).
    # Edge 0-1: width max(1, 1) = 1, weight exp(-1/2). Edge 1-3: width max(1, 2) = 2,
    # weight exp(-4 / 8) = exp(-1/2). (Distances are in standardized units: every one is
    # divided by the same standard deviation, so the weights are those of the raw values.)
    sim = similarity_graph(_line([0, 1, 3]), n_neighbors=1)
    p = sim.point_of_node
    w = sim.weights.toarray()
    assert w[p[0], p[1]] == pytest.approx(math.exp(-0.5), rel=1e-9)
    assert w[p[1], p[2]] == pytest.approx(math.exp(-0.5), rel=1e-9)
    assert w[p[0], p[2]] == 0.0
    # Line 0, 1, 2, 10 (K = 1): 10's nearest is 2 at 8, sigma_10 = 8: the outlier keeps a
    # weight exp(-1/2), it is not cut off for free; the others keep their own width 1.
    sim = similarity_graph(_line([0, 1, 2, 10]), n_neighbors=1)
    p = sim.point_of_node
    w = sim.weights.toarray()
    assert w[p[2], p[3]] == pytest.approx(math.exp(-0.5), rel=1e-9)
    assert w[p[0], p[1]] == pytest.approx(math.exp(-0.5), rel=1e-9)


def test_local_sigma_keeps_every_weight_in_range():
    x, _ = blobs([60, 5], [[0, 0, 0, 0], [30, 0, 0, 0]], 1.0, seed=23)
    sim = similarity_graph(x, n_neighbors=4)
    assert sim.weights.data.min() >= math.exp(-0.5) - 1e-12 and sim.weights.data.max() <= 1.0


def test_default_partition_is_balanced_and_min_share_zero_is_not():
    # A big blob and a small far one: RatioCut alone cuts off the small blob (20 of 220);
    # the default bounds [55, 165] (min_share 0.5, T = 2) keep smallest / largest >= 1/3.
    x, truth = blobs([200, 20], [[0, 0, 0, 0], [12, 0, 0, 0]], 1.0, seed=24)
    plain = spectral_partition(x, n_clusters=2, random_state=0, min_share=0.0)
    assert adjusted_rand_score(truth, plain.labels) == 1.0
    part = spectral_partition(x, n_clusters=2, random_state=0)
    sizes = np.bincount(part.labels)
    assert sizes.min() >= 55 and sizes.max() <= 165
    # The 35 or more points of the big blob that join the small one are chosen on the graph:
    # RatioCut no higher than that of the size-aware k-means cell of the same embedding.
    sim = part.similarity
    cell = balanced_kmeans(part.embedding, 2, min_share=0.5,
                           random_state=int(np.random.default_rng(0).integers(0, 2**31 - 1, size=2)[1]))
    refined = np.empty(sim.n_points, dtype=np.int64)
    refined[sim.point_of_node] = part.labels
    assert np.bincount(cell).min() == 55  # the cell sits on the bound; the refinement need not
    assert ratiocut(sim.weights, refined) <= ratiocut(sim.weights, cell) + 1e-12


def test_default_partition_is_the_same_for_every_seed():
    x, _ = blobs([120, 40, 15], [[0, 0, 0, 0], [5, 0, 0, 0], [0, 6, 0, 0]], 1.0, seed=25)
    runs = [spectral_partition(x, n_clusters=3, random_state=s).labels for s in range(5)]
    assert all(adjusted_rand_score(runs[0], r) == 1.0 for r in runs[1:])


def test_levels_of_a_social_graph_do_not_depend_on_the_seed_when_the_bounds_bind():
    # A powerlaw-cluster graph whose plain k-means of the embedding is the same for every seed
    # but outside the size bounds at T = 4. The size-aware steps must then give one partition:
    # when they followed the numbering of the clusters that each seed's k-means happened to
    # produce, seeds 0..4 gave partitions with an adjusted Rand index down to 0.17.
    import networkx as nx

    from crowdsense.pmcb.features import node_features
    from crowdsense.pmcb.graph_io import from_networkx

    feats = node_features(from_networkx(nx.powerlaw_cluster_graph(800, 5, 0.3, seed=2)), n_jobs=1)
    runs = [spectral_partition(feats, n_clusters=4, random_state=s) for s in range(5)]
    sizes = np.bincount(runs[0].labels)
    assert sizes.min() >= 0.5 * 800 / 4 and sizes.max() <= 1.5 * 800 / 4
    assert all(adjusted_rand_score(runs[0].labels, r.labels) == 1.0 for r in runs[1:])


@pytest.mark.parametrize("kw, match", [({"connect": "never"}, "connect"), ({"connect": None}, "connect"),
                                        ({"scaling": "quantile"}, "scaling"), ({"scaling": 1}, "scaling")])
def test_bad_connect_and_scaling_rejected(kw, match):
    x, _ = blobs([20], [[0, 0, 0, 0]], 1.0, seed=26)
    with pytest.raises(InputError, match=match):
        similarity_graph(x, **kw)
    with pytest.raises(InputError, match=match):
        spectral_partition(x, n_clusters=2, **kw)


@pytest.mark.parametrize("share", [-0.5, 1.01, float("nan"), "half"])
def test_bad_min_share_rejected_by_partition(share):
    x, _ = blobs([20], [[0, 0, 0, 0]], 1.0, seed=27)
    with pytest.raises(InputError, match="min_share"):
        spectral_partition(x, n_clusters=2, min_share=share)


# --------------------------------------------------------------- grid cells (max_points)


def test_merge_points_keeps_distinct_vectors_up_to_max_points():
    z = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [0.0004, 0.0]])
    points, of_node, mult, step = merge_points(z, max_points=3)
    assert step == 0.0 and points.shape[0] == 3 and mult.sum() == 4
    assert of_node[0] == of_node[1] != of_node[3]


def test_merge_points_uses_the_smallest_grid_step_that_fits_by_hand():
    # Four vectors, at most 2 points. Step 0.001: floor(z / step) = 0, 0, 2, 1000: 3 cells.
    # Step 0.002: 0, 0, 1, 500: still 3. Step 0.004: 0, 0, 0, 250: 2 cells.
    z = np.array([[0.0], [0.0004], [0.0025], [1.0]])
    points, of_node, mult, step = merge_points(z, max_points=2)
    assert step == pytest.approx(0.004)
    assert of_node.tolist() == [0, 0, 0, 1]
    assert mult.tolist() == [3, 1]
    assert points[:, 0] == pytest.approx([(0.0 + 0.0004 + 0.0025) / 3, 1.0])  # each point: its mean


def test_partition_above_max_points_runs_on_cells():
    x, truth = blobs([300, 200], [[0, 0, 0, 0], [6, 0, 0, 0]], 1.0, seed=31)
    part = spectral_partition(x, n_clusters=2, random_state=0, max_points=400)
    assert part.similarity.n_points <= 400 and part.similarity.grid_step > 0
    assert part.similarity.multiplicity.sum() == 500
    assert adjusted_rand_score(truth, part.labels) >= 0.95  # two far blobs survive the coarsening
    with pytest.raises(InputError, match="max_points"):
        similarity_graph(x, max_points=1)


# ------------------------------------------------------------------ found by mutation testing


def _brute_pair(pts, pending, inside):
    d = np.linalg.norm(pts[pending][:, None] - pts[~inside][None], axis=2)
    return float(d.min())


@pytest.mark.parametrize("case", range(8))
def test_ball_search_finds_the_closest_pair_of_pending_members(case):
    """_nearest_outside_by_ball against brute force, with no distance known yet (it then bounds
    the search itself) and with a known pair that is farther or nearer than the true one."""
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(100 + case)
    # an elongated blob of members off the origin, outside points scattered around it
    members = rng.normal(0, 1, (200, 2)) * [6.0, 0.5] + rng.uniform(-20, 20, 2)
    outside = rng.normal(0, 1, (60, 2)) * 12 + members.mean(axis=0)
    pts = np.vstack([members, outside])
    inside = np.arange(len(pts)) < len(members)
    pending = np.flatnonzero(inside)[rng.permutation(len(members))[:50]]
    tree = cKDTree(pts)
    true = _brute_pair(pts, pending, inside)

    d, i, j = similarity_module._nearest_outside_by_ball(pts, pending, inside, tree, (np.inf, -1, -1))
    assert d == pytest.approx(true, abs=1e-12)
    assert i in pending and not inside[j] and np.linalg.norm(pts[i] - pts[j]) == pytest.approx(d, abs=1e-12)

    farther = (true * 1.5, -7, -7)  # a pair found earlier that is not the closest: replaced
    assert similarity_module._nearest_outside_by_ball(pts, pending, inside, tree, farther)[0] == \
        pytest.approx(true, abs=1e-12)
    nearer = (true / 2, -7, -7)  # a closer pair found earlier: kept
    assert similarity_module._nearest_outside_by_ball(pts, pending, inside, tree, nearer) == nearer


def test_ratiocut_of_a_cut_with_no_crossing_edge_is_zero():
    w = np.zeros((4, 4))
    w[0, 1] = w[1, 0] = w[2, 3] = w[3, 2] = 1.0
    assert ratiocut(w, [0, 0, 1, 1]) == 0.0
    # one cluster without crossing edges, the highest-numbered one
    w[1, 2] = w[2, 1] = 0.5
    w2 = np.zeros((5, 5))
    w2[:4, :4] = w
    assert ratiocut(w2, [0, 0, 1, 1, 2]) == pytest.approx(0.5 / 2 + 0.5 / 2)


def test_ratiocut_ignores_unused_label_numbers():
    w = np.array([[0, 1, 0.5, 0], [1, 0, 0, 0], [0.5, 0, 0, 1], [0, 0, 1, 0]], dtype=float)
    assert ratiocut(w, [0, 0, 3, 3]) == pytest.approx(ratiocut(w, [0, 0, 1, 1]))
    assert np.isfinite(ratiocut(w, [0, 0, 3, 3]))


def test_ratiocut_takes_labels_of_any_shape_with_one_entry_per_vertex():
    w = np.array([[0, 1, 0.5, 0], [1, 0, 0, 0], [0.5, 0, 0, 1], [0, 0, 1, 0]], dtype=float)
    assert ratiocut(w, np.array([[0], [0], [1], [1]])) == pytest.approx(ratiocut(w, [0, 0, 1, 1]))
    with pytest.raises(InputError, match=r"^labels must have one entry per vertex \(4\), got 3$"):
        ratiocut(w, [0, 0, 1])


def test_cluster_count_above_the_node_count_is_refused_with_the_range():
    x, _ = blobs([100], [[0, 0, 0, 0]], 1.0, seed=16)
    with pytest.raises(InputError, match=r"^n_clusters must be in \[2, 100\], got 101$"):
        spectral_partition(x, n_clusters=101)


def test_more_clusters_than_distinct_vectors_message_counts_the_nodes():
    x = np.array([[0.0, 1.0]] * 5 + [[1.0, 0.0]] * 5)
    with pytest.warns(UserWarning), pytest.raises(InputError, match="^n_clusters=3 but the 10 nodes have only 2"):
        spectral_partition(x, n_clusters=3)


def test_search_that_finds_every_outside_point_at_256_neighbours_ends_there():
    """A tight blob of 200 members far from 200 outside points: no member sees an outside point
    among its 128 nearest, every member does among its 256, and the search ends with them."""
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(7)
    pts = np.vstack([rng.normal(0, 0.01, (200, 2)), rng.normal(0, 1, (200, 2)) + [10.0, 0.0]])
    inside = np.arange(400) < 200
    members = np.flatnonzero(inside)
    i, j, d = similarity_module._nearest_outside(pts, members, inside, cKDTree(pts))
    assert d == pytest.approx(_brute_pair(pts, members, inside), abs=1e-12)
    assert inside[i] and not inside[j]


def test_partition_starts_from_the_documented_ten_neighbours():
    x, _ = blobs([40, 40], [[0, 0, 0, 0], [3, 3, 3, 3]], 0.5, seed=3)
    assert similarity_graph(x).requested_neighbors == 10
    assert spectral_partition(x, n_clusters=2, random_state=0).similarity.requested_neighbors == 10


def test_partition_reports_its_steps_eigenvalues_embedding_and_solver():
    import time

    x, _ = blobs([30, 30, 30], [[0, 0, 0, 0], [4, 0, 0, 0], [0, 4, 0, 0]], 0.5, seed=5)
    steps = []
    before = time.perf_counter()
    part = spectral_partition(x, n_clusters=3, random_state=0, progress=steps.append)
    elapsed = time.perf_counter() - before
    assert steps == ["similarity", "eigenvectors", "k-means"]
    assert list(part.timings) == steps
    assert all(0.0 <= v <= elapsed for v in part.timings.values())
    sim = part.similarity
    assert part.embedding.shape == (sim.n_points, 3) and part.n_clusters == 3
    assert part.solver in ("dense", "shift-invert", "lobpcg")
    vals = np.asarray(part.eigenvalues)
    assert vals.shape == (4,) and np.all(np.diff(vals) >= -1e-9) and abs(vals[0]) < 1e-8
    # the eigenvalues are those of the embedding: M^{-1/2} L M^{-1/2} x = lambda x
    m_half = np.sqrt(sim.multiplicity.astype(float))
    lap = sim.laplacian().toarray() / np.outer(m_half, m_half)
    expected = np.linalg.eigvalsh(lap)[:4]
    assert vals == pytest.approx(expected, abs=1e-7)


def test_same_seed_same_partition_of_data_without_structure():
    x = np.random.default_rng(11).uniform(size=(120, 3))
    a = spectral_partition(x, n_clusters=4, random_state=123)
    b = spectral_partition(x, n_clusters=4, random_state=123)
    assert a.labels.tolist() == b.labels.tolist()
    assert np.array_equal(a.embedding, b.embedding)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_partition_balances_nodes_not_distinct_vectors():
    # 5 distinct vectors standing for 40 nodes each, and 100 single nodes far away, linked by
    # one bridge: counted in nodes (300, 150 per cluster) the far group fits in one cluster;
    # counted in distinct vectors (5 + 100) it would be split to feed the other cluster
    rng = np.random.default_rng(9)
    heavy = np.repeat(rng.normal(0, 0.3, (5, 3)), 40, axis=0)
    light = rng.normal(0, 0.3, (100, 3)) + [6.0, 0.0, 0.0]
    part = spectral_partition(np.vstack([heavy, light]), n_clusters=2, random_state=0, scaling="none",
                              n_neighbors=3, connect="bridge")
    assert len(set(part.labels[200:].tolist())) == 1
    sizes = np.bincount(part.labels, minlength=2)
    assert sizes.min() >= 0.5 * 150 and sizes.max() <= 1.5 * 150


def test_partition_with_no_distinct_clusters_from_k_means_is_refused(monkeypatch):
    from crowdsense.pmcb.spectral import PartitionError

    monkeypatch.setattr(spectral_module, "ratiocut_levels", lambda h, w, t, **kw: np.zeros(h.shape[0], dtype=np.int64))
    x, _ = blobs([20, 20], [[0, 0, 0, 0], [4, 0, 0, 0]], 0.5, seed=6)
    with pytest.raises(PartitionError, match=r"^k-means found only 1 distinct clusters for n_clusters=2"):
        spectral_partition(x, n_clusters=2, random_state=0)


@pytest.mark.parametrize("n_init, ok", [(0, False), (1, True), (True, False)])
def test_k_means_restarts_must_be_a_positive_int(n_init, ok):
    x, _ = blobs([20, 20], [[0, 0, 0, 0], [4, 0, 0, 0]], 0.5, seed=6)
    if ok:
        assert spectral_partition(x, n_clusters=2, n_init=n_init, random_state=0).labels.size == 40
    else:
        with pytest.raises(InputError, match=r"^n_init must be"):
            spectral_partition(x, n_clusters=2, n_init=n_init)


def test_partition_passes_its_graph_settings_on():
    x, _ = blobs([40, 40], [[0, 0, 0, 0], [3, 3, 3, 3]], 0.5, seed=3)
    part = spectral_partition(x, n_clusters=2, n_neighbors=15, sigma="max-knn", random_state=0)
    ref = similarity_graph(x, n_neighbors=15, sigma="max-knn")
    assert part.similarity.requested_neighbors == 15
    assert part.similarity.sigma == ref.sigma


@pytest.mark.filterwarnings("ignore:n_neighbors=10:UserWarning")
def test_as_many_clusters_as_distinct_vectors_is_allowed():
    x = np.repeat(np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]]), 4, axis=0)
    part = spectral_partition(x, n_clusters=3, random_state=0)
    assert part.labels.tolist() == [0] * 4 + [1] * 4 + [2] * 4


def test_connected_graph_reports_an_empty_int_bridge_list_and_warns_nothing():
    import warnings

    x, _ = blobs([40], [[0, 0, 0, 0]], 1.0, seed=21)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sim = similarity_graph(x)
    assert sim.bridges.shape == (0, 2) and sim.bridges.dtype.kind == "i"
    assert sim.multiplicity.dtype.kind == "i"


def test_bridging_as_asked_says_so_and_counts_the_bridges():
    x, _ = blobs([20, 20], [[0, 0, 0, 0], [30, 0, 0, 0]], 0.5, seed=22)
    with pytest.warns(DisconnectedSimilarityWarning, match=r"2 components as asked \(connect='bridge'\)") as record:
        sim = similarity_graph(x, n_neighbors=3, connect="bridge", scaling="none")
    assert sim.bridges.shape == (1, 2) and sim.components_at_requested == 2
    assert "with 1 bridge edge(s)" in str(record[0].message)


def test_sigma_that_is_not_a_number_is_refused():
    x, _ = blobs([20], [[0, 0, 0, 0]], 1.0, seed=18)
    for sigma in (None, [1.0]):
        with pytest.raises(InputError, match="sigma must be a positive number"):
            similarity_graph(x, sigma=sigma)


def test_neighbour_count_is_lowered_only_above_the_distinct_points_minus_one():
    import warnings

    x, _ = blobs([6], [[0, 0, 0, 0]], 1.0, seed=19)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert similarity_graph(x, n_neighbors=5).n_neighbors == 5
    with pytest.warns(UserWarning, match="using K=5"):
        assert similarity_graph(x, n_neighbors=6).n_neighbors == 5


def test_identical_vectors_are_refused_counting_them():
    with pytest.raises(InputError, match="^all 5 node vectors are identical"):
        similarity_graph(np.ones((5, 2)))


@pytest.mark.filterwarnings("ignore:n_neighbors=10:UserWarning")
def test_as_many_clusters_as_nodes_is_allowed():
    x = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0], [5.0, 5.0]])
    part = spectral_partition(x, n_clusters=4, random_state=0)
    assert sorted(part.labels.tolist()) == [0, 1, 2, 3]


def test_embedding_refuses_more_clusters_than_points_with_the_range():
    x, _ = blobs([10], [[0, 0, 0, 0]], 1.0, seed=23)
    sim = similarity_graph(x, n_neighbors=3)
    with pytest.raises(InputError, match=rf"^n_clusters must be in \[2, {sim.n_points}\], got {sim.n_points + 1}$"):
        ratiocut_embedding(sim, n_clusters=sim.n_points + 1)


def test_default_local_sigma_is_reported_as_a_positive_width():
    x, _ = blobs([30], [[0, 0, 0, 0]], 1.0, seed=24)
    sim = similarity_graph(x)
    assert isinstance(sim.sigma, float) and sim.sigma > 0


def test_standardized_features_have_no_negative_zeros():
    z = standardize(np.array([[-1.0], [-0.0], [1.0]]), scaling="none")
    assert z[1, 0] == 0 and not np.signbit(z[1, 0])


def test_open_ended_ranges_are_named_as_such():
    x, _ = blobs([20, 20], [[0, 0, 0, 0], [4, 0, 0, 0]], 0.5, seed=6)
    with pytest.raises(InputError, match=r"^n_init must be in >= 1, got 0$"):
        spectral_partition(x, n_clusters=2, n_init=0)


# ------------------------------------------------- found by mutation testing (second round)


def _two_far_blobs(size: int, seed: int) -> np.ndarray:
    """Two blobs of ``size`` points, 100 standard deviations apart on each axis (both axes
    standardize alike, so they stay far apart): each point's ``size - 1``
    nearest other points are its own blob's, so the kNN graph has one component from
    K = ``size`` on and two below it (worked out by hand, not from the code under test)."""
    rng = np.random.default_rng(seed)
    return np.vstack([rng.normal(0.0, 1.0, (size, 2)), rng.normal(0.0, 1.0, (size, 2)) + [100.0, 100.0]])


def test_knn_graph_of_many_points_has_the_brute_force_neighbours_and_local_weights() -> None:
    """With more than 16 neighbours fetched per point (K + 9 here), the neighbour lists must stay
    sorted by distance when the point itself is dropped: the edges and the local-sigma weights
    exp(-d^2 / (2 max(s_i, s_j)^2)), s_i the distance to i's K-th neighbour, against numpy."""
    x, _ = blobs([150], [[0, 0, 0]], 1.0, seed=31)
    k = 12
    sim = similarity_graph(x, n_neighbors=k, scaling="none")
    assert sim.n_neighbors == k and sim.n_components == 1
    near, d = brute_knn_sets(sim.points, k)
    kth = np.sort(d, axis=1)[:, k - 1]
    expected = np.zeros_like(d)
    for i, js in enumerate(near):
        for j in js:
            width = max(kth[i], kth[j])
            expected[i, j] = expected[j, i] = math.exp(-d[i, j] ** 2 / (2 * width * width))
    assert sim.weights.toarray() == pytest.approx(expected, rel=1e-9, abs=0.0)


def test_a_distance_exactly_at_the_tie_tolerance_counts_as_a_tie() -> None:
    """Ties at the K-th distance are included up to a relative 1e-9, that bound included: on a
    line 0, 1, 1 (1 + 1e-9), point 0's nearest is at 1 and the next at exactly 1 + 1e-9 times
    that (the tree's distance sqrt(v * v) is v exactly)."""
    v = 1.0 * (1.0 + similarity_module.TIE_RTOL)
    rows, cols, dists = similarity_module._knn(np.array([[0.0], [1.0], [v]]), 1)
    of_zero = {int(c): float(dd) for r, c, dd in zip(rows, cols, dists) if r == 0}
    assert of_zero == {1: 1.0, 2: v}


def test_ties_beyond_the_fetched_neighbours_get_their_own_distances() -> None:
    """A centre off the origin with 16 points at distance 1 (plus and minus each of 8 axes):
    with K = 1 only 9 neighbours are fetched, so the centre's ties are completed by a radius
    search; all 16 are its neighbours, each at distance 1."""
    centre = np.full(8, 3.0)
    pts = np.vstack([centre, centre + np.eye(8), centre - np.eye(8)])
    rows, cols, dists = similarity_module._knn(pts, 1)
    of_centre = sorted((int(c), float(dd)) for r, c, dd in zip(rows, cols, dists) if r == 0)
    assert of_centre == [(j, 1.0) for j in range(1, 17)]


def test_ball_search_reaches_as_far_as_the_farthest_member_from_the_centre() -> None:
    """On a line, members -2, 1, 1.2, 1.4, 1.6, 1.8 (centre 5/6, farthest member -2 at 17/6) and
    an outside point at -2.95: with a pair at distance 1 known, the outside point is 0.95 from
    member -2, so it must be within the search ball (centre, 17/6 + 1) and replace the pair."""
    from scipy.spatial import cKDTree

    pts = np.array([[-2.0], [1.0], [1.2], [1.4], [1.6], [1.8], [-2.95], [9.0]])
    inside = np.arange(len(pts)) < 6
    pending = np.arange(6)
    d, i, j = similarity_module._nearest_outside_by_ball(pts, pending, inside, cKDTree(pts), (1.0, -1, -1))
    assert (i, j) == (0, 6) and d == pytest.approx(0.95, abs=1e-12)


def _bridge_of(points: list[list[float]], edges: list[tuple[int, int]]) -> tuple:
    """_bridge on a hand-made graph (unit weights on ``edges``), with unit bridge weights."""
    import scipy.sparse as sp

    i, j = np.array(edges).T
    n = len(points)
    w = sp.csr_array((np.ones(2 * len(edges)), (np.r_[i, j], np.r_[j, i])), shape=(n, n))
    return similarity_module._bridge(np.array(points, dtype=float), w, lambda a, b, dist: 1.0)


def test_bridges_are_listed_once_each_sorted_when_two_components_pick_the_same_pair() -> None:
    """Line A = 0, 0.1, 0.2, 0.3 | B = 10, 10.1 | C = 12, 12.1: B and C are each other's nearest
    (10.1-12, picked by both), then B+C joins A by 0.3-10. Two bridges, rows (i < j) sorted:
    [[3, 4], [5, 6]] (the minimum spanning tree of the three components, by hand)."""
    line = [[0.0], [0.1], [0.2], [0.3], [10.0], [10.1], [12.0], [12.1]]
    w, first, bridges = _bridge_of(line, [(0, 1), (1, 2), (2, 3), (4, 5), (6, 7)])
    assert first == 3 and connected_components(w, directed=False)[0] == 1
    assert bridges.tolist() == [[3, 4], [5, 6]]


def test_bridge_starts_from_every_member_including_the_first() -> None:
    """Component {a = (0, 0), b = (0.5, -1)} (vertex 0 first) and a larger one along y = 3..3.2:
    the closest cross pair is a-(0, 3) at 3 (b is at least 4 from every point of it)."""
    pts = [[0.0, 0.0], [0.5, -1.0], [0.0, 3.0], [0.1, 3.2], [0.2, 3.0], [0.3, 3.2], [0.4, 3.0]]
    _, first, bridges = _bridge_of(pts, [(0, 1), (2, 3), (3, 4), (4, 5), (5, 6)])
    assert first == 2 and bridges.tolist() == [[0, 2]]


def test_growing_k_gives_up_at_sixteen_times_k_or_256_whichever_is_larger() -> None:
    """Two far blobs of 260 points connect at K = 260 (by hand). From K = 16 the search stops at
    max(16 x 16, 256) = 256 < 260 and bridges, saying so; from K = 17 it reaches
    max(16 x 17, 256) = 272 and finds 260, the smallest connecting K, with no bridge."""
    import warnings

    x = _two_far_blobs(260, seed=41)
    with pytest.warns(DisconnectedSimilarityWarning, match=r"even at the largest K tried \(256\)"):
        gave_up = similarity_graph(x, n_neighbors=16, scaling="none")
    assert gave_up.n_neighbors == 256 and gave_up.n_components == 2 and gave_up.bridges.shape == (1, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DisconnectedSimilarityWarning)
        grown = similarity_graph(x, n_neighbors=17, scaling="none")
    assert grown.n_neighbors == 260 and grown.n_components == 1 and grown.bridges.shape == (0, 2)
    assert grown.components_at_requested == 2


def test_betweenness_scale_is_the_median_of_all_positive_values_below_one_included() -> None:
    """BC = 0, 0.5, 1, 4: the positive values 0.5, 1, 4 have median 1, so BC becomes log1p(BC)."""
    x = np.array([[1.0, 0.0, 0.1, 1.0], [2.0, 0.5, 0.2, 2.0], [3.0, 1.0, 0.3, 3.0], [4.0, 4.0, 0.4, 4.0]])
    scaled = similarity_module.robust_scale(x)
    assert scaled[:, 1] == pytest.approx(np.log1p([0.0, 0.5, 1.0, 4.0]), abs=1e-12)


def test_log_scaling_looks_only_at_the_signs_of_degree_and_betweenness() -> None:
    """A negative third column (not D or BC) does not stop the log scaling of D and BC."""
    e = math.e
    x = np.array([[e - 1, 2.0, -0.5, 1.0], [0.0, 0.0, 0.5, 0.0]])
    scaled = similarity_module.robust_scale(x)
    assert scaled[:, 0] == pytest.approx([1.0, 0.0], abs=1e-12)
    assert scaled[:, 1] == pytest.approx([math.log(2.0), 0.0], abs=1e-12)
    assert np.array_equal(scaled[:, 2:], x[:, 2:])


def test_an_int_seed_reaches_the_eigensolver_and_k_means_with_the_restarts_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """random_state seeds both the eigensolver's start vector and k-means: an int must reach both
    as a seed (not None, which would draw a fresh one), the same int the same seeds, and the
    n_init asked for must reach k-means."""
    calls: list[tuple[str, object]] = []
    embed, levels = spectral_module.ratiocut_embedding, spectral_module.ratiocut_levels

    def spy_embed(*args: object, **kwargs: object) -> object:
        calls.append(("embedding", kwargs.get("random_state")))
        return embed(*args, **kwargs)

    def spy_levels(*args: object, **kwargs: object) -> object:
        calls.append(("k-means", (kwargs.get("random_state"), kwargs.get("n_init"))))
        return levels(*args, **kwargs)

    monkeypatch.setattr(spectral_module, "ratiocut_embedding", spy_embed)
    monkeypatch.setattr(spectral_module, "ratiocut_levels", spy_levels)
    x, _ = blobs([30, 30], [[0, 0, 0, 0], [4, 0, 0, 0]], 0.5, seed=9)
    spectral_partition(x, n_clusters=2, random_state=77, n_init=3)
    first = list(calls)
    calls.clear()
    spectral_partition(x, n_clusters=2, random_state=77, n_init=3)
    assert calls == first
    (step1, seed1), (step2, (seed2, n_init)) = first
    assert (step1, step2, n_init) == ("embedding", "k-means", 3)
    assert isinstance(seed1, int) and isinstance(seed2, int)


def _grid_reference(z: np.ndarray, max_points: int) -> tuple[float, list[int]]:
    """The definition (module docstring, step 2): the smallest step 0.001 x 2^i with at most
    ``max_points`` cells floor(z / step), cells numbered in lexicographic order of their
    integer coordinates (as distinct vectors are), by Python tuples and a sort."""
    step = 1e-3
    while True:
        q = [tuple(row) for row in np.floor(z / step).tolist()]
        cells = sorted(set(q))
        if len(cells) <= max_points:
            ids = {c: i for i, c in enumerate(cells)}
            return step, [ids[c] for c in q]
        step *= 2


def _grid_cases() -> list[tuple[np.ndarray, int]]:
    """Two columns (the cell key mixes both), five columns whose cell keys pass 2^53 (a float
    key would merge neighbouring cells), and six columns whose keys pass 2^62 (a key per
    cell no longer fits an int64: the cells are found by rows)."""
    cases = [(np.random.default_rng(seed).uniform(-1, 1, (6, 2)), 4) for seed in range(4)]
    cases.append((np.array([[0.0] * 5, [1.9995] * 4 + [1.9985], [1.9995] * 5]), 2))
    base = (np.floor(np.random.default_rng(7).normal(0, 1, (10, 6)) / 1e-3) + 0.3) * 1e-3
    cases.append((np.vstack([base, base[:1] + 2e-4]), 10))  # 11 distinct vectors, 10 cells at 0.001
    return cases


@pytest.mark.parametrize("case", range(6))
def test_grid_cells_match_the_definition_in_several_dimensions(case: int) -> None:
    """merge_points against _grid_reference: the step chosen and each node's cell number."""
    z, max_points = _grid_cases()[case]
    points, of_node, mult, step = merge_points(z, max_points=max_points)
    expected_step, expected_cells = _grid_reference(z, max_points)
    assert step == pytest.approx(expected_step, rel=1e-12)
    assert of_node.tolist() == expected_cells
    assert mult.tolist() == np.bincount(expected_cells).tolist()
    for c in range(points.shape[0]):
        assert points[c] == pytest.approx(z[np.array(expected_cells) == c].mean(axis=0), abs=1e-12)


def test_max_points_is_at_least_two_and_named_when_refused() -> None:
    """max_points = 2 is the smallest allowed (two points still make a graph); 1 is refused with
    the parameter's name and range."""
    x = np.array([[0.0, 0.0], [1.0, 1.0]])
    assert similarity_graph(x, n_neighbors=1, max_points=2).n_points == 2
    with pytest.raises(InputError, match=r"^max_points must be in >= 2, got 1$"):
        similarity_graph(x, n_neighbors=1, max_points=1)
