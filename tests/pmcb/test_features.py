"""Tests of the PMCB node vectors <D, BC, Lc, I_f> (crowdsense.pmcb.features).

References: networkx's own definitions (degree, betweenness_centrality, clustering), the
entropy computed on the explicit 1-neighbourhood subgraph G(v) built with networkx, and tiny
graphs worked out by hand.
"""

from __future__ import annotations

import math
import random

import networkx as nx
import numpy as np
import pytest

import crowdsense.pmcb.features as features_module
from crowdsense.errors import InputError
from crowdsense.pmcb.features import (
    _edge_triangle_counts_by_wedges,
    FEATURE_NAMES,
    betweenness_centrality,
    ego_entropy,
    edge_triangles,
    local_clustering,
    node_features,
)
from crowdsense.pmcb.graph_io import from_edges, from_networkx


def reference_entropy(g: nx.Graph, v) -> float:
    """I_f of G(v) from its definition: -sum p_i log p_i with p_i = d_i / sum_j d_j."""
    ego = g.subgraph([v, *g[v]])
    degrees = [d for _, d in ego.degree()]
    total = sum(degrees)
    if total == 0:
        return 0.0
    return -sum(d / total * math.log(d / total) for d in degrees if d > 0)


def two_components_with_isolated() -> nx.Graph:
    g = nx.disjoint_union(nx.karate_club_graph(), nx.cycle_graph(7))
    g.add_nodes_from([100, 101])  # isolated nodes
    return g


SHAPES = {
    "gnp": lambda: nx.gnp_random_graph(70, 0.08, seed=1),
    "barabasi-albert": lambda: nx.barabasi_albert_graph(90, 3, seed=2),
    "powerlaw-cluster": lambda: nx.powerlaw_cluster_graph(80, 4, 0.7, seed=3),
    "watts-strogatz": lambda: nx.connected_watts_strogatz_graph(60, 6, 0.2, seed=4),
    "tree": lambda: nx.random_labeled_tree(50, seed=5) if hasattr(nx, "random_labeled_tree")
    else nx.random_tree(50, seed=5),
    "caveman": lambda: nx.relaxed_caveman_graph(6, 7, 0.15, seed=6),
    "disconnected": two_components_with_isolated,
    "complete": lambda: nx.complete_graph(9),
}


@pytest.fixture(scope="module", params=sorted(SHAPES))
def shaped(request):
    g = SHAPES[request.param]()
    return g, from_networkx(g), node_features(from_networkx(g), n_jobs=1)


# ------------------------------------------------------------------- against networkx


def test_degree_matches_networkx(shaped):
    g, _, f = shaped
    assert f.degree == pytest.approx([g.degree(v) for v in g], abs=1e-9)


def test_betweenness_matches_networkx(shaped):
    g, _, f = shaped
    ref = nx.betweenness_centrality(g)
    assert f.betweenness == pytest.approx([ref[v] for v in g], abs=1e-9)


def test_local_clustering_matches_networkx(shaped):
    g, _, f = shaped
    ref = nx.clustering(g)
    assert f.clustering == pytest.approx([ref[v] for v in g], abs=1e-9)


def test_ego_entropy_matches_subgraph_definition(shaped):
    g, _, f = shaped
    assert f.entropy == pytest.approx([reference_entropy(g, v) for v in g], abs=1e-9)


def test_feature_matrix_columns_in_paper_order(shaped):
    _, _, f = shaped
    x = f.matrix()
    assert FEATURE_NAMES == ("D", "BC", "Lc", "I_f")
    assert np.array_equal(x, np.column_stack([f.degree, f.betweenness, f.clustering, f.entropy]))


def test_edge_triangles_counts_common_neighbours(shaped):
    g, graph, _ = shaped
    c = edge_triangles(graph).toarray()
    for u, v in list(g.edges)[:60]:
        i, j = graph.index_of(u), graph.index_of(v)
        assert c[i, j] == c[j, i] == len(set(g[u]) & set(g[v]))


def test_wedge_count_of_edge_triangles_counts_common_neighbours(shaped):
    # The path for graphs with hubs (A @ A too costly), checked against networkx's neighbour sets.
    g, graph, _ = shaped
    counts = _edge_triangle_counts_by_wedges(graph)
    for (i, j), c in zip(graph.edges.tolist(), counts.tolist()):
        u, v = graph.node_ids[i], graph.node_ids[j]
        assert c == len(set(g[u]) & set(g[v]))


def test_wedge_count_by_hand_on_a_diamond_and_a_pendant():
    # Edges 0-1, 0-2, 1-2, 1-3, 2-3 (two triangles sharing 1-2) and 3-4 (on no triangle).
    graph = from_edges([(0, 1), (0, 2), (1, 2), (1, 3), (2, 3), (3, 4)])
    counts = dict(zip(map(tuple, graph.edges.tolist()), _edge_triangle_counts_by_wedges(graph).tolist()))
    assert counts == {(0, 1): 1, (0, 2): 1, (1, 2): 2, (1, 3): 1, (2, 3): 1, (3, 4): 0}


def test_wedge_count_is_the_same_in_small_chunks(monkeypatch):
    g = nx.powerlaw_cluster_graph(300, 4, 0.5, seed=2)
    graph = from_networkx(g)
    whole = _edge_triangle_counts_by_wedges(graph)
    monkeypatch.setattr(features_module, "_WEDGE_CHUNK", 7)
    assert np.array_equal(_edge_triangle_counts_by_wedges(graph), whole)
    # each triangle lies on 3 edges and at 3 nodes
    assert int(whole.sum()) == sum(nx.triangles(g).values())


# ------------------------------------------------------------------------- hand cases


def test_entropy_of_single_edge_is_log_2():
    # G(v) = one edge: degrees 1, 1 -> log(2m) - 0 = log 2 for both ends.
    assert ego_entropy(from_edges([(0, 1)])) == pytest.approx([math.log(2)] * 2, abs=1e-12)


def test_entropy_of_triangle_is_log_3():
    # G(v) = K3: m = 3, degrees 2,2,2 -> log 6 - 3 * 2 log 2 / 6 = log 3.
    assert ego_entropy(from_edges([(0, 1), (1, 2), (2, 0)])) == pytest.approx([math.log(3)] * 3, abs=1e-12)


def test_entropy_of_k4_is_log_4():
    # G(v) = K4: m = 6, degrees 3 each -> log 12 - 4 * 3 log 3 / 12 = log 4.
    k4 = [(a, b) for a in range(4) for b in range(a + 1, 4)]
    assert ego_entropy(from_edges(k4)) == pytest.approx([math.log(4)] * 4, abs=1e-12)


def test_entropy_of_star_centre_and_leaf():
    # Centre of a 3-leaf star: G(v) = the star, m = 3, degrees 3,1,1,1 ->
    # log 6 - 3 log 3 / 6. A leaf: G(v) = one edge -> log 2.
    h = ego_entropy(from_edges([(0, 1), (0, 2), (0, 3)]))
    assert h[0] == pytest.approx(math.log(6) - 0.5 * math.log(3), abs=1e-12)
    assert h[1:] == pytest.approx([math.log(2)] * 3, abs=1e-12)


def test_entropy_of_path_middle_is_three_halves_log_2():
    # G(b) of a-b-c: m = 2, degrees 1,2,1 -> log 4 - 2 log 2 / 4 = 1.5 log 2.
    h = ego_entropy(from_edges([(0, 1), (1, 2)]))
    assert h[1] == pytest.approx(1.5 * math.log(2), abs=1e-12)


def test_entropy_of_isolated_node_is_zero():
    h = ego_entropy(from_edges([(0, 1)], nodes=[0, 1, 2]))
    assert h[2] == 0.0


def test_entropy_with_a_triangle_inside_the_neighbourhood():
    # v=0 adjacent to 1,2,3, with 1-2 an edge: G(0) has m = 4, degrees 3,2,2,1 ->
    # log 8 - (3 log 3 + 2 log 2 + 2 log 2) / 8.
    h = ego_entropy(from_edges([(0, 1), (0, 2), (0, 3), (1, 2)]))
    expected = math.log(8) - (3 * math.log(3) + 4 * math.log(2)) / 8
    assert h[0] == pytest.approx(expected, abs=1e-12)


def test_clustering_hand_cases():
    # 0 in a triangle with 1, 2 and also adjacent to 3: 1 triangle of 3 triples -> 1/3.
    c = local_clustering(from_edges([(0, 1), (0, 2), (0, 3), (1, 2)]))
    assert c.tolist() == pytest.approx([1 / 3, 1.0, 1.0, 0.0], abs=1e-12)


def test_betweenness_of_path_middle_is_one():
    # a-b-c: the only pair {a, c} goes through b; normalized by (n-1)(n-2)/2 = 1.
    bc = betweenness_centrality(from_edges([(0, 1), (1, 2)]), n_jobs=1).values
    assert bc.tolist() == pytest.approx([0.0, 1.0, 0.0], abs=1e-12)


def test_betweenness_of_square_counts_half_paths():
    # C4: each of the 2 opposite pairs has 2 shortest paths, one through each other node:
    # BC(v) = 1/2 (one pair, half its paths), normalized by (n-1)(n-2)/2 = 3 -> 1/6.
    bc = betweenness_centrality(from_edges([(0, 1), (1, 2), (2, 3), (3, 0)]), n_jobs=1).values
    assert bc.tolist() == pytest.approx([1 / 6] * 4, abs=1e-12)


# --------------------------------------------------------------- sampled / parallel BC


def test_sampled_betweenness_equals_networkx_with_same_pivots():
    g = nx.powerlaw_cluster_graph(120, 3, 0.4, seed=11)
    k, seed = 25, 7
    pivots = random.Random(seed).sample(list(g.nodes()), k)  # networkx's own draw
    ref = nx.betweenness_centrality(g, k=k, seed=seed)
    est = betweenness_centrality(from_networkx(g), pivots=pivots, n_jobs=1)
    assert est.values == pytest.approx([ref[v] for v in g], abs=1e-9)


def test_sampled_betweenness_with_every_node_as_pivot_is_exact():
    g = nx.barabasi_albert_graph(60, 2, seed=1)
    est = betweenness_centrality(from_networkx(g), pivots=60, n_jobs=1)
    ref = nx.betweenness_centrality(g)
    assert est.exact
    assert est.values == pytest.approx([ref[v] for v in g], abs=1e-9)


def test_sampled_betweenness_stderr_matches_the_actual_error():
    g = nx.powerlaw_cluster_graph(400, 3, 0.3, seed=5)
    est = betweenness_centrality(from_networkx(g), pivots=120, random_state=3, n_jobs=1)
    exact = nx.betweenness_centrality(g)
    ref = np.array([exact[v] for v in g])
    assert est.stderr is not None
    rms_error = np.sqrt(np.mean((est.values - ref) ** 2))
    rms_stderr = np.sqrt(np.mean(est.stderr**2))
    assert 0.5 <= rms_error / rms_stderr <= 2.0
    summary = est.error_summary()
    assert summary["pivots"] == 120 and summary["max_stderr"] == pytest.approx(est.stderr.max())


@pytest.mark.parametrize("pivots, finite", [(1, False), (2, True), (3, True), (32, True)])
def test_sampled_betweenness_has_an_error_estimate_from_two_pivots_on(pivots, finite):
    # Pivots go in batches of at least 4 (at most 16 batches), but never fewer than 2 batches
    # when there are 2 pivots: one pivot alone has no spread to estimate an error from.
    g = nx.powerlaw_cluster_graph(200, 3, 0.3, seed=6)
    est = betweenness_centrality(from_networkx(g), pivots=pivots, random_state=1, n_jobs=1)
    assert est.stderr is not None
    assert bool(np.isfinite(est.stderr).all()) is finite


def test_sampled_betweenness_same_seed_same_pivots():
    graph = from_networkx(nx.barabasi_albert_graph(80, 2, seed=1))
    a = betweenness_centrality(graph, pivots=10, random_state=42, n_jobs=1)
    b = betweenness_centrality(graph, pivots=10, random_state=42, n_jobs=1)
    assert np.array_equal(a.pivots, b.pivots) and np.array_equal(a.values, b.values)


def test_exact_betweenness_in_two_processes_equals_one(monkeypatch):
    monkeypatch.setattr(features_module, "_PARALLEL_MIN_WORK", 0)
    g = nx.gnm_random_graph(150, 600, seed=9)
    graph = from_networkx(g)
    two = betweenness_centrality(graph, n_jobs=2).values
    ref = nx.betweenness_centrality(g)
    assert two == pytest.approx([ref[v] for v in g], abs=1e-9)


def test_triangles_in_small_row_blocks_equal_one_block(monkeypatch):
    graph = from_networkx(nx.powerlaw_cluster_graph(100, 4, 0.5, seed=2))
    whole = edge_triangles(graph).toarray()
    monkeypatch.setattr(features_module, "_BLOCK_NNZ", 50)
    assert np.array_equal(edge_triangles(graph).toarray(), whole)


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("value", ["fast", 0, -3, True, 2.5])
def test_bad_betweenness_option_rejected(value):
    with pytest.raises(InputError, match="betweenness must be"):
        node_features(from_edges([(0, 1), (1, 2)]), betweenness=value)


@pytest.mark.parametrize("pivots", [[0, 0], [5], []])
def test_bad_pivot_list_rejected(pivots):
    with pytest.raises(InputError, match="pivots must be"):
        betweenness_centrality(from_edges([(0, 1), (1, 2)]), pivots=pivots)


@pytest.mark.parametrize("jobs", [0, -2, 1.5])
def test_bad_n_jobs_rejected(jobs):
    with pytest.raises(InputError, match="n_jobs"):
        betweenness_centrality(from_edges([(0, 1), (1, 2)]), n_jobs=jobs)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_triangle_listing_path_matches_networkx(monkeypatch, shape):
    monkeypatch.setattr(features_module, "_MATMUL_MAX_WORK", -1)  # always list triangles
    g = SHAPES[shape]()
    f = node_features(from_networkx(g), n_jobs=1)
    clustering = nx.clustering(g)
    assert f.clustering == pytest.approx([clustering[v] for v in g], abs=1e-9)
    assert f.entropy == pytest.approx([reference_entropy(g, v) for v in g], abs=1e-9)
