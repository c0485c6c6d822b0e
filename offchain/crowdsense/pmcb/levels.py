"""Security levels from clusters: cluster influence (PMCB eq. 2) and its ranking.

For a cluster C of nodes with vectors x_v = <D, BC, Lc, I_f> (paper section IV.A.4):

    AD  = sum_{v in C} D_v / |C|       ALC = sum_{v in C} Lc_v / |C|
    ABC = sum_{v in C} BC_v / |C|      AIF = sum_{v in C} I_f_v / |C|
    I_C = AD + ALC + ABC + AIF                                    (paper eq. 2)

Clusters are ranked by I: the least influential gets level 1 and the most influential level
T ("the greater the influence, the higher the security level"), so the levels are exactly
1..T, one per cluster. Exact ties in I (possible only for clusters with equal means) are
broken by the position of each cluster's first node, so the result is deterministic.

``influence="normalized"`` is an optional variant: each feature is first min-max scaled to
[0, 1] over all nodes, so that the degree (tens to thousands) does not decide the ranking on
its own; the paper's unscaled sum is the default.

References
----------
PMCB paper, section IV.A.4, equation (2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from crowdsense.errors import InputError
from crowdsense.pmcb.features import FEATURE_NAMES, as_feature_matrix

__all__ = [
    "INFLUENCE_VARIANTS",
    "ClusterInfluence",
    "LevelAssignment",
    "cluster_influence",
    "assign_levels",
]

INFLUENCE_VARIANTS = ("paper", "normalized")
Influence = Literal["paper", "normalized"]


@dataclass(frozen=True)
class ClusterInfluence:
    """Influence terms of one cluster (means over its nodes) and the level it receives."""

    level: int
    size: int
    AD: float
    ALC: float
    ABC: float
    AIF: float
    I: float  # noqa: E741 - the paper's symbol

    def as_dict(self) -> dict[str, Any]:
        return {"level": self.level, "size": self.size, "AD": self.AD, "ALC": self.ALC, "ABC": self.ABC,
                "AIF": self.AIF, "I": self.I}


@dataclass(frozen=True)
class LevelAssignment:
    """Levels of nodes and the influence of each cluster.

    Attributes
    ----------
    levels : ndarray of int, shape (n,)
        Level of each node, in 1..T.
    clusters : tuple of ClusterInfluence
        One per level, ordered by level (clusters[l - 1].level == l).
    level_of_label : ndarray of int, shape (T,)
        Level given to each input cluster label.
    influence : str
        "paper" or "normalized".
    """

    levels: np.ndarray
    clusters: tuple[ClusterInfluence, ...]
    level_of_label: np.ndarray
    influence: str


def _labels(labels: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    lab = np.asarray(labels)
    if lab.shape != (n,) or not np.issubdtype(lab.dtype, np.integer):
        raise InputError(f"labels must be {n} integers (one cluster per node), got shape {lab.shape}, "
                         f"dtype {lab.dtype}")
    uniq, dense = np.unique(lab, return_inverse=True)
    if uniq.size < 2:
        raise InputError(f"need at least 2 clusters to assign levels, got {uniq.size}")
    return uniq, dense.reshape(-1)


def cluster_influence(features: Any, labels: Any, *, influence: Influence = "paper") -> np.ndarray:
    """Per-cluster means (AD, ALC, ABC, AIF) and I, as a (T, 5) array ordered by sorted label.

    Parameters
    ----------
    features : NodeFeatures or array-like, shape (n, 4)
        Columns D, BC, Lc, I_f.
    labels : array-like of int, shape (n,)
        Cluster of each node.
    influence : {"paper", "normalized"}
        Raw means (eq. 2), or means of min-max scaled features.
    """
    if influence not in INFLUENCE_VARIANTS:
        raise InputError(f"influence must be one of {INFLUENCE_VARIANTS}, got {influence!r}")
    x = as_feature_matrix(features, len(FEATURE_NAMES))
    _, dense = _labels(labels, x.shape[0])
    if influence == "normalized":
        low, high = x.min(axis=0), x.max(axis=0)
        span = np.where(high > low, high - low, 1.0)
        x = (x - low) / span
    t = int(dense.max()) + 1
    size = np.bincount(dense, minlength=t).astype(np.float64)
    sums = np.vstack([np.bincount(dense, weights=x[:, j], minlength=t) for j in range(4)]).T
    means = sums / size[:, None]
    # columns of x are D, BC, Lc, I_f; report AD, ALC, ABC, AIF as in the paper
    ad, abc, alc, aif = means[:, 0], means[:, 1], means[:, 2], means[:, 3]
    return np.column_stack([ad, alc, abc, aif, ad + alc + abc + aif])


def assign_levels(features: Any, labels: Any, *, influence: Influence = "paper") -> LevelAssignment:
    """Rank clusters by influence I (eq. 2): most influential -> level T, least -> level 1.

    Parameters
    ----------
    features : NodeFeatures or array-like, shape (n, 4)
        Node vectors <D, BC, Lc, I_f>.
    labels : array-like of int, shape (n,)
        Cluster of each node (any integers; T = number of distinct labels).
    influence : {"paper", "normalized"}
        See the module docstring.

    Returns
    -------
    LevelAssignment
    """
    x = as_feature_matrix(features, len(FEATURE_NAMES))
    uniq, dense = _labels(labels, x.shape[0])
    terms = cluster_influence(x, dense, influence=influence)
    t = uniq.size
    first = np.full(t, x.shape[0])
    np.minimum.at(first, dense, np.arange(x.shape[0]))
    order = np.lexsort((first, terms[:, 4]))  # ascending I, ties by first node
    level_of = np.empty(t, dtype=np.int64)
    level_of[order] = np.arange(1, t + 1)
    size = np.bincount(dense, minlength=t)
    clusters = tuple(
        ClusterInfluence(level=int(level_of[c]), size=int(size[c]), AD=float(terms[c, 0]), ALC=float(terms[c, 1]),
                         ABC=float(terms[c, 2]), AIF=float(terms[c, 3]), I=float(terms[c, 4]))
        for c in order
    )
    return LevelAssignment(levels=level_of[dense], clusters=clusters, level_of_label=level_of, influence=influence)

