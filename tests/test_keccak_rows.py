"""Keccak-256 in batches (crowdsense.keccak_rows) against pycryptodome, the reference."""

from __future__ import annotations

import numpy as np
import pytest
from Crypto.Hash import keccak as reference

from crowdsense import keccak_rows


def _keccak(data: bytes) -> bytes:
    return reference.new(data=data, digest_bits=256).digest()


@pytest.mark.parametrize("width", [1, 20, 32, 40, 52, 64, 128, 135])
def test_batches_match_pycryptodome_for_every_message_length(width):
    rng = np.random.default_rng(width)
    # one call at a time, one batch, two batches
    for n in (3, keccak_rows.BATCH_MIN, keccak_rows.BATCH + 7):
        rows = rng.integers(0, 256, size=(n, width), dtype=np.uint8)
        once = keccak_rows.keccak_rows(rows)
        twice = keccak_rows.keccak_rows(rows, twice=True)
        assert once.shape == twice.shape == (n, 32)
        for i in list(range(3)) + [n - 1]:
            h = _keccak(rows[i].tobytes())
            assert once[i].tobytes() == h
            assert twice[i].tobytes() == _keccak(h)


def test_the_permutation_alone_matches_the_empty_message():
    """Keccak-f[1600] on one padded empty block gives keccak256(b"") in its first four lanes."""
    block = np.zeros((1, 200), dtype=np.uint8)
    block[0, 0] ^= 0x01
    block[0, 135] ^= 0x80
    words = block.view("<u8")
    lanes = [np.ascontiguousarray(words[:, i]) for i in range(25)]
    keccak_rows.keccak_f1600(lanes)
    digest = np.stack(lanes[:4], axis=1).astype("<u8").view(np.uint8).tobytes()
    assert digest == _keccak(b"") == keccak_rows.keccak_one(b"")
