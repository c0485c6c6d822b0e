"""Where commitments live and where openings are kept: two small pluggable interfaces.

* :class:`BitCommitmentBoard` - the public board of Protocol 1 (on chain: ``CommitmentVerifier``
  ``commitBit`` / ``revealBit`` / ``bitCommitment`` / ``checkBitOpening``).
  :class:`MemoryBitBoard` implements it in memory with the contract's rules, for off-chain
  tests and benchmarks: a commitment is recorded once, only its committer may open it, it is
  opened once, and the opening must hash to it. (The contract's minimum/maximum age window is
  a property of the chain's clock and is not modelled here.)
* :class:`SecretStore` - the user's private journal of openings (r1, r2, payload), written
  *before* a commitment is sent so that no commitment exists that its owner cannot open.
  :class:`MemorySecretStore` keeps JSON copies in a dict.

Errors are the :mod:`crowdsense.ldpf.ctbc.errors` classes that mirror the contract's custom errors; a
web3 board should decode reverts into the same classes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from crowdsense.commitments import MAX_PAYLOAD
from crowdsense.ldpf.ctbc.errors import (
    BitAlreadyRevealedError,
    BitCommitmentExistsError,
    BitCommitmentNotFoundError,
    BitNotCommitterError,
    BitOpeningMismatchError,
    BitPayloadLengthError,
    BitZeroCommitmentError,
)
from crowdsense.errors import InputError

__all__ = [
    "BitRecord",
    "BitCommitmentBoard",
    "SecretStore",
    "MemoryBitBoard",
    "MemorySecretStore",
    "keccak256",
    "fast_bit_commitment",
]

try:  # safe-pysha3 (pinned, a brownie dependency) hashes ~5x faster than pycryptodome
    from sha3 import keccak_256 as _keccak_256

    def keccak256(data: bytes) -> bytes:
        """Keccak-256 (Ethereum's, not NIST SHA3-256) of ``data``."""
        return _keccak_256(data).digest()

except ImportError:  # pragma: no cover - depends on the environment
    from eth_utils import keccak as _eth_keccak

    def keccak256(data: bytes) -> bytes:
        """Keccak-256 (Ethereum's, not NIST SHA3-256) of ``data``."""
        return _eth_keccak(data)


_ZERO = bytes(32)


def fast_bit_commitment(r1: bytes, r2: bytes, payload: bytes) -> bytes:
    """``keccak256(r1 || r2 || payload)`` without argument checks (callers check lengths).

    Equal to :func:`crowdsense.commitments.bit_commitment` on valid input (tested), for the
    platform's hot path.
    """
    return keccak256(r1 + r2 + payload)


def _b32(value: object, name: str) -> bytes:
    if not isinstance(value, (bytes, bytearray)) or len(value) != 32:
        raise InputError(f"{name} must be 32 bytes, got {value!r:.80}")
    return bytes(value)


@dataclass(frozen=True)
class BitRecord:
    """A recorded bit commitment (``CommitmentVerifier.bitCommitment`` plus the revealed payload)."""

    committer: str
    r1: bytes
    revealed: bool
    payload: bytes | None = None


@runtime_checkable
class BitCommitmentBoard(Protocol):
    """The public commitment board of Protocol 1.

    ``sender`` is the account acting (on chain: ``msg.sender``). Rule violations raise the
    :class:`crowdsense.ldpf.ctbc.errors.BitCommitmentError` subclass that mirrors the revert.
    """

    def commit_bit(self, commitment: bytes, r1: bytes, *, sender: str) -> None:
        """Record ``commitment`` with its public nonce ``r1`` (``commitBit``)."""
        ...

    def reveal_bit(self, commitment: bytes, r2: bytes, payload: bytes, *, sender: str) -> bool:
        """Open ``commitment`` (``revealBit``); True when accepted, raises when rejected."""
        ...

    def bit_record(self, commitment: bytes) -> BitRecord | None:
        """The record under ``commitment``, or None (``bitCommitment``)."""
        ...

    def check_bit_opening(self, commitment: bytes, r2: bytes, payload: bytes) -> bool:
        """Whether (r1 on record, r2, payload) opens ``commitment`` (``checkBitOpening``, a view)."""
        ...


@runtime_checkable
class SecretStore(Protocol):
    """A durable key -> JSON-object store on the user's side (e.g. a SQLite journal).

    ``put`` must not return before the value is durable: callers rely on it to write an
    opening before the commitment is sent.
    """

    def put(self, key: str, value: dict[str, Any]) -> None: ...

    def get(self, key: str) -> dict[str, Any] | None: ...


class MemoryBitBoard:
    """In-memory :class:`BitCommitmentBoard` with ``CommitmentVerifier``'s rules."""

    def __init__(self) -> None:
        self._records: dict[bytes, BitRecord] = {}

    def __len__(self) -> int:
        return len(self._records)

    def commit_bit(self, commitment: bytes, r1: bytes, *, sender: str) -> None:
        commitment = _b32(commitment, "commitment")
        r1 = _b32(r1, "r1")
        if commitment == _ZERO:
            raise BitZeroCommitmentError()
        if commitment in self._records:
            raise BitCommitmentExistsError(commitment)
        self._records[commitment] = BitRecord(str(sender), r1, False)

    def reveal_bit(self, commitment: bytes, r2: bytes, payload: bytes, *, sender: str) -> bool:
        commitment = _b32(commitment, "commitment")
        r2 = _b32(r2, "r2")
        if not isinstance(payload, (bytes, bytearray)):
            raise InputError(f"payload must be bytes, got {type(payload).__name__}")
        if not 1 <= len(payload) <= MAX_PAYLOAD:
            raise BitPayloadLengthError(len(payload), MAX_PAYLOAD)
        rec = self._records.get(commitment)
        if rec is None:
            raise BitCommitmentNotFoundError(commitment)
        if rec.committer != str(sender):
            raise BitNotCommitterError(commitment, str(sender))
        if rec.revealed:
            raise BitAlreadyRevealedError(commitment)
        computed = fast_bit_commitment(rec.r1, r2, bytes(payload))
        if computed != commitment:
            raise BitOpeningMismatchError(commitment, computed)
        self._records[commitment] = BitRecord(rec.committer, rec.r1, True, bytes(payload))
        return True

    def bit_record(self, commitment: bytes) -> BitRecord | None:
        return self._records.get(bytes(commitment))

    def check_bit_opening(self, commitment: bytes, r2: bytes, payload: bytes) -> bool:
        rec = self._records.get(bytes(commitment))
        if rec is None or len(r2) != 32 or not 1 <= len(payload) <= MAX_PAYLOAD:
            return False
        return fast_bit_commitment(rec.r1, bytes(r2), bytes(payload)) == bytes(commitment)


class MemorySecretStore:
    """In-memory :class:`SecretStore`; values are kept as JSON copies, as a journal would."""

    def __init__(self) -> None:
        self._data: dict[str, str] = {}

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def put(self, key: str, value: dict[str, Any]) -> None:
        if not isinstance(key, str) or not key:
            raise InputError(f"key must be a non-empty str, got {key!r}")
        try:
            self._data[key] = json.dumps(value, sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise InputError(f"value for {key!r} must be JSON-serialisable: {exc}") from exc

    def get(self, key: str) -> dict[str, Any] | None:
        raw = self._data.get(key)
        return None if raw is None else json.loads(raw)
