"""In-memory commitment board (CommitmentVerifier's blinding rules) and secret store."""

import pytest

from crowdsense.commitments import blinding_commitment, new_blinding_opening
from crowdsense.errors import InputError
from crowdsense.ldpf.pdc.board import CommitmentBoard, same_account
from crowdsense.ldpf.pdc.errors import (
    CommitmentAlreadyRecorded,
    CommitmentAlreadyRevealed,
    CommitmentNotFound,
    NotCommitter,
    OpeningMismatch,
)
from crowdsense.ldpf.pdc.store import InMemorySecretStore, SecretStore


@pytest.fixture
def alice(board):
    return board.as_account("alice")


@pytest.fixture
def opening():
    return new_blinding_opening(12345)


def test_in_memory_board_satisfies_protocol(board):
    assert isinstance(board, CommitmentBoard)


def test_commit_records_committer(alice, board, opening):
    alice.commit_blinding(opening.commitment)
    record = board.blinding_record(opening.commitment)
    assert record.committer == "alice" and not record.revealed


def test_blinding_record_of_unknown_commitment_is_none(board, opening):
    assert board.blinding_record(opening.commitment) is None


def test_commit_twice_is_rejected_even_by_another_account(alice, board, opening):
    alice.commit_blinding(opening.commitment)
    with pytest.raises(CommitmentAlreadyRecorded):
        board.as_account("bob").commit_blinding(opening.commitment)


def test_zero_commitment_is_rejected(alice):
    with pytest.raises(InputError, match="zero"):
        alice.commit_blinding(bytes(32))


def test_short_commitment_is_rejected(alice):
    with pytest.raises(InputError, match="32 bytes"):
        alice.commit_blinding(b"\x01" * 31)


def test_reveal_by_committer_marks_revealed(alice, board, opening):
    alice.commit_blinding(opening.commitment)
    alice.reveal_blinding(opening.commitment, opening.r, opening.salt)
    assert board.blinding_record(opening.commitment).revealed


def test_reveal_by_other_account_is_rejected(alice, board, opening):
    alice.commit_blinding(opening.commitment)
    with pytest.raises(NotCommitter):
        board.as_account("bob").reveal_blinding(opening.commitment, opening.r, opening.salt)


def test_reveal_twice_is_rejected(alice, opening):
    alice.commit_blinding(opening.commitment)
    alice.reveal_blinding(opening.commitment, opening.r, opening.salt)
    with pytest.raises(CommitmentAlreadyRevealed):
        alice.reveal_blinding(opening.commitment, opening.r, opening.salt)


def test_reveal_with_wrong_r_is_rejected_and_leaves_record_unrevealed(alice, board, opening):
    alice.commit_blinding(opening.commitment)
    with pytest.raises(OpeningMismatch):
        alice.reveal_blinding(opening.commitment, opening.r + 1, opening.salt)
    assert not board.blinding_record(opening.commitment).revealed


def test_reveal_unknown_commitment_is_rejected(alice, opening):
    with pytest.raises(CommitmentNotFound):
        alice.reveal_blinding(opening.commitment, opening.r, opening.salt)


def test_check_blinding_matches_hash_definition(alice, board, opening):
    alice.commit_blinding(opening.commitment)
    assert board.check_blinding(opening.commitment, opening.r, opening.salt)
    assert not board.check_blinding(opening.commitment, opening.r - 1, opening.salt)
    assert not board.check_blinding(opening.commitment, opening.r, bytes(32))


def test_check_blinding_of_unrecorded_commitment_is_false(board, opening):
    assert blinding_commitment(opening.r, opening.salt) == opening.commitment
    assert not board.check_blinding(opening.commitment, opening.r, opening.salt)


def test_same_account_ignores_address_case():
    assert same_account("0xAbCd", "0xabcd")
    assert not same_account("Alice", "alice")


def test_store_satisfies_protocol():
    assert isinstance(InMemorySecretStore(), SecretStore)


def test_store_returns_copies():
    store = InMemorySecretStore()
    value = {"r": "5", "nested": {"a": 1}}
    store.put("k", value)
    value["nested"]["a"] = 2
    got = store.get("k")
    assert got == {"r": "5", "nested": {"a": 1}}
    got["r"] = "6"
    assert store.get("k")["r"] == "5"


def test_store_get_missing_is_none():
    assert InMemorySecretStore().get("nope") is None


def test_store_rejects_non_json_values():
    with pytest.raises(InputError, match="JSON"):
        InMemorySecretStore().put("k", {"salt": b"raw bytes"})
