"""Correctness of :mod:`crowdsense.chain.batch` (no timing assertions).

Signing is checked against eth-account as an independent reference implementation; sending
runs on this module's own Anvil (a free port in 8600-8699, started with ``subprocess`` and
stopped at the end), so the suite needs no other node.
"""

from __future__ import annotations

import math
import socket
import subprocess
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_utils import to_checksum_address

from crowdsense.chain.batch import (
    BatchFailedError,
    BatchSender,
    Call,
    NodeConnectionError,
    RpcClient,
    RpcError,
    TxRecord,
    address_of,
    contract_address,
    keccak256,
    raise_for_failures,
    sign_transaction,
    summarize,
)
from crowdsense.chain.deployment import load_artifact
from crowdsense.errors import CrowdsenseError, InputError

ROOT = Path(__file__).resolve().parents[2]
ANVIL = ROOT / "node_modules" / ".bin" / "anvil"
#: Anvil's public development account 0 (funded with 10,000 ETH at start).
DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
SINK = to_checksum_address("0x" + "5a" * 20)
KEYS = [keccak256(f"test-batch/{i}".encode()) for i in range(8)]


# --------------------------------------------------------------------------------- fixtures


def _free_ports() -> list[int]:
    rng = np.random.default_rng()
    ports = []
    for port in rng.permutation(np.arange(8600, 8700)):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", int(port)))
            except OSError:
                continue
        ports.append(int(port))
    return ports


@pytest.fixture(scope="module")
def anvil_url():
    if not ANVIL.exists():
        pytest.skip("anvil is not installed (run `make setup`)")
    for port in _free_ports()[:5]:
        url = f"http://127.0.0.1:{port}"
        proc = subprocess.Popen([str(ANVIL), "--port", str(port), "--silent"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        rpc = RpcClient(url, timeout=2)
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                rpc.call("eth_chainId")
                break
            except CrowdsenseError:
                time.sleep(0.1)
        else:
            proc.kill()
            proc.wait()
            continue  # the port was taken in the meantime: try another
        try:
            yield url
        finally:
            rpc.close()
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return
    pytest.fail("could not start anvil on a free port in 8600-8699")


@pytest.fixture(scope="module")
def funded(anvil_url):
    """The test keys, each funded with 10 ETH from the development account."""
    dev = BatchSender(anvil_url, [DEV_KEY], gas=21_000)
    raise_for_failures(dev.send([Call(to=address_of(k), value=10**19) for k in KEYS]))
    return KEYS


@pytest.fixture(scope="module")
def registry(anvil_url):
    """A TaskRegistry (T = 3) deployed through BatchSender, and its address."""
    dev = BatchSender(anvil_url, [DEV_KEY])
    deployer = dev.addresses[0]
    nonce = int(RpcClient(anvil_url).call("eth_getTransactionCount", [deployer, "pending"]), 16)
    artifact = load_artifact("TaskRegistry")
    data = bytes.fromhex(artifact["bytecode"].removeprefix("0x")) + abi_encode(
        ["uint8", "address", "address", "address"], [3, deployer, deployer, deployer])
    (record,) = dev.send([Call(to=None, data=data)])
    raise_for_failures([record])
    receipt = RpcClient(anvil_url).call("eth_getTransactionReceipt", [record.tx_hash])
    assert receipt["contractAddress"].lower() == contract_address(deployer, nonce).lower()
    return receipt["contractAddress"]


def _claim(task_id: int, index: int) -> bytes:
    selector = keccak256(b"claimSubtask(uint256,uint256)")[:4]
    return selector + abi_encode(["uint256", "uint256"], [task_id, index])


def _tx(url: str, tx_hash: str) -> dict:
    return RpcClient(url).call("eth_getTransactionByHash", [tx_hash])


# ---------------------------------------------------------------------------------- signing


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


# ---------------------------------------------------------------------------------- records


def _record(i, send, confirm, status=1, error=None, block=None):
    return TxRecord(index=i, sender="0x" + "00" * 20, nonce=i, tx_hash=f"0x{i:064x}", send_time=send,
                    confirm_time=confirm, status=status, error=error,
                    block_number=block if block is not None else i)


def test_summarize_matches_hand_calculation():
    records = [_record(0, 10.0, 10.5), _record(1, 10.25, 11.0), _record(2, 10.5, 12.0),
               _record(3, 10.75, 11.5)]
    stats = summarize(records)
    latencies = [0.5, 0.75, 1.5, 0.75]
    assert stats.confirmed == 4
    assert stats.throughput == pytest.approx(4 / (12.0 - 10.0))
    assert stats.send_rate == pytest.approx(3 / 0.75)
    assert stats.latency_mean == pytest.approx(np.mean(latencies))
    assert stats.latency_p50 == pytest.approx(np.percentile(latencies, 50))
    assert stats.latency_p95 == pytest.approx(np.percentile(latencies, 95))
    assert stats.latency_max == pytest.approx(1.5)


def test_summarize_excludes_failures_from_confirmed_and_latency():
    records = [_record(0, 1.0, 2.0), _record(1, 1.0, 9.0, status=0),
               _record(2, 1.0, None, status=None, error="rejected by the node: nonce too low")]
    stats = summarize(records)
    assert (stats.confirmed, stats.reverted, stats.rejected, stats.missing) == (1, 1, 1, 0)
    assert stats.latency_max == pytest.approx(1.0)
    assert stats.throughput == pytest.approx(1 / (2.0 - 1.0))


def test_raise_for_failures_names_the_failing_call():
    records = [_record(0, 1.0, 2.0), _record(1, 1.0, 2.0, status=0)]
    with pytest.raises(BatchFailedError) as info:
        raise_for_failures(records)
    assert [r.index for r in info.value.failures] == [1]
    assert isinstance(info.value, CrowdsenseError)


# ---------------------------------------------------------------------------------- sending


def _nonces_by_sender(records):
    by_sender = defaultdict(list)
    for r in records:
        if r.succeeded:
            by_sender[r.sender].append(r.nonce)
    return by_sender


def test_send_transactions_come_from_the_intended_senders(anvil_url, funded):
    sender = BatchSender(anvil_url, funded, gas=21_000, batch_size=5)
    calls = [Call(to=SINK, value=i + 1, sender=i % len(funded)) for i in range(24)]
    records = sender.send(calls)
    raise_for_failures(records)
    for call, record in zip(calls, records):
        expected = Account.from_key(funded[call.sender]).address
        assert record.sender == expected
        assert _tx(anvil_url, record.tx_hash)["from"].lower() == expected.lower()


def test_send_nonces_are_consecutive_and_never_reused(anvil_url, funded):
    rpc = RpcClient(anvil_url)
    addresses = [address_of(k) for k in funded[:3]]
    before = {a: int(rpc.call("eth_getTransactionCount", [a, "latest"]), 16) for a in addresses}
    sender = BatchSender(anvil_url, funded[:3], gas=21_000, batch_size=7, max_in_flight=3)
    records = sender.send([Call(to=SINK, value=1) for _ in range(60)])  # round-robin over 3 senders
    raise_for_failures(records)
    by_sender = _nonces_by_sender(records)
    for a in addresses:
        assert sorted(by_sender[a]) == list(range(before[a], before[a] + 20))
        assert int(rpc.call("eth_getTransactionCount", [a, "latest"]), 16) == before[a] + 20
    assert len({r.tx_hash for r in records}) == len(records)


def test_send_presigned_also_uses_consecutive_nonces(anvil_url, funded):
    sender = BatchSender(anvil_url, funded[3:5], gas=21_000, batch_size=4)
    records = sender.send([Call(to=SINK, value=1) for _ in range(10)], presign=True)
    raise_for_failures(records)
    for nonces in _nonces_by_sender(records).values():
        assert sorted(nonces) == list(range(min(nonces), min(nonces) + 5))


def test_send_reports_a_reverted_transaction_in_a_batch(anvil_url, funded, registry):
    sender = BatchSender(anvil_url, funded[:2], gas=21_000)
    calls = [Call(to=SINK, value=1, sender=0),
             Call(to=registry, data=_claim(12345, 0), gas=200_000, sender=1),  # unknown task: reverts
             Call(to=SINK, value=1, sender=0)]
    records = sender.send(calls)
    assert [r.status for r in records] == [1, 0, 1]
    assert records[1].block_number is not None
    with pytest.raises(BatchFailedError) as info:
        raise_for_failures(records)
    assert [r.index for r in info.value.failures] == [1]
    assert summarize(records).reverted == 1


def test_send_rejected_transaction_hands_its_nonce_to_the_next(anvil_url, funded):
    key = funded[5]
    address = address_of(key)
    start = int(RpcClient(anvil_url).call("eth_getTransactionCount", [address, "pending"]), 16)
    sender = BatchSender(anvil_url, [key], gas=21_000, batch_size=1, max_in_flight=1)
    # 10**9 gas is above Anvil's block gas limit: the node refuses it at eth_sendRawTransaction.
    calls = [Call(to=SINK, value=1), Call(to=SINK, value=1, gas=10**9), Call(to=SINK, value=1)]
    records = sender.send(calls)
    assert records[1].error is not None and records[1].error.startswith("rejected by the node")
    assert records[1].status is None
    assert [records[0].nonce, records[2].nonce] == [start, start + 1]
    assert records[0].succeeded and records[2].succeeded
    assert summarize(records).rejected == 1


def test_send_paced_sends_every_call(anvil_url, funded):
    sender = BatchSender(anvil_url, funded, gas=21_000)
    records = sender.send([Call(to=SINK, value=1) for _ in range(40)], rate=200)
    raise_for_failures(records)
    assert [r.index for r in records] == list(range(40))
    assert summarize(records).sent == 40
    assert all(r.send_time is not None and r.confirm_time >= r.send_time for r in records)


def test_send_with_two_processes_splits_senders(anvil_url, funded):
    sender = BatchSender(anvil_url, funded[:4], gas=21_000, processes=2)
    calls = [Call(to=SINK, value=1, sender=i % 4) for i in range(32)]
    records = sender.send(calls, rate=400)
    raise_for_failures(records)
    assert [r.index for r in records] == list(range(32))
    for call, record in zip(calls, records):
        assert record.sender == address_of(funded[call.sender])
    for nonces in _nonces_by_sender(records).values():
        assert sorted(nonces) == list(range(min(nonces), min(nonces) + 8))


def test_send_reports_a_transaction_the_node_dropped(anvil_url):
    poor = keccak256(b"test-batch/poor")
    dev = BatchSender(anvil_url, [DEV_KEY], gas=21_000)
    fee = 10 * 10**9
    raise_for_failures(dev.send([Call(to=address_of(poor), value=21_000 * fee + 10**15)]))
    sender = BatchSender(anvil_url, [poor], gas=21_000, max_fee_per_gas=fee, max_priority_fee_per_gas=10**9,
                         receipt_timeout=20)
    # The balance covers the first transfer only; the node takes both, then cannot mine the second.
    records = sender.send([Call(to=SINK, value=10**15), Call(to=SINK, value=10**15)])
    assert records[0].succeeded
    assert not records[1].succeeded
    assert records[1].error is not None and ("dropped" in records[1].error or "rejected" in records[1].error)


def test_send_refuses_a_sender_it_has_no_key_for(anvil_url):
    sender = BatchSender(anvil_url, KEYS[:1], gas=21_000)
    with pytest.raises(InputError):
        sender.send([Call(to=SINK, sender=SINK)])
    with pytest.raises(InputError):
        sender.send([Call(to=SINK, sender=3)])


def test_rpc_batch_returns_errors_in_place(anvil_url):
    calls = [("eth_chainId", []), ("no_such_method", []), ("eth_blockNumber", [])]
    answers = RpcClient(anvil_url).batch(calls)
    assert int(answers[0], 16) == 31337
    assert isinstance(answers[1], RpcError)
    assert int(answers[2], 16) >= 0


def test_node_down_raises_node_connection_error():
    port = _free_ports()[0]
    with pytest.raises(NodeConnectionError) as info:
        RpcClient(f"http://127.0.0.1:{port}", timeout=1).call("eth_chainId")
    assert isinstance(info.value, CrowdsenseError)
    assert math.isfinite(port)


@pytest.mark.parametrize("mode", ["blocks", "hashes"])
def test_send_finds_every_receipt_in_either_receipt_mode(anvil_url, funded, mode):
    sender = BatchSender(anvil_url, funded[:4], gas=21_000, batch_size=6, receipts=mode)
    records = sender.send([Call(to=SINK, value=1) for _ in range(30)])
    raise_for_failures(records)
    rpc = RpcClient(anvil_url)
    for record in records[::7]:
        receipt = rpc.call("eth_getTransactionReceipt", [record.tx_hash])
        assert int(receipt["blockNumber"], 16) == record.block_number
        assert int(receipt["gasUsed"], 16) == record.gas_used == 21_000


def test_eth_keys_reference_uses_the_compiled_backend():
    # eth-account (the reference above) signs through eth-keys; with coincurve installed its
    # backend must be libsecp256k1, not the pure-Python fallback (about 10x slower).
    from eth_keys.backends import get_backend

    assert type(get_backend()).__name__ == "CoinCurveECCBackend"


def test_send_stops_when_the_node_includes_nothing(anvil_url, funded):
    rpc = RpcClient(anvil_url)
    sender = BatchSender(anvil_url, [funded[6]], gas=21_000, batch_size=1, max_pending=2, receipt_timeout=1.0)
    rpc.call("evm_setAutomine", [False])  # the node accepts transactions but mines none
    try:
        records = sender.send([Call(to=SINK, value=1) for _ in range(5)])
    finally:
        rpc.call("evm_setAutomine", [True])
    sent = [r for r in records if r.tx_hash]
    unsent = [r for r in records if not r.tx_hash]
    assert len(sent) == 2 and len(unsent) == 3
    assert all(r.error and r.error.startswith("not sent") and r.nonce == -1 for r in unsent)
    assert all(not r.succeeded for r in records)
    assert [r.index for r in records] == list(range(5))
