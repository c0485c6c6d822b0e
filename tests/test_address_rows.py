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


def test_a_refused_value_is_shown_in_the_message():
    """The message names what was refused and shows the value."""
    with pytest.raises(InputError) as exc:
        address_rows.parse_address_bytes("0x1234", "registry")
    assert str(exc.value).startswith("registry: '0x1234' is not an address: ")


def test_a_lowercase_f_where_the_checksum_wants_an_uppercase_f_is_refused():
    """'f' is a hex letter like the others: in a mixed-case address its case is checked too.
    The address is EIP-55 spelled by eth_utils, then one required 'F' is lowered."""
    rows = _random_addresses(200, 11)
    spelled = [to_checksum_address(row.tobytes()) for row in rows]
    victim = next(s for s in spelled if "F" in s[2:] and sum(c.isupper() for c in s[2:]) >= 2)
    at = victim.index("F", 2)
    bad = victim[:at] + "f" + victim[at + 1:]
    with pytest.raises(InputError, match="invalid EIP-55 checksum"):
        parse_address(bad, "x")  # the chain layer's rule, as a cross-check
    with pytest.raises(InputError, match="invalid EIP-55 checksum"):
        address_rows.parse_addresses([bad], "x")


def test_an_all_uppercase_address_is_taken_as_is_next_to_a_lowercase_one():
    """All-uppercase and all-lowercase digits carry no checksum, whatever else is in the batch."""
    rows = _random_addresses(2, 12)
    upper = "0x" + rows[0].tobytes().hex().upper()
    lower = "0x" + rows[1].tobytes().hex()
    assert upper[2:] != to_checksum_address(rows[0].tobytes())[2:]  # not also a valid checksum
    assert np.array_equal(address_rows.parse_addresses([upper, lower], "x"), rows)
    assert np.array_equal(address_rows.parse_addresses([lower, upper], "x"), rows[::-1])


def test_values_are_shown_whole_up_to_64_characters():
    """repr up to 64 characters is shown whole, a longer one cut to 60 and '...'."""
    assert address_rows.shown("x" * 62) == repr("x" * 62)  # 64 characters with the quotes
    assert address_rows.shown("x" * 63) == repr("x" * 63)[:60] + "..."
