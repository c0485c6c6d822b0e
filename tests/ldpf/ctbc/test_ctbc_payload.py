"""UD payload: abi.encode layout, fixed point, strict decoding."""

import numpy as np
import pytest
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode

from crowdsense.ldpf.ctbc.payload import (
    PAYLOAD_SIZE,
    PAYLOAD_TYPES,
    SCALE,
    decode_many,
    decode_ud,
    encode_ud,
    from_fixed,
    to_fixed,
)
from crowdsense.errors import InputError

CASES = [(0, 0, 0, 0), (7, 3, 123_456_789, -987_654_321), (2**64 - 1, 2**32 - 1, -(2**255), 2**255 - 1)]


@pytest.mark.parametrize("fields", CASES)
def test_encode_matches_eth_abi_encode(fields):
    assert encode_ud(*fields) == abi_encode(list(PAYLOAD_TYPES), list(fields))


@pytest.mark.parametrize("fields", CASES)
def test_decode_inverts_eth_abi_encode(fields):
    rec = decode_ud(abi_encode(list(PAYLOAD_TYPES), list(fields)))
    assert (rec.epoch, rec.group, rec.x, rec.y) == fields


def test_eth_abi_decodes_our_payload():
    assert abi_decode(list(PAYLOAD_TYPES), encode_ud(5, 9, -1, 2)) == (5, 9, -1, 2)


def test_payload_is_four_words():
    assert len(encode_ud(1, 2, 3, 4)) == PAYLOAD_SIZE == 128


def test_to_fixed_rounds_to_micrometres():
    assert SCALE == 10**6
    # 1.0000004 m -> 1_000_000 um; 1.0000006 m -> 1_000_001 um; -2.5 um -> -2 (half to even)
    assert to_fixed([1.0000004, 1.0000006, -2.5e-6]).tolist() == [1_000_000, 1_000_001, -2]


def test_fixed_round_trip_error_is_at_most_half_a_unit():
    x = np.random.default_rng(0).uniform(-2e5, 2e5, size=1000)
    assert np.max(np.abs(from_fixed(to_fixed(x)) - x)) <= 0.5 / SCALE + 1e-9


@pytest.mark.parametrize("bad", [[np.nan], [np.inf], [1e14]])
def test_to_fixed_rejects_unencodable_coordinates(bad):
    with pytest.raises(InputError):
        to_fixed(bad)


def test_decode_rejects_wrong_length():
    with pytest.raises(InputError, match="128 bytes, got 127"):
        decode_ud(encode_ud(1, 2, 3, 4)[:-1])


def test_decode_rejects_epoch_beyond_uint64():
    forged = abi_encode(["uint256", "uint32", "int256", "int256"], [2**64, 0, 0, 0])
    with pytest.raises(InputError, match="canonical"):
        decode_ud(forged)


@pytest.mark.parametrize("fields", [(-1, 0, 0, 0), (0, 2**32, 0, 0), (0, 0, 2**255, 0), (0, 0, 1.5, 0)])
def test_encode_rejects_out_of_range_fields(fields):
    with pytest.raises(InputError):
        encode_ud(*fields)


def test_decode_many_agrees_with_decode_ud():
    rng = np.random.default_rng(0)
    fields = [(int(e), int(g), int(x), int(y)) for e, g, x, y in zip(
        rng.integers(0, 2**63, 50), rng.integers(0, 2**32, 50),
        rng.integers(-(2**62), 2**62, 50), rng.integers(-(2**62), 2**62, 50))]
    fields += [(0, 0, -1, 0), (1, 1, 2**63 - 1, -(2**63))]
    payloads = [encode_ud(*f) for f in fields]
    epochs, groups, xy = decode_many(payloads)
    expected = [decode_ud(p) for p in payloads]
    assert epochs.tolist() == [r.epoch for r in expected]
    assert groups.tolist() == [r.group for r in expected]
    assert xy.tolist() == [[r.x, r.y] for r in expected]


def test_decode_many_rejects_centres_beyond_int64():
    with pytest.raises(InputError, match="int64"):
        decode_many([encode_ud(0, 0, 2**63, 0)])


def test_decode_many_rejects_non_canonical_words():
    forged = abi_encode(["uint256", "uint32", "int256", "int256"], [2**64, 0, 0, 0])
    with pytest.raises(InputError, match="canonical"):
        decode_many([encode_ud(0, 0, 0, 0), forged])
