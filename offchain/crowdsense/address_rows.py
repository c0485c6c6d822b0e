"""Ethereum addresses in bulk: parsed with their EIP-55 checksum checked, and spelled with it.

A levels tree holds up to millions of accounts; checking or writing each checksum through
``eth_utils`` costs a Keccak call and Python string work per address. Here both run on numpy
rows, the checksums hashed in batches by :func:`crowdsense.keccak_rows.keccak_rows`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from crowdsense.errors import InputError
from crowdsense.keccak_rows import keccak_rows

__all__ = ["ADDRESS_EXPECTED", "checksum_spellings", "checksummed", "parse_address_bytes", "parse_addresses", "shown"]

_HEX_ADDRESS = re.compile(r"(?:0[xX])?([0-9a-fA-F]{40})")
#: What an address must look like, in every message refusing one.
ADDRESS_EXPECTED = "expected 0x and 40 hex digits, in mixed case only with a valid EIP-55 checksum"


def shown(value: object) -> str:
    """``repr(value)``, cut to 64 characters: a bad value named in a one-line error."""
    text = repr(value)
    return text if len(text) <= 64 else text[:60] + "..."


def _address_error(what: str, value: object, problem: str) -> InputError:
    return InputError(f"{what}: {shown(value)} {problem}: {ADDRESS_EXPECTED}")


def parse_addresses(values: Sequence[object], what: str) -> np.ndarray:
    """(n, 20) uint8: the addresses ``values`` as bytes, or :class:`InputError` for the first bad one.

    The rule of ``crowdsense.chain.addresses.parse_address`` (which the algorithm packages may not
    import; a test checks that both agree), applied to many addresses at once: 40 hex digits after an
    optional ``0x``; all lowercase or all uppercase accepted as is; mixed case only with a valid
    EIP-55 checksum (letter i is uppercase iff nibble i of keccak256(lowercase hex) is >= 8).
    20-byte ``bytes`` are taken as they are.
    """
    digits = []
    for value in values:
        if isinstance(value, bytes) and len(value) == 20:
            digits.append(value.hex())
            continue
        match = _HEX_ADDRESS.fullmatch(value) if isinstance(value, str) else None
        if match is None:
            raise _address_error(what, value, "is not an address")
        digits.append(match.group(1))
    n = len(digits)
    text = np.frombuffer("".join(digits).encode("ascii"), dtype=np.uint8).reshape(n, 40)
    upper = (text >= ord("A")) & (text <= ord("F"))
    lower = (text >= ord("a")) & (text <= ord("f"))
    folded = text | (upper.astype(np.uint8) << 5)  # 'A'..'F' -> 'a'..'f'
    nibbles = np.where(folded >= ord("a"), folded - (ord("a") - 10), folded - ord("0")).astype(np.uint8)
    mixed = np.flatnonzero(upper.any(axis=1) & lower.any(axis=1))
    if mixed.size:
        hashes = keccak_rows(folded[mixed])
        hash_nibbles = np.empty((mixed.size, 40), dtype=np.uint8)
        hash_nibbles[:, 0::2] = hashes[:, :20] >> 4
        hash_nibbles[:, 1::2] = hashes[:, :20] & 0x0F
        letters = upper[mixed] | lower[mixed]
        wrong = (letters & (upper[mixed] != (hash_nibbles >= 8))).any(axis=1)
        if wrong.any():
            raise _address_error(what, values[int(mixed[np.argmax(wrong)])],
                                 "has an invalid EIP-55 checksum (a mistyped character?)")
    return (nibbles[:, 0::2] << 4) | nibbles[:, 1::2]


def parse_address_bytes(value: object, what: str) -> bytes:
    """One address as its 20 bytes (:func:`parse_addresses`)."""
    return parse_addresses([value], what)[0].tobytes()


_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def checksum_spellings(addresses: np.ndarray) -> list[str]:
    """The EIP-55 spelling ("0x" and 40 mixed-case hex digits) of each row of the (n, 20) uint8
    array ``addresses``: letter i uppercase iff nibble i of keccak256(lowercase hex) is >= 8.

    Batched like every other hash here, so that :meth:`crowdsense.pmcb.levels_tree.LevelsTree.levels` spells a million
    accounts in seconds (the tests compare it with ``eth_utils.to_checksum_address``).
    """
    n = addresses.shape[0]
    nibbles = np.empty((n, 40), dtype=np.uint8)
    nibbles[:, 0::2] = addresses >> 4
    nibbles[:, 1::2] = addresses & 0x0F
    lower = _HEX_DIGITS[nibbles]
    hashes = keccak_rows(lower)
    hash_nibbles = np.empty((n, 40), dtype=np.uint8)
    hash_nibbles[:, 0::2] = hashes[:, :20] >> 4
    hash_nibbles[:, 1::2] = hashes[:, :20] & 0x0F
    text = np.empty((n, 42), dtype=np.uint8)
    text[:, 0], text[:, 1] = ord("0"), ord("x")
    text[:, 2:] = np.where((nibbles >= 10) & (hash_nibbles >= 8), lower - 32, lower)  # 'a' - 32 = 'A'
    joined = text.tobytes().decode("ascii")
    return [joined[i:i + 42] for i in range(0, 42 * n, 42)]


def checksummed(address: bytes) -> str:
    """The EIP-55 spelling of one 20-byte address."""
    return checksum_spellings(np.frombuffer(address, dtype=np.uint8).reshape(1, 20))[0]
