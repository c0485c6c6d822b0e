"""Errors raised by CTBC.

Bad input derives from :class:`crowdsense.errors.InputError` (itself a ``ValueError``), so a
caller can catch one type for "you asked for something impossible". The commitment board's
errors are those of :mod:`crowdsense.commitments.errors`, shared with PDC and the chain.
"""

from __future__ import annotations

from crowdsense.commitments.errors import CommitmentError
from crowdsense.errors import CrowdsenseError, InputError

__all__ = [
    "AnonymityLevelError",
    "NotEnoughUsersError",
    "NonFiniteCoordinatesError",
    "InvalidRegionError",
    "NotEnoughCandidatesError",
    "SelectionShortfallError",
    "StaleOpeningError",
]


# ----------------------------------------------------------------------------- bad input


class AnonymityLevelError(InputError):
    """The anonymity level k is not an integer >= 2 (k = 1 would publish single users)."""

    def __init__(self, k: object) -> None:
        super().__init__(f"k must be an integer >= 2 (k = 1 gives no anonymity), got {k!r}")
        self.k = k


class NotEnoughUsersError(InputError):
    """Fewer users than k: no group of k users can be formed."""

    def __init__(self, n_users: int, k: int) -> None:
        super().__init__(f"k-anonymity with k={k} needs at least {k} users, got {n_users}")
        self.n_users = n_users
        self.k = k


class NonFiniteCoordinatesError(InputError):
    """A coordinate is NaN or infinite."""

    def __init__(self, name: str, count: int, first: int) -> None:
        super().__init__(
            f"{name} must be finite, got {count} NaN/infinite coordinate(s) (first in row {first})"
        )
        self.count = count
        self.first = first


class InvalidRegionError(InputError):
    """A region of interest that is empty (zero width or height) or inverted (min > max)."""


class NotEnoughCandidatesError(InputError):
    """The task asks for more users than the region of interest holds."""

    def __init__(self, n_required: int, n_candidates: int, n_groups: int) -> None:
        super().__init__(
            f"the task needs N={n_required} users, but only {n_candidates} user(s) in "
            f"{n_groups} group(s) lie in the region of interest; enlarge the region or lower N"
        )
        self.n_required = n_required
        self.n_candidates = n_candidates
        self.n_groups = n_groups


class SelectionShortfallError(CrowdsenseError, RuntimeError):
    """Too many selected users failed to reveal: the candidate list ran out before N verified.

    ``selection`` holds what was verified so far (a :class:`crowdsense.ldpf.ctbc.matching.Selection`).
    """

    def __init__(self, n_required: int, selection: object) -> None:
        verified = len(getattr(selection, "users", ()))
        failed = len(getattr(selection, "failed", ()))
        super().__init__(
            f"only {verified} of the N={n_required} required users could be verified; "
            f"{failed} candidate(s) failed or missed their reveal and no candidate is left"
        )
        self.n_required = n_required
        self.selection = selection


# ---------------------------------------------------------------------- secret store


class StaleOpeningError(CommitmentError):
    """The secret store holds an opening for the same key but a different payload.

    Committing again would leave two commitments for one (epoch, user); the caller must decide
    (normally: a new epoch, hence a new key).
    """

    fields = ("key",)
    template = ("the secret store already holds an opening under {key!r} for a different payload; "
                "refusing to overwrite it (use a new epoch)")
