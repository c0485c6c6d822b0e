"""The k-anonymity baseline: a trusted anonymizer that sees real coordinates.

This is the classic centralised scheme CTBC is compared with (LDPF section 5, Table 3): users
send their real positions to an anonymizer, which must be trusted with all of them; it forms
k-anonymity groups and passes the platform one cloaked location per user; the platform
matches on those, in real coordinates, with no transform and no commitments (so nothing stops
a user from changing its data afterwards).

Two anonymizers are offered:

``"mdav"`` (default)
    The same MDAV partition and the same matching and selection as CTBC
    (:mod:`crowdsense.ldpf.ctbc.grouping`, :mod:`crowdsense.ldpf.ctbc.matching`), on real coordinates. This
    isolates what CTBC adds (the transform, the UD encoding and the commitments: the paper's
    cost model (k + 2) n vs k n) and, by Proposition 1, selects the same users with the same
    drift as CTBC up to the 1 um rounding of UD.
``"knn"``
    Per-user cloaking: each user's location is replaced by the mean of its own and its k - 1
    nearest neighbours' positions (a cloak of k users that is centred on the user's
    neighbourhood rather than a shared group), and the platform ranks users individually by
    the matching degree of their cloak. Cloaks overlap, so it is not a partition; it is the
    usual trusted-anonymizer "k nearest neighbours" cloaking and has lower drift than a
    partition, at the price of cloaks that can single a user out when intersected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.spatial import cKDTree

from crowdsense.ldpf.ctbc._validation import RandomState, as_points, check_k, check_random_state
from crowdsense.ldpf.ctbc.geometry import Task
from crowdsense.ldpf.ctbc.grouping import k_anonymity_groups
from crowdsense.ldpf.ctbc.matching import Candidates, Selection, fill_selection, rank_candidates
from crowdsense.ldpf.ctbc.metrics import DriftStats, drift_degree
from crowdsense.errors import InputError

__all__ = ["BaselineResult", "knn_cloaks", "kanonymity_baseline"]

Method = Literal["mdav", "knn"]


@dataclass(frozen=True)
class BaselineResult:
    """Selection and drift of the baseline (real coordinates throughout)."""

    selection: Selection
    candidates: Candidates
    #: the location each user was matched on (group centre or cloak centre), shape (n, 2)
    cloaked: np.ndarray
    drift: DriftStats
    method: str


def knn_cloaks(points: object, *, k: int) -> np.ndarray:
    """Mean of each point and its k - 1 nearest other points, shape (n, 2)."""
    p = as_points(points)
    k = check_k(k, p.shape[0])
    _, idx = cKDTree(p).query(p, k=k)
    return p[idx].mean(axis=1)


def kanonymity_baseline(
    positions: object,
    task: Task,
    *,
    k: int,
    method: Method = "mdav",
    random_state: RandomState = None,
) -> BaselineResult:
    """Run the trusted-anonymizer baseline on real ``positions`` for a real-coordinate ``task``.

    Parameters
    ----------
    positions : array-like, shape (n, 2)
        Real positions; the anonymizer sees all of them.
    task : Task
        The task, in real coordinates.
    k : int
        Anonymity level, 2 <= k <= n.
    method : {"mdav", "knn"}
        The anonymizer, see the module docstring.
    random_state : None, int or numpy Generator
        Random order inside groups, as in CTBC.
    """
    p = as_points(positions, "positions")
    k = check_k(k, p.shape[0])
    if not isinstance(task, Task):
        raise InputError(f"task must be a Task, got {type(task).__name__}")
    rng = check_random_state(random_state)
    if method == "mdav":
        grouping = k_anonymity_groups(p, k=k)
        centres, labels = grouping.centres, grouping.labels
        cloaked = centres[labels]
    elif method == "knn":
        cloaked = knn_cloaks(p, k=k)
        centres, labels = cloaked, np.arange(p.shape[0])
    else:
        raise InputError(f"method must be 'mdav' or 'knn', got {method!r}")
    candidates = rank_candidates(centres, labels, task, random_state=rng)
    # No commitments: whoever is asked is taken.
    selection = fill_selection(candidates, lambda user: True)
    drift = drift_degree(p[selection.users], cloaked[selection.users])
    return BaselineResult(selection, candidates, cloaked, drift, method)
