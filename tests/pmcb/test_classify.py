"""Tests of the PMCB pipeline (crowdsense.pmcb.classify): graph -> features -> levels.

Planted graphs: disjoint random d-regular graphs on n nodes, one per class, with d and d/n
growing from class to class, so that every feature separates the classes (D is d; Lc is
about (d-1)/(n-1); BC shrinks with the diameter). Their expected levels follow from eq. 2 by
hand: AD grows by at least 7 from class to class while ALC, ABC <= 1 and AIF differs by less
than 2, so influence, hence level, grows with the class index.
"""

from __future__ import annotations

import csv
import json
import random
import warnings

import networkx as nx
import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score, silhouette_score

from crowdsense.pmcb.classify import (
    LEVELS_FORMAT,
    STAGES,
    classify_graph,
    kmeans_baseline,
    partition_quality,
    write_features_csv,
    write_levels_json,
)
from crowdsense.chain.registration import read_levels
from crowdsense.errors import InputError
from crowdsense.pmcb.graph_io import EmptyGraphError, GraphFileError, MalformedEdgeListError, from_networkx
from crowdsense.pmcb.spectral import DisconnectedSimilarityWarning, ratiocut, standardize

pytestmark = pytest.mark.filterwarnings("ignore::crowdsense.pmcb.spectral.DisconnectedSimilarityWarning")

CLASSES = [(5, 60), (12, 40), (24, 50), (40, 48)]  # (degree d, nodes n) of each class


def planted(t: int, seed: int) -> tuple[nx.Graph, np.ndarray]:
    parts = [nx.random_regular_graph(d, n, seed=seed * 7 + i) for i, (d, n) in enumerate(CLASSES[:t])]
    g = nx.disjoint_union_all(parts)
    truth = np.concatenate([[i] * p.number_of_nodes() for i, p in enumerate(parts)])
    return g, truth


@pytest.fixture(scope="module")
def three_levels():
    g, truth = planted(3, 1)
    return g, truth, classify_graph(from_networkx(g), n_levels=3, random_state=0, n_jobs=1)


def write_edges(path, g, order=None):
    lines = [f"{u} {v}" for u, v in g.edges()]
    if order is not None:
        random.Random(order).shuffle(lines)
    path.write_text("# planted\n" + "\n".join(lines) + "\n")
    return path


# -------------------------------------------------------------------------- correctness


@pytest.mark.parametrize("t", [2, 3, 4])
def test_planted_classes_recovered(t):
    g, truth = planted(t, 3)
    result = classify_graph(from_networkx(g), n_levels=t, random_state=0, n_jobs=1)
    assert adjusted_rand_score(truth, result.levels) >= 0.95


@pytest.mark.parametrize("t", [2, 3, 4])
def test_planted_levels_grow_with_class_influence(t):
    g, truth = planted(t, 3)
    result = classify_graph(from_networkx(g), n_levels=t, random_state=0, n_jobs=1)
    assert np.mean(result.levels == truth + 1) >= 0.97


def test_levels_are_exactly_1_to_t(three_levels):
    _, _, result = three_levels
    assert sorted(set(result.levels.tolist())) == [1, 2, 3]
    assert [c.level for c in result.clusters] == [1, 2, 3]
    assert sum(c.size for c in result.clusters) == result.graph.n_nodes


def test_most_influential_cluster_has_level_t(three_levels):
    g, _, result = three_levels
    exact = nx.betweenness_centrality(g)
    clustering = nx.clustering(g)
    influence = {}
    for level in (1, 2, 3):
        members = [v for i, v in enumerate(g) if result.levels[i] == level]
        ego = [g.subgraph([v, *g[v]]) for v in members]
        entropy = [np.log(2 * e.number_of_edges()) - sum(d * np.log(d) for _, d in e.degree())
                   / (2 * e.number_of_edges()) for e in ego]
        influence[level] = (np.mean([g.degree(v) for v in members]) + np.mean([clustering[v] for v in members])
                            + np.mean([exact[v] for v in members]) + np.mean(entropy))
    assert influence[3] > influence[2] > influence[1]
    assert [c.I for c in result.clusters] == pytest.approx([influence[1], influence[2], influence[3]], abs=1e-9)


def test_identical_nodes_share_a_level():
    g, _ = planted(3, 2)
    hub = 0
    for k in range(12):  # pendant leaves: identical vectors <1, 0, 0, log 2>
        g.add_edge(hub, 1000 + k)
    result = classify_graph(from_networkx(g), n_levels=3, random_state=0, n_jobs=1)
    leaves = [result.level_of(1000 + k) for k in range(12)]
    assert len(set(leaves)) == 1


def test_fixed_seed_reproduces_levels():
    g, _ = planted(3, 4)
    graph = from_networkx(g)
    a = classify_graph(graph, n_levels=3, random_state=11, n_jobs=1)
    b = classify_graph(graph, n_levels=3, random_state=11, n_jobs=1)
    assert np.array_equal(a.levels, b.levels)
    assert a.to_dict()["clusters"] == b.to_dict()["clusters"]


def test_fixed_seed_reproduces_sampled_betweenness_levels():
    g, _ = planted(3, 4)
    graph = from_networkx(g)
    a = classify_graph(graph, n_levels=3, betweenness=40, random_state=5, n_jobs=1)
    b = classify_graph(graph, n_levels=3, betweenness=40, random_state=5, n_jobs=1)
    assert np.array_equal(a.features.betweenness, b.features.betweenness)
    assert np.array_equal(a.levels, b.levels)
    assert a.features.betweenness_estimate.pivots.size == 40


def test_line_order_of_the_file_does_not_change_levels(tmp_path):
    g, _ = planted(3, 5)
    a = classify_graph(write_edges(tmp_path / "a.txt", g), n_levels=3, random_state=0, n_jobs=1)
    b = classify_graph(write_edges(tmp_path / "b.txt", g, order=9), n_levels=3, random_state=0, n_jobs=1)
    assert a.levels_by_node() == b.levels_by_node()


def test_progress_reports_every_stage_in_order():
    g, _ = planted(2, 0)
    seen: list[str] = []
    result = classify_graph(from_networkx(g), n_levels=2, random_state=0, n_jobs=1, progress=seen.append)
    assert seen == list(STAGES)
    assert set(result.timings) == set(STAGES) | {"total"}


def test_normalized_influence_variant_is_recorded():
    g, _ = planted(2, 0)
    result = classify_graph(from_networkx(g), n_levels=2, influence="normalized", random_state=0, n_jobs=1)
    assert result.parameters["influence"] == "normalized" and result.assignment.influence == "normalized"


def test_forced_disconnected_similarity_graph_reported():
    g, _ = planted(4, 0)
    with pytest.warns(DisconnectedSimilarityWarning, match="connect='bridge'"):
        result = classify_graph(from_networkx(g), n_levels=4, random_state=0, n_jobs=1, connect="bridge")
    diag = result.to_dict()["diagnostics"]
    assert diag["knn_components"] > 1 and diag["bridges"] == diag["knn_components"] - 1


def test_default_grows_k_until_the_similarity_graph_is_connected():
    g, _ = planted(4, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DisconnectedSimilarityWarning)
        result = classify_graph(from_networkx(g), n_levels=4, random_state=0, n_jobs=1)
    diag = result.to_dict()["diagnostics"]
    assert diag["knn_components_at_requested"] > 1  # the K asked for leaves it disconnected
    assert diag["knn_components"] == 1 and diag["bridges"] == 0
    assert diag["neighbors_used"] > diag["neighbors_requested"] == 10


# --------------------------------------------------------------------------------- files


def test_levels_json_is_read_by_the_registrar(tmp_path, three_levels):
    _, _, result = three_levels
    path = write_levels_json(result, tmp_path / "out" / "levels.json")
    assert read_levels(path) == {str(v): int(result.levels[i]) for i, v in enumerate(result.graph.node_ids)}


def test_levels_json_holds_clusters_parameters_and_graph(tmp_path, three_levels):
    _, _, result = three_levels
    data = json.loads(write_levels_json(result, tmp_path / "levels.json").read_text())
    assert data["format"] == LEVELS_FORMAT
    assert data["parameters"] == {"levels": 3, "neighbors": 10, "seed": 0, "betweenness": "exact",
                                  "sigma": "local", "influence": "paper", "connect": "grow", "scaling": "log",
                                  "min_share": 0.5, "max_points": 100_000}
    assert data["diagnostics"]["grid_step"] == 0.0  # far fewer distinct vectors than max_points
    assert data["graph"]["nodes"] == len(data["levels"]) == result.graph.n_nodes
    for c in data["clusters"]:
        assert c["I"] == pytest.approx(c["AD"] + c["ALC"] + c["ABC"] + c["AIF"], rel=1e-12)
        assert c["size"] == sum(1 for v in data["levels"].values() if v == c["level"])


def test_features_csv_round_trips_exactly(tmp_path, three_levels):
    _, _, result = three_levels
    path = write_features_csv(result, tmp_path / "features.csv")
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["node", "D", "BC", "Lc", "I_f", "level"]
    f = result.features
    for i, row in enumerate(rows):
        assert row["node"] == str(result.graph.node_ids[i])
        assert (float(row["D"]), float(row["BC"]), float(row["Lc"]), float(row["I_f"])) == \
            (f.degree[i], f.betweenness[i], f.clustering[i], f.entropy[i])
        assert int(row["level"]) == result.levels[i]


def test_features_csv_has_stderr_column_when_sampled(tmp_path):
    g, _ = planted(2, 0)
    result = classify_graph(from_networkx(g), n_levels=2, betweenness=30, random_state=0, n_jobs=1)
    header = write_features_csv(result, tmp_path / "f.csv").read_text().splitlines()[0]
    assert header.endswith(",BC_stderr")


def test_unwritable_output_is_an_input_error(tmp_path, three_levels):
    _, _, result = three_levels
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError, match="cannot write"):
        write_levels_json(result, blocker / "levels.json")


# --------------------------------------------------------------------- baseline, quality


def test_kmeans_baseline_is_reproducible_and_has_t_clusters(three_levels):
    _, _, result = three_levels
    a = kmeans_baseline(result.features, n_clusters=3, random_state=4)
    b = kmeans_baseline(result.features, n_clusters=3, random_state=4)
    assert np.array_equal(a, b) and sorted(set(a.tolist())) == [0, 1, 2]


def test_kmeans_baseline_raw_vectors_follow_degree():
    # Raw vectors: degree differences (5 vs 40) dwarf the rest, so k = 2 splits by degree.
    g, truth = planted(4, 0)
    result = classify_graph(from_networkx(g), n_levels=2, random_state=0, n_jobs=1)
    labels = kmeans_baseline(result.features, n_clusters=2, random_state=0)
    low = labels[truth <= 1]
    high = labels[truth >= 2]
    assert len(set(low.tolist())) == 1 and len(set(high.tolist())) == 1 and low[0] != high[0]


def test_partition_quality_measures(three_levels):
    _, truth, result = three_levels
    sim = result.partition.similarity
    quality = partition_quality(sim, result.features, truth)
    sizes = np.bincount(truth)
    assert quality["sizes"] == sorted(sizes.tolist(), reverse=True)
    assert quality["balance"] == pytest.approx(sizes.min() / sizes.max())
    point_labels = np.empty(sim.n_points, dtype=int)
    point_labels[sim.point_of_node] = truth
    assert quality["ratiocut"] == pytest.approx(ratiocut(sim.weights, point_labels, sizes_weight=sim.multiplicity))
    assert quality["silhouette"] == pytest.approx(silhouette_score(standardize(result.features), truth))


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("t, match", [(1, ">= 2"), (0, ">= 2"), (2.5, "must be an int"), (True, "must be an int"),
                                      (1000, r"in \[2, 100\]")])
def test_bad_number_of_levels_rejected(t, match):
    g, _ = planted(2, 0)
    with pytest.raises(InputError, match=match):
        classify_graph(from_networkx(g), n_levels=t)


@pytest.mark.parametrize("k", [0, -1, 2.0])
def test_bad_number_of_neighbours_rejected(k):
    g, _ = planted(2, 0)
    with pytest.raises(InputError, match="n_neighbors"):
        classify_graph(from_networkx(g), n_levels=2, n_neighbors=k)


@pytest.mark.parametrize("option", [{"betweenness": "approx"}, {"betweenness": 0}, {"influence": "max"},
                                    {"sigma": -1.0}, {"directed": "maybe"}, {"connect": "never"},
                                    {"scaling": "rank"}, {"min_share": 1.2}, {"min_share": -0.1},
                                    {"min_share": "0.5"}])
def test_bad_options_rejected(option):
    g, _ = planted(2, 0)
    with pytest.raises(InputError):
        classify_graph(from_networkx(g), n_levels=2, **option)


def test_empty_graph_file_rejected(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("# nothing here\n")
    with pytest.raises(EmptyGraphError):
        classify_graph(path, n_levels=2)


def test_malformed_graph_file_rejected(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("1 2\n2 3 4\n")
    with pytest.raises(MalformedEdgeListError, match="line 2"):
        classify_graph(path, n_levels=2)


def test_unreadable_graph_file_rejected(tmp_path):
    with pytest.raises(GraphFileError, match="not found"):
        classify_graph(tmp_path / "missing.txt", n_levels=2)


def test_too_few_distinct_vectors_for_t_rejected():
    star = nx.star_graph(6)  # two distinct vectors: the centre and the leaves
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(InputError, match="only 2 distinct node vectors"):
            classify_graph(from_networkx(star), n_levels=3)
