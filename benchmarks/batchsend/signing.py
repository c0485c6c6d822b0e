"""Ethereum transactions signed with libsecp256k1 (coincurve) over a minimal RLP encoder.

Two transaction types, EIP-1559 (type 2) and EIP-155 legacy; the raw bytes equal
eth-account's for the same fields (``test_signing`` checks it) at about ten times its rate,
so that signing inside a timed run does not limit the rate measured.
"""

from __future__ import annotations

from typing import Iterable, NamedTuple

import coincurve
from Crypto.Hash import keccak as _keccak_mod
from eth_utils import to_checksum_address

from crowdsense.errors import InputError

__all__ = ["SignedTx", "keccak256", "address_of", "contract_address", "sign_transaction", "private_key",
           "address_bytes", "data_bytes"]

_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def keccak256(data: bytes) -> bytes:
    """Keccak-256 (Ethereum's, not NIST SHA3-256) of ``data``."""
    return _keccak_mod.new(data=data, digest_bits=256).digest()


def _rlp_int(value: int) -> bytes:
    if value == 0:
        return b"\x80"
    return _rlp_bytes(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _rlp_bytes(data: bytes) -> bytes:
    n = len(data)
    if n == 1 and data[0] < 0x80:
        return data
    if n < 56:
        return bytes((0x80 + n,)) + data
    length = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0xB7 + len(length),)) + length + data


def _rlp_list(encoded_items: Iterable[bytes]) -> bytes:
    payload = b"".join(encoded_items)
    n = len(payload)
    if n < 56:
        return bytes((0xC0 + n,)) + payload
    length = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0xF7 + len(length),)) + length + payload


def private_key(key: bytes | str | coincurve.PrivateKey) -> coincurve.PrivateKey:
    if isinstance(key, coincurve.PrivateKey):
        return key
    if isinstance(key, str):
        text = key[2:] if key[:2] in ("0x", "0X") else key
        try:
            key = bytes.fromhex(text)
        except ValueError:
            raise InputError(
                "a private key must be 32 bytes or 64 hex digits; got a non-hex string") from None
    if not isinstance(key, (bytes, bytearray)) or len(key) != 32:
        raise InputError(
            f"a private key must be 32 bytes or 64 hex digits; got {type(key).__name__} "
            f"of length {len(key) if hasattr(key, '__len__') else '?'}"
        )
    secret = int.from_bytes(key, "big")
    if not 0 < secret < _SECP256K1_N:
        raise InputError("a private key must be in [1, n-1] of secp256k1; got a value outside it")
    return coincurve.PrivateKey(bytes(key))


def address_of(key: bytes | str | coincurve.PrivateKey) -> str:
    """Checksummed Ethereum address of a private key: last 20 bytes of keccak(pubkey)."""
    public = private_key(key).public_key.format(compressed=False)[1:]
    return to_checksum_address(keccak256(public)[-20:])


def contract_address(sender: str | bytes, nonce: int) -> str:
    """Address of the contract created by ``sender``'s transaction ``nonce`` (CREATE).

    ``keccak256(rlp([sender, nonce]))[12:]``, so a deployment sent through
    :class:`BatchSender` (``Call(to=None, ...)``) can be located without its receipt.
    """
    if not isinstance(nonce, int) or nonce < 0:
        raise InputError(f"nonce must be a non-negative int; got {nonce!r}")
    raw = address_bytes(sender, "sender")
    return to_checksum_address(keccak256(_rlp_list([_rlp_bytes(raw), _rlp_int(nonce)]))[-20:])


def address_bytes(address: str | bytes | None, what: str) -> bytes:
    if address is None:
        return b""
    if isinstance(address, (bytes, bytearray)):
        if len(address) != 20:
            raise InputError(f"{what} must be a 20-byte address; got {len(address)} bytes")
        return bytes(address)
    if not isinstance(address, str):
        raise InputError(f"{what} must be a hex address string; got {type(address).__name__}")
    text = address[2:] if address[:2] in ("0x", "0X") else address
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise InputError(f"{what} must be a hex address; got {address!r}") from None
    if len(raw) != 20:
        raise InputError(f"{what} must be a 20-byte address; got {address!r}")
    return raw


def data_bytes(data: bytes | str) -> bytes:
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    if isinstance(data, str):
        text = data[2:] if data[:2] in ("0x", "0X") else data
        try:
            return bytes.fromhex(text)
        except ValueError:
            raise InputError(f"call data must be bytes or a hex string; got {data[:20]!r}...") from None
    raise InputError(f"call data must be bytes or a hex string; got {type(data).__name__}")


class SignedTx(NamedTuple):
    """A signed transaction ready for ``eth_sendRawTransaction``; ``hash`` is ``keccak256(raw)``."""

    raw: bytes
    hash: bytes


def sign_transaction(
    key: bytes | str | coincurve.PrivateKey,
    *,
    chain_id: int,
    nonce: int,
    gas: int,
    to: str | bytes | None,
    data: bytes | str = b"",
    value: int = 0,
    max_fee_per_gas: int | None = None,
    max_priority_fee_per_gas: int | None = None,
    gas_price: int | None = None,
) -> SignedTx:
    """Sign one transaction with libsecp256k1 (coincurve) and return its raw bytes and hash.

    With ``max_fee_per_gas`` (and ``max_priority_fee_per_gas``) the transaction is EIP-1559
    (type 2, empty access list)::

        raw = 0x02 || rlp([chainId, nonce, tip, maxFee, gas, to, value, data, [], yParity, r, s])

    with ``gas_price`` it is legacy with EIP-155 replay protection::

        raw = rlp([nonce, gasPrice, gas, to, value, data, v, r, s]),  v = yParity + 35 + 2 chainId

    In both cases the signature is over ``keccak256`` of the unsigned encoding and the hash is
    ``keccak256(raw)``. ``to=None`` creates a contract.

    Raises
    ------
    InputError
        On a malformed key, address or data, a negative number, or when neither or both fee
        styles are given.
    """
    pk = private_key(key)
    for name, number in (("chain_id", chain_id), ("nonce", nonce), ("gas", gas), ("value", value)):
        if not isinstance(number, int) or number < 0:
            raise InputError(f"{name} must be a non-negative int; got {number!r}")
    to_b = address_bytes(to, "to")
    data_b = data_bytes(data)
    if (max_fee_per_gas is None) == (gas_price is None):
        raise InputError("give either max_fee_per_gas (EIP-1559) or gas_price (legacy), exactly one")
    if max_fee_per_gas is not None:
        tip = max_fee_per_gas if max_priority_fee_per_gas is None else max_priority_fee_per_gas
        if max_fee_per_gas < 0 or tip < 0 or tip > max_fee_per_gas:
            raise InputError(
                f"need 0 <= max_priority_fee_per_gas <= max_fee_per_gas; got {tip} and {max_fee_per_gas}"
            )
        fields = [
            _rlp_int(chain_id), _rlp_int(nonce), _rlp_int(tip), _rlp_int(max_fee_per_gas), _rlp_int(gas),
            _rlp_bytes(to_b), _rlp_int(value), _rlp_bytes(data_b), b"\xc0",
        ]
        sig = pk.sign_recoverable(keccak256(b"\x02" + _rlp_list(fields)), hasher=None)
        fields += [_rlp_int(sig[64]), _rlp_int(int.from_bytes(sig[:32], "big")),
                   _rlp_int(int.from_bytes(sig[32:64], "big"))]
        raw = b"\x02" + _rlp_list(fields)
    else:
        assert gas_price is not None
        if gas_price < 0:
            raise InputError(f"gas_price must be non-negative; got {gas_price}")
        fields = [_rlp_int(nonce), _rlp_int(gas_price), _rlp_int(gas), _rlp_bytes(to_b), _rlp_int(value),
                  _rlp_bytes(data_b)]
        unsigned = _rlp_list(fields + [_rlp_int(chain_id), b"\x80", b"\x80"])
        sig = pk.sign_recoverable(keccak256(unsigned), hasher=None)
        fields += [_rlp_int(sig[64] + 35 + 2 * chain_id), _rlp_int(int.from_bytes(sig[:32], "big")),
                   _rlp_int(int.from_bytes(sig[32:64], "big"))]
        raw = _rlp_list(fields)
    return SignedTx(raw=raw, hash=keccak256(raw))


