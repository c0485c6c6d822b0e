"""Size-aware k-means: clusters whose sizes stay within bounds (levels of comparable size).

The paper chose RatioCut so that "the number of nodes in each cluster is approximately the
same". RatioCut's relaxation does not enforce it: on a real similarity graph its smallest
eigenvectors still favour cheap cuts around a few hundred weakly attached nodes (ego-Facebook,
T = 5: clusters of 1728, 1621, 379, 202 and 109 nodes, balance 0.06). The last step of the
spectral partition therefore assigns the rows of the spectral embedding to T centres **under
size bounds**: every cluster holds between ``lo = s n / T`` and ``hi = (2 - s) n / T`` nodes,
s = ``min_share`` (0 < s <= 1), so that smallest / largest >= s / (2 - s) (1/3 at the
default s = 0.5). When the unconstrained k-means already satisfies the bounds nothing changes.

**Assignment under size bounds** (:func:`constrained_assign`), for a cost matrix C (points x
clusters, squared distances to the centres) and point weights w: minimise
sum_i w_i C[i, a(i)] subject to lo <= sum_{a(i)=c} w_i <= hi. Its Lagrangian dual gives each
cluster a price b_c, and every point goes to argmin_c (C[i, c] - b_c): the clusters stay cells
of a power diagram of the embedding (a point still goes to the nearest centre, after each
centre's distance is shifted). Prices are found by coordinate steps: the most violated cluster
gets exactly the price change that brings its size into bounds (a cluster too small takes the
points cheapest to move to it, a cluster too big gives away the points cheapest to move out),
repeated until every size is within bounds. Should the steps cycle (ties between points of
large weight), a greedy repair moves the cheapest points directly; the bounds then still hold.

**Size-aware k-means** (:func:`balanced_kmeans`): start from the partition of the ordinary
k-means (best of ``n_init`` k-means++ restarts, :func:`crowdsense.pmcb.kmeans.kmeans`), then
alternate the constrained assignment and the move of every centre to the weighted mean of its
points (Bradley, Bennett and Demiriz 2000) until the labels no longer change. Starting from
the ordinary k-means, not from a random seeding, keeps the result the same for different
seeds whenever the ordinary k-means is (on ego-Facebook at T = 5, constrained runs started
from five single k-means++ seedings ended in five different partitions). That holds only
because the start is taken in a canonical form: clusters numbered by their first point (in
point order) and centres recomputed from the partition. The price steps take the clusters
in turn, so the constrained result depends on how the clusters are numbered, and restarts
from different seeds find one partition under different numberings (and with centres that
differ in the last bits). Handed on as found, the powerlaw-cluster graph of the benchmark
(3000 nodes; the same ordinary k-means for every seed) got levels that depended on the seed
(smallest adjusted Rand index of 4 seeds against seed 0: 0.85 at T = 4, 0.64 at T = 5);
in canonical form, 1.0.

Points are weighted (merged identical node vectors count as the nodes they stand for) and are
never split, so a bound can be missed by less than the weight of one point when no exact
split exists.

**Levels of the spectral partition** (:func:`ratiocut_levels`). The size bounds cost cut: on
ego-Facebook at T = 5 the plain k-means of the embedding has RatioCut 1.09 (balance 0.06), the
size-aware k-means 1.87, no better than k-means on the scaled node vectors (1.868, balance
0.05), which ignores the graph. The k-means of the embedding is only a rounding of
RatioCut's relaxation, so the last step works on the objective itself.

**RatioCut refinement** (:func:`refine_ratiocut`), on the similarity graph: a point moves to
another cluster when that lowers sum_c cut(A_c) / |A_c| and keeps both sizes within the
bounds (single-vertex moves, as in the refinement step of multilevel partitioners). With a_ic
the weight from point i to cluster c, d_i its degree and m_i its weight, moving i from a to b
gives cut_a - d_i + 2 a_ia and cut_b + d_i - 2 a_ib, every other cut unchanged. Moves are
taken in rounds, best gain first; a point is skipped once a neighbour has moved in the round
(its a_i. would be stale), so each move is evaluated exactly and RatioCut decreases at every
move. Rounds stop when no move gains (or after ``max_rounds``). ego-Facebook: 0.53 -> 0.48,
1.30 -> 1.08 and 1.87 -> 1.44 at T = 3, 4, 5, every level still within the bounds.

Refining only the size-aware k-means of the best k-means start keeps the levels as stable
across seeds as that start. Keeping instead, among all ``n_init`` restarts (each made
size-aware and refined), the one of lowest RatioCut was tried (before the canonical start)
and rejected: it made other graphs seed-dependent (Watts-Strogatz, 2000 nodes, T = 3:
adjusted Rand index 1.0 -> 0.47; ego-Facebook T = 5: 1.0 -> 0.93), since restarts whose
RatioCuts differ little are chosen by small differences.

References
----------
P. S. Bradley, K. P. Bennett and A. Demiriz, "Constrained k-means clustering", Microsoft
Research MSR-TR-2000-65, 2000.
B. W. Kernighan and S. Lin, "An efficient heuristic procedure for partitioning graphs", Bell
System Technical Journal 49(2), 1970 (vertex moves by gain; here one vertex at a time).
D. P. Bertsekas, "The auction algorithm for assignment and other network flow problems", 1989
(prices on the sinks of a transportation problem).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.spatial.distance import cdist

from crowdsense.errors import InputError
from crowdsense.pmcb.features import as_feature_matrix
from crowdsense.pmcb.kmeans import kmeans

__all__ = ["DEFAULT_MIN_SHARE", "SizeBounds", "size_bounds", "check_min_share", "constrained_assign",
           "balanced_kmeans", "ratiocut", "refine_ratiocut", "ratiocut_levels"]

#: Default minimum share of a level, as a fraction of the even share n / T (balance >= 1/3).
DEFAULT_MIN_SHARE = 0.5
#: Price steps per cluster before the greedy repair takes over.
_STEPS_PER_CLUSTER = 50
#: Constrained Lloyd iterations, at most.
_MAX_ITER = 100
#: Rounds of RatioCut refinement, at most (ego-Facebook needs 3 to 9, generated graphs up to 25).
REFINE_ROUNDS = 50


@dataclass(frozen=True)
class SizeBounds:
    """Smallest and largest allowed cluster size (in weight units, i.e. nodes)."""

    low: float
    high: float


def check_min_share(min_share: Any) -> float:
    """``min_share`` as a float in [0, 1] (0: no size bound), else :class:`InputError`."""
    if isinstance(min_share, bool) or not isinstance(min_share, (int, float, np.integer, np.floating)) \
            or not np.isfinite(min_share) or not 0 <= min_share <= 1:
        raise InputError(f"min_share must be a number in [0, 1] (fraction of the even share n/T each level "
                         f"holds at least; 0 disables the size bounds), got {min_share!r}")
    return float(min_share)


def size_bounds(total: float, n_clusters: int, min_share: float) -> SizeBounds:
    """Bounds [s n / T, (2 - s) n / T] for total weight n, T clusters and s = ``min_share``."""
    s = check_min_share(min_share)
    even = float(total) / n_clusters
    return SizeBounds(low=s * even, high=(2.0 - s) * even)


def _repair(cost: np.ndarray, w: np.ndarray, labels: np.ndarray, bounds: SizeBounds) -> np.ndarray:
    """Greedy fallback: move the cheapest points from clusters out of bounds until none is."""
    p, t = cost.shape
    labels = labels.copy()
    size = np.bincount(labels, weights=w, minlength=t)
    for _ in range(p):
        under = np.flatnonzero(size < bounds.low)
        over = np.flatnonzero(size > bounds.high)
        if not under.size and not over.size:
            break
        if under.size:  # take the cheapest point from a cluster that can give it
            c = int(under[np.argmin(size[under])])
            can_give = (size[labels] - w >= bounds.low) & (labels != c)
            if not can_give.any():
                break
            extra = np.where(can_give, cost[:, c] - cost[np.arange(p), labels], np.inf)
            i = int(np.argmin(extra))
            size[labels[i]] -= w[i]
            labels[i], size[c] = c, size[c] + w[i]
        else:  # give the cheapest point to a cluster that can take it
            c = int(over[np.argmax(size[over])])
            members = np.flatnonzero(labels == c)
            room = size + w[members, None] <= bounds.high
            room[:, c] = False
            extra = np.where(room, cost[members] - cost[members, c][:, None], np.inf)
            if not np.isfinite(extra).any():
                break
            r, target = np.unravel_index(int(np.argmin(extra)), extra.shape)
            i = int(members[r])
            size[c] -= w[i]
            labels[i], size[target] = int(target), size[target] + w[i]
    return labels


def constrained_assign(cost: Any, weights: Any, bounds: SizeBounds,
                       prices: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Labels minimising the total weighted cost with cluster sizes within ``bounds``.

    Parameters
    ----------
    cost : array-like, shape (P, T)
        Cost of putting point i in cluster c (squared distance to its centre).
    weights : array-like, shape (P,)
        Weight of each point (nodes it stands for).
    bounds : SizeBounds
        Allowed sizes; must be feasible: T low <= sum(weights) <= T high.
    prices : ndarray, shape (T,), optional
        Starting prices (those of a previous, similar call: fewer steps).

    Returns
    -------
    labels : ndarray of int, shape (P,)
    prices : ndarray, shape (T,)
        The final price b_c of each cluster (labels = argmin_c cost - b_c unless repaired).
    """
    c_mat = np.asarray(cost, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    p, t = c_mat.shape
    total = float(w.sum())
    if t * bounds.low > total * (1 + 1e-12) or t * bounds.high < total * (1 - 1e-12):
        raise InputError(f"size bounds [{bounds.low:g}, {bounds.high:g}] cannot hold a total weight of "
                         f"{total:g} in {t} clusters")
    b = np.zeros(t) if prices is None else np.array(prices, dtype=np.float64)
    eps = 1e-9 * (float(np.abs(c_mat).max()) or 1.0)  # a moved point strictly prefers its new cluster
    slack = 1e-9 * max(total, 1.0)
    rows = np.arange(p)
    labels = c_mat.argmin(axis=1)
    for _ in range(_STEPS_PER_CLUSTER * t):
        shifted = c_mat - b
        labels = shifted.argmin(axis=1)
        size = np.bincount(labels, weights=w, minlength=t)
        violation = np.maximum(bounds.low - size, size - bounds.high)
        c = int(np.argmax(violation))
        if violation[c] <= slack:
            return labels, b
        best = shifted[rows, labels]
        if size[c] < bounds.low:
            outside = np.flatnonzero(labels != c)
            extra = shifted[outside, c] - best[outside]  # raise b_c by this to win the point
            order = np.argsort(extra, kind="stable")
            reach = np.searchsorted(np.cumsum(w[outside][order]), bounds.low - size[c] - slack)
            b[c] += extra[order[min(int(reach), order.size - 1)]] + eps
        else:
            inside = np.flatnonzero(labels == c)
            others = shifted[inside].copy()
            others[:, c] = np.inf
            margin = others.min(axis=1) - shifted[inside, c]  # lower b_c by this to lose the point
            order = np.argsort(margin, kind="stable")
            reach = np.searchsorted(np.cumsum(w[inside][order]), size[c] - bounds.high - slack)
            b[c] -= margin[order[min(int(reach), order.size - 1)]] + eps
    return _repair(c_mat, w, (c_mat - b).argmin(axis=1), bounds), b


def _within(size: np.ndarray, bounds: SizeBounds) -> bool:
    return bool((size >= bounds.low - 1e-9).all() and (size <= bounds.high + 1e-9).all())


def _canonical_start(x: np.ndarray, w: np.ndarray, labels: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray]:
    """The same partition numbered by first appearance in point order, with its centres
    recomputed as the weighted means of its points.

    The size-aware steps depend on the numbering of the clusters (the price steps take the
    clusters in turn), and k-means restarts from different seeds find the same partition under
    different numberings and with centres that differ in the last bits. Numbered this way, one
    partition always gives one start, whatever the seed that found it.
    """
    _, first = np.unique(labels, return_index=True)
    present = np.unique(labels)
    rank = np.full(t, -1, dtype=np.int64)
    rank[present[np.argsort(first)]] = np.arange(present.size)
    missing = np.flatnonzero(rank < 0)
    rank[missing] = np.arange(present.size, t)
    labels = rank[labels]
    mass = np.bincount(labels, weights=w, minlength=t)
    sums = np.vstack([np.bincount(labels, weights=w * x[:, j], minlength=t) for j in range(x.shape[1])]).T
    centers = np.zeros((t, x.shape[1]))
    filled = mass > 0
    centers[filled] = sums[filled] / mass[filled, None]
    return labels, centers


def _size_aware_lloyd(x: np.ndarray, w: np.ndarray, labels: np.ndarray, t: int, bounds: SizeBounds) -> np.ndarray:
    """Constrained Lloyd iterations from a k-means partition; unchanged when it is within the bounds.

    Depends on the partition only, not on how its clusters are numbered (:func:`_canonical_start`).
    """
    if _within(np.bincount(labels, weights=w, minlength=t), bounds):
        return labels
    labels, centers = _canonical_start(x, w, labels, t)
    prices = None
    recent: list[np.ndarray] = []
    for _ in range(_MAX_ITER):
        labels, prices = constrained_assign(cdist(x, centers, "sqeuclidean"), w, bounds, prices)
        # Stop when the labels repeat: converged, or alternating between two assignments
        # (ties between heavy points), which further iterations would not resolve.
        if any(np.array_equal(labels, seen) for seen in recent):
            break
        recent = [labels, *recent[:1]]
        mass = np.bincount(labels, weights=w, minlength=t)
        sums = np.vstack([np.bincount(labels, weights=w * x[:, j], minlength=t) for j in range(x.shape[1])]).T
        filled = mass > 0
        centers = np.where(filled[:, None], sums / np.where(filled, mass, 1.0)[:, None], centers)
    return labels


def _kmeans_start(data: Any, n_clusters: int, sample_weight: Any, min_share: float, n_init: int,
                  random_state: int | np.random.Generator | None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, SizeBounds | None]:
    """What both size-aware assignments start from: the points, the nodes each stands for, the
    ordinary k-means labels, T, and the size bounds (None for ``min_share`` 0: nothing bound)."""
    x = as_feature_matrix(data)
    s = check_min_share(min_share)
    start = kmeans(x, n_clusters, sample_weight=sample_weight, n_init=n_init, random_state=random_state)
    w = np.ones(x.shape[0]) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    t = int(n_clusters)
    return x, w, start.labels, t, (size_bounds(w.sum(), t, s) if s else None)


def balanced_kmeans(data: Any, n_clusters: int, *, sample_weight: Any = None, min_share: float = DEFAULT_MIN_SHARE,
                    n_init: int = 10, random_state: int | np.random.Generator | None = None) -> np.ndarray:
    """Labels of a size-aware k-means (module docstring): sizes in [s n/T, (2 - s) n/T].

    Parameters
    ----------
    data : array-like, shape (P, d)
        Points (rows of the spectral embedding).
    n_clusters : int
        T >= 1.
    sample_weight : array-like, shape (P,), optional
        Nodes each point stands for (default 1).
    min_share : float in [0, 1]
        s: each cluster holds at least s n / T and at most (2 - s) n / T; 0 returns the
        ordinary k-means labels.
    n_init, random_state
        Restarts and seed of the ordinary k-means that gives the starting centres.

    Returns
    -------
    ndarray of int, shape (P,)
    """
    x, w, start, t, bounds = _kmeans_start(data, n_clusters, sample_weight, min_share, n_init, random_state)
    return start if bounds is None else _size_aware_lloyd(x, w, start, t, bounds)


# -------------------------------------------------------------------- RatioCut on a graph


def ratiocut(weights: Any, labels: Any, *, sizes_weight: Any = None) -> float:
    """RatioCut(A_1..A_T) = sum_c cut(A_c, complement) / |A_c| (paper section IV.A.3).

    Parameters
    ----------
    weights : sparse or dense symmetric matrix, shape (P, P)
        Similarity weights W.
    labels : array-like of int, shape (P,)
        Cluster of each vertex.
    sizes_weight : array-like, optional
        Weight of each vertex in |A_c| (node counts of merged points); default 1.
    """
    w = sp.csr_array(weights)
    lab = np.asarray(labels).reshape(-1)
    if lab.size != w.shape[0]:
        raise InputError(f"labels must have one entry per vertex ({w.shape[0]}), got {lab.size}")
    mass = np.ones(lab.size) if sizes_weight is None else np.asarray(sizes_weight, dtype=np.float64)
    coo = w.tocoo()
    crossing = lab[coo.row] != lab[coo.col]
    cut = np.bincount(lab[coo.row][crossing], weights=coo.data[crossing], minlength=lab.max() + 1)
    size = np.bincount(lab, weights=mass, minlength=lab.max() + 1)
    present = size > 0
    return float(np.sum(cut[present] / size[present]))


def refine_ratiocut(weights: Any, labels: Any, bounds: SizeBounds, *, sample_weight: Any = None,
                    max_rounds: int = REFINE_ROUNDS) -> np.ndarray:
    """Lower the RatioCut of a partition by single-point moves that keep sizes within ``bounds``.

    See the module docstring (*RatioCut refinement*). A move never takes a cluster below
    ``bounds.low`` or above ``bounds.high``; a cluster already outside them can only move
    towards them. Deterministic: moves are taken by decreasing gain, ties by point index.

    Parameters
    ----------
    weights : sparse or dense symmetric matrix, shape (P, P)
        Similarity weights W (zero diagonal).
    labels : array-like of int, shape (P,)
        Starting clusters 0..T-1.
    bounds : SizeBounds
        Allowed cluster sizes (in weight units).
    sample_weight : array-like, shape (P,), optional
        Nodes each point stands for (default 1).
    max_rounds : int
        Rounds of moves, at most.

    Returns
    -------
    ndarray of int, shape (P,)
        The refined labels; RatioCut(result) <= RatioCut(labels).
    """
    w = sp.csr_array(weights)
    w.sort_indices()
    lab = np.asarray(labels, dtype=np.int64).reshape(-1).copy()
    p = w.shape[0]
    if lab.size != p:
        raise InputError(f"labels must have one entry per vertex ({p}), got {lab.size}")
    mass = np.ones(p) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    t = int(lab.max()) + 1
    deg = np.asarray(w.sum(axis=1)).ravel()
    rows = np.arange(p)
    indptr, indices = w.indptr, w.indices
    for _ in range(max_rounds):
        link = np.asarray((w @ sp.csr_array((np.ones(p), (rows, lab)), shape=(p, t))).toarray())  # a_ic
        size = np.bincount(lab, weights=mass, minlength=t)
        cut = np.bincount(lab, weights=deg - link[rows, lab], minlength=t)
        with np.errstate(divide="ignore", invalid="ignore"):
            own = cut / size
            src_size = size[lab] - mass
            src = (cut[lab] - deg + 2.0 * link[rows, lab]) / src_size - own[lab]
            gain = src[:, None] + (cut[None, :] + deg[:, None] - 2.0 * link) / (size[None, :] + mass[:, None]) \
                - own[None, :]
        gain[rows, lab] = np.inf
        gain[(src_size < bounds.low) | (src_size <= 0)] = np.inf  # the source would fall below its bound
        gain[size[None, :] + mass[:, None] > bounds.high] = np.inf  # the target would rise above its bound
        target = gain.argmin(axis=1)
        best = gain[rows, target]
        tol = 1e-12 * max(float(np.sum(own[size > 0])), 1.0)
        candidates = np.flatnonzero(best < -tol)
        if candidates.size == 0:
            break
        order = candidates[np.argsort(best[candidates], kind="stable")]
        # Exact re-evaluation against the running cuts and sizes (plain floats: one point at a time).
        cut_now, size_now = cut.tolist(), size.tolist()
        src_l, dst_l = lab[order].tolist(), target[order].tolist()
        deg_l, m_l = deg[order].tolist(), mass[order].tolist()
        in_src = link[order, lab[order]].tolist()
        in_dst = link[order, target[order]].tolist()
        locked = np.zeros(p, dtype=bool)
        moved = 0
        for r, i in enumerate(order.tolist()):
            if locked[i]:
                continue
            a, b, d, m = src_l[r], dst_l[r], deg_l[r], m_l[r]
            sa, sb = size_now[a] - m, size_now[b] + m
            if sa < bounds.low or sa <= 0 or sb > bounds.high:
                continue
            ca, cb = cut_now[a] - d + 2.0 * in_src[r], cut_now[b] + d - 2.0 * in_dst[r]
            if ca / sa + cb / sb - cut_now[a] / size_now[a] - cut_now[b] / size_now[b] >= -tol:
                continue
            cut_now[a], cut_now[b], size_now[a], size_now[b] = ca, cb, sa, sb
            lab[i] = b
            moved += 1
            locked[indices[indptr[i]:indptr[i + 1]]] = True
        if moved == 0:
            break
    return lab


def ratiocut_levels(data: Any, weights: Any, n_clusters: int, *, sample_weight: Any = None,
                    min_share: float = DEFAULT_MIN_SHARE, n_init: int = 10,
                    random_state: int | np.random.Generator | None = None) -> np.ndarray:
    """Clusters of the spectral embedding within the size bounds, refined on the graph's RatioCut.

    :func:`balanced_kmeans` of ``data`` (the size-aware k-means started from the best of
    ``n_init`` k-means++ restarts), then :func:`refine_ratiocut` on ``weights`` under the same
    bounds. When the ordinary k-means is within the bounds (or ``min_share=0``) its labels are
    returned unchanged: the bounds cost no cut then, and the levels stay those of the standard
    spectral clustering (on blobs the refinement would trade agreement with the blobs for a
    slightly lower RatioCut of the kNN graph).

    Parameters
    ----------
    data : array-like, shape (P, d)
        Rows of the spectral embedding.
    weights : sparse or dense symmetric matrix, shape (P, P)
        The similarity graph whose RatioCut is lowered.
    n_clusters : int
        T >= 1.
    sample_weight : array-like, shape (P,), optional
        Nodes each point stands for (default 1).
    min_share : float in [0, 1]
        Size bounds [s n/T, (2 - s) n/T].
    n_init, random_state
        Restarts and seed of the k-means.

    Returns
    -------
    ndarray of int, shape (P,)
    """
    x, w, start, t, bounds = _kmeans_start(data, n_clusters, sample_weight, min_share, n_init, random_state)
    if bounds is None or _within(np.bincount(start, weights=w, minlength=t), bounds):
        return start  # nothing bound: the ordinary spectral clustering, unchanged
    labels = _size_aware_lloyd(x, w, start, t, bounds)
    return refine_ratiocut(weights, labels, bounds, sample_weight=w)
