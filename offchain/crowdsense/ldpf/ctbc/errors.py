"""Errors raised by CTBC.

Bad input derives from :class:`crowdsense.errors.InputError` (itself a ``ValueError``), so a
caller can catch one type for "you asked for something impossible". Commitment-board errors
mirror the custom errors of ``CommitmentVerifier`` one to one, so an on-chain board can decode
a revert into the same exception an in-memory board raises.
"""

from __future__ import annotations

from crowdsense.errors import CrowdsenseError, InputError

__all__ = [
    "AnonymityLevelError",
    "NotEnoughUsersError",
    "NonFiniteCoordinatesError",
    "InvalidRegionError",
    "NotEnoughCandidatesError",
    "SelectionShortfallError",
    "BitCommitmentError",
    "BitZeroCommitmentError",
    "BitCommitmentExistsError",
    "BitCommitmentNotFoundError",
    "BitNotCommitterError",
    "BitAlreadyRevealedError",
    "BitOpeningMismatchError",
    "BitPayloadLengthError",
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


# ---------------------------------------------------------------------- commitment board


class BitCommitmentError(CrowdsenseError):
    """A bit-commitment operation broke a rule of ``CommitmentVerifier``."""


class BitZeroCommitmentError(BitCommitmentError, InputError):
    """``CommitmentVerifierZeroCommitment``: the all-zero hash marks "no record"."""

    def __init__(self) -> None:
        super().__init__("the zero commitment cannot be recorded (it marks an empty slot)")


class BitCommitmentExistsError(BitCommitmentError):
    """``CommitmentVerifierAlreadyCommitted``: a commitment is recorded once only."""

    def __init__(self, commitment: bytes) -> None:
        super().__init__(f"commitment 0x{commitment.hex()} is already recorded")
        self.commitment = commitment


class BitCommitmentNotFoundError(BitCommitmentError):
    """``CommitmentVerifierNotFound``: nothing was committed under this hash."""

    def __init__(self, commitment: bytes) -> None:
        super().__init__(f"no bit commitment 0x{commitment.hex()} is recorded")
        self.commitment = commitment


class BitNotCommitterError(BitCommitmentError):
    """``CommitmentVerifierNotCommitter``: only the committer may open its commitment."""

    def __init__(self, commitment: bytes, caller: str) -> None:
        super().__init__(f"{caller} did not commit 0x{commitment.hex()} and may not open it")
        self.commitment = commitment
        self.caller = caller


class BitAlreadyRevealedError(BitCommitmentError):
    """``CommitmentVerifierAlreadyRevealed``: a commitment is opened once only."""

    def __init__(self, commitment: bytes) -> None:
        super().__init__(f"commitment 0x{commitment.hex()} was already revealed")
        self.commitment = commitment


class BitOpeningMismatchError(BitCommitmentError):
    """``CommitmentVerifierOpeningMismatch``: keccak256(r1, r2, payload) != commitment."""

    def __init__(self, commitment: bytes, computed: bytes) -> None:
        super().__init__(
            f"opening does not match commitment 0x{commitment.hex()}: it hashes to 0x{computed.hex()}"
        )
        self.commitment = commitment
        self.computed = computed


class BitPayloadLengthError(BitCommitmentError, InputError):
    """``CommitmentVerifierInvalidPayloadLength``: the payload must be 1..MAX_PAYLOAD bytes."""

    def __init__(self, length: int, maximum: int) -> None:
        super().__init__(f"payload must be 1..{maximum} bytes, got {length}")
        self.length = length
        self.maximum = maximum


class StaleOpeningError(BitCommitmentError):
    """The secret store holds an opening for the same key but a different payload.

    Committing again would leave two commitments for one (epoch, user); the caller must decide
    (normally: a new epoch, hence a new key).
    """

    def __init__(self, key: str) -> None:
        super().__init__(
            f"the secret store already holds an opening under {key!r} for a different payload; "
            "refusing to overwrite it (use a new epoch)"
        )
        self.key = key
