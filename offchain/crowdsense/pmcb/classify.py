"""PMCB classifier: a social graph into T security levels (docs/design.md, section 4).

The pipeline, one function per step, each in its own module::

    graph (graph_io) -> node vectors <D, BC, Lc, I_f> (features)
          -> symmetric kNN Gaussian similarity graph -> RatioCut spectral partition (spectral)
          -> cluster influence I = AD + ALC + ABC + AIF, levels 1..T (levels)

:func:`classify_graph` runs it and returns a :class:`Classification`; :func:`write_levels_json`
writes the file the registrar reads (``crowdsense.chain.registration.read_levels``) and
:func:`write_features_csv` the per-node table. Example::

    from crowdsense.data import sample_path
    from crowdsense.pmcb.classify import classify_graph, write_levels_json
    result = classify_graph(sample_path("facebook_combined.txt.gz"), n_levels=3, random_state=0)
    result.level_of("107")           # level of node "107", in 1..3
    write_levels_json(result, "levels.json")

levels.json layout (``"format": "crowdsense-levels/1"``)::

    {"format": ..., "graph": {source, nodes, edges, self_loops_dropped, ...},
     "parameters": {levels, neighbors, seed, betweenness, sigma, influence, connect, scaling,
                    min_share, max_points},
     "levels": {"<node id>": level, ...},                 # every node, ids as in the input
     "clusters": [{"level", "size", "AD", "ALC", "ABC", "AIF", "I"}, ...],   # by level
     "diagnostics": {sigma, neighbors_used, knn_components_at_requested, knn_components,
                     bridges, grid_step, distinct_vectors, balance, eigenvalues, ...},
     "timings_s": {stage: seconds}}

This module also holds the k-means baseline of the paper's Fig. 5 (:func:`kmeans_baseline`)
and the quality measures used to compare partitions (:func:`partition_quality`).
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Hashable, Literal

import numpy as np

from crowdsense.atomicfile import write_atomic
from crowdsense.errors import InputError
from crowdsense.pmcb.features import FEATURE_NAMES, NodeFeatures, as_feature_matrix, node_features
from crowdsense.pmcb.graph_io import Graph, as_graph
from crowdsense.pmcb.kmeans import kmeans, silhouette_score
from crowdsense.pmcb.balance import DEFAULT_MIN_SHARE, check_min_share
from crowdsense.pmcb.levels import INFLUENCE_VARIANTS, ClusterInfluence, LevelAssignment, assign_levels
from crowdsense.pmcb.similarity import (
    CONNECT_MODES,
    DEFAULT_MAX_POINTS,
    SCALINGS,
    SimilarityGraph,
    _check_sigma,
    standardize,
)
from crowdsense.pmcb.spectral import SpectralPartition, ratiocut, spectral_partition

__all__ = [
    "LEVELS_FORMAT",
    "STAGES",
    "Classification",
    "classify_graph",
    "write_levels_json",
    "write_features_csv",
    "kmeans_baseline",
    "partition_quality",
]

LEVELS_FORMAT = "crowdsense-levels/1"
#: Stages reported to ``progress`` by :func:`classify_graph`, in order.
STAGES = ("load", "betweenness", "triangles", "similarity", "eigenvectors", "k-means", "levels")


@dataclass(frozen=True)
class Classification:
    """Result of :func:`classify_graph`.

    Attributes
    ----------
    graph : Graph
        The graph classified (node names in ``graph.node_ids``).
    features : NodeFeatures
        Node vectors <D, BC, Lc, I_f>.
    partition : SpectralPartition
        Clusters and the similarity-graph diagnostics.
    assignment : LevelAssignment
        Levels and per-cluster influence terms.
    parameters : dict
        The options used (levels, neighbors, seed, betweenness, sigma, influence).
    timings : dict
        Seconds per stage (:data:`STAGES`) and "total".
    """

    graph: Graph
    features: NodeFeatures
    partition: SpectralPartition
    assignment: LevelAssignment
    parameters: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def levels(self) -> np.ndarray:
        """Level (1..T) of each node, in node order."""
        return self.assignment.levels

    @property
    def clusters(self) -> tuple[ClusterInfluence, ...]:
        """Influence terms of each cluster, ordered by level 1..T."""
        return self.assignment.clusters

    @property
    def n_levels(self) -> int:
        return len(self.assignment.clusters)

    def level_of(self, node_id: Hashable) -> int:
        """Level of the node named ``node_id`` (as in the input; file ids are strings)."""
        return int(self.levels[self.graph.index_of(node_id)])

    def levels_by_node(self) -> dict[str, int]:
        """``{str(node id): level}`` for every node, in node order."""
        keys = [str(v) for v in self.graph.node_ids]
        if len(set(keys)) != len(keys):
            raise InputError("two node ids have the same text; levels.json needs distinct ids")
        return dict(zip(keys, (int(v) for v in self.levels)))

    def to_dict(self) -> dict[str, Any]:
        """The content of levels.json (see the module docstring)."""
        g, sim = self.graph, self.partition.similarity
        bc = self.features.betweenness_estimate
        return {
            "format": LEVELS_FORMAT,
            "graph": {"source": g.source, "nodes": g.n_nodes, "edges": g.n_edges,
                      "self_loops_dropped": g.self_loops_dropped, "duplicates_dropped": g.duplicates_dropped,
                      "reciprocal_pairs": g.reciprocal_pairs, "symmetrized": g.symmetrized},
            "parameters": dict(self.parameters),
            "levels": self.levels_by_node(),
            "clusters": [c.as_dict() for c in self.clusters],
            "diagnostics": {
                "sigma": sim.sigma,
                "neighbors_requested": sim.requested_neighbors,
                "neighbors_used": sim.n_neighbors,
                "knn_components_at_requested": sim.components_at_requested,
                "distinct_vectors": sim.n_points,
                "knn_components": sim.n_components,
                "bridges": int(sim.bridges.shape[0]),
                "grid_step": sim.grid_step,
                "balance": min(c.size for c in self.clusters) / max(c.size for c in self.clusters),
                "eigenvalues": [float(v) for v in self.partition.eigenvalues],
                "eigengap": self.partition.eigengap,
                "eigensolver": self.partition.solver,
                "betweenness": bc.error_summary(),
            },
            "timings_s": {k: round(v, 6) for k, v in self.timings.items()},
        }


def _check_levels(n_levels: Any) -> int:
    if isinstance(n_levels, bool) or not isinstance(n_levels, (int, np.integer)):
        raise InputError(f"n_levels (T) must be an int >= 2, got {n_levels!r}")
    if n_levels < 2:
        raise InputError(f"n_levels (T) must be >= 2, got {n_levels}")
    return int(n_levels)


def _check_parameters(n_levels: Any, n_neighbors: Any, betweenness: Any, sigma: Any, influence: Any, connect: Any,
                      scaling: Any, min_share: Any) -> tuple[int, float]:
    """T and the minimum share, after checking every parameter of :func:`classify_graph` that
    does not need the graph (so that a bad one is refused before a large file is read)."""
    t = _check_levels(n_levels)
    if isinstance(n_neighbors, bool) or not isinstance(n_neighbors, (int, np.integer)) or n_neighbors < 1:
        raise InputError(f"n_neighbors (K) must be an int >= 1, got {n_neighbors!r}")
    if influence not in INFLUENCE_VARIANTS:
        raise InputError(f"influence must be one of {INFLUENCE_VARIANTS}, got {influence!r}")
    _check_sigma(sigma)
    if connect not in CONNECT_MODES:
        raise InputError(f"connect must be one of {CONNECT_MODES}, got {connect!r}")
    if scaling not in SCALINGS:
        raise InputError(f"scaling must be one of {SCALINGS}, got {scaling!r}")
    share = check_min_share(min_share)
    if not (betweenness == "exact" or (isinstance(betweenness, (int, np.integer))
                                       and not isinstance(betweenness, bool) and betweenness >= 1)):
        raise InputError(f"betweenness must be 'exact' or a number of pivots >= 1, got {betweenness!r}")
    return t, share


def classify_graph(graph: Graph | str | Path | Any, *, n_levels: int, n_neighbors: int = 10,
                   betweenness: Literal["exact"] | int = "exact", sigma: float | str = "local",
                   influence: Literal["paper", "normalized"] = "paper",
                   random_state: int | np.random.Generator | None = None, n_jobs: int | None = None,
                   directed: Literal["reject", "symmetrize"] = "reject",
                   progress: Callable[[str], None] | None = None, connect: Literal["grow", "bridge"] = "grow",
                   scaling: Literal["log", "none"] = "log",
                   min_share: float = DEFAULT_MIN_SHARE,
                   max_points: int | None = DEFAULT_MAX_POINTS) -> Classification:
    """Classify the nodes of a social graph into T security levels (PMCB, Algorithms 1-3, eq. 2).

    Parameters
    ----------
    graph : Graph, networkx graph, or path of an edge list
        The social graph (undirected; see :mod:`crowdsense.pmcb.graph_io` for files).
    n_levels : int
        T, the number of levels, in [2, number of nodes] (and at most the number of distinct
        node vectors: nodes with equal vectors always share a level).
    n_neighbors : int
        K of the kNN similarity graph, >= 1: the smallest K tried (``connect="grow"``) or the
        K used (``connect="bridge"``).
    betweenness : "exact" or int
        Exact betweenness, or the number of pivots of the sampled estimate (large graphs).
    sigma : float or {"local", "max-knn", "median-knn"}
        Width of the Gaussian similarity or its heuristic (:mod:`crowdsense.pmcb.spectral`).
    influence : {"paper", "normalized"}
        Cluster influence: the paper's eq. 2 (default) or its min-max normalized variant.
    random_state : int, Generator or None
        Seeds pivots, eigensolver start and k-means; an int reproduces the result exactly.
    n_jobs : int or None
        Processes for betweenness (None: all available cores).
    directed : {"reject", "symmetrize"}
        What to do with a directed input (files and networkx DiGraphs).
    progress : callable, optional
        Called with each stage name of :data:`STAGES` when that stage is done.
    connect : {"grow", "bridge"}
        Raise K until the similarity graph is connected (default), or keep K and bridge its
        components with a loud :class:`~crowdsense.pmcb.spectral.DisconnectedSimilarityWarning`.
    scaling : {"log", "none"}
        log(1 + D) and log(1 + BC / median BC) before standardizing (default), or none.
    min_share : float in [0, 1]
        Each level holds between ``min_share`` and ``2 - min_share`` times n / T nodes
        (default 0.5: smallest / largest >= 1/3); 0 leaves the sizes to RatioCut alone
        (:mod:`crowdsense.pmcb.balance`).
    max_points : int or None
        Above this many distinct node vectors, vectors closer than a grid step share a point
        of the similarity graph (:func:`crowdsense.pmcb.spectral.merge_points`); None: never.

    Returns
    -------
    Classification
        ``levels`` per node (1..T; the most influential cluster has level T), ``clusters``
        with size and AD/ALC/ABC/AIF/I, features and diagnostics.

    Raises
    ------
    InputError
        Bad parameters or graph (its subclasses in :mod:`crowdsense.pmcb.graph_io` for files).
    """
    t, share = _check_parameters(n_levels, n_neighbors, betweenness, sigma, influence, connect, scaling, min_share)
    timings: dict[str, float] = {}
    start = clock = time.perf_counter()

    def done(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = timings.get(stage, 0.0) + (now - clock)
        clock = now
        if progress is not None:
            progress(stage)

    g = as_graph(graph, directed=directed)
    done("load")
    if t > g.n_nodes:
        raise InputError(f"n_levels (T) must be in [2, {g.n_nodes}] (the number of nodes), got {t}")
    seed_bc, seed_sp = np.random.default_rng(random_state).integers(0, 2**31 - 1, size=2)
    feats = node_features(g, betweenness=betweenness, random_state=int(seed_bc), n_jobs=n_jobs, progress=done)
    part = spectral_partition(feats, n_clusters=t, n_neighbors=int(n_neighbors), sigma=sigma,
                              random_state=int(seed_sp), progress=done, connect=connect, scaling=scaling,
                              min_share=share, max_points=max_points)
    assignment = assign_levels(feats, part.labels, influence=influence)
    done("levels")
    timings["total"] = time.perf_counter() - start
    seed = int(random_state) if isinstance(random_state, (int, np.integer)) else None
    parameters = {"levels": t, "neighbors": int(n_neighbors), "seed": seed,
                  "betweenness": betweenness if betweenness == "exact" else int(betweenness),
                  "sigma": sigma if isinstance(sigma, str) else float(sigma), "influence": influence,
                  "connect": connect, "scaling": scaling, "min_share": share, "max_points": max_points}
    return Classification(graph=g, features=feats, partition=part, assignment=assignment, parameters=parameters,
                          timings=timings)


# ---------------------------------------------------------------------------------- files


def write_levels_json(result: Classification, path: str | Path) -> Path:
    """Write levels.json (layout in the module docstring); atomic (a reader never sees half a file)."""
    try:
        return write_atomic(Path(path), json.dumps(result.to_dict(), indent=1) + "\n")
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None


def write_features_csv(result: Classification, path: str | Path) -> Path:
    """Write the per-node table: node, D, BC, Lc, I_f, level (and BC_stderr when sampled).

    Floats are written with ``repr`` (17 significant digits), so that anyone can recompute a
    feature from the graph and compare exactly.
    """
    f = result.features
    stderr = f.betweenness_estimate.stderr
    header = ["node", *FEATURE_NAMES, "level"] + (["BC_stderr"] if stderr is not None else [])
    cols = [f.degree, f.betweenness, f.clustering, f.entropy]
    lines: list[list[Any]] = []
    for i, node in enumerate(result.graph.node_ids):
        row: list[Any] = [node, int(f.degree[i]), *(repr(float(c[i])) for c in cols[1:]), int(result.levels[i])]
        if stderr is not None:
            row.append(repr(float(stderr[i])))
        lines.append(row)
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(lines)
    try:
        return write_atomic(Path(path), buffer.getvalue())
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None


# ------------------------------------------------------------------- baseline and quality


def kmeans_baseline(features: NodeFeatures | Any, *, n_clusters: int,
                    random_state: int | np.random.Generator | None = None, standardize_features: bool = False,
                    n_init: int = 10) -> np.ndarray:
    """Cluster labels of k-means on the node vectors (the paper's Fig. 5 baseline).

    k-means++ seeding and Lloyd iterations, best of ``n_init`` (:func:`crowdsense.pmcb.kmeans.kmeans`).

    Parameters
    ----------
    features : NodeFeatures or array-like, shape (n, d)
    n_clusters : int
        T, in [2, n].
    random_state : int, Generator or None
    standardize_features : bool
        False (default, as in the paper): raw vectors, in which the degree dominates the
        distances. True: columns scaled to mean 0 / std 1 first.
    n_init : int
        k-means restarts.

    Returns
    -------
    ndarray of int, shape (n,)
    """
    x = as_feature_matrix(features)
    if x.shape[0] < 2:
        raise InputError(f"features must be an n x d array with n >= 2, got shape {x.shape}")
    if isinstance(n_clusters, bool) or not isinstance(n_clusters, (int, np.integer)) \
            or not 2 <= n_clusters <= x.shape[0]:
        raise InputError(f"n_clusters must be an int in [2, {x.shape[0]}], got {n_clusters!r}")
    if standardize_features:
        std = x.std(axis=0)
        x = (x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)
    return kmeans(x, int(n_clusters), n_init=n_init, random_state=random_state).labels


def partition_quality(similarity: SimilarityGraph, features: NodeFeatures | Any, labels: Any, *,
                      silhouette_sample: int = 5000, random_state: int = 0) -> dict[str, Any]:
    """RatioCut value, size balance and silhouette of a node partition.

    Parameters
    ----------
    similarity : SimilarityGraph
        The graph on which RatioCut is measured (the same one for every partition compared).
    features : NodeFeatures or array-like, shape (n, d)
        Node vectors; the silhouette is computed on their standardized version.
    labels : array-like of int, shape (n,)
        Cluster of each node. RatioCut needs one label per merged point; a point whose nodes
        disagree (possible only for a partition made without merging) takes its first node's.
    silhouette_sample : int
        Above this many nodes the silhouette is estimated on a seeded sample.

    Returns
    -------
    dict
        ``ratiocut`` (lower is better), ``balance`` = smallest / largest cluster size (1 =
        equal sizes), ``sizes`` (descending), ``silhouette`` in [-1, 1] (higher: tighter,
        better separated clusters).
    """
    lab = np.asarray(labels).reshape(-1)
    n_nodes = similarity.point_of_node.size
    if lab.size != n_nodes:
        raise InputError(f"labels has {lab.size} entries, expected one per node ({n_nodes})")
    _, dense = np.unique(lab, return_inverse=True)
    dense = dense.reshape(-1)
    p = similarity.n_points
    first = np.full(p, -1)
    order = np.arange(dense.size)[::-1]
    first[similarity.point_of_node[order]] = order  # ends with each point's first node
    point_labels = dense[first]
    sizes = np.bincount(dense)
    sil = float("nan") if len(sizes) < 2 else silhouette_score(
        standardize(features), dense, sample_size=silhouette_sample, random_state=random_state)
    return {
        "ratiocut": ratiocut(similarity.weights, point_labels, sizes_weight=similarity.multiplicity),
        "balance": float(sizes.min() / sizes.max()),
        "sizes": sorted((int(s) for s in sizes), reverse=True),
        "silhouette": sil,
    }
