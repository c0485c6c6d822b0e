"""CommitmentVerifierClient: openings journaled before the commit, reveals from the journal."""

from __future__ import annotations

import pytest

from crowdsense.chain import errors as E
from crowdsense.chain.journal import Journal
from crowdsense.chain.verifier import CommitmentVerifierClient
from crowdsense.commitments import bit_commitment, blinding_commitment, new_bit_opening, new_blinding_opening
from crowdsense.errors import InputError


def _client(env, signer, name):
    return CommitmentVerifierClient(env.conn, signer, journal=Journal(env.journal_path(name)))


def test_commit_bit_journals_opening_and_records_on_chain(env):
    client = _client(env, env.roles.alice, "alice-cv")
    opening = new_bit_opening(b"group centre 12,34")
    client.commit_bit(opening, label="ctbc round 1")
    c = bit_commitment(opening.r1, opening.r2, opening.payload)
    assert client.bit_opening(c) == opening  # survives in the journal
    record = client.bit_record(env.roles.alice.address, c)
    assert record.committer == env.roles.alice.address and record.r1 == opening.r1 and not record.revealed


def test_reveal_bit_from_a_fresh_client_uses_the_journal(env):
    opening = new_bit_opening(b"UD")
    _client(env, env.roles.bob, "bob-cv").commit_bit(opening)
    restarted = _client(env, env.roles.bob, "bob-cv")
    restarted.reveal_bit(opening.commitment)
    assert restarted.bit_record(env.roles.bob.address, opening.commitment).revealed


def test_reveal_bit_twice_resumes_then_refuses_from_another_journal(env):
    client = _client(env, env.roles.carol, "carol-cv")
    opening = new_bit_opening(b"once")
    client.commit_bit(opening)
    first = client.reveal_bit(opening.commitment)
    again = client.reveal_bit(opening.commitment)
    assert again.resumed and again.tx_hash == first.tx_hash
    other = _client(env, env.roles.carol, "carol-cv-elsewhere")
    other.journal.put(f"bit-opening/{env.conn.chain_id}/{other.address}/0x{opening.commitment.hex()}",
                      {"r1": opening.r1, "r2": opening.r2, "payload": opening.payload, "label": ""})
    with pytest.raises(E.AlreadyRevealedError):
        other.reveal_bit(opening.commitment)


def test_reveal_bit_of_another_accounts_commitment_is_refused_before_sending(env):
    opening = new_bit_opening(b"mine")
    _client(env, env.roles.alice, "alice-cv").commit_bit(opening)
    thief = _client(env, env.roles.mallory, "mallory-cv")
    thief.journal.put(f"bit-opening/{env.conn.chain_id}/{thief.address}/0x{opening.commitment.hex()}",
                      {"r1": opening.r1, "r2": opening.r2, "payload": opening.payload, "label": ""})
    nonce = env.conn.w3.eth.get_transaction_count(env.roles.mallory.address)
    with pytest.raises(E.CommitmentNotFoundError, match="recorded by this account"):
        thief.reveal_bit(opening.commitment)
    assert env.conn.w3.eth.get_transaction_count(env.roles.mallory.address) == nonce


def test_commit_same_hash_twice_by_one_account_is_decoded(env):
    opening = new_bit_opening(b"dup")
    _client(env, env.roles.alice, "alice-cv").commit_bit(opening)
    with pytest.raises(E.AlreadyCommittedError, match="recorded by this account"):
        _client(env, env.roles.alice, "alice-cv-2").commit_bit(opening)


def test_the_same_hash_from_another_account_is_its_own_record(env):
    opening = new_bit_opening(b"copied")
    alice = _client(env, env.roles.alice, "alice-cv")
    _client(env, env.roles.dave, "dave-cv").commit_bit(opening)  # a copy, mined first
    alice.commit_bit(opening)
    alice.reveal_bit(opening.commitment)
    assert alice.bit_record(env.roles.alice.address, opening.commitment).revealed
    assert not alice.bit_record(env.roles.dave.address, opening.commitment).revealed


def test_a_record_is_read_for_a_valid_committer_address(env):
    client = _client(env, env.roles.alice, "alice-cv")
    with pytest.raises(InputError, match="committer"):
        client.bit_record("0x1234", b"\x01" * 32)


def test_blinding_commit_and_reveal(env):
    client = _client(env, env.roles.dave, "dave-cv")
    opening = new_blinding_opening(123456789)
    client.commit_blinding(opening)
    assert client.blinding_opening(opening.commitment) == opening
    client.reveal_blinding(opening.commitment)
    record = client.blinding_record(env.roles.dave.address, opening.commitment)
    assert record.revealed and opening.commitment == blinding_commitment(123456789, opening.salt)
