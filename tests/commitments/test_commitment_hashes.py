"""The one Keccak-256 of the package and the commitment hashes built on it.

The hashes are checked against the contract's own helpers in tests/contracts; here they are
checked against an independent Keccak implementation and the published test vector.
"""

import secrets

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak

from crowdsense.commitments import (
    as_bytes32,
    bit_commitment,
    blinding_commitment,
    keccak256,
    new_bit_opening,
    new_blinding_opening,
)
from crowdsense.errors import InputError


def test_keccak256_of_empty_input_is_the_known_constant():
    assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"


@pytest.mark.parametrize("n", [1, 31, 32, 160, 1000])
def test_keccak256_agrees_with_eth_utils(n):
    data = secrets.token_bytes(n)
    assert keccak256(data) == keccak(data)


def test_bit_commitment_is_keccak_of_the_packed_parts():
    r1, r2, payload = secrets.token_bytes(32), secrets.token_bytes(32), secrets.token_bytes(128)
    assert bit_commitment(r1, r2, payload) == keccak(r1 + r2 + payload)


def test_blinding_commitment_is_keccak_of_the_abi_encoding():
    r, salt = secrets.randbits(64), secrets.token_bytes(32)
    assert blinding_commitment(r, salt) == keccak(abi_encode(["uint256", "bytes32"], [r, salt]))


def test_fresh_openings_hash_to_their_commitments():
    bit = new_bit_opening(b"ud")
    assert bit.commitment == keccak(bit.r1 + bit.r2 + b"ud")
    blinding = new_blinding_opening(7)
    assert blinding.commitment == keccak(abi_encode(["uint256", "bytes32"], [7, blinding.salt]))


@pytest.mark.parametrize("value, got", [(b"\x01" * 31, "31 bytes"), ("ab", "str"), (None, "NoneType")])
def test_as_bytes32_names_what_it_got(value, got):
    with pytest.raises(InputError, match=f"salt must be 32 bytes, got {got}"):
        as_bytes32(value, "salt")


def test_new_bit_opening_checks_the_payload_now():
    with pytest.raises(InputError, match="payload"):
        new_bit_opening(b"")
