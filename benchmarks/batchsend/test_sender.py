"""Sending with :class:`batchsend.BatchSender` on a private Anvil (no timing assertions).

Every check reads the chain back (senders, nonces, receipts) rather than trusting the
records the sender returns.
"""

from __future__ import annotations

from collections import defaultdict

import pytest
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_utils import to_checksum_address

from batchsend import (
    BatchFailedError,
    BatchSender,
    Call,
    RpcClient,
    address_of,
    contract_address,
    keccak256,
    raise_for_failures,
    summarize,
)
from crowdsense.chain.deployment import load_artifact
from crowdsense.chain.node import ANVIL_KEYS
from crowdsense.errors import InputError

#: Anvil's public development account 0 (funded with 10,000 ETH at start).
DEV_KEY = ANVIL_KEYS[0]
SINK = to_checksum_address("0x" + "5a" * 20)
KEYS = [keccak256(f"test-batch/{i}".encode()) for i in range(8)]


# --------------------------------------------------------------------------------- fixtures


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


#: x of the secp256k1 generator: an encryption key the registry accepts.
ENCRYPTION_KEY = bytes.fromhex("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")


def _claim(task_id: int, index: int) -> bytes:
    selector = keccak256(b"claimSubtask(uint256,uint256,bytes32)")[:4]
    return selector + abi_encode(["uint256", "uint256", "bytes32"], [task_id, index, ENCRYPTION_KEY])


def _tx(url: str, tx_hash: str) -> dict:
    return RpcClient(url).call("eth_getTransactionByHash", [tx_hash])


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
