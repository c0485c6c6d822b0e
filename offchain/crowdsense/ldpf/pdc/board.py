"""Where receivers commit to their blinding value r: a small pluggable interface.

Protocol 2 needs a public, append-only place for the commitment ``c = keccak256(abi.encode(r,
salt))`` (:func:`crowdsense.commitments.blinding_commitment`): the receiver records c *before* the
platform decrypts anything, so it cannot pick r after seeing s; later it opens c, and the
platform accepts the distance only if the opening matches. On chain that place is
``CommitmentVerifier`` (``commitBlinding`` / ``revealBlinding`` / ``checkBlindingOpening`` /
``blindingCommitment``). :class:`CommitmentBoard` is the interface the protocol code uses;
:class:`InMemoryCommitmentBoard` implements it off chain with the contract's rules, and a web3
implementation can be dropped in unchanged.

Rules mirrored from the contract (``ICommitmentVerifier``):

* a commitment hash is non-zero and can be recorded once, ever, by anyone
  (:class:`~crowdsense.ldpf.pdc.errors.CommitmentAlreadyRecorded`);
* only its committer may open it (:class:`~crowdsense.ldpf.pdc.errors.NotCommitter`), once
  (:class:`~crowdsense.ldpf.pdc.errors.CommitmentAlreadyRevealed`), with an opening that hashes to it
  (:class:`~crowdsense.ldpf.pdc.errors.OpeningMismatch`); an unknown hash is
  :class:`~crowdsense.ldpf.pdc.errors.CommitmentNotFound`;
* ``check_blinding`` is a read-only check: the record exists and ``(r, salt)`` hashes to it.

Not mirrored: the contract's minimum/maximum commitment age (block timestamps); a web3 board
surfaces those as its own errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from crowdsense.commitments import blinding_commitment
from crowdsense.errors import InputError
from crowdsense.ldpf.pdc.errors import (
    CommitmentAlreadyRecorded,
    CommitmentAlreadyRevealed,
    CommitmentNotFound,
    NotCommitter,
    OpeningMismatch,
)

__all__ = ["BlindingRecord", "CommitmentBoard", "InMemoryCommitmentBoard", "same_account"]

_ZERO = bytes(32)


@dataclass(frozen=True)
class BlindingRecord:
    """What the board knows about a commitment (``CommitmentVerifier.blindingCommitment``)."""

    committer: str
    revealed: bool


@runtime_checkable
class CommitmentBoard(Protocol):
    """A board of blinding commitments, seen from one account.

    ``account`` is the identity the board acts as (an address on chain); it is the
    ``receiver`` field of the receiver's messages, and the platform checks that a query's
    commitment was recorded by that account.
    """

    @property
    def account(self) -> str:
        """The acting account (``msg.sender`` of the calls)."""
        ...

    def commit_blinding(self, commitment: bytes) -> None:
        """Record ``commitment`` as committed by :attr:`account`."""
        ...

    def reveal_blinding(self, commitment: bytes, r: int, salt: bytes) -> None:
        """Open :attr:`account`'s ``commitment`` with ``(r, salt)``, publicly and once."""
        ...

    def check_blinding(self, commitment: bytes, r: int, salt: bytes) -> bool:
        """Whether ``commitment`` is recorded and ``keccak256(abi.encode(r, salt)) == commitment``."""
        ...

    def blinding_record(self, commitment: bytes) -> BlindingRecord | None:
        """The record under ``commitment``, or ``None`` if nothing is recorded."""
        ...


def same_account(a: str, b: str) -> bool:
    """Account equality that ignores hex-address checksum casing."""
    return a.lower() == b.lower() if a.startswith("0x") and b.startswith("0x") else a == b


def _commitment(value: object) -> bytes:
    if not isinstance(value, (bytes, bytearray)) or len(value) != 32:
        raise InputError(f"commitment must be 32 bytes, got {value!r}")
    if bytes(value) == _ZERO:
        raise InputError("commitment must not be zero (CommitmentVerifierZeroCommitment)")
    return bytes(value)


class _Ledger:
    """The shared state behind every account's view of one in-memory board."""

    def __init__(self) -> None:
        self.records: dict[bytes, list] = {}  # commitment -> [committer, revealed]


class InMemoryCommitmentBoard:
    """In-process :class:`CommitmentBoard` with ``CommitmentVerifier``'s rules (tests, simulations).

    Parameters
    ----------
    account : str
        The acting account.

    Examples
    --------
    >>> platform_view = InMemoryCommitmentBoard("platform")
    >>> alice = platform_view.as_account("alice")   # same records, acting as alice
    """

    def __init__(self, account: str = "board-user", *, _ledger: _Ledger | None = None) -> None:
        if not isinstance(account, str) or not account:
            raise InputError(f"account must be a non-empty str, got {account!r}")
        self._account = account
        self._ledger = _ledger if _ledger is not None else _Ledger()

    @property
    def account(self) -> str:
        return self._account

    def as_account(self, account: str) -> InMemoryCommitmentBoard:
        """A view of the same board acting as ``account``."""
        return InMemoryCommitmentBoard(account, _ledger=self._ledger)

    def commit_blinding(self, commitment: bytes) -> None:
        commitment = _commitment(commitment)
        if commitment in self._ledger.records:
            raise CommitmentAlreadyRecorded(f"commitment 0x{commitment.hex()} is already recorded")
        self._ledger.records[commitment] = [self._account, False]

    def reveal_blinding(self, commitment: bytes, r: int, salt: bytes) -> None:
        commitment = _commitment(commitment)
        record = self._ledger.records.get(commitment)
        if record is None:
            raise CommitmentNotFound(f"no blinding commitment 0x{commitment.hex()}")
        if not same_account(record[0], self._account):
            raise NotCommitter(f"commitment 0x{commitment.hex()} belongs to {record[0]}, not {self._account}")
        if record[1]:
            raise CommitmentAlreadyRevealed(f"commitment 0x{commitment.hex()} is already revealed")
        computed = blinding_commitment(r, salt)
        if computed != commitment:
            raise OpeningMismatch(f"opening hashes to 0x{computed.hex()}, not to 0x{commitment.hex()}")
        record[1] = True

    def check_blinding(self, commitment: bytes, r: int, salt: bytes) -> bool:
        commitment = _commitment(commitment)
        return commitment in self._ledger.records and blinding_commitment(r, salt) == commitment

    def blinding_record(self, commitment: bytes) -> BlindingRecord | None:
        record = self._ledger.records.get(_commitment(commitment))
        return None if record is None else BlindingRecord(committer=record[0], revealed=record[1])
