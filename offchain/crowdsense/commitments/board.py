"""The public commitment board of LDPF: where commitments are published and opened.

On chain the board is ``CommitmentVerifier``. It holds two kinds of commitment, one per LDPF
protocol, under the same rules:

* **bit commitments** (CTBC, Protocol 1): ``commit_bit(c, r1)`` publishes
  ``c = keccak256(r1 || r2 || payload)`` with its public nonce r1; ``reveal_bit(c, r2, payload)``
  opens it (``commitBit`` / ``revealBit`` / ``bitCommitment`` / ``checkBitOpening``);
* **blinding commitments** (PDC, Protocol 2): ``commit_blinding(c)`` publishes
  ``c = keccak256(abi.encode(r, salt))``; ``reveal_blinding(c, r, salt)`` opens it
  (``commitBlinding`` / ``revealBlinding`` / ``blindingCommitment`` / ``checkBlindingOpening``).

:class:`CommitmentBoard` is the interface the protocol code uses. A board is seen from one
account (:attr:`~CommitmentBoard.account`, the ``msg.sender`` of its calls); code that acts for
several accounts through one board (a simulated CTBC round) names the acting account per call
with ``sender``. :class:`MemoryCommitmentBoard` implements it in memory, for tests, simulations
and benchmarks; :class:`crowdsense.chain.boards.ChainCommitmentBoard` implements it on chain.

Rules mirrored from the contract, for either kind (errors of :mod:`crowdsense.commitments.errors`):

* a commitment is a non-zero hash (:class:`ZeroCommitmentError`) recorded under its committer:
  the board is keyed by (committer, hash), as ENS binds a commitment to its sender. An account
  records a hash once, ever (:class:`AlreadyCommittedError`); another account that copies the
  hash gets its own record and changes nothing for the first;
* a committer opens its own record (anything else is :class:`CommitmentNotFoundError`), once
  (:class:`AlreadyRevealedError`), with an opening that hashes to it
  (:class:`OpeningMismatchError`); a bit payload is 1..:data:`MAX_PAYLOAD` bytes
  (:class:`InvalidPayloadLengthError`);
* records are read per committer (``bit_record(committer, c)``); the ``check_*`` methods are
  read-only: the committer's record exists and the opening hashes to it.

Not mirrored: the contract's minimum/maximum commitment age (block timestamps); the chain board
surfaces those as the client's own errors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol, cast, runtime_checkable

from crowdsense.commitments.errors import (
    AlreadyCommittedError,
    AlreadyRevealedError,
    CommitmentNotFoundError,
    InvalidPayloadLengthError,
    OpeningMismatchError,
    ZeroCommitmentError,
)
from crowdsense.commitments.hashes import MAX_PAYLOAD, as_bytes32, bit_commitment, blinding_commitment
from crowdsense.errors import InputError

__all__ = [
    "BoardRecord",
    "CommitmentBoard",
    "MemoryCommitmentBoard",
    "same_account",
    "valid_bit_opening",
    "valid_blinding",
]

_ZERO = bytes(32)
_UINT256_MAX = 2**256 - 1


@dataclass(frozen=True)
class BoardRecord:
    """What the board knows about a commitment (``bitCommitment`` / ``blindingCommitment``).

    ``r1`` is the public nonce of a bit commitment and ``payload`` what its reveal opened
    (``None`` for a blinding commitment, and for a bit commitment not yet opened).
    """

    committer: str
    revealed: bool
    r1: bytes | None = None
    payload: bytes | None = None


@runtime_checkable
class CommitmentBoard(Protocol):
    """``CommitmentVerifier``'s board, seen from :attr:`account`.

    Rule violations raise the :class:`~crowdsense.commitments.errors.CommitmentError`
    subclass that mirrors the contract's revert. ``sender``, where accepted, is the account
    acting for that one call (default: :attr:`account`).
    """

    @property
    def account(self) -> str:
        """The acting account (``msg.sender`` of the calls)."""
        ...

    def commit_bit(self, commitment: bytes, r1: bytes, *, sender: str | None = None) -> None:
        """Record the bit commitment ``commitment`` with its public nonce ``r1`` (``commitBit``)."""
        ...

    def reveal_bit(self, commitment: bytes, r2: bytes, payload: bytes, *, sender: str | None = None) -> None:
        """Open a bit commitment with (r1 on record, ``r2``, ``payload``), publicly and once."""
        ...

    def bit_record(self, committer: str, commitment: bytes) -> BoardRecord | None:
        """``committer``'s bit commitment recorded under ``commitment``, or ``None``."""
        ...

    def check_bit_opening(self, committer: str, commitment: bytes, r2: bytes, payload: bytes) -> bool:
        """Whether ``committer`` recorded the bit commitment and (r1 on record, r2, payload) hashes to it."""
        ...

    def commit_blinding(self, commitment: bytes, *, sender: str | None = None) -> None:
        """Record the blinding commitment ``commitment`` (``commitBlinding``)."""
        ...

    def reveal_blinding(self, commitment: bytes, r: int, salt: bytes, *, sender: str | None = None) -> None:
        """Open a blinding commitment with ``(r, salt)``, publicly and once."""
        ...

    def blinding_record(self, committer: str, commitment: bytes) -> BoardRecord | None:
        """``committer``'s blinding commitment recorded under ``commitment``, or ``None``."""
        ...

    def check_blinding(self, committer: str, commitment: bytes, r: int, salt: bytes) -> bool:
        """Whether ``committer`` recorded the blinding commitment and ``keccak256(abi.encode(r, salt))`` is it."""
        ...


def same_account(a: str, b: str) -> bool:
    """Account equality that ignores hex-address checksum casing."""
    return a.lower() == b.lower() if a.startswith("0x") and b.startswith("0x") else a == b


def valid_blinding(r: object, salt: object) -> bool:
    """Whether ``(r, salt)`` can be a blinding opening at all (a uint256 and 32 bytes)."""
    return (isinstance(r, int) and not isinstance(r, bool) and 0 <= r <= _UINT256_MAX
            and isinstance(salt, (bytes, bytearray)) and len(salt) == 32)


def valid_bit_opening(r2: object, payload: object) -> bool:
    """Whether ``(r2, payload)`` can open a bit commitment at all (32 bytes and 1..MAX_PAYLOAD bytes)."""
    return (isinstance(r2, (bytes, bytearray)) and len(r2) == 32
            and isinstance(payload, (bytes, bytearray)) and 1 <= len(payload) <= MAX_PAYLOAD)


def _account_key(account: str) -> str:
    """The key under which an account's records are kept (hex addresses without checksum casing)."""
    return account.lower() if account.startswith("0x") else account


_Table = dict[tuple[str, bytes], BoardRecord]


class _Ledger:
    """The state behind every account's view of one in-memory board: one table per kind, keyed
    by (committer, commitment)."""

    def __init__(self) -> None:
        self.bits: _Table = {}
        self.blindings: _Table = {}


class MemoryCommitmentBoard:
    """In-process :class:`CommitmentBoard` with ``CommitmentVerifier``'s rules.

    Parameters
    ----------
    account : str
        The acting account.

    Examples
    --------
    >>> platform_view = MemoryCommitmentBoard("platform")
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

    def as_account(self, account: str) -> MemoryCommitmentBoard:
        """A view of the same board acting as ``account``."""
        return MemoryCommitmentBoard(account, _ledger=self._ledger)

    def __len__(self) -> int:
        """How many commitments of either kind are recorded."""
        return len(self._ledger.bits) + len(self._ledger.blindings)

    # ------------------------------------------------------------------ the contract's rules

    def _sender(self, sender: str | None) -> str:
        return self._account if sender is None else str(sender)

    def _record(self, table: _Table, commitment: bytes, record: BoardRecord) -> None:
        if commitment == _ZERO:
            raise ZeroCommitmentError()
        key = (_account_key(record.committer), commitment)
        if key in table:
            raise AlreadyCommittedError(commitment)
        table[key] = record

    def _open(self, table: _Table, commitment: bytes, sender: str | None,
              digest: Callable[[BoardRecord], bytes], payload: bytes | None = None) -> None:
        """Mark ``sender``'s ``commitment`` opened if it is openable and ``digest(record)`` is it."""
        key = (_account_key(self._sender(sender)), commitment)
        record = table.get(key)
        if record is None:
            raise CommitmentNotFoundError(commitment)
        if record.revealed:
            raise AlreadyRevealedError(commitment)
        computed = digest(record)
        if computed != commitment:
            raise OpeningMismatchError(commitment, computed)
        table[key] = replace(record, revealed=True, payload=payload)

    @staticmethod
    def _lookup(table: _Table, committer: str, commitment: bytes) -> BoardRecord | None:
        if not isinstance(committer, str) or not committer:
            raise InputError(f"committer must be a non-empty str, got {committer!r}")
        return table.get((_account_key(committer), as_bytes32(commitment, "commitment")))

    # ------------------------------------------------------------------ bit commitments

    def commit_bit(self, commitment: bytes, r1: bytes, *, sender: str | None = None) -> None:
        commitment, r1 = as_bytes32(commitment, "commitment"), as_bytes32(r1, "r1")
        self._record(self._ledger.bits, commitment, BoardRecord(self._sender(sender), False, r1=r1))

    def reveal_bit(self, commitment: bytes, r2: bytes, payload: bytes, *, sender: str | None = None) -> None:
        commitment, r2 = as_bytes32(commitment, "commitment"), as_bytes32(r2, "r2")
        if not isinstance(payload, (bytes, bytearray)):
            raise InputError(f"payload must be bytes, got {type(payload).__name__}")
        if not 1 <= len(payload) <= MAX_PAYLOAD:
            raise InvalidPayloadLengthError(len(payload), MAX_PAYLOAD)
        payload = bytes(payload)
        self._open(self._ledger.bits, commitment, sender,
                   lambda record: bit_commitment(cast(bytes, record.r1), r2, payload), payload)

    def bit_record(self, committer: str, commitment: bytes) -> BoardRecord | None:
        return self._lookup(self._ledger.bits, committer, commitment)

    def check_bit_opening(self, committer: str, commitment: bytes, r2: bytes, payload: bytes) -> bool:
        record = self.bit_record(committer, commitment)
        if record is None or not valid_bit_opening(r2, payload):
            return False
        return bit_commitment(cast(bytes, record.r1), bytes(r2), bytes(payload)) == bytes(commitment)

    # ------------------------------------------------------------------ blinding commitments

    def commit_blinding(self, commitment: bytes, *, sender: str | None = None) -> None:
        commitment = as_bytes32(commitment, "commitment")
        self._record(self._ledger.blindings, commitment, BoardRecord(self._sender(sender), False))

    def reveal_blinding(self, commitment: bytes, r: int, salt: bytes, *, sender: str | None = None) -> None:
        commitment = as_bytes32(commitment, "commitment")
        self._open(self._ledger.blindings, commitment, sender, lambda record: blinding_commitment(r, salt))

    def blinding_record(self, committer: str, commitment: bytes) -> BoardRecord | None:
        return self._lookup(self._ledger.blindings, committer, commitment)

    def check_blinding(self, committer: str, commitment: bytes, r: int, salt: bytes) -> bool:
        if self.blinding_record(committer, commitment) is None or not valid_blinding(r, salt):
            return False
        return blinding_commitment(r, bytes(salt)) == bytes(commitment)
