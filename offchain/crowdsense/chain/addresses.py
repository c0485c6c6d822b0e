"""Reading an Ethereum address a user typed, pasted or wrote in a file.

An address is 20 bytes written as 40 hex digits, usually after ``0x``. EIP-55 encodes a
checksum in the case of the letters, so that a mistyped character is caught before a level,
a role or a contract is bound to an account nobody holds. The rule is the one of web3.py and
ethers:

* **mixed case** must carry a valid EIP-55 checksum, else it is refused (a typo);
* **all lowercase or all uppercase** hex carries no checksum and is accepted as it is (many
  tools write addresses that way; keystores do);
* anything else (wrong length, non-hex digits, not a string) is not an address.

:func:`parse_address` is the one place that applies the rule; every address that comes from a
user (command options, address CSVs, levels mappings, deployment and keystore files) goes
through it and gets the same message.
"""

from __future__ import annotations

import re

from eth_typing import ChecksumAddress
from eth_utils import to_checksum_address

from crowdsense.errors import CrowdsenseError, InputError

__all__ = ["parse_address"]

_HEX_ADDRESS = re.compile(r"(?:0[xX])?([0-9a-fA-F]{40})")


def parse_address(value: object, what: str, *, error: type[CrowdsenseError] = InputError) -> ChecksumAddress:
    """``value`` as a checksummed address, or ``error`` naming ``what`` and ``value``.

    ``what`` says where the address comes from, for the message (``"admin"``, ``"address file
    a.csv, line 3, node '7'"``...).
    """
    match = _HEX_ADDRESS.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        problem = "is not an address"
    else:
        digits = match.group(1)
        checksummed = to_checksum_address("0x" + digits)
        if digits in (digits.lower(), digits.upper()) or checksummed[2:] == digits:
            return checksummed
        problem = "has an invalid EIP-55 checksum (a mistyped character?)"
    shown = repr(value)
    if len(shown) > 64:
        shown = shown[:60] + "..."
    raise error(f"{what}: {shown} {problem}: expected 0x and 40 hex digits, in mixed case only with "
                "a valid EIP-55 checksum")
