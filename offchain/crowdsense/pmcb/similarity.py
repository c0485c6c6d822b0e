"""The similarity graph of node vectors: what the RatioCut partition cuts (PMCB Algorithm 2).

Steps, for node vectors x_1..x_n (rows of an n x d matrix); :mod:`crowdsense.pmcb.spectral` then
partitions the graph (steps 6-8 there):

1. **Scale, then standardize** (``scaling="log"``, the default): degree and betweenness are
   heavy-tailed in social graphs (on ego-Facebook the largest BC is 41 standard deviations
   above the mean, the largest degree 18), so a z-score alone leaves the bulk of the nodes
   squeezed into a corner of the feature space while one hub sets every scale. D is replaced
   by log(1 + D) and BC by log(1 + BC / m_BC), m_BC the median of the positive BC values (a
   scale of the graph's own, so that the transform does not depend on BC's normalisation);
   Lc and I_f are bounded and keep their values. Each column is then standardized to mean 0
   and standard deviation 1 (a constant column becomes 0): D is in the tens or thousands, BC
   and Lc in [0, 1]; without it the similarity would be the degree alone.
   ``scaling="none"`` standardizes the raw values. Values are then rounded to 1e-9
   (``DECIMALS``), far below any meaningful difference but above floating-point noise, so
   that vectors equal up to the summation order of a library count as identical (and two
   implementations of the same definitions make the same decisions).
2. **Merge identical vectors.** Nodes with the same vector are the same point of the feature
   space: no similarity can tell them apart, so they always share a cluster. They are merged
   into one *point* whose weight is the number of nodes it stands for. This is also what
   keeps the kNN graph meaningful on real graphs: ego-Facebook has groups of up to 97 nodes
   with identical vectors (for example, leaves), and among n separate copies every copy's K
   nearest neighbours are the other copies, which cuts each group off as a component of its
   own (16 components at K = 10) and leaves the smallest eigenvectors arbitrary. After
   merging, 3583 distinct points remain (the kNN graph's components are handled in step 3).
   Above ``max_points`` distinct vectors (default 100,000), vectors are merged by grid cell
   instead: the smallest step h in 0.001 x 2^i (standardized units) whose cells number at
   most ``max_points``, each cell a point at the mean of its vectors. Nodes whose vectors
   differ by less than h in every coordinate then share a level, which at a million nodes
   keeps the eigenproblem and the k-means at the size of a 100,000-node graph (the sparse
   factorization of the shift-invert solver grows faster than linearly with the points).
3. **Symmetric kNN graph, connected by construction** (Algorithm 2): edge {i, j} when j is
   among the K nearest points of i or i among those of j; ties at the K-th distance are all
   included (relative tolerance 1e-9) so that the graph does not depend on a search
   library's tie order. Sparse (about 2 K entries per row); never an n x n matrix. With
   c components, 0 is an eigenvalue of multiplicity c and RatioCut returns the components
   (or an arbitrary part of the null space when c > T), whatever the similarities inside them.
   So, by default (``connect="grow"``), K is the smallest value at or above ``n_neighbors``
   for which the graph has one component (doubling, then bisection; at most
   ``max(16 K, 256)``): K = 11 on ego-Facebook (K = 10 leaves 2 components after scaling;
   without it 6, and K = 23 would be needed), 10 on email-Eu-core. One k-d tree serves every
   K tried, and the neighbours of a wider query are reused for a smaller K (they come sorted
   by distance), so the search costs one query per doubling. ``connect="bridge"`` keeps
   the K given and, if the graph is disconnected, links each component to its most similar
   outside point (Boruvka rounds) and says so with a :class:`DisconnectedSimilarityWarning`
   (bridge weight: the similarity of its ends, raised to the smallest kNN weight): the bridges decide the cut, so this is for
   studying the paper's fixed K, not for use. The same bridging, with the same warning, is
   the last resort of ``"grow"`` when even the largest K tried leaves several components.
4. **Similarity**: f_sim(i, j) = exp(-||x_i - x_j||^2 / (2 sigma^2)) (paper eq. 1). Default
   (``sigma="local"``): a width per edge, sigma_ij = max(sigma_i, sigma_j) with sigma_i the
   distance from i to its K-th neighbour (local scaling, after Zelnik-Manor and Perona). No
   single outlier sets it (one global sigma, the longest kNN edge, was 40.3 on ego-Facebook,
   set by one betweenness outlier, while 99 % of kNN edges are shorter than 0.54), and
   every kNN edge keeps a weight in [exp(-1/2), 1] (an edge {i, j} comes from the list of i
   or of j, so its length is at most sigma_ij): no node is attached by numerically vanished
   weights, which RatioCut would cut off for free (a global sigma at the median or the
   90th percentile of kNN distances does exactly that: ego-Facebook T = 3 gives clusters of
   3963, 75 and 1 nodes). Inside that range the weight ranks a point's neighbours by their
   distance relative to the local density. A global sigma is still available: a number (in
   standardized units), ``"max-knn"`` (the longest kNN edge) or ``"median-knn"`` (the median
   distance to the K-th neighbour).
5. **Weights** are clamped at the smallest normal float so that an underflowed weight (a
   small numeric sigma) keeps its kNN edge: components are those of the kNN graph.
References
----------
PMCB paper, section IV.A, equation (1), Algorithm 2.
L. Zelnik-Manor and P. Perona, "Self-tuning spectral clustering", NIPS 2004.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from crowdsense.errors import InputError
from crowdsense.pmcb.features import as_feature_matrix

__all__ = [
    "DECIMALS",
    "DEFAULT_MAX_POINTS",
    "SIGMA_HEURISTICS",
    "SCALINGS",
    "CONNECT_MODES",
    "SimilarityGraph",
    "DisconnectedSimilarityWarning",
    "robust_scale",
    "standardize",
    "merge_points",
    "similarity_graph",
]

#: Names of the sigma heuristics (see the module docstring, step 4).
SIGMA_HEURISTICS = ("local", "max-knn", "median-knn")
#: Feature scalings before standardizing (module docstring, step 1).
SCALINGS = ("log", "none")
#: How a disconnected kNN graph is made connected (module docstring, step 3).
CONNECT_MODES = ("grow", "bridge")
#: Standardized values are rounded to this many decimals before comparing vectors.
DECIMALS = 9
#: Relative tolerance of a tie at the K-th neighbour distance.
TIE_RTOL = 1e-9
#: Extra neighbours fetched to see ties at the K-th distance without a radius search.
_TIE_EXTRA = 8
#: Above this many distinct vectors, nearby vectors are merged into grid cells (step 2).
DEFAULT_MAX_POINTS = 100_000
#: Smallest grid step tried (standardized units); each next step is twice the last.
_GRID_START = 1e-3


class DisconnectedSimilarityWarning(UserWarning):
    """The kNN similarity graph had several components; bridges were added."""


@dataclass(frozen=True)
class SimilarityGraph:
    """The symmetric kNN similarity graph over the distinct node vectors.

    Attributes
    ----------
    weights : csr_array, shape (P, P)
        W: symmetric, zero diagonal, f_sim on kNN edges and bridges.
    points : ndarray, shape (P, d)
        Distinct standardized (rounded) vectors, in lexicographic order.
    multiplicity : ndarray of int, shape (P,)
        Number of nodes each point stands for.
    point_of_node : ndarray of int, shape (n,)
        Point of each node.
    sigma : float
        Width of the Gaussian similarity (with ``sigma="local"``, the median of the per-point
        widths sigma_i).
    n_neighbors : int
        K actually used (at most P - 1; with ``connect="grow"`` the smallest K at or above the
        one requested that gives one component).
    n_components : int
        Components of the kNN graph at that K before bridging (1: connected, no bridge).
    bridges : ndarray of int, shape (b, 2)
        Point pairs linked to make the graph connected.
    requested_neighbors, components_at_requested : int
        K asked for, and the components of the kNN graph at that K.
    grid_step : float
        Side of the grid cells whose vectors were merged (0: only identical vectors merged).
    """

    weights: sp.csr_array
    points: np.ndarray
    multiplicity: np.ndarray
    point_of_node: np.ndarray
    sigma: float
    n_neighbors: int
    n_components: int
    bridges: np.ndarray
    requested_neighbors: int = 0
    components_at_requested: int = 0
    grid_step: float = 0.0

    @property
    def n_points(self) -> int:
        return int(self.multiplicity.size)

    def laplacian(self) -> sp.csr_array:
        """L = D_W - W, the unnormalized Laplacian (RatioCut relaxation)."""
        w = self.weights
        return sp.csr_array(sp.diags_array(np.asarray(w.sum(axis=1)).ravel()) - w)


# ---------------------------------------------------------------------------- validation


def _check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InputError(f"{name} must be an int, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"[{low}, {high}]" if high is not None else f">= {low}"
        raise InputError(f"{name} must be in {bound}, got {value}")
    return int(value)


def _check_sigma(sigma: Any) -> None:
    if isinstance(sigma, str):
        if sigma not in SIGMA_HEURISTICS:
            raise InputError(f"sigma must be a positive number or one of {SIGMA_HEURISTICS}, got {sigma!r}")
        return
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float, np.integer, np.floating)) \
            or not np.isfinite(sigma) or sigma <= 0:
        raise InputError(f"sigma must be a positive number or one of {SIGMA_HEURISTICS}, got {sigma!r}")


# ------------------------------------------------------------------------ similarity graph


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise InputError(f"{name} must be one of {choices}, got {value!r}")
    return value


def robust_scale(x: np.ndarray) -> np.ndarray:
    """log(1 + D) and log(1 + BC / median positive BC) (module docstring, step 1).

    Applies to the first two columns of a 4-column matrix <D, BC, Lc, I_f> when they are
    non-negative (as degrees and betweenness are); any other data is returned unchanged
    (generic data has no known heavy-tailed column).
    """
    if x.shape[1] != 4 or (x[:, :2] < 0).any():
        return x
    x = x.copy()
    x[:, 0] = np.log1p(x[:, 0])
    positive = x[:, 1][x[:, 1] > 0]
    if positive.size:
        x[:, 1] = np.log1p(x[:, 1] / float(np.median(positive)))
    return x


def standardize(features: Any, *, scaling: str = "log") -> np.ndarray:
    """Scale (``"log"``: :func:`robust_scale`), then columns to mean 0 / std 1 (constant
    columns to 0), rounded to ``DECIMALS``."""
    x = as_feature_matrix(features)
    if _check_choice("scaling", scaling, SCALINGS) == "log":
        x = robust_scale(x)
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std[std == 0] = 1.0
    z = np.round((x - mean) / std, DECIMALS)
    return z + 0.0  # no negative zeros


class _Neighbours:
    """One k-d tree and the widest neighbour query made so far, reused for every K tried.

    Neighbours come sorted by distance, so the K + _TIE_EXTRA nearest of a point are the first
    columns of any wider query: searching for the smallest connected K (several K) costs one
    tree and, per doubling, one query (on all cores), not one of each per K.
    """

    def __init__(self, points: np.ndarray) -> None:
        self.points = points
        self.tree = cKDTree(points)
        self.dist = np.empty((points.shape[0], 0))
        self.idx = np.empty((points.shape[0], 0), dtype=np.int64)

    def nearest(self, columns: int) -> tuple[np.ndarray, np.ndarray]:
        """Distances and indices of the ``columns`` nearest other points of every point."""
        p = self.points.shape[0]
        columns = min(columns, p - 1)
        if self.dist.shape[1] < columns:
            dist, idx = self.tree.query(self.points, k=columns + 1, workers=-1)
            dist, idx = np.atleast_2d(dist), np.atleast_2d(idx)
            own = idx == np.arange(p)[:, None]
            # Drop the point itself (distance 0; points are distinct), keep the order.
            keep_order = np.argsort(own, axis=1, kind="stable")
            self.dist = np.take_along_axis(dist, keep_order, axis=1)[:, :columns]
            self.idx = np.take_along_axis(idx, keep_order, axis=1)[:, :columns]
        return self.dist[:, :columns], self.idx[:, :columns]


def _grid_cells(z: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Cell of every row on a grid of ``step`` (standardized units): (cell id 0..C-1, C)."""
    q = np.floor(z / step).astype(np.int64)
    q -= q.min(axis=0)
    radix = q.max(axis=0) + 1
    if float(np.prod(radix.astype(np.float64))) < 2.0**62:  # one int64 key per row
        key = np.zeros(z.shape[0], dtype=np.int64)
        for j in range(q.shape[1]):
            key = key * radix[j] + q[:, j]
        _, cell = np.unique(key, return_inverse=True)
    else:  # pragma: no cover - needs a huge spread of values
        _, cell = np.unique(q, axis=0, return_inverse=True)
    cell = np.asarray(cell).reshape(-1)
    return cell, int(cell.max()) + 1


def merge_points(z: np.ndarray, max_points: int | None = DEFAULT_MAX_POINTS) -> tuple[np.ndarray, np.ndarray,
                                                                                     np.ndarray, float]:
    """Distinct vectors as weighted points, grid cells when there are more than ``max_points``.

    Returns (points, point_of_node, multiplicity, grid step; 0 when only identical vectors
    were merged). Each point is the mean of the vectors it stands for (module docstring, step 2).
    """
    points, inverse, counts = np.unique(z, axis=0, return_inverse=True, return_counts=True)
    inverse = np.asarray(inverse).reshape(-1)
    if max_points is None or points.shape[0] <= max_points:
        return points, inverse, counts, 0.0
    step = _GRID_START
    while True:
        cell, c = _grid_cells(z, step)
        if c <= max_points:
            break
        step *= 2.0
    counts = np.bincount(cell, minlength=c)
    points = np.column_stack([np.bincount(cell, weights=z[:, j], minlength=c) for j in range(z.shape[1])])
    return points / counts[:, None], cell, counts, step


def _knn(points: np.ndarray, k: int,
         neighbours: _Neighbours | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Directed kNN pairs (i, j, distance), ties at the k-th distance included."""
    p = points.shape[0]
    neighbours = neighbours or _Neighbours(points)
    tree = neighbours.tree
    fetch = min(p, k + 1 + _TIE_EXTRA)
    dist, idx = neighbours.nearest(fetch - 1)
    radius = dist[:, k - 1] * (1.0 + TIE_RTOL)
    within = dist <= radius[:, None]
    rows = np.repeat(np.arange(p), within.sum(axis=1))
    cols = idx[within]
    dists = dist[within]
    # Rows whose ties may go beyond what was fetched: ask for every point within the radius.
    overflow = np.flatnonzero(within[:, -1]) if fetch - 1 > k else np.empty(0, dtype=np.int64)
    if overflow.size:
        rows_l, cols_l, dist_l = [rows[~np.isin(rows, overflow)]], [cols[~np.isin(rows, overflow)]], \
            [dists[~np.isin(rows, overflow)]]
        for i in overflow:
            near = np.asarray(tree.query_ball_point(points[i], r=radius[i]), dtype=np.int64)
            near = near[near != i]
            rows_l.append(np.full(near.size, i))
            cols_l.append(near)
            dist_l.append(np.linalg.norm(points[near] - points[i], axis=1))
        rows, cols, dists = np.concatenate(rows_l), np.concatenate(cols_l), np.concatenate(dist_l)
    return rows, cols, dists


def _nearest_outside(points: np.ndarray, members: np.ndarray, inside: np.ndarray,
                     tree: cKDTree) -> tuple[int, int, float]:
    """The closest pair (i in members, j not in members); ``inside`` marks the members.

    Each member's nearest neighbours are fetched in growing numbers until, for every member,
    either an outside point is among them (the first one is then its nearest outside point)
    or its farthest fetched neighbour is already farther than the best pair found. Members
    still undecided after 256 neighbours (the inside of a dense blob) are finished by
    :func:`_nearest_outside_by_ball`.
    """
    p = points.shape[0]
    best = (np.inf, -1, -1)
    pending = members
    k = min(p, 16)
    while pending.size:
        dist, idx = tree.query(points[pending], k=k)
        dist = np.asarray(dist).reshape(pending.size, -1)
        idx = np.asarray(idx).reshape(pending.size, -1)
        out = ~inside[idx]
        has = out.any(axis=1)
        if has.any():
            rows = np.flatnonzero(has)
            first = np.argmax(out[rows], axis=1)
            d = dist[rows, first]
            r = int(np.argmin(d))
            if d[r] < best[0]:
                best = (float(d[r]), int(pending[rows[r]]), int(idx[rows[r], first[r]]))
        # Without an outside point among its k nearest, a member's nearest outside point is
        # at least as far as its k-th neighbour.
        pending = pending[~has][dist[~has, -1] < best[0]]
        if not pending.size or k >= p:
            break
        if k >= 256:
            best = _nearest_outside_by_ball(points, pending, inside, tree, best)
            break
        k = min(2 * k, p)
    return best[1], best[2], best[0]


def _nearest_outside_by_ball(points: np.ndarray, pending: np.ndarray, inside: np.ndarray, tree: cKDTree,
                             best: tuple[float, int, int]) -> tuple[float, int, int]:
    """Finish :func:`_nearest_outside` for the members in ``pending``.

    With c their centroid and r their radius, an outside point closer than ``bound`` to some
    member lies within r + bound of c (triangle inequality); those candidates are compared
    with every pending member. ``bound`` is the best distance so far or, if none, the
    distance to the outside point nearest to c plus r.
    """
    sub = points[pending]
    centre = sub.mean(axis=0)
    radius = float(np.sqrt(((sub - centre) ** 2).sum(axis=1).max()))
    bound = best[0]
    if not np.isfinite(bound):
        k = 16
        while True:
            d, j = tree.query(centre, k=min(k, points.shape[0]))
            d, j = np.atleast_1d(d), np.atleast_1d(j)
            out = ~inside[j]
            if out.any():
                bound = float(d[np.argmax(out)]) + radius
                break
            k *= 2
    candidates = np.asarray(tree.query_ball_point(centre, r=radius + bound * (1 + 1e-12)), dtype=np.int64)
    candidates = candidates[~inside[candidates]]
    if candidates.size == 0:  # nothing closer than ``bound`` to a pending member
        return best
    d1, j1 = cKDTree(points[candidates]).query(sub, k=1)
    r = int(np.argmin(d1))
    if d1[r] < best[0]:
        best = (float(d1[r]), int(pending[r]), int(candidates[j1[r]]))
    return best


def _bridge(points: np.ndarray, w: sp.csr_array,
            weight: Callable[[int, int, float], float]) -> tuple[sp.csr_array, int, np.ndarray]:
    """Link components until the graph is connected (see the module docstring, step 3)."""
    n_comp, comp = connected_components(w, directed=False)
    first = n_comp
    if n_comp == 1:
        return w, 1, np.empty((0, 2), dtype=np.int64)
    floor = float(w.data.min()) if w.nnz else 1.0
    tree = cKDTree(points)
    pairs: list[tuple[int, int, float]] = []
    while n_comp > 1:
        sizes = np.bincount(comp)
        largest = int(np.argmax(sizes))
        order = np.argsort(comp, kind="stable")
        starts = np.r_[0, np.cumsum(sizes)]
        for c in range(n_comp):
            if c == largest:
                continue
            members = order[starts[c]:starts[c + 1]]
            inside = comp == c
            i, j, d = _nearest_outside(points, members, inside, tree)
            pairs.append((i, j, max(weight(i, j, d), floor)))
        bi = np.array([p[0] for p in pairs])
        bj = np.array([p[1] for p in pairs])
        bw = np.array([p[2] for p in pairs])
        extra = sp.csr_array((np.r_[bw, bw], (np.r_[bi, bj], np.r_[bj, bi])), shape=w.shape)
        merged = w.maximum(extra)
        n_comp, comp = connected_components(merged, directed=False)
    bridges = np.unique(np.sort(np.column_stack([bi, bj]), axis=1), axis=0)
    return sp.csr_array(merged), first, bridges


def _components(rows: np.ndarray, cols: np.ndarray, p: int) -> int:
    adjacency = sp.csr_array((np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(p, p))
    return int(connected_components(adjacency, directed=False)[0])


def _connected_k(points: np.ndarray, k: int, neighbours: _Neighbours) -> tuple[int, int]:
    """Smallest K' >= k giving one component (doubling, then bisection), and the components at k.

    Gives up at ``max(16 k, 256)`` (capped at P - 1): the caller then bridges, with a warning.
    """
    p = points.shape[0]
    first = _components(*_knn(points, k, neighbours)[:2], p)
    if first == 1:
        return k, 1
    cap = min(p - 1, max(16 * k, 256))
    low, high = k, min(2 * k, cap)
    while _components(*_knn(points, high, neighbours)[:2], p) > 1:
        if high >= cap:
            return cap, first
        low, high = high, min(2 * high, cap)
    while high - low > 1:  # components(low) > 1, components(high) == 1
        mid = (low + high) // 2
        if _components(*_knn(points, mid, neighbours)[:2], p) == 1:
            high = mid
        else:
            low = mid
    return high, first


def similarity_graph(features: Any, *, n_neighbors: int = 10, sigma: float | str = "local",
                     connect: str = "grow", scaling: str = "log",
                     max_points: int | None = DEFAULT_MAX_POINTS) -> SimilarityGraph:
    """Build the symmetric kNN Gaussian similarity graph over the distinct node vectors.

    Parameters
    ----------
    features : NodeFeatures or array-like, shape (n, d)
        Node vectors (raw: they are scaled and standardized here).
    n_neighbors : int
        K >= 1 (with ``connect="grow"``, the smallest K tried). When there are fewer than
        K + 1 distinct vectors, K is lowered to P - 1 (with a warning).
    sigma : float or {"local", "max-knn", "median-knn"}
        Per-edge local width (default), a global width in standardized units, or the global
        heuristic that sets it (module docstring, step 4).
    connect : {"grow", "bridge"}
        Raise K until the graph is connected (default), or keep K and bridge the components
        with a :class:`DisconnectedSimilarityWarning` (module docstring, step 3).
    scaling : {"log", "none"}
        Feature scaling before standardizing (module docstring, step 1).
    max_points : int or None
        Above this many distinct vectors, vectors closer than a grid step are merged (module
        docstring, step 2); None never merges beyond identical vectors.

    Returns
    -------
    SimilarityGraph
    """
    x = as_feature_matrix(features)
    k = _check_int("n_neighbors", n_neighbors, 1)
    _check_sigma(sigma)
    _check_choice("connect", connect, CONNECT_MODES)
    if max_points is not None:
        _check_int("max_points", max_points, 2)
    z = standardize(x, scaling=scaling)
    points, inverse, counts, grid = merge_points(z, max_points)
    p = points.shape[0]
    if p < 2:
        raise InputError(f"all {x.shape[0]} node vectors are identical; nothing to partition")
    if k > p - 1:
        warnings.warn(f"n_neighbors={k} but there are only {p} distinct node vectors; using K={p - 1}",
                      UserWarning, stacklevel=2)
        k = p - 1
    requested = k
    neighbours = _Neighbours(points)
    if connect == "grow":
        k, first = _connected_k(points, k, neighbours)
    rows, cols, dists = _knn(points, k, neighbours)
    if connect == "bridge":
        first = _components(rows, cols, p)
    kth = np.zeros(p)
    np.maximum.at(kth, rows, dists)  # with ties, the K-th distance is the largest kept
    if sigma == "local":
        local = np.maximum(kth, np.finfo(np.float64).tiny)

        def weight(i: Any, j: Any, d: Any) -> Any:
            width = np.maximum(local[i], local[j])
            return np.exp(-(d * d) / (2.0 * width * width))

        sigma_value = float(np.median(local))
    else:
        if sigma == "max-knn":
            sigma_value = float(dists.max())
        elif sigma == "median-knn":
            sigma_value = float(np.median(kth))
        else:
            sigma_value = float(sigma)  # type: ignore[arg-type]
        if not sigma_value > 0:  # pragma: no cover - distinct points have positive distances
            sigma_value = 1.0

        def weight(i: Any, j: Any, d: Any) -> Any:
            return np.exp(-(d * d) / (2.0 * sigma_value * sigma_value))

    # Clamped at the smallest normal float so that an underflowed weight (a small numeric
    # sigma) keeps its kNN edge: components are those of the kNN graph, not of the rounding.
    weights = np.maximum(weight(rows, cols, dists), np.finfo(np.float64).tiny)
    directed = sp.csr_array((weights, (rows, cols)), shape=(p, p))
    w = sp.csr_array(directed.maximum(directed.T))
    w, n_comp, bridges = _bridge(points, w, lambda i, j, d: float(weight(i, j, d)))
    if n_comp > 1:
        why = "as asked (connect='bridge')" if connect == "bridge" else \
            f"even at the largest K tried ({k})"
        warnings.warn(f"the kNN similarity graph (K={k}) has {n_comp} components {why}; linked them with "
                      f"{bridges.shape[0]} bridge edge(s) between their most similar points: these bridges, "
                      "not the node vectors, decide where RatioCut cuts",
                      DisconnectedSimilarityWarning, stacklevel=2)
    w.sort_indices()
    return SimilarityGraph(weights=w, points=points, multiplicity=counts.astype(np.int64), point_of_node=inverse,
                           sigma=sigma_value, n_neighbors=k, n_components=n_comp, bridges=bridges,
                           requested_neighbors=requested, components_at_requested=first, grid_step=grid)
