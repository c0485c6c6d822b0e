"""parse_address: EIP-55 as web3.py and ethers apply it, one message for every address a user gives."""

from __future__ import annotations

import pytest
from eth_utils import to_checksum_address

from crowdsense.chain.addresses import parse_address
from crowdsense.chain.errors import AccountError
from crowdsense.errors import InputError

#: An address whose checksum has lower- and upper-case letters (EIP-55's own test vector).
CHECKSUMMED = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def _mistyped(address: str) -> str:
    """``address`` with the case of its last letter flipped: a checksum error, same 20 bytes."""
    i = max(i for i, c in enumerate(address) if c.isalpha() and i > 1)
    return address[:i] + address[i].swapcase() + address[i + 1:]


def test_a_checksummed_address_is_returned_as_is():
    assert parse_address(CHECKSUMMED, "admin") == CHECKSUMMED


@pytest.mark.parametrize("spelling", [CHECKSUMMED.lower(), "0x" + CHECKSUMMED[2:].upper(),
                                      "0X" + CHECKSUMMED[2:].upper(), CHECKSUMMED[2:].lower()])
def test_unchecksummed_spellings_are_accepted_and_checksummed(spelling):
    assert parse_address(spelling, "admin") == to_checksum_address(CHECKSUMMED)


def test_mixed_case_with_a_wrong_checksum_is_refused():
    typo = _mistyped(CHECKSUMMED)
    assert typo.lower() == CHECKSUMMED.lower()  # the same bytes: only the checksum tells
    with pytest.raises(InputError, match=rf"admin: '{typo}' has an invalid EIP-55 checksum \(a mistyped "
                                         r"character\?\): expected 0x and 40 hex digits"):
        parse_address(typo, "admin")


@pytest.mark.parametrize("value", ["0x1234", "not-an-address", CHECKSUMMED + "00", " " + CHECKSUMMED,
                                   "0x" + "g" * 40, 12, None, b"\x11" * 20])
def test_other_values_are_not_addresses(value):
    with pytest.raises(InputError, match=r"account: .* is not an address: expected 0x and 40 hex digits"):
        parse_address(value, "account")


def test_the_error_type_is_the_callers_and_a_long_value_is_cut():
    with pytest.raises(AccountError) as caught:
        parse_address("x" * 10_000, "keystore file k.json: 'address'", error=AccountError)
    assert len(str(caught.value)) < 250
