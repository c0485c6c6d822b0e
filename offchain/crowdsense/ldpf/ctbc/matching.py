"""The platform's matching and selection (LDPF section 4.2, Step 4, Cases 1 and 2).

The platform knows, per group, the committed centre (UD, transformed coordinates) and which
uploads (users, by pseudonymous index) belong to it; it knows the transformed task centre,
region of interest and the number N of users the task needs. It never sees a member position.

1. **Region of interest**: groups whose centre lies outside the task's rectangle are dropped.
2. **Matching degree** of a group: ``1 / (1 + RMSE(centre, task centre))`` with
   ``RMSE(u, v) = sqrt(((u_x - v_x)^2 + (u_y - v_y)^2) / 2)`` (the root mean square of the two
   coordinate differences, = distance / sqrt 2); 1 at the task centre, falling with distance.
3. **Order**: groups by degree, best first (ties: lower group number first). Members of a group
   are put in a uniformly random order (the platform cannot, and must not, tell them apart),
   which gives one candidate queue.
4. **Case 1** (the best group has >= N members): the first N of the queue are N members of the
   best group drawn at random. **Case 2** (fewer): whole groups are taken in order and the last
   one contributes a random subset, until N. Both are "the first N of the queue".
5. **Reveal and replace**: each selected user must open its commitment; a user whose reveal
   fails or never comes is excluded and the next candidate in the queue takes its place.

References
----------
LDPF, section 4.2, Step 4 (equations (7)-(8), Cases 1-2) and Step 5; Algorithm 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from crowdsense.ldpf.ctbc._validation import RandomState, as_point, as_points, check_random_state
from crowdsense.ldpf.ctbc.errors import NotEnoughCandidatesError, SelectionShortfallError
from crowdsense.ldpf.ctbc.geometry import Task
from crowdsense.errors import InputError

__all__ = ["matching_degree", "Candidates", "Selection", "rank_candidates", "fill_selection"]

_SQRT2 = math.sqrt(2.0)


def matching_degree(centres: object, task_center: object) -> np.ndarray:
    """``1 / (1 + RMSE(centre, task centre))`` for each centre (LDPF eq. 8).

    RMSE over the two coordinates: ``sqrt((dx^2 + dy^2) / 2) = ||centre - task|| / sqrt(2)``.
    """
    c = as_points(centres, "centres")
    t = as_point(task_center, "task center")
    rmse = np.hypot(c[:, 0] - t[0], c[:, 1] - t[1]) / _SQRT2
    return 1.0 / (1.0 + rmse)


@dataclass(frozen=True)
class Candidates:
    """The ranked candidates of one task: the output of :func:`rank_candidates`."""

    #: candidate users, best first (members of the best group first, in random order)
    queue: np.ndarray
    #: group of each queued user
    queue_groups: np.ndarray
    #: groups inside the region of interest, best first
    group_order: np.ndarray
    #: matching degree of every group (also those outside the region)
    degree: np.ndarray
    #: which groups lie in the region of interest
    in_region: np.ndarray
    #: 1 if the best group alone has N members, else 2
    case: int
    n_required: int


@dataclass(frozen=True)
class Selection:
    """The verified selection of one task."""

    #: the N selected users whose openings verified, in selection order
    users: np.ndarray
    #: group of each selected user
    groups: np.ndarray
    #: users that were asked to reveal and failed or did not answer, in order
    failed: tuple[int, ...]
    case: int
    n_required: int

    @property
    def n_asked(self) -> int:
        return len(self.users) + len(self.failed)


def rank_candidates(
    centres: object,
    labels: object,
    task: Task,
    *,
    random_state: RandomState = None,
) -> Candidates:
    """Filter groups by the region of interest, rank them, and build the candidate queue.

    Parameters
    ----------
    centres : array-like, shape (G, 2)
        Group centres as committed (UD), in the task's coordinates (transformed for CTBC).
    labels : array-like of int, shape (n,)
        Group number (0..G-1) of each user's upload.
    task : Task
        The task in the same coordinates.
    random_state : None, int or numpy Generator
        Source of the random order of members inside a group.

    Raises
    ------
    NotEnoughCandidatesError
        When the region of interest holds fewer than N users.
    """
    c = as_points(centres, "centres")
    lab = np.asarray(labels)
    if lab.ndim != 1 or not np.issubdtype(lab.dtype, np.integer):
        raise InputError(f"labels must be a 1-D integer array, got dtype {lab.dtype} shape {lab.shape}")
    if lab.size and (lab.min() < 0 or lab.max() >= c.shape[0]):
        raise InputError(f"labels must be in [0, {c.shape[0]}) (one per group centre), "
                         f"got range [{lab.min()}, {lab.max()}]")
    if not isinstance(task, Task):
        raise InputError(f"task must be a Task, got {type(task).__name__}")
    rng = check_random_state(random_state)
    n_groups = c.shape[0]

    in_region = task.region.contains(c)
    degree = matching_degree(c, task.center)
    inside = np.flatnonzero(in_region)
    group_order = inside[np.argsort(-degree[inside], kind="stable")]
    sizes = np.bincount(lab, minlength=n_groups)
    n_candidates = int(sizes[group_order].sum())
    if n_candidates < task.n_required:
        raise NotEnoughCandidatesError(task.n_required, n_candidates, int(group_order.size))

    rank = np.full(n_groups, n_groups, dtype=np.int64)
    rank[group_order] = np.arange(group_order.size)
    users = np.flatnonzero(in_region[lab])
    # primary key: the group's rank; secondary: a random key (random order inside a group)
    order = np.lexsort((rng.random(users.size), rank[lab[users]]))
    queue = users[order]
    case = 1 if sizes[group_order[0]] >= task.n_required else 2
    return Candidates(queue, lab[queue], group_order, degree, in_region, case, task.n_required)


def fill_selection(candidates: Candidates, verify: Callable[[int], bool]) -> Selection:
    """Ask candidates in queue order to reveal until N have verified openings.

    Parameters
    ----------
    candidates : Candidates
        From :func:`rank_candidates`.
    verify : callable(user) -> bool
        Runs the user's reveal and the platform's check; False (or an exception of this
        package, which the caller should turn into False) excludes the user.

    Raises
    ------
    SelectionShortfallError
        When the queue runs out before N users verified; ``.selection`` holds the partial result.
    """
    n = candidates.n_required
    chosen: list[int] = []
    groups: list[int] = []
    failed: list[int] = []
    for user, group in zip(candidates.queue.tolist(), candidates.queue_groups.tolist()):
        if len(chosen) == n:
            break
        if verify(user):
            chosen.append(user)
            groups.append(group)
        else:
            failed.append(user)
    selection = Selection(np.asarray(chosen, dtype=np.int64), np.asarray(groups, dtype=np.int64),
                          tuple(failed), candidates.case, n)
    if len(chosen) < n:
        raise SelectionShortfallError(n, selection)
    return selection
