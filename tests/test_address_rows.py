"""Addresses in bulk (crowdsense.address_rows): spelled as eth_utils spells them, parsed by the
rule of the chain layer, in batches as one at a time."""

from __future__ import annotations

import numpy as np
import pytest
from eth_utils import to_checksum_address

from crowdsense import address_rows, keccak_rows
from crowdsense.chain.addresses import parse_address
from crowdsense.errors import InputError


def _random_addresses(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, 20), dtype=np.uint8)


@pytest.mark.parametrize("n", [1, keccak_rows.BATCH_MIN + 3])
def test_spellings_are_eip55_as_eth_utils_writes_them(n):
    rows = _random_addresses(n, n)
    spelled = address_rows.checksum_spellings(rows)
    assert spelled == [to_checksum_address(row.tobytes()) for row in rows]
    assert address_rows.checksummed(rows[0].tobytes()) == spelled[0]


@pytest.mark.parametrize("n", [1, keccak_rows.BATCH_MIN + 3])
def test_parsing_the_spellings_gives_the_bytes_back(n):
    rows = _random_addresses(n, 100 + n)
    spelled = address_rows.checksum_spellings(rows)
    assert np.array_equal(address_rows.parse_addresses(spelled, "x"), rows)
    assert np.array_equal(address_rows.parse_addresses([s.lower() for s in spelled], "x"), rows)
    assert np.array_equal(address_rows.parse_addresses([r.tobytes() for r in rows], "x"), rows)


def test_a_wrong_checksum_is_refused_naming_the_address_as_the_chain_layer_does():
    spelled = address_rows.checksum_spellings(_random_addresses(50, 7))
    victim = next(s for s in spelled if s[2:] not in (s[2:].lower(), s[2:].upper()))
    bad = "0x" + victim[2:].swapcase()
    with pytest.raises(InputError):
        parse_address(bad, "x")
    with pytest.raises(InputError, match="invalid EIP-55 checksum") as exc:
        address_rows.parse_addresses([*spelled, bad], "receiver")
    assert str(exc.value).startswith("receiver: ") and address_rows.ADDRESS_EXPECTED in str(exc.value)


@pytest.mark.parametrize("bad", ["0x1234", "0x" + "g" * 40, 42, None, b"\x00" * 19])
def test_what_is_not_an_address_is_refused_in_one_line(bad):
    with pytest.raises(InputError, match="is not an address") as exc:
        address_rows.parse_address_bytes(bad, "registry")
    assert "\n" not in str(exc.value)


def test_long_values_are_cut_in_messages():
    assert address_rows.shown("x" * 100).endswith("...") and len(address_rows.shown("x" * 100)) == 63
    assert address_rows.shown("short") == "'short'"
