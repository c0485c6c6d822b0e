"""Weighted k-means and the silhouette score, in numpy (no machine-learning library needed).

The classifier needs k-means twice (the last step of the RatioCut spectral partition, and the
paper's k-means baseline) and the silhouette to compare partitions. Both are small enough to
own, which keeps scikit-learn (and its dependencies) out of the runtime install.

**k-means** (:func:`kmeans`) minimizes the inertia sum_i w_i ||x_i - c_{label(i)}||^2:

* *Seeding*: k-means++ (Arthur and Vassilvitskii 2007): the first centre is a point drawn with
  probability proportional to its weight, every next one a point drawn with probability
  proportional to w_i D(x_i)^2, D the distance to the nearest centre chosen so far. As the
  paper suggests in its conclusion (and as scikit-learn does), each step draws
  ``2 + int(log k)`` candidates and keeps the one that lowers the potential sum_i w_i D(x_i)^2
  most ("greedy" k-means++).
* *Lloyd iterations* (Lloyd 1982): assign every point to its nearest centre, move every centre
  to the weighted mean of its points; stop when no label changes or when the squared centre
  shifts sum to at most ``tol`` times the mean variance of the columns (scikit-learn's
  definition, with its defaults ``tol=1e-4``, ``max_iter=300``). After a stop on the tolerance
  the labels are recomputed once, so that they always belong to the returned centres.
* *Empty clusters* (a centre that won no point) are re-seeded as scikit-learn does: with e of
  them, the e points farthest from their own centres each become the centre of one empty
  cluster, leaving their former cluster.
* *Restarts*: ``n_init`` seedings, the run of lowest inertia is kept (the first of equal ones).

Every random draw comes from one :class:`numpy.random.Generator` built from ``random_state``,
so an int seed reproduces the result exactly. Distances are computed in blocks of rows against
the k centres (memory O(block x k), never n x n), so 100,000+ rows are routine. The data are
centred (column means subtracted) before clustering and the centres shifted back, which changes
no distance but keeps the expansion ||x||^2 - 2 x.c + ||c||^2 of the assignment step accurate.

**Silhouette** (:func:`silhouette_score`, Rousseeuw 1987): for point i in cluster A, a(i) is its
mean distance to the other points of A, b(i) the smallest mean distance to the points of another
cluster, s(i) = (b(i) - a(i)) / max(a(i), b(i)), and s(i) = 0 when A = {i}. The score is the
mean of s(i) over the points, or over a seeded sample of them when ``sample_size`` is given
(distances are then within the sample). It needs every pairwise distance, computed in blocks of
rows so that memory stays bounded (about ``_BLOCK_ELEMENTS`` floats).

References
----------
S. P. Lloyd, "Least squares quantization in PCM", IEEE Trans. Information Theory 28(2), 1982.
D. Arthur and S. Vassilvitskii, "k-means++: the advantages of careful seeding", SODA 2007.
P. J. Rousseeuw, "Silhouettes: a graphical aid to the interpretation and validation of cluster
analysis", J. Computational and Applied Mathematics 20, 1987.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from scipy.spatial.distance import cdist

from crowdsense.errors import InputError
from crowdsense.pmcb.features import as_feature_matrix

__all__ = ["KMeansResult", "kmeans", "silhouette_score"]

#: Floats in one block of distances (32 MB): rows per block = this // columns of the block.
_BLOCK_ELEMENTS = 1 << 22

RandomState = int | np.random.Generator | None


@dataclass(frozen=True)
class KMeansResult:
    """Result of :func:`kmeans`.

    Attributes
    ----------
    labels : ndarray of int, shape (n,)
        Cluster of each point, 0..k-1 (the nearest of ``centers``).
    centers : ndarray, shape (k, d)
    inertia : float
        sum_i w_i ||x_i - centers[labels[i]]||^2.
    n_iter : int
        Lloyd iterations of the kept run.
    """

    labels: np.ndarray
    centers: np.ndarray
    inertia: float
    n_iter: int


# ---------------------------------------------------------------------------- validation


def _check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
            or value < low or (high is not None and value > high):
        bound = f"an int in [{low}, {high}]" if high is not None else f"an int >= {low}"
        raise InputError(f"{name} must be {bound}, got {value!r}")
    return int(value)


def _check_weights(sample_weight: Any, n: int) -> np.ndarray:
    if sample_weight is None:
        return np.ones(n)
    try:
        w = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"sample_weight must be {n} numbers >= 0, got {type(sample_weight).__name__}") \
            from None
    if w.shape != (n,) or not np.isfinite(w).all() or (w < 0).any() or not w.sum() > 0:
        raise InputError(f"sample_weight must be {n} finite numbers >= 0 with a positive sum, got "
                         f"{w.size} value(s) of shape {w.shape}, sum {float(np.sum(w))!r}")
    return w


def _check_init(init: Any, k: int, d: int, n_init: int) -> np.ndarray | None:
    """None for k-means++, else the given centres as a (k, d) float matrix."""
    if isinstance(init, str):
        if init != "k-means++":
            raise InputError(f"init must be 'k-means++' or a finite {k} x {d} array of centres, got {init!r}")
        return None
    expected = f"init must be 'k-means++' or a finite {k} x {d} array of centres"
    try:
        centers = np.array(init, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{expected}, got {type(init).__name__}") from None
    if centers.shape != (k, d) or not np.isfinite(centers).all():
        raise InputError(f"{expected}, got shape {centers.shape}")
    if n_init != 1:
        raise InputError(f"n_init must be 1 when init gives the centres (every restart would be the same), "
                         f"got {n_init}")
    return centers


# ------------------------------------------------------------------------------- k-means


def _nearest(x: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Index of the nearest centre of every row, in blocks of rows.

    ||x - c||^2 = ||x||^2 - 2 x.c + ||c||^2, and ||x||^2 does not change which c is nearest:
    one matrix product per block (the rows are centred by :func:`kmeans`, which keeps this
    expansion accurate).
    """
    n, k = x.shape[0], centers.shape[0]
    labels = np.empty(n, dtype=np.int64)
    squared = (centers * centers).sum(axis=1)
    step = max(1, _BLOCK_ELEMENTS // k)
    for start in range(0, n, step):
        block = x[start:start + step] @ centers.T
        block *= -2.0
        block += squared
        labels[start:start + step] = block.argmin(axis=1)
    return labels


def _plusplus(x: np.ndarray, w: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Greedy k-means++ seeding (module docstring): k rows of ``x`` as initial centres."""
    n = x.shape[0]
    trials = 2 + int(np.log(k))
    chosen = [int(rng.choice(n, p=w / w.sum()))]
    closest = cdist(x[chosen], x, "sqeuclidean")[0]
    potential = float(closest @ w)
    for _ in range(1, k):
        targets = rng.uniform(size=trials) * potential
        candidates = np.minimum(np.searchsorted(np.cumsum(w * closest), targets), n - 1)
        with_candidate = np.minimum(closest, cdist(x[candidates], x, "sqeuclidean"))
        potentials = with_candidate @ w
        best = int(np.argmin(potentials))
        chosen.append(int(candidates[best]))
        closest, potential = with_candidate[best], float(potentials[best])
    return x[chosen].copy()


def _update_centers(x: np.ndarray, w: np.ndarray, labels: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Weighted means of the clusters, empty clusters re-seeded from the farthest points."""
    k = centers.shape[0]
    mass = np.bincount(labels, weights=w, minlength=k)
    sums = sp.csr_array((w, (labels, np.arange(labels.size))), shape=(k, labels.size)) @ x
    empty = np.flatnonzero(mass == 0)
    if empty.size:
        far = ((x - centers[labels]) ** 2).sum(axis=1)
        if far.max() > 0:  # else fewer distinct points than clusters: nothing to re-seed from
            for cluster, point in zip(empty, np.argsort(-far, kind="stable")[: empty.size]):
                old = labels[point]
                sums[old] -= w[point] * x[point]
                mass[old] -= w[point]
                sums[cluster] = w[point] * x[point]
                mass[cluster] = w[point]
    filled = mass > 0
    new = np.empty_like(centers)
    new[filled] = sums[filled] / mass[filled, None]
    new[~filled] = new[np.argmax(mass)]  # still empty: parked on the heaviest cluster
    return new


def _lloyd(x: np.ndarray, w: np.ndarray, centers: np.ndarray, max_iter: int,
           tol: float) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Lloyd iterations from ``centers``: labels, centres, inertia and iterations."""
    labels_old = np.full(x.shape[0], -1, dtype=np.int64)
    converged = False
    iteration = 0
    for iteration in range(1, max_iter + 1):
        labels = _nearest(x, centers)
        new = _update_centers(x, w, labels, centers)
        shift = float(((new - centers) ** 2).sum())
        centers = new
        if np.array_equal(labels, labels_old):
            converged = True
            break
        if shift <= tol:
            break
        labels_old = labels
    if not converged:  # the centres moved after the last assignment
        labels = _nearest(x, centers)
    inertia = float(w @ ((x - centers[labels]) ** 2).sum(axis=1))
    return labels, centers, inertia, iteration


def kmeans(data: Any, n_clusters: int, *, sample_weight: Any = None, n_init: int = 10, max_iter: int = 300,
           tol: float = 1e-4, init: Literal["k-means++"] | Any = "k-means++",
           random_state: RandomState = None) -> KMeansResult:
    """Weighted k-means: k-means++ seeding, Lloyd iterations, best of ``n_init`` restarts.

    Parameters
    ----------
    data : array-like, shape (n, d)
        Finite values.
    n_clusters : int
        k, in [1, n]. With fewer than k distinct rows some clusters stay empty.
    sample_weight : array-like, shape (n,), optional
        Weight of each row (>= 0, positive sum); default 1. A row of weight m counts as m
        copies of it.
    n_init : int
        Seedings; the result of lowest inertia is kept. Must be 1 when ``init`` gives centres.
    max_iter : int
        Lloyd iterations per seeding, at most.
    tol : float
        Stop when the squared centre shifts sum to at most ``tol`` times the mean column variance.
    init : "k-means++" or array-like, shape (k, d)
        Seeding, or the initial centres themselves.
    random_state : int, Generator or None
        Source of every random draw; an int reproduces the result.

    Returns
    -------
    KMeansResult

    Raises
    ------
    InputError
        Non-finite data, k outside [1, n], bad weights or parameters.
    """
    x = as_feature_matrix(data)
    n, d = x.shape
    k = _check_int("n_clusters", n_clusters, 1, n)
    n_init = _check_int("n_init", n_init, 1)
    max_iter = _check_int("max_iter", max_iter, 1)
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.integer, np.floating)) \
            or not np.isfinite(tol) or tol < 0:
        raise InputError(f"tol must be a finite number >= 0, got {tol!r}")
    w = _check_weights(sample_weight, n)
    given = _check_init(init, k, d, n_init)
    rng = np.random.default_rng(random_state)
    threshold = float(tol) * float(np.var(x, axis=0).mean())
    mean = x.mean(axis=0)
    x = x - mean
    if given is not None:
        given = given - mean
    best: tuple[np.ndarray, np.ndarray, float, int] | None = None
    for _ in range(n_init):
        start = given if given is not None else _plusplus(x, w, k, rng)
        run = _lloyd(x, w, start, max_iter, threshold)
        if best is None or run[2] < best[2]:
            best = run
    assert best is not None
    labels, centers, inertia, n_iter = best
    return KMeansResult(labels=labels, centers=centers + mean, inertia=inertia, n_iter=n_iter)


# ---------------------------------------------------------------------------- silhouette


def silhouette_score(data: Any, labels: Any, *, sample_size: int | None = None,
                     random_state: RandomState = None) -> float:
    """Mean silhouette (Rousseeuw 1987) of a partition, Euclidean distances (module docstring).

    Parameters
    ----------
    data : array-like, shape (n, d)
        Finite values.
    labels : array-like, shape (n,)
        Cluster of each row (ints, strings: any values numpy can sort).
    sample_size : int, optional
        Score a seeded sample of this many rows (distances within the sample) when it is below
        n; None scores every row.
    random_state : int, Generator or None
        Draws the sample.

    Returns
    -------
    float in [-1, 1]
        Higher: tighter, better separated clusters.

    Raises
    ------
    InputError
        Non-finite data, labels of the wrong length, fewer than 2 clusters among the scored rows.
    """
    x = as_feature_matrix(data)
    n = x.shape[0]
    lab = np.asarray(labels).reshape(-1)
    if lab.size != n:
        raise InputError(f"labels must have one entry per row ({n}), got {lab.size}")
    if sample_size is not None:
        size = _check_int("sample_size", sample_size, 2)
        if size < n:
            rows = np.random.default_rng(random_state).permutation(n)[:size]
            x, lab = x[rows], lab[rows]
    _, dense = np.unique(lab, return_inverse=True)
    dense = dense.reshape(-1)
    order = np.argsort(dense, kind="stable")
    x, dense = x[order], dense[order]
    sizes = np.bincount(dense)
    if sizes.size < 2:
        raise InputError(f"the silhouette needs at least 2 clusters, got {sizes.size} among the {x.shape[0]} "
                         "rows scored")
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    m = x.shape[0]
    total = 0.0
    step = max(1, _BLOCK_ELEMENTS // m)
    for start in range(0, m, step):
        own = dense[start:start + step]
        sums = np.add.reduceat(cdist(x[start:start + step], x), starts, axis=1)
        rows = np.arange(own.size)
        own_size = sizes[own]
        a = sums[rows, own] / np.maximum(own_size - 1, 1)
        means = sums / sizes
        means[rows, own] = np.inf
        b = means.min(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            s = np.nan_to_num((b - a) / np.maximum(a, b))  # a = b = 0: s = 0
        total += float(s[own_size > 1].sum())
    return total / m
