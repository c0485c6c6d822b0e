"""Keccak-256 of many short messages at once: Keccak-f[1600] on numpy lanes.

A Merkle tree of a million receivers hashes two million leaf preimages and a million pairs;
through a hashing library that is a million calls, microseconds of interpreter and ctypes
overhead each. Here each step of the permutation is a handful of numpy operations over the
same lane of thousands of states, so a batch costs the Python of one message. Only messages
that fit one block (under 136 bytes) are supported: every leaf and pair of
:mod:`crowdsense.pmcb.levels_tree` does. pycryptodome stays the reference: small batches go
through it, and the tests compare the two for every message length used.
"""

from __future__ import annotations

import numpy as np
from Crypto.Hash import keccak

__all__ = ["BATCH", "BATCH_MIN", "keccak_f1600", "keccak_one", "keccak_rows"]


def keccak_one(data: bytes) -> bytes:
    """keccak256 of ``data`` by pycryptodome: the reference the batches are tested against."""
    return keccak.new(data=data, digest_bits=256).digest()


# Keccak-f[1600] constants (FIPS 202, section 3.2): round constants of iota, rotation offsets
# of rho for the lane at x + 5y, and for pi the source lane of each destination lane
# (lane (x, y) moves to (y, 2x + 3y)).
_ROUND_CONSTANTS = [np.uint64(c) for c in (
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
    0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
    0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
    0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
    0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008)]
_RHO = (0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14)
_PI_SOURCE = [0] * 25
for _x in range(5):
    for _y in range(5):
        _PI_SOURCE[_y + 5 * ((2 * _x + 3 * _y) % 5)] = _x + 5 * _y
#: keccak-256 absorbs 136 bytes per block; every message hashed here fits in one.
_RATE = 136
#: Rows hashed per batch of the numpy permutation (its state, 25 lanes of 8 bytes a row, stays in cache).
BATCH = 16384
#: Fewer rows than this are hashed one call at a time (a batch costs ~5,000 numpy calls whatever its size).
BATCH_MIN = 256


def keccak_f1600(lanes: list[np.ndarray]) -> None:
    """Keccak-f[1600] (FIPS 202, Algorithm 7) applied in place to many states at once.

    ``lanes[x + 5y]`` holds lane (x, y) of every state (one uint64 array per lane): each step
    is a handful of numpy operations on whole lanes, so one pass permutes thousands of
    states for the Python cost of one, where a call to a hashing library per message costs
    microseconds of interpreter and ctypes overhead each.
    """
    n = lanes[0].shape[0]
    c = [np.empty(n, dtype=np.uint64) for _ in range(5)]
    b = [np.empty(n, dtype=np.uint64) for _ in range(25)]
    d = np.empty(n, dtype=np.uint64)
    t = np.empty(n, dtype=np.uint64)
    shift = [np.uint64(k) for k in range(65)]
    for rc in _ROUND_CONSTANTS:
        # theta: C[x] = xor of column x; A[x, y] ^= C[x - 1] ^ rot(C[x + 1], 1)
        for x in range(5):
            np.bitwise_xor(lanes[x], lanes[x + 5], out=c[x])
            for y in (10, 15, 20):
                c[x] ^= lanes[x + y]
        for x in range(5):
            np.left_shift(c[(x + 1) % 5], shift[1], out=d)
            np.right_shift(c[(x + 1) % 5], shift[63], out=t)
            d |= t
            d ^= c[(x - 1) % 5]
            for y in range(0, 25, 5):
                lanes[x + y] ^= d
        # rho and pi: B[y, 2x + 3y] = rot(A[x, y], r[x, y])
        for dst, src in enumerate(_PI_SOURCE):
            r = _RHO[src]
            if r == 0:
                b[dst][...] = lanes[src]
            else:
                np.left_shift(lanes[src], shift[r], out=b[dst])
                np.right_shift(lanes[src], shift[64 - r], out=t)
                b[dst] |= t
        # chi: A[x, y] = B[x, y] ^ (~B[x + 1, y] & B[x + 2, y])
        for y in range(0, 25, 5):
            for x in range(5):
                np.invert(b[(x + 1) % 5 + y], out=t)
                t &= b[(x + 2) % 5 + y]
                np.bitwise_xor(b[x + y], t, out=lanes[x + y])
        # iota
        lanes[0] ^= rc


def keccak_rows(rows: np.ndarray, *, twice: bool = False) -> np.ndarray:
    """(n, 32) uint8: keccak256 of each row of the (n, w) uint8 array ``rows`` (w < 136), or
    of that hash again when ``twice``.

    Large batches go through :func:`keccak_f1600` (one block per message: the row, the
    keccak padding 0x01 .. 0x80, zeros to 200 bytes); small ones, and every single hash,
    through pycryptodome, which the tests use as the reference for both.
    """
    n, width = rows.shape
    if n < BATCH_MIN:
        data = rows.tobytes()
        out = b"".join(keccak_one(data[i * width:(i + 1) * width]) for i in range(n))
        digests = np.frombuffer(out, dtype=np.uint8).reshape(n, 32)
    else:
        digests = np.empty((n, 32), dtype=np.uint8)
        for start in range(0, n, BATCH):
            chunk = rows[start:start + BATCH]
            block = np.zeros((chunk.shape[0], 200), dtype=np.uint8)
            block[:, :width] = chunk
            block[:, width] ^= 0x01
            block[:, _RATE - 1] ^= 0x80
            words = block.view("<u8")
            lanes = [np.ascontiguousarray(words[:, i]) for i in range(25)]
            keccak_f1600(lanes)
            digests[start:start + BATCH] = np.stack(lanes[:4], axis=1).astype("<u8").view(np.uint8)
    return keccak_rows(digests) if twice else digests
