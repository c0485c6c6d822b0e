"""RatioCut spectral partition of node vectors (PMCB Algorithms 2 and 3).

For node vectors x_1..x_n (rows of an n x d matrix) and T clusters, steps 1-5 build the
similarity graph (:mod:`crowdsense.pmcb.similarity`): scale and standardize the vectors, merge
identical ones, a symmetric kNN graph connected by construction, Gaussian similarities with
locally scaled widths, clamped weights. This module cuts it:

6. **RatioCut relaxation** (Algorithm 3): with W the weights, D_W its degree matrix and M the
   diagonal matrix of point weights, minimize tr(H^T L H) subject to H^T M H = I, where
   L = D_W - W is the **unnormalized** Laplacian (not the normalized one of scikit-learn's
   ``SpectralClustering``, which relaxes NCut, not RatioCut). For point weights all 1 this is
   exactly the paper's problem; with merged points, |A| in RatioCut counts nodes. The
   solution is given by the eigenvectors of the T smallest eigenvalues of
   M^{-1/2} L M^{-1/2} (u = M^{1/2} h).
7. **Clusters of comparable size**: k-means on the rows of H (one row per point, weighted by
   its node count), T clusters, ``n_init`` restarts, seeded
   (:func:`crowdsense.pmcb.kmeans.kmeans`), then, when a cluster falls outside
   [s n/T, (2 - s) n/T] (s = ``min_share``, default 0.5: smallest / largest >= 1/3), the
   size-aware k-means of :mod:`crowdsense.pmcb.balance` started from those centres. Even on
   the connected, locally scaled graph RatioCut's relaxation finds cheap cuts around a few
   hundred weakly attached nodes (ego-Facebook T = 5: 1728, 1621, 379, 202 and 109 nodes);
   the paper wants "the number of nodes in each cluster approximately the same", so the
   clusters are kept cells of the same embedding with bounded sizes.
8. **RatioCut refinement** (:func:`crowdsense.pmcb.balance.refine_ratiocut`), when the bounds
   changed the k-means: the size-aware cells cost cut (ego-Facebook T = 5: RatioCut 1.09
   unbounded, 1.87 bounded, against 1.868 for k-means on the scaled node vectors, which never
   sees the graph), so single points move between clusters while that lowers RatioCut on W
   and keeps every size within the bounds (T = 5: 1.44). ``min_share=0`` gives the plain
   k-means of the embedding, unrefined.

The paper's step "y_i = x_i / sqrt(N_i)" is ambiguous (N_i is not defined there); the
eigenvectors used here satisfy the constraint the paper states (Y^T Y = I for unit weights),
which is the standard unnormalized spectral clustering of von Luxburg (2007), Algorithm 1.

References
----------
PMCB paper, section IV.A, equation (1), Algorithms 2 and 3.
U. von Luxburg, "A tutorial on spectral clustering", Statistics and Computing 17(4), 2007.
L. Hagen and A. B. Kahng, "New spectral methods for ratio cut partitioning and clustering",
IEEE TCAD 11(9), 1992.
L. Zelnik-Manor and P. Perona, "Self-tuning spectral clustering", NIPS 2004.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import scipy.linalg
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from crowdsense.errors import CrowdsenseError, InputError
from crowdsense.pmcb.features import as_feature_matrix
from crowdsense.pmcb.balance import DEFAULT_MIN_SHARE, check_min_share, ratiocut, ratiocut_levels
from crowdsense.pmcb.similarity import (
    CONNECT_MODES,
    DECIMALS,
    DEFAULT_MAX_POINTS,
    SCALINGS,
    SIGMA_HEURISTICS,
    DisconnectedSimilarityWarning,
    SimilarityGraph,
    _check_int,
    merge_points,
    similarity_graph,
    standardize,
)

#: The similarity graph's names are offered here too: a partition is what they are for.
__all__ = [
    "SpectralPartition",
    "PartitionError",
    "ratiocut_embedding",
    "spectral_partition",
    "ratiocut",
    "DECIMALS", "DEFAULT_MAX_POINTS", "SIGMA_HEURISTICS", "SCALINGS", "CONNECT_MODES",
    "SimilarityGraph", "DisconnectedSimilarityWarning", "standardize", "merge_points", "similarity_graph",
]

#: At most this many points: dense eigensolver (exact, and fast at this size).
DENSE_MAX_POINTS = 1500


class PartitionError(CrowdsenseError, RuntimeError):
    """The spectral partition could not produce T non-empty clusters."""


@dataclass(frozen=True)
class SpectralPartition:
    """Result of :func:`spectral_partition`.

    Attributes
    ----------
    labels : ndarray of int, shape (n,)
        Cluster of each node, 0..T-1, numbered in order of first appearance in node order.
    similarity : SimilarityGraph
    eigenvalues : ndarray
        The smallest eigenvalues of M^{-1/2} L M^{-1/2}: T of them, plus the (T+1)-th when
        there are more than T points (a gap lambda_{T+1} - lambda_T near 0 means the T-way
        partition is not well determined).
    embedding : ndarray, shape (P, T)
        Rows clustered by k-means (one per point).
    solver : str
        Eigensolver used ("dense", "shift-invert" or "lobpcg").
    timings : dict
        Seconds spent in each step ("similarity", "eigenvectors", "k-means").
    """

    labels: np.ndarray
    similarity: SimilarityGraph
    eigenvalues: np.ndarray
    embedding: np.ndarray
    solver: str
    timings: dict[str, float]

    @property
    def n_clusters(self) -> int:
        return int(self.embedding.shape[1])

    @property
    def eigengap(self) -> float | None:
        ev = self.eigenvalues
        return float(ev[self.n_clusters] - ev[self.n_clusters - 1]) if ev.size > self.n_clusters else None


# ------------------------------------------------------------------------------ RatioCut


def ratiocut_embedding(sim: SimilarityGraph, *, n_clusters: int,
                       random_state: int | np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray, str]:
    """Eigenvalues and H (P x T) of the weighted RatioCut relaxation (module docstring, step 6).

    Returns the ``min(T + 1, P)`` smallest eigenvalues, the T eigenvectors h = M^{-1/2} u as
    columns, and the solver name. Small problems use a dense solver; larger ones ARPACK in
    shift-invert mode around a small negative shift (L + eps I is positive definite, so its
    factorization is safe), falling back to LOBPCG if that fails.
    """
    p = sim.n_points
    t = _check_int("n_clusters", n_clusters, 2, p)
    k = min(t + 1, p)
    mult = sim.multiplicity.astype(np.float64)
    inv_sqrt_m = 1.0 / np.sqrt(mult)
    lap = sim.laplacian()
    ls = sp.csr_array(sp.diags_array(inv_sqrt_m) @ lap @ sp.diags_array(inv_sqrt_m))
    ls = (ls + ls.T) * 0.5  # exact symmetry for the solvers
    rng = np.random.default_rng(random_state)
    if p <= DENSE_MAX_POINTS or k >= p - 1:
        vals, vecs = scipy.linalg.eigh(ls.toarray(), subset_by_index=[0, k - 1])
        solver = "dense"
    else:
        scale = float(np.abs(ls.diagonal()).max()) or 1.0
        v0 = rng.uniform(0.5, 1.5, size=p)
        try:
            vals, vecs = spla.eigsh(sp.csc_array(ls), k=k, sigma=-1e-6 * scale, which="LM", v0=v0,
                                    ncv=min(p, max(2 * k + 1, 20)), maxiter=p * 10)
            solver = "shift-invert"
        except (RuntimeError, MemoryError, spla.ArpackError):
            x0 = rng.standard_normal((p, k))
            precond = sp.diags_array(1.0 / np.maximum(ls.diagonal(), 1e-12 * scale))
            vals, vecs = spla.lobpcg(ls, x0, M=precond, largest=False, tol=1e-8, maxiter=2000)
            solver = "lobpcg"
        order = np.argsort(vals)
        vals, vecs = vals[order], vecs[:, order]
    vals = np.maximum(vals, 0.0)
    h = vecs[:, :t] * inv_sqrt_m[:, None]
    return vals, h, solver


def spectral_partition(features: Any, *, n_clusters: int, n_neighbors: int = 10, sigma: float | str = "local",
                       random_state: int | np.random.Generator | None = None, n_init: int = 10,
                       progress: Callable[[str], None] | None = None, connect: str = "grow",
                       scaling: str = "log", min_share: float = DEFAULT_MIN_SHARE,
                       max_points: int | None = DEFAULT_MAX_POINTS) -> SpectralPartition:
    """Partition nodes into T clusters by RatioCut spectral clustering (paper Algorithms 2-3).

    Parameters
    ----------
    features : NodeFeatures or array-like, shape (n, d)
        Node vectors.
    n_clusters : int
        T, in [2, number of distinct vectors].
    n_neighbors : int
        K of the kNN similarity graph (>= 1; the smallest K tried with ``connect="grow"``).
    sigma : float or {"local", "max-knn", "median-knn"}
        Gaussian width (standardized units) or its heuristic (see :func:`similarity_graph`).
    random_state : int, Generator or None
        Seeds the eigensolver's start vector and k-means; an int reproduces the result.
    n_init : int
        k-means restarts (the best inertia is kept).
    progress : callable, optional
        Called with the step name after each step ("similarity", "eigenvectors", "k-means";
        the last includes the size bounds and the RatioCut refinement).
    connect : {"grow", "bridge"}
        How the kNN graph is made connected (:func:`similarity_graph`).
    scaling : {"log", "none"}
        Feature scaling before standardizing (:func:`similarity_graph`).
    min_share : float in [0, 1]
        Each cluster holds between ``min_share`` and ``2 - min_share`` times n / T nodes
        (module docstring, step 7); 0: plain k-means of the embedding.
    max_points : int or None
        Most points of the similarity graph (:func:`similarity_graph`).

    Returns
    -------
    SpectralPartition

    Raises
    ------
    InputError
        T outside [2, n] or above the number of distinct vectors, K < 1, bad features.
    PartitionError
        k-means found fewer than T distinct clusters in the embedding.
    """
    x = as_feature_matrix(features)
    n = x.shape[0]
    t = _check_int("n_clusters", n_clusters, 2, n)
    _check_int("n_init", n_init, 1)
    share = check_min_share(min_share)
    timings: dict[str, float] = {}

    def done(step: str, since: float) -> float:
        now = time.perf_counter()
        timings[step] = now - since
        if progress is not None:
            progress(step)
        return now

    clock = time.perf_counter()
    sim = similarity_graph(x, n_neighbors=n_neighbors, sigma=sigma, connect=connect, scaling=scaling,
                           max_points=max_points)
    clock = done("similarity", clock)
    if t > sim.n_points:
        raise InputError(f"n_clusters={t} but the {n} nodes have only {sim.n_points} distinct node vectors "
                         f"(nodes with equal vectors always share a level); use at most {sim.n_points}")
    seeds = np.random.default_rng(random_state).integers(0, 2**31 - 1, size=2)
    vals, h, solver = ratiocut_embedding(sim, n_clusters=t, random_state=int(seeds[0]))
    clock = done("eigenvectors", clock)
    point_labels = ratiocut_levels(h, sim.weights, t, sample_weight=sim.multiplicity.astype(np.float64),
                                   min_share=share, n_init=n_init, random_state=int(seeds[1]))
    node_labels = point_labels[sim.point_of_node]
    done("k-means", clock)
    found = np.unique(node_labels).size
    if found < t:
        raise PartitionError(f"k-means found only {found} distinct clusters for n_clusters={t} in the spectral "
                             "embedding; use fewer levels or more neighbours")
    # Canonical numbering: by first appearance in node order.
    _, first = np.unique(node_labels, return_index=True)
    rank = np.empty(t, dtype=np.int64)
    rank[np.argsort(first)] = np.arange(t)
    return SpectralPartition(labels=rank[node_labels], similarity=sim, eigenvalues=vals, embedding=h, solver=solver,
                             timings=timings)
