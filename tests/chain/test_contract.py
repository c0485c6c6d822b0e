"""ContractClient: what both contract clients share (account, sender, intents, unchecked sends)."""

from __future__ import annotations

import pytest
from web3 import Web3

from crowdsense.chain import errors as E
from crowdsense.chain.contract import optional_account
from crowdsense.chain.journal import Journal
from crowdsense.chain.registry import TaskRegistryClient
from crowdsense.chain.verifier import CommitmentVerifierClient
from crowdsense.commitments import new_bit_opening
from crowdsense.errors import InputError


def test_optional_account_reads_the_zero_address_as_unset():
    assert optional_account("0x" + "00" * 20) is None
    address = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
    assert optional_account(address) == Web3.to_checksum_address(address)


def test_each_client_talks_to_its_own_contract(env):
    assert TaskRegistryClient(env.conn).address == env.conn.registry.address
    assert CommitmentVerifierClient(env.conn).address == env.conn.verifier.address
    assert CommitmentVerifierClient(env.conn).prefix == f"{env.conn.chain_id}/{env.conn.verifier.address}"


def test_read_only_client_refuses_to_send_before_journaling(env, tmp_path):
    journal = Journal(tmp_path / "j.sqlite")
    client = CommitmentVerifierClient(env.conn, journal=journal)
    assert client.sender is None
    with pytest.raises(InputError, match="needs an account"):
        client.commit_bit(new_bit_opening(b"no account"))
    assert journal.keys() == []


def test_client_without_journal_refuses_to_send(env):
    client = CommitmentVerifierClient(env.conn, env.roles.erin)
    nonce = env.conn.w3.eth.get_transaction_count(env.roles.erin.address)
    with pytest.raises(InputError, match="journal"):
        client.commit_bit(new_bit_opening(b"no journal"))
    assert env.conn.w3.eth.get_transaction_count(env.roles.erin.address) == nonce


def test_clients_of_one_account_can_share_one_sender(env):
    journal = Journal(env.journal_path("shared-sender"))
    verifier = CommitmentVerifierClient(env.conn, env.roles.alice, journal=journal)
    registry = TaskRegistryClient(env.conn, env.roles.alice, journal=journal, sender=verifier.sender)
    assert registry.sender is verifier.sender is not None
    assert registry.sender.address == env.roles.alice.address


def test_intent_ids_name_the_chain_the_contract_and_the_account(env):
    client = env.client(env.roles.alice, "alice-intents")
    expected = f"claim/{env.conn.chain_id}/{env.conn.registry.address}/7/2/{env.roles.alice.address}"
    assert client._intent_id("claim", 7, 2) == expected


def test_sent_transaction_records_kind_sender_and_subject(env):
    client = CommitmentVerifierClient(env.conn, env.roles.bob, journal=Journal(env.journal_path("bob-record")))
    opening = new_bit_opening(b"recorded")
    record = client.commit_bit(opening)
    assert record.ok and record.error is None and not record.resumed
    assert (record.kind, record.sender, record.subject) == ("commitBit", env.roles.bob.address,
                                                            "0x" + opening.commitment.hex())
    assert record.block_number == env.conn.w3.eth.get_transaction(record.tx_hash)["blockNumber"]
    assert record.to_json()["txHash"] == record.tx_hash


def test_unchecked_send_is_mined_and_reverted_with_its_typed_reason(env):
    client = CommitmentVerifierClient(env.conn, env.roles.carol, journal=Journal(env.journal_path("carol-unchecked")))
    never_committed = new_bit_opening(b"never committed")
    fn = client.contract.functions.revealBit(never_committed.commitment, never_committed.r2, never_committed.payload)
    outcome = client.send_unchecked(fn, intent_id="unchecked-reveal", kind="revealBit", subject="probe")
    assert outcome.reverted and isinstance(outcome.error, E.CommitmentNotFoundError)
    record = outcome.record
    assert not record.ok and record.subject == "probe" and record.error == str(outcome.error)
    receipt = env.conn.w3.eth.get_transaction_receipt(record.tx_hash)
    assert receipt["status"] == 0 and record.gas_used == receipt["gasUsed"]


def test_a_raw_view_call_answers_what_the_contract_layer_answers(env):
    """call_view (one eth_call, eth-abi on both ends) against web3's contract call, on the same state."""
    registry = TaskRegistryClient(env.conn)
    for account in (env.roles.alice.address, env.roles.bob.address, env.roles.mallory.address):
        assert registry.call_view("levelOf", account) == (registry.contract.functions.levelOf(account).call(),)
    verifier = CommitmentVerifierClient(env.conn)
    commitment = b"\x07" * 32
    assert verifier.call_view("blindingCommitment", env.roles.alice.address, commitment) == \
        tuple(verifier.contract.functions.blindingCommitment(env.roles.alice.address, commitment).call())


def test_a_raw_view_call_that_reverts_raises_the_contracts_typed_error(env):
    with pytest.raises(E.UnknownTaskError, match="unknown task 999"):
        TaskRegistryClient(env.conn).call_view("getSubtask", 999, 0)


def test_a_raw_view_call_of_a_function_the_abi_lacks_is_refused(env):
    with pytest.raises(E.ClientError, match="is not one function of the contract's ABI"):
        TaskRegistryClient(env.conn).call_view("noSuchView")
