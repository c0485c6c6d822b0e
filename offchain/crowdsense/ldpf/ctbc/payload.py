"""The canonical byte encoding of a user's uploaded data UD (the bit-commitment payload).

A payload is Solidity ``abi.encode(uint64 epoch, uint32 group, int256 x, int256 y)``: four
32-byte big-endian words, 128 bytes. ``x`` and ``y`` are the group centre in *transformed*
coordinates as fixed-point integers, ``round(coordinate * SCALE)`` with :data:`SCALE` = 10**6,
i.e. micrometres when coordinates are in metres (rounding moves a centre by at most 0.7 um).

Why this form:

* integers, not floats: a commitment binds bytes, and a float's text or binary form is not
  canonical across languages; a contract can decode int256 words directly;
* the epoch binds the opening to one set of transform parameters (an old commitment cannot be
  replayed in a later epoch), and the group number lets the platform count group sizes;
* abi.encode (not encodePacked) so that a contract or any ABI library can decode it.

The platform matches on the *decoded* fixed-point centre, so what it matched on is exactly what
was committed to; verifying an opening compares payload bytes.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from crowdsense.errors import InputError

__all__ = [
    "SCALE",
    "PAYLOAD_TYPES",
    "PAYLOAD_SIZE",
    "UDRecord",
    "to_fixed",
    "from_fixed",
    "encode_ud",
    "decode_ud",
    "decode_many",
]

#: Fixed-point units per coordinate unit (1 um per metre).
SCALE = 10**6
#: Solidity types of the payload words, in order (epoch, group, x, y).
PAYLOAD_TYPES = ("uint64", "uint32", "int256", "int256")
#: Length of a payload in bytes.
PAYLOAD_SIZE = 32 * len(PAYLOAD_TYPES)

_FIXED_LIMIT = 2**62  # int64 with room: |coordinate| < 4.6e12 m


@dataclass(frozen=True)
class UDRecord:
    """One decoded payload: epoch, group number, and the centre in fixed point."""

    epoch: int
    group: int
    x: int
    y: int

    @property
    def center(self) -> tuple[float, float]:
        """The centre in coordinate units (``fixed / SCALE``)."""
        return (self.x / SCALE, self.y / SCALE)


def to_fixed(coords: object) -> np.ndarray:
    """``round(coords * SCALE)`` as int64 (round half to even), after range checks."""
    arr = np.asarray(coords, dtype=np.float64)
    if not np.isfinite(arr).all():
        raise InputError("coordinates must be finite to be encoded, got NaN or infinity")
    scaled = np.rint(arr * SCALE)
    if arr.size and np.abs(scaled).max() >= _FIXED_LIMIT:
        raise InputError(
            f"coordinates must be below {_FIXED_LIMIT / SCALE:.3g} in absolute value to be encoded, "
            f"got {np.abs(arr).max():.6g}"
        )
    return scaled.astype(np.int64)


def from_fixed(fixed: object) -> np.ndarray:
    """Fixed-point integers back to float coordinates."""
    return np.asarray(fixed, dtype=np.float64) / SCALE


_UINT64_END = 1 << 64
_UINT32_END = 1 << 32
_INT256_MIN = -(1 << 255)
_INT256_END = 1 << 255


def _is_int(value: object) -> bool:
    return type(value) is int or (isinstance(value, numbers.Integral) and not isinstance(value, bool))


def encode_ud(epoch: int, group: int, x: int, y: int) -> bytes:
    """``abi.encode(uint64 epoch, uint32 group, int256 x, int256 y)`` (x, y fixed point)."""
    if not (_is_int(epoch) and 0 <= epoch < _UINT64_END):
        raise InputError(f"epoch must be an integer in [0, 2**64), got {epoch!r}")
    if not (_is_int(group) and 0 <= group < _UINT32_END):
        raise InputError(f"group must be an integer in [0, 2**32), got {group!r}")
    for name, v in (("x", x), ("y", y)):
        if not (_is_int(v) and _INT256_MIN <= v < _INT256_END):
            raise InputError(f"{name} must be an int256 integer, got {v!r}")
    return (int(epoch).to_bytes(32, "big") + int(group).to_bytes(32, "big")
            + int(x).to_bytes(32, "big", signed=True) + int(y).to_bytes(32, "big", signed=True))


def decode_ud(payload: bytes) -> UDRecord:
    """Inverse of :func:`encode_ud`; rejects anything that is not a canonical encoding."""
    if not isinstance(payload, (bytes, bytearray)) or len(payload) != PAYLOAD_SIZE:
        got = f"{len(payload)} bytes" if isinstance(payload, (bytes, bytearray)) else type(payload).__name__
        raise InputError(f"a UD payload is {PAYLOAD_SIZE} bytes, got {got}")
    payload = bytes(payload)
    epoch = int.from_bytes(payload[0:32], "big")
    group = int.from_bytes(payload[32:64], "big")
    if epoch >= _UINT64_END or group >= _UINT32_END:
        raise InputError("not a canonical UD payload: epoch or group word out of range")
    return UDRecord(epoch, group, int.from_bytes(payload[64:96], "big", signed=True),
                    int.from_bytes(payload[96:128], "big", signed=True))


def decode_many(payloads: list[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode many payloads at once: ``(epochs (m,), groups (m,), fixed centres (m, 2) int64)``.

    Same result as :func:`decode_ud` on each, vectorised for the platform, which decodes one
    payload per group: a word is taken as int64 when its top 24 bytes are the sign extension of
    the low 8 (always true for encodable coordinates), and anything else falls back to
    :func:`decode_ud` (which rejects non-canonical words and centres beyond int64 are refused).
    """
    m = len(payloads)
    if m == 0:
        return np.zeros(0, np.uint64), np.zeros(0, np.uint32), np.zeros((0, 2), np.int64)
    if any(len(p) != PAYLOAD_SIZE for p in payloads):
        bad = next(p for p in payloads if len(p) != PAYLOAD_SIZE)
        decode_ud(bad)  # raises the precise error
    raw = np.frombuffer(b"".join(payloads), dtype=np.uint8).reshape(m, PAYLOAD_SIZE)
    words = raw.reshape(m, 4, 32)
    low = np.ascontiguousarray(words[:, :, 24:]).view(">u8").reshape(m, 4)
    high = words[:, :, :24]
    # epoch (uint64) and group (uint32): upper bytes zero
    ok = ~high[:, :2].any(axis=(1, 2)) & (low[:, 1] < _UINT32_END)
    # x, y (int256 holding an int64): upper 24 bytes all 0x00 (non-negative) or all 0xFF (negative)
    signed = low[:, 2:].view(">i8")
    ext = np.where(signed < 0, 0xFF, 0x00).astype(np.uint8)
    ok &= (high[:, 2:] == ext[:, :, None]).all(axis=(1, 2))
    if not ok.all():
        for i in np.flatnonzero(~ok):
            rec = decode_ud(payloads[i])  # raises if non-canonical
            if not (-(1 << 63) <= rec.x < (1 << 63) and -(1 << 63) <= rec.y < (1 << 63)):
                raise InputError(
                    f"UD centre ({rec.x}, {rec.y}) is beyond the int64 range of encodable centres"
                )
    return low[:, 0].astype(np.uint64), low[:, 1].astype(np.uint32), signed.astype(np.int64)
