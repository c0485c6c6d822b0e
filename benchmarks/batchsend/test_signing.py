"""Signing of :mod:`batchsend.signing`, checked against eth-account as an independent reference."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_utils import to_checksum_address

from batchsend.signing import address_of, keccak256, sign_transaction
from crowdsense.errors import InputError

SINK = to_checksum_address("0x" + "5a" * 20)
KEYS = [keccak256(f"test-signing/{i}".encode()) for i in range(4)]

SIGN_CASES = [
    {"nonce": 0, "gas": 21_000, "to": SINK, "value": 0, "data": b""},
    {"nonce": 7, "gas": 90_000, "to": SINK, "value": 10**18 + 3, "data": bytes(range(68))},
    {"nonce": 2**40, "gas": 3_000_000, "to": None, "value": 0, "data": bytes(300)},
    {"nonce": 1, "gas": 21_000, "to": SINK, "value": 1, "data": b"\x7f"},
]


@pytest.mark.parametrize("case", SIGN_CASES)
def test_sign_transaction_eip1559_equals_eth_account(case):
    key = KEYS[0]
    ours = sign_transaction(key, chain_id=31337, max_fee_per_gas=3 * 10**9, max_priority_fee_per_gas=10**9,
                            **case)
    reference = Account.sign_transaction(
        {"type": 2, "chainId": 31337, "nonce": case["nonce"], "gas": case["gas"], "value": case["value"],
         "data": case["data"], "maxFeePerGas": 3 * 10**9, "maxPriorityFeePerGas": 10**9,
         **({"to": case["to"]} if case["to"] else {})}, key)
    assert ours.raw == bytes(reference.raw_transaction)
    assert ours.hash == bytes(reference.hash)


@pytest.mark.parametrize("case", SIGN_CASES)
def test_sign_transaction_legacy_equals_eth_account(case):
    key = KEYS[1]
    ours = sign_transaction(key, chain_id=1337, gas_price=2 * 10**9, **case)
    reference = Account.sign_transaction(
        {"chainId": 1337, "nonce": case["nonce"], "gas": case["gas"], "value": case["value"],
         "data": case["data"],
         "gasPrice": 2 * 10**9, **({"to": case["to"]} if case["to"] else {})}, key)
    assert ours.raw == bytes(reference.raw_transaction)


@pytest.mark.parametrize("key", KEYS[:4])
def test_sign_transaction_signature_recovers_to_signer(key):
    signed = sign_transaction(key, chain_id=31337, nonce=3, gas=50_000, to=SINK, data=b"\x01\x02",
                              max_fee_per_gas=2 * 10**9)
    assert Account.recover_transaction(signed.raw) == Account.from_key(key).address


def test_address_of_equals_eth_account():
    for key in KEYS:
        assert address_of(key) == Account.from_key(key).address
        assert address_of("0x" + key.hex()) == Account.from_key(key).address


@pytest.mark.parametrize("bad", [
    {"key": b"\x00" * 32},
    {"key": "0x1234"},
    {"to": "0x1234"},
    {"nonce": -1},
    {"gas_price": 10**9},  # both fee styles at once
    {"max_priority_fee_per_gas": 10**10},  # tip above the max fee
    {"data": "0xzz"},
])
def test_sign_transaction_rejects_malformed_input(bad):
    fields = {"key": KEYS[0], "chain_id": 1, "nonce": 0, "gas": 21_000, "to": SINK, "max_fee_per_gas": 10**9}
    fields.update(bad)
    with pytest.raises(InputError):
        sign_transaction(fields.pop("key"), **fields)


def test_eth_keys_reference_uses_the_compiled_backend():
    # eth-account (the reference above) signs through eth-keys; with coincurve installed its
    # backend must be libsecp256k1, not the pure-Python fallback (about 10x slower).
    from eth_keys.backends import get_backend

    assert type(get_backend()).__name__ == "CoinCurveECCBackend"
