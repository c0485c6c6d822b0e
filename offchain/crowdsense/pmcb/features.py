"""PMCB node vectors x_i = <D, BC, Lc, I_f> (paper Algorithm 1, Definitions 1-4).

For every node v of an undirected simple graph G = (V, E), n = |V|:

* **D(v)**, the degree: number of neighbours (Definition 1).
* **BC(v)**, betweenness centrality, normalized (Definition 3 with networkx's normalization):
  BC(v) = 2 / ((n-1)(n-2)) * sum over unordered pairs {s, t}, s != v != t, of
  sigma_st(v) / sigma_st, where sigma_st counts shortest s-t paths and sigma_st(v) those
  through v (0 for n <= 2). Exact by default (Brandes' algorithm, python-igraph's C code, the
  sources split over worker processes). With ``betweenness=k`` only k random pivot sources
  are used (Brandes & Pich 2007): BC(v) ~ sum over pivots s != v of delta_s(v) /
  (k_v (n-2)), with delta_s(v) = sum_t sigma_st(v)/sigma_st and k_v the number of pivots other
  than v; the same unbiased estimator as ``networkx.betweenness_centrality(G, k=k)``. Its
  standard error per node is estimated from the spread of delta_s(v) between batches of pivots.
* **Lc(v)**, local clustering: triangles through v / triples centred on v, i.e.
  2 t(v) / (D(v)(D(v)-1)), and 0 when D(v) < 2 (Definition 2; networkx's convention).
* **I_f(v)**, the degree-based entropy (alpha = 1) of the 1-neighbourhood graph G(v), the
  subgraph induced by v and its neighbours (Definition 4, [19]): with d_i the degrees inside
  G(v) and m its number of edges, I_f = log(2m) - (1/2m) sum_i d_i log d_i (natural log), and
  0 when G(v) has no edge (an isolated v).

Why I_f needs no subgraph: inside G(v), v keeps all D(v) edges; a neighbour u has the edge to
v plus one edge to every common neighbour, so d_u = 1 + c_uv with c_uv = |N(u) & N(v)| =
(A^2)_uv, the number of triangles on the edge uv; and m = D(v) + t(v). Hence

    I_f(v) = log(2m) - (D log D + sum_{u in N(v)} (1 + c_uv) log(1 + c_uv)) / (2m),

computed for all nodes at once from C = (A @ A) * A (elementwise mask by A), in row blocks so
that memory stays bounded on graphs with hubs. The same C gives t(v) = (C 1)_v / 2 for Lc.

References
----------
PMCB paper, section IV.A, Algorithm 1 and Definitions 1-4.
U. Brandes, "A faster algorithm for betweenness centrality", J. Math. Sociol. 25(2), 2001.
U. Brandes and C. Pich, "Centrality estimation in large networks", Int. J. Bifurcation and
Chaos 17(7), 2007.
M. Dehmer, "Information processing in complex networks: graph entropy and information
functionals", Appl. Math. Comput. 201, 2008 (the paper's reference [19]).
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Literal, Sequence

import numpy as np
import scipy.sparse as sp

from crowdsense.errors import InputError
from crowdsense.pmcb.graph_io import Graph

__all__ = [
    "FEATURE_NAMES",
    "NodeFeatures",
    "as_feature_matrix",
    "node_features",
    "degree",
    "betweenness_centrality",
    "BetweennessEstimate",
    "edge_triangles",
    "local_clustering",
    "ego_entropy",
]

#: Column names of the node vector, in order (paper: x_i = <D, BC, Lc, I_f>).
FEATURE_NAMES: tuple[str, str, str, str] = ("D", "BC", "Lc", "I_f")

#: Exact betweenness is split over processes only above this many node x edge operations
#: (below it, starting a worker costs more than it saves).
_PARALLEL_MIN_WORK = 2_000_000
#: Upper bound on the non-zeros of one row block of A @ A (memory of the triangle step).
_BLOCK_NNZ = 20_000_000
#: Triangles come from A @ A while sum_v D(v)^2 (its cost) is at most this, else from the
#: wedges of a degree ordering.
_MATMUL_MAX_WORK = 3e7
#: Wedges checked at once by the degree-ordering count (memory: about 60 bytes each).
_WEDGE_CHUNK = 5_000_000


@dataclass(frozen=True)
class BetweennessEstimate:
    """Normalized betweenness and, when sampled, its estimated standard error.

    Attributes
    ----------
    values : ndarray, shape (n,)
        BC(v), normalized to [0, 1].
    pivots : ndarray of int or None
        Positions of the pivot sources (None: exact, every node is a source).
    stderr : ndarray or None
        Estimated standard error of each value (None when exact): the per-pivot standard
        deviation of delta_s(v), estimated from the means of min(16, k // 4) batches of pivots
        (2 batches for 2 <= k < 12; NaN for k = 1), times
        sqrt(k (n - k)/(n - 1)) (sampling without replacement), scaled like the values. It shows the size of the
        sampling error; it is not a bound (a node that only rare sources pass through can
        have an estimate and an error of 0 while its true value is not 0).
    """

    values: np.ndarray
    pivots: np.ndarray | None = None
    stderr: np.ndarray | None = None

    @property
    def exact(self) -> bool:
        return self.pivots is None

    def error_summary(self) -> dict[str, Any]:
        """Max and median standard error, absolute and relative to the largest value."""
        if self.stderr is None:
            return {"exact": True}
        top = float(self.values.max()) if self.values.size else 0.0
        return {
            "exact": False,
            "pivots": int(self.pivots.size) if self.pivots is not None else 0,
            "max_stderr": float(self.stderr.max()),
            "median_stderr": float(np.median(self.stderr)),
            "max_stderr_over_max_bc": float(self.stderr.max() / top) if top > 0 else 0.0,
        }


@dataclass(frozen=True)
class NodeFeatures:
    """The node vectors of a graph, one array per feature (positions as in the graph).

    Attributes
    ----------
    degree, betweenness, clustering, entropy : ndarray of float64, shape (n,)
        D, BC (normalized), Lc and I_f of every node.
    betweenness_estimate : BetweennessEstimate
        How BC was obtained (exact, or pivots and standard errors).
    """

    degree: np.ndarray
    betweenness: np.ndarray
    clustering: np.ndarray
    entropy: np.ndarray
    betweenness_estimate: BetweennessEstimate

    @property
    def n_nodes(self) -> int:
        return int(self.degree.size)

    def matrix(self) -> np.ndarray:
        """The n x 4 matrix of node vectors, columns :data:`FEATURE_NAMES`."""
        return np.column_stack([self.degree, self.betweenness, self.clustering, self.entropy])


def as_feature_matrix(features: Any, columns: int | None = None) -> np.ndarray:
    """``features`` as a finite float64 matrix of n >= 1 rows, checked once for every consumer.

    ``features`` is a :class:`NodeFeatures` (its :meth:`~NodeFeatures.matrix`) or anything
    array-like; ``columns`` fixes the width (the level classifier needs exactly the four columns
    :data:`FEATURE_NAMES`), else any width >= 1 is accepted.
    """
    shape = "n x d" if columns is None else f"n x {columns}"
    if columns == len(FEATURE_NAMES):
        shape += f" <{', '.join(FEATURE_NAMES)}>"
    x = features.matrix() if hasattr(features, "matrix") else features
    try:
        x = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"features must be a numeric {shape} array, got {type(features).__name__}: {exc}"
        ) from None
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1 or (columns is not None and x.shape[1] != columns):
        raise InputError(f"features must be a non-empty {shape} array, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise InputError("features must be finite, got NaN or infinite values")
    return x


# ----------------------------------------------------------------------------- features


def degree(graph: Graph) -> np.ndarray:
    """D(v): number of neighbours, as float64."""
    return graph.degrees.astype(np.float64)


def edge_triangles(graph: Graph) -> sp.csr_array:
    """C = (A @ A) * A: entry (u, v) of each edge = number of common neighbours of u and v.

    Computed in row blocks sized so that no block of A @ A holds more than a bounded number
    of non-zeros (hubs make A @ A much denser than A). Edges on no triangle have no stored
    entry.
    """
    a = graph.adjacency
    n = graph.n_nodes
    d = graph.degrees.astype(np.float64)
    # Row v of A @ A has at most sum_{u in N(v)} D(u) non-zeros.
    row_cost = a @ d
    blocks: list[sp.csr_array] = []
    start = 0
    cumulative = np.cumsum(row_cost)
    while start < n:
        base = cumulative[start - 1] if start else 0.0
        stop = int(np.searchsorted(cumulative, base + _BLOCK_NNZ, side="right"))
        stop = max(stop, start + 1)
        rows = a[start:stop]
        blocks.append(sp.csr_array((rows @ a).multiply(rows)))
        start = stop
    c = blocks[0] if len(blocks) == 1 else sp.vstack(blocks, format="csr")
    c = sp.csr_array(c)
    c.eliminate_zeros()
    return c


def _edge_triangle_counts_by_wedges(graph: Graph) -> np.ndarray:
    """c_uv of every edge of ``graph.edges``, by checking the wedges of a degree ordering.

    Each edge is oriented from its end of lower rank (degree, then position) to the other; a
    triangle {a, b, c} is then found exactly once, at its lowest-ranked node a, as the pair of
    a's out-neighbours b, c that is itself an edge (a binary search in the sorted edge keys),
    and adds 1 to the counts of its three edges. The pairs checked, sum_a C(out(a), 2), stay
    small on graphs with hubs (a hub ranks high, so few edges leave it), and they are checked
    in chunks of bounded size with numpy: on a million-node graph of 9.5 million edges this
    replaced igraph's triangle list, a Python list of tuples that took a minute and several
    GB (and more than 11 GB on a forest-fire graph with more triangles).
    """
    n, edges = graph.n_nodes, graph.edges
    m = edges.shape[0]
    keys = edges[:, 0] * n + edges[:, 1]  # sorted: edges are (u < v), sorted
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(graph.degrees, kind="stable")] = np.arange(n)
    low_first = rank[edges[:, 0]] < rank[edges[:, 1]]
    tail = np.where(low_first, edges[:, 0], edges[:, 1])
    head = np.where(low_first, edges[:, 1], edges[:, 0])
    order = np.argsort(tail, kind="stable")
    head, edge_id = head[order], order
    starts = np.r_[0, np.cumsum(np.bincount(tail, minlength=n))]
    # position p (local index i of a node with out-degree k) pairs with the k - 1 - i after it
    later = (starts[1:][tail[order]] - 1 - np.arange(m)).astype(np.int64)
    counts = np.zeros(m, dtype=np.int64)
    budget = _WEDGE_CHUNK
    cumulative = np.cumsum(later)
    begin = 0
    while begin < m:
        base = cumulative[begin - 1] if begin else 0
        stop = max(int(np.searchsorted(cumulative, base + budget, side="right")), begin + 1)
        reps = later[begin:stop]
        first = np.repeat(np.arange(begin, stop), reps)
        offsets = np.arange(first.size) - np.repeat(np.cumsum(reps) - reps, reps) + 1
        second = first + offsets
        x, y = head[first], head[second]
        key = np.minimum(x, y) * n + np.maximum(x, y)
        found = np.minimum(np.searchsorted(keys, key), m - 1)
        hit = keys[found] == key
        for ids in (edge_id[first[hit]], edge_id[second[hit]], found[hit]):
            counts += np.bincount(ids, minlength=m)
        begin = stop
    return counts


def _triangles_and_entropy_terms(graph: Graph) -> tuple[np.ndarray, np.ndarray]:
    """t(v) (triangles through v) and S(v) = sum_{u in N(v)} (1 + c_uv) log(1 + c_uv)."""
    d = graph.degrees.astype(np.float64)
    if float(d @ d) <= _MATMUL_MAX_WORK:
        c = edge_triangles(graph)
        t = np.asarray(c.sum(axis=1)).ravel() / 2.0
        f = c.copy()
        f.data = (c.data + 1.0) * np.log(c.data + 1.0)
        return t, np.asarray(f.sum(axis=1)).ravel()
    counts = _edge_triangle_counts_by_wedges(graph).astype(np.float64)
    n = graph.n_nodes
    u, v = graph.edges[:, 0], graph.edges[:, 1]
    t = (np.bincount(u, weights=counts, minlength=n) + np.bincount(v, weights=counts, minlength=n)) / 2.0
    term = (counts + 1.0) * np.log(counts + 1.0)
    return t, np.bincount(u, weights=term, minlength=n) + np.bincount(v, weights=term, minlength=n)


def _clustering_from(d: np.ndarray, t: np.ndarray) -> np.ndarray:
    out = np.zeros_like(d)
    ok = d >= 2
    out[ok] = 2.0 * t[ok] / (d[ok] * (d[ok] - 1.0))
    return out


def _entropy_from(d: np.ndarray, t: np.ndarray, s: np.ndarray) -> np.ndarray:
    m = d + t  # edges of G(v): v's own D(v) edges plus one per triangle through v
    out = np.zeros_like(d)
    ok = m > 0
    dlogd = np.where(d > 0, d * np.log(np.where(d > 0, d, 1.0)), 0.0)
    two_m = 2.0 * m[ok]
    out[ok] = np.log(two_m) - (dlogd[ok] + s[ok]) / two_m
    return out


def local_clustering(graph: Graph) -> np.ndarray:
    """Lc(v) = 2 t(v) / (D(v)(D(v) - 1)), 0 when D(v) < 2."""
    t, _ = _triangles_and_entropy_terms(graph)
    return _clustering_from(degree(graph), t)


def ego_entropy(graph: Graph) -> np.ndarray:
    """I_f(v): degree-based entropy (alpha = 1, natural log) of the 1-neighbourhood graph G(v)."""
    t, s = _triangles_and_entropy_terms(graph)
    return _entropy_from(degree(graph), t, s)


# --------------------------------------------------------------------------- betweenness

#: Pivots are processed in at most this many batches, of at least _PIVOTS_PER_BATCH pivots
#: each; the spread of the batch sums estimates the sampling error. Each batch is one igraph
#: call, with a setup of O(n + m) that on a 10-million-edge graph costs about as much as a
#: pivot's own pass (one call per pivot would double the time).
_ERROR_BATCHES = 16
_PIVOTS_PER_BATCH = 4

# The graph handed to forked workers (inherited through fork, never pickled).
_WORKER_GRAPH: Any = None


def _batch_sums(batches: list[np.ndarray]) -> list[np.ndarray]:
    """For each batch S of sources: y_S(v) = sum_{s in S} delta_s(v) / 2.

    igraph's subset betweenness of an undirected graph with sources S and every target is
    (1/2) sum_{s in S} delta_s(v): halves of the node set add up to the full value.
    """
    g = _WORKER_GRAPH
    n = g.vcount()
    # Every node as a source: igraph's full algorithm (its subset variant has more overhead).
    return [np.asarray(g.betweenness(directed=False, sources=None if b.size == n else b.tolist()),
                       dtype=np.float64) for b in batches]


def _resolve_jobs(n_jobs: int | None) -> int:
    if n_jobs is None:
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # pragma: no cover - not Linux
            return max(1, os.cpu_count() or 1)
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0 or n_jobs < -1:
        raise InputError(f"n_jobs must be a positive int, -1 (all cores) or None, got {n_jobs!r}")
    return _resolve_jobs(None) if n_jobs == -1 else int(n_jobs)


def _run_batches(graph: Graph, batches: list[np.ndarray], n_jobs: int) -> list[np.ndarray]:
    """:func:`_batch_sums` of every batch, the batches spread over ``n_jobs`` processes.

    python-igraph holds the GIL while it computes, so threads do not help; forked worker
    processes do (the graph is inherited, not pickled). The calling process computes one
    share itself. Without ``fork`` (Windows) everything runs here.
    """
    global _WORKER_GRAPH
    _WORKER_GRAPH = graph.igraph
    try:
        workers = min(n_jobs, len(batches))
        if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
            return _batch_sums(batches)
        shares = [list(range(w, len(batches), workers)) for w in range(workers)]
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers - 1, mp_context=ctx) as pool:
            futures = [pool.submit(_batch_sums, [batches[i] for i in share]) for share in shares[1:]]
            results = dict(zip(shares[0], _batch_sums([batches[i] for i in shares[0]])))
            for share, future in zip(shares[1:], futures):
                results.update(zip(share, future.result()))
        return [results[i] for i in range(len(batches))]
    finally:
        _WORKER_GRAPH = None


def betweenness_centrality(graph: Graph, *, pivots: int | Sequence[int] | None = None,
                           random_state: int | np.random.Generator | None = None,
                           n_jobs: int | None = None) -> BetweennessEstimate:
    """Normalized betweenness of every node: exact, or estimated from k pivot sources.

    Parameters
    ----------
    graph : Graph
    pivots : None, int or sequence of int
        None: exact. An int k: k distinct pivot sources drawn uniformly with ``random_state``
        (k >= n gives the exact values). A sequence: these node positions as pivots.
    random_state : int, Generator or None
        Seed of the pivot draw.
    n_jobs : int or None
        Worker processes (None or -1: every core available to this process).

    Returns
    -------
    BetweennessEstimate
    """
    n = graph.n_nodes
    jobs = _resolve_jobs(n_jobs)
    if pivots is None:
        chosen = None
    elif isinstance(pivots, (int, np.integer)) and not isinstance(pivots, bool):
        if pivots < 1:
            raise InputError(f"the number of betweenness pivots must be >= 1, got {pivots}")
        chosen = None if pivots >= n else np.sort(
            np.random.default_rng(random_state).choice(n, size=int(pivots), replace=False))
    else:
        chosen = np.asarray(list(pivots), dtype=np.int64)  # type: ignore[arg-type]
        if chosen.ndim != 1 or chosen.size < 1 or chosen.min() < 0 or chosen.max() >= n \
                or np.unique(chosen).size != chosen.size:
            raise InputError(f"pivots must be distinct node positions in [0, {n - 1}], got {pivots!r}")
    if n <= 2:
        return BetweennessEstimate(values=np.zeros(n), pivots=chosen,
                                   stderr=None if chosen is None else np.zeros(n))
    if chosen is None:
        work = n * max(graph.n_edges, 1)
        shares = jobs if work >= _PARALLEL_MIN_WORK else 1
        # Interleaved shares: even work whatever the structure of the node order.
        sums = _run_batches(graph, [np.arange(w, n, shares) for w in range(shares)], jobs)
        return BetweennessEstimate(values=np.sum(sums, axis=0) * (2.0 / ((n - 1.0) * (n - 2.0))))
    k = chosen.size
    batches = np.array_split(chosen, min(_ERROR_BATCHES, max(min(k, 2), k // _PIVOTS_PER_BATCH)))
    sums = np.vstack(_run_batches(graph, batches, jobs))  # (B, n): y_b(v) per batch
    total = sums.sum(axis=0)
    # A pivot s has delta_s(s) = 0, so its own estimate rests on the k - 1 other pivots.
    k_v = np.full(n, float(k))
    k_v[chosen] -= 1.0
    scale = np.zeros(n)
    ok = k_v > 0
    scale[ok] = 2.0 / (k_v[ok] * (n - 2.0))
    values = total * scale
    b = len(batches)
    if b >= 2:
        # Per-source variance from the batch means (grouped data, equal within-group
        # variance): s^2 = sum_b k_b (mean_b - mean)^2 / (B - 1). The sum of k draws without
        # replacement from n sources has variance k s^2 (n - k) / (n - 1).
        sizes = np.array([len(x) for x in batches], dtype=np.float64)[:, None]
        spread = sizes * (sums / sizes - total / k) ** 2
        var_y = spread.sum(axis=0) / (b - 1.0)
        stderr = np.sqrt(k * var_y * (n - k) / (n - 1.0)) * scale
    else:
        stderr = np.full(n, np.nan)
    return BetweennessEstimate(values=values, pivots=chosen, stderr=stderr)


# ------------------------------------------------------------------------------- vectors


def node_features(graph: Graph, *, betweenness: Literal["exact"] | int = "exact",
                  random_state: int | np.random.Generator | None = None, n_jobs: int | None = None,
                  progress: Callable[[str], None] | None = None) -> NodeFeatures:
    """Compute x_i = <D, BC, Lc, I_f> for every node (paper Algorithm 1, lines 1-4).

    Parameters
    ----------
    graph : Graph
        Undirected simple graph (see :mod:`crowdsense.pmcb.graph_io`).
    betweenness : "exact" or int
        Exact betweenness, or the number k of pivot sources of the sampled estimate (for
        large graphs: the cost is k breadth-first searches instead of n).
    random_state : int, Generator or None
        Seed of the pivot draw (sampled betweenness only).
    n_jobs : int or None
        Processes for betweenness (None: all available cores).
    progress : callable, optional
        Called with a stage name after each stage ("betweenness", "triangles").

    Returns
    -------
    NodeFeatures
    """
    if betweenness == "exact":
        pivots: int | None = None
    elif isinstance(betweenness, (int, np.integer)) and not isinstance(betweenness, bool):
        if betweenness < 1:
            raise InputError(f"betweenness must be 'exact' or a number of pivots >= 1, got {betweenness}")
        pivots = int(betweenness)
    else:
        raise InputError(f"betweenness must be 'exact' or a number of pivots >= 1, got {betweenness!r}")
    bc = betweenness_centrality(graph, pivots=pivots, random_state=random_state, n_jobs=n_jobs)
    if progress is not None:
        progress("betweenness")
    d = degree(graph)
    t, s = _triangles_and_entropy_terms(graph)
    if progress is not None:
        progress("triangles")
    return NodeFeatures(degree=d, betweenness=bc.values, clustering=_clustering_from(d, t),
                        entropy=_entropy_from(d, t, s), betweenness_estimate=bc)
