"""k-anonymity groups by MDAV microaggregation, and the uploaded data UD (group centres).

Algorithm (MDAV, "maximum distance to average vector"): while at least 3k users are left,
take the user r farthest from the centroid of those left and make a group of r and its k-1
nearest remaining neighbours; then take the user s farthest from r and do the same for s.
With 2k..3k-1 users left, make one more group around the user farthest from the centroid and
put the rest (k..2k-1 users) in a last group; with fewer than 2k left, they form one group.
Hence every group has k members, except the last one, which has k..2k-1.

Why MDAV: it is the standard fixed-size microaggregation heuristic for k-anonymity, its groups
are spatially tight (each is a point and its nearest neighbours, working inwards from the
outskirts so that no stragglers are left for a last, wide group), and it uses only distances
and means. Distances are kept by a rigid motion and means move with it, so grouping the
*transformed* positions gives the same groups as grouping the real ones (Proposition 1): the
edge anonymizer can do it without seeing a real coordinate. Cost O(n^2 / k), vectorised.

The group centre is the mean of its members' transformed positions (LDPF eq. 6), and UD, the
uploaded data, is the list of group centres: every member of a group uploads its group's centre.

References
----------
J. Domingo-Ferrer and J. M. Mateo-Sanz, "Practical data-oriented microaggregation for
statistical disclosure control", IEEE TKDE 14(1), 2002.
J. Domingo-Ferrer and V. Torra, "Ordinal, continuous and heterogeneous k-anonymity through
microaggregation", Data Min. Knowl. Discov. 11(2), 2005.
LDPF, section 4.2, Step 3 (upload data), equations (5)-(6).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crowdsense.ldpf.ctbc._validation import as_points, check_k

__all__ = ["Grouping", "mdav_labels", "group_centres", "k_anonymity_groups"]


def mdav_labels(points: object, *, k: int) -> np.ndarray:
    """Partition ``points`` into groups of k (the last of k..2k-1) with MDAV.

    Parameters
    ----------
    points : array-like, shape (n, 2)
        Positions (real or transformed; the result is the same up to floating-point ties).
    k : int
        Anonymity level, >= 2 and <= n.

    Returns
    -------
    labels : ndarray of int, shape (n,)
        Group number of each point, 0..G-1 in the order the groups were formed.
    """
    p = as_points(points)
    n = p.shape[0]
    k = check_k(k, n)
    labels = np.empty(n, dtype=np.int64)
    # Points as complex numbers x + iy: |z - w| is the Euclidean distance, and one array
    # instead of two halves the per-step numpy calls (the loop is call-overhead bound).
    idx = np.arange(n)
    z = p[:, 0] + 1j * p[:, 1]
    g = 0

    def k_nearest(i: int) -> np.ndarray:
        d = np.abs(z - z[i])
        d[i] = -1.0  # i always belongs to its own group, even among duplicates
        if k >= d.size:
            return np.arange(d.size)
        return np.argpartition(d, k - 1)[:k]

    def take(members: np.ndarray) -> None:
        nonlocal idx, z, g
        labels[idx[members]] = g
        g += 1
        keep = np.ones(idx.size, dtype=bool)
        keep[members] = False
        idx, z = idx[keep], z[keep]

    while idx.size >= 3 * k:
        r = int(np.argmax(np.abs(z - z.mean())))  # farthest from the centroid
        zr = z[r]
        take(k_nearest(r))
        s = int(np.argmax(np.abs(z - zr)))  # farthest from r
        take(k_nearest(s))
    if idx.size >= 2 * k:
        take(k_nearest(int(np.argmax(np.abs(z - z.mean())))))
    if idx.size:
        take(np.arange(idx.size))
    return labels


def group_centres(points: object, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Member means and sizes of the groups: ``(centres (G, 2), sizes (G,))``."""
    p = as_points(points)
    labels = np.asarray(labels)
    sizes = np.bincount(labels)
    centres = np.empty((sizes.size, 2))
    centres[:, 0] = np.bincount(labels, weights=p[:, 0]) / sizes
    centres[:, 1] = np.bincount(labels, weights=p[:, 1]) / sizes
    return centres, sizes


@dataclass(frozen=True)
class Grouping:
    """A k-anonymous partition: labels per user, and centre and size per group."""

    labels: np.ndarray
    centres: np.ndarray
    sizes: np.ndarray
    k: int

    @property
    def n_groups(self) -> int:
        return int(self.sizes.size)

    def members(self, group: int) -> np.ndarray:
        return np.flatnonzero(self.labels == group)


def k_anonymity_groups(points: object, *, k: int) -> Grouping:
    """Group ``points`` with :func:`mdav_labels` and compute the group centres (UD)."""
    labels = mdav_labels(points, k=k)
    centres, sizes = group_centres(points, labels)
    return Grouping(labels, centres, sizes, int(k))
