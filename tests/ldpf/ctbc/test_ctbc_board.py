"""The in-memory board follows CommitmentVerifier's rules; hashes agree with the shared helper."""

import secrets

import pytest
from eth_utils import keccak

from crowdsense.commitments import bit_commitment, new_bit_opening
from crowdsense.ldpf.ctbc.board import (
    BitCommitmentBoard,
    MemoryBitBoard,
    MemorySecretStore,
    SecretStore,
    fast_bit_commitment,
    keccak256,
)
from crowdsense.ldpf.ctbc.errors import (
    BitAlreadyRevealedError,
    BitCommitmentExistsError,
    BitCommitmentNotFoundError,
    BitNotCommitterError,
    BitOpeningMismatchError,
    BitPayloadLengthError,
    BitZeroCommitmentError,
)
from crowdsense.errors import InputError


@pytest.fixture
def board():
    return MemoryBitBoard()


@pytest.fixture
def opening():
    return new_bit_opening(b"\x01" * 128)


def test_keccak256_of_empty_input_is_the_known_constant():
    assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"


def test_keccak256_agrees_with_eth_utils():
    for n in (1, 31, 32, 160, 1000):
        data = secrets.token_bytes(n)
        assert keccak256(data) == keccak(data)


def test_fast_bit_commitment_agrees_with_shared_helper():
    for _ in range(20):
        r1, r2, payload = secrets.token_bytes(32), secrets.token_bytes(32), secrets.token_bytes(128)
        assert fast_bit_commitment(r1, r2, payload) == bit_commitment(r1, r2, payload)


def test_memory_implementations_satisfy_the_protocols():
    assert isinstance(MemoryBitBoard(), BitCommitmentBoard)
    assert isinstance(MemorySecretStore(), SecretStore)


def test_commit_then_reveal_records_the_opening(board, opening):
    c = opening.commitment
    board.commit_bit(c, opening.r1, sender="alice")
    assert board.bit_record(c).revealed is False
    assert board.reveal_bit(c, opening.r2, opening.payload, sender="alice") is True
    rec = board.bit_record(c)
    assert (rec.committer, rec.r1, rec.revealed, rec.payload) == ("alice", opening.r1, True, opening.payload)


def test_commit_twice_is_rejected(board, opening):
    board.commit_bit(opening.commitment, opening.r1, sender="alice")
    with pytest.raises(BitCommitmentExistsError):
        board.commit_bit(opening.commitment, opening.r1, sender="bob")


def test_zero_commitment_is_rejected(board):
    with pytest.raises(BitZeroCommitmentError):
        board.commit_bit(bytes(32), bytes(32), sender="alice")


def test_reveal_by_another_account_is_rejected(board, opening):
    board.commit_bit(opening.commitment, opening.r1, sender="alice")
    with pytest.raises(BitNotCommitterError):
        board.reveal_bit(opening.commitment, opening.r2, opening.payload, sender="mallory")


def test_reveal_twice_is_rejected(board, opening):
    board.commit_bit(opening.commitment, opening.r1, sender="alice")
    board.reveal_bit(opening.commitment, opening.r2, opening.payload, sender="alice")
    with pytest.raises(BitAlreadyRevealedError):
        board.reveal_bit(opening.commitment, opening.r2, opening.payload, sender="alice")


def test_reveal_with_wrong_r2_is_rejected(board, opening):
    board.commit_bit(opening.commitment, opening.r1, sender="alice")
    wrong = bytes(b ^ 0xFF for b in opening.r2)
    with pytest.raises(BitOpeningMismatchError) as info:
        board.reveal_bit(opening.commitment, wrong, opening.payload, sender="alice")
    assert info.value.computed == bit_commitment(opening.r1, wrong, opening.payload)
    assert board.bit_record(opening.commitment).revealed is False


def test_reveal_with_wrong_payload_is_rejected(board, opening):
    board.commit_bit(opening.commitment, opening.r1, sender="alice")
    with pytest.raises(BitOpeningMismatchError):
        board.reveal_bit(opening.commitment, opening.r2, b"\x02" * 128, sender="alice")


def test_reveal_of_unknown_commitment_is_rejected(board, opening):
    with pytest.raises(BitCommitmentNotFoundError):
        board.reveal_bit(opening.commitment, opening.r2, opening.payload, sender="alice")


@pytest.mark.parametrize("payload", [b"", b"x" * 1025])
def test_reveal_with_bad_payload_length_is_rejected(board, opening, payload):
    board.commit_bit(opening.commitment, opening.r1, sender="alice")
    with pytest.raises(BitPayloadLengthError):
        board.reveal_bit(opening.commitment, opening.r2, payload, sender="alice")


def test_check_bit_opening_accepts_only_the_right_opening(board, opening):
    board.commit_bit(opening.commitment, opening.r1, sender="alice")
    assert board.check_bit_opening(opening.commitment, opening.r2, opening.payload)
    assert not board.check_bit_opening(opening.commitment, opening.r1, opening.payload)
    assert not board.check_bit_opening(b"\x05" * 32, opening.r2, opening.payload)


def test_secret_store_round_trips_and_copies():
    store = MemorySecretStore()
    store.put("k", {"a": [1, 2], "b": "x"})
    got = store.get("k")
    got["a"].append(3)
    assert store.get("k") == {"a": [1, 2], "b": "x"}
    assert store.get("missing") is None


def test_secret_store_rejects_values_a_journal_cannot_hold():
    with pytest.raises(InputError):
        MemorySecretStore().put("k", {"r": b"bytes"})
