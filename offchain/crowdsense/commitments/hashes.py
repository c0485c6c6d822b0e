"""Commitment hashes exactly as ``CommitmentVerifier`` computes them.

* CTBC bit commitment (LDPF Protocol 1): ``c = keccak256(abi.encodePacked(r1, r2, payload))``
  with 32-byte ``r1``, ``r2`` and a non-empty payload of at most :data:`MAX_PAYLOAD` bytes.
* PDC blinding commitment (LDPF Protocol 2): ``c = keccak256(abi.encode(r, salt))`` with a
  uint256 ``r`` and a 32-byte random ``salt`` (the salt stops anyone from trying every short r).

Randomness comes only from :mod:`secrets`. The test-suite checks both functions against the
contract's own ``pure`` helpers on random inputs. :func:`keccak256` is the one Keccak-256 of the
package: boards and platforms hash every opening they check, so it takes the fastest
implementation installed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Iterable

from eth_abi import encode as abi_encode

from crowdsense.errors import InputError

__all__ = [
    "MAX_PAYLOAD",
    "as_bytes32",
    "BitOpening",
    "BlindingOpening",
    "bit_commitment",
    "blinding_commitment",
    "keccak256",
    "keccak256_chunks",
    "new_bit_opening",
    "new_blinding_opening",
]

#: Largest bit-commitment payload accepted on chain (``CommitmentVerifier.MAX_PAYLOAD``).
MAX_PAYLOAD = 1024
_UINT256_MAX = 2**256 - 1

try:  # safe-pysha3 (pinned, a brownie dependency) hashes ~5x faster than pycryptodome
    from sha3 import keccak_256 as _keccak_256
except ImportError:  # pragma: no cover - depends on the environment
    from eth_hash.auto import keccak as _eth_hash

    _keccak_256 = _eth_hash.new


def keccak256(data: bytes) -> bytes:
    """Keccak-256 (Ethereum's, not NIST SHA3-256) of ``data``."""
    return _keccak_256(data).digest()


def keccak256_chunks(chunks: Iterable[bytes]) -> bytes:
    """Keccak-256 of the concatenation of ``chunks``, fed one at a time: a file of any size is
    hashed in the memory of one chunk."""
    state = _keccak_256(b"")
    for chunk in chunks:
        state.update(chunk)
    return state.digest()


def as_bytes32(value: object, name: str) -> bytes:
    """``value`` as ``bytes`` after checking it is a 32-byte string (a hash, nonce or salt)."""
    if not isinstance(value, (bytes, bytearray)) or len(value) != 32:
        got = f"{len(value)} bytes" if isinstance(value, (bytes, bytearray)) else type(value).__name__
        raise InputError(f"{name} must be 32 bytes, got {got}")
    return bytes(value)


def bit_commitment(r1: bytes, r2: bytes, payload: bytes) -> bytes:
    """Return ``keccak256(r1 || r2 || payload)`` (= Solidity ``abi.encodePacked``)."""
    r1 = as_bytes32(r1, "r1")
    r2 = as_bytes32(r2, "r2")
    if not isinstance(payload, (bytes, bytearray)):
        raise InputError(f"payload must be bytes, got {type(payload).__name__}")
    if not 1 <= len(payload) <= MAX_PAYLOAD:
        raise InputError(f"payload must be 1..{MAX_PAYLOAD} bytes, got {len(payload)}")
    return keccak256(r1 + r2 + bytes(payload))


def blinding_commitment(r: int, salt: bytes) -> bytes:
    """Return ``keccak256(abi.encode(uint256 r, bytes32 salt))``."""
    if isinstance(r, bool) or not isinstance(r, int):
        raise InputError(f"r must be an int, got {type(r).__name__}")
    if not 0 <= r <= _UINT256_MAX:
        raise InputError(f"r must be in [0, 2**256 - 1], got {r}")
    return keccak256(abi_encode(["uint256", "bytes32"], [r, as_bytes32(salt, "salt")]))


@dataclass(frozen=True)
class BitOpening:
    """Everything a CTBC committer must keep to open its commitment later."""

    r1: bytes
    r2: bytes
    payload: bytes

    @property
    def commitment(self) -> bytes:
        return bit_commitment(self.r1, self.r2, self.payload)


@dataclass(frozen=True)
class BlindingOpening:
    """Everything a PDC receiver must keep to open its commitment to r later."""

    r: int
    salt: bytes

    @property
    def commitment(self) -> bytes:
        return blinding_commitment(self.r, self.salt)


def new_bit_opening(payload: bytes) -> BitOpening:
    """Draw fresh r1, r2 with :mod:`secrets` for ``payload``."""
    opening = BitOpening(secrets.token_bytes(32), secrets.token_bytes(32), bytes(payload))
    opening.commitment  # validates the payload now, not at reveal time
    return opening


def new_blinding_opening(r: int) -> BlindingOpening:
    """Draw a fresh salt with :mod:`secrets` for the blinding value ``r``."""
    opening = BlindingOpening(r, secrets.token_bytes(32))
    opening.commitment
    return opening
