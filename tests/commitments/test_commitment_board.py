"""The in-memory board follows CommitmentVerifier's rules, the same for both kinds of commitment."""

from dataclasses import dataclass
from typing import Any, Callable

import pytest

from crowdsense.commitments import (
    AlreadyCommittedError,
    AlreadyRevealedError,
    CommitmentBoard,
    CommitmentError,
    CommitmentNotFoundError,
    InvalidPayloadLengthError,
    MemoryCommitmentBoard,
    OpeningMismatchError,
    ZeroCommitmentError,
    bit_commitment,
    blinding_commitment,
    new_bit_opening,
    new_blinding_opening,
    same_account,
)
from crowdsense.errors import InputError


@dataclass(frozen=True)
class Kind:
    """One use of the board, driven through the same steps as the other."""

    name: str
    new: Callable[[], Any]
    commit: Callable[[MemoryCommitmentBoard, Any, str], None]
    reveal: Callable[[MemoryCommitmentBoard, bytes, Any, str], None]  # open commitment c with an opening
    forge: Callable[[Any], Any]  # the same opening with one secret changed
    record: Callable[..., Any]  # (board, commitment, committer="alice")
    check: Callable[..., bool]  # (board, commitment, opening, committer="alice")
    digest: Callable[[Any, Any], bytes]  # what an opening hashes to, given the original's public part


BIT = Kind(
    "bit",
    lambda: new_bit_opening(b"\x01" * 128),
    lambda board, o, who: board.commit_bit(o.commitment, o.r1, sender=who),
    lambda board, c, o, who: board.reveal_bit(c, o.r2, o.payload, sender=who),
    lambda o: type(o)(o.r1, bytes(b ^ 0xFF for b in o.r2), o.payload),
    lambda board, c, who="alice": board.bit_record(who, c),
    lambda board, c, o, who="alice": board.check_bit_opening(who, c, o.r2, o.payload),
    lambda forged, original: bit_commitment(original.r1, forged.r2, forged.payload),
)
BLINDING = Kind(
    "blinding",
    lambda: new_blinding_opening(12345),
    lambda board, o, who: board.commit_blinding(o.commitment, sender=who),
    lambda board, c, o, who: board.reveal_blinding(c, o.r, o.salt, sender=who),
    lambda o: type(o)(o.r + 1, o.salt),
    lambda board, c, who="alice": board.blinding_record(who, c),
    lambda board, c, o, who="alice": board.check_blinding(who, c, o.r, o.salt),
    lambda forged, original: blinding_commitment(forged.r, forged.salt),
)


@pytest.fixture(params=[BIT, BLINDING], ids=lambda k: k.name)
def kind(request):
    return request.param


@pytest.fixture
def board():
    return MemoryCommitmentBoard()


def test_memory_board_satisfies_the_protocol(board):
    assert isinstance(board, CommitmentBoard)


def test_commit_records_the_committer_unrevealed(kind, board):
    opening = kind.new()
    kind.commit(board, opening, "alice")
    record = kind.record(board, opening.commitment)
    assert (record.committer, record.revealed) == ("alice", False)


def test_reveal_by_the_committer_marks_it_revealed(kind, board):
    opening = kind.new()
    kind.commit(board, opening, "alice")
    kind.reveal(board, opening.commitment, opening, "alice")
    assert kind.record(board, opening.commitment).revealed


def test_an_account_commits_a_hash_once_ever(kind, board):
    opening = kind.new()
    kind.commit(board, opening, "alice")
    kind.reveal(board, opening.commitment, opening, "alice")
    with pytest.raises(AlreadyCommittedError) as info:
        kind.commit(board, opening, "alice")
    assert info.value.commitment == opening.commitment


def test_a_copied_commitment_is_the_copiers_record_and_harmless_to_the_victim(kind, board):
    """The front-run: mallory records alice's pending hash first; alice's commit and opening still work."""
    opening = kind.new()
    kind.commit(board, opening, "mallory")
    kind.commit(board, opening, "alice")
    kind.reveal(board, opening.commitment, opening, "alice")
    assert kind.record(board, opening.commitment, "alice").revealed
    mallory = kind.record(board, opening.commitment, "mallory")
    assert (mallory.committer, mallory.revealed) == ("mallory", False)


def test_the_two_kinds_are_recorded_apart(board):
    bit, blinding = BIT.new(), BLINDING.new()
    BIT.commit(board, bit, "alice")
    assert board.blinding_record("alice", bit.commitment) is None
    assert BLINDING.record(board, blinding.commitment) is None


def test_zero_commitment_is_rejected_as_bad_input(board):
    with pytest.raises(ZeroCommitmentError, match="zero") as info:
        board.commit_blinding(bytes(32))
    assert isinstance(info.value, InputError)
    with pytest.raises(ZeroCommitmentError):
        board.commit_bit(bytes(32), bytes(32), sender="alice")


@pytest.mark.parametrize("commitment", [b"\x01" * 31, "0x" + "01" * 32, None])
def test_malformed_commitment_is_rejected(board, commitment):
    with pytest.raises(InputError, match="commitment must be 32 bytes"):
        board.commit_blinding(commitment)
    with pytest.raises(InputError, match="commitment must be 32 bytes"):
        board.bit_record("alice", commitment)


@pytest.mark.parametrize("committer", ["", None, 7])
def test_a_record_is_read_for_a_named_committer(board, committer):
    with pytest.raises(InputError, match="committer must be a non-empty str"):
        board.bit_record(committer, b"\x01" * 32)
    with pytest.raises(InputError, match="committer must be a non-empty str"):
        board.blinding_record(committer, b"\x01" * 32)


def test_reveal_by_another_account_finds_no_record_of_its_own(kind, board):
    opening = kind.new()
    kind.commit(board, opening, "alice")
    with pytest.raises(CommitmentNotFoundError) as info:
        kind.reveal(board, opening.commitment, opening, "mallory")
    assert info.value.commitment == opening.commitment
    assert not kind.record(board, opening.commitment).revealed
    assert kind.record(board, opening.commitment, "mallory") is None


def test_reveal_twice_is_rejected(kind, board):
    opening = kind.new()
    kind.commit(board, opening, "alice")
    kind.reveal(board, opening.commitment, opening, "alice")
    with pytest.raises(AlreadyRevealedError):
        kind.reveal(board, opening.commitment, opening, "alice")


def test_wrong_opening_is_rejected_and_leaves_the_record_unrevealed(kind, board):
    opening = kind.new()
    kind.commit(board, opening, "alice")
    forged = kind.forge(opening)
    with pytest.raises(OpeningMismatchError) as info:
        kind.reveal(board, opening.commitment, forged, "alice")
    assert info.value.computed == kind.digest(forged, opening)
    assert info.value.computed != opening.commitment
    assert not kind.record(board, opening.commitment).revealed


def test_reveal_of_an_unknown_commitment_is_rejected(kind, board):
    opening = kind.new()
    with pytest.raises(CommitmentNotFoundError):
        kind.reveal(board, opening.commitment, opening, "alice")


def test_check_accepts_only_the_recorded_right_opening(kind, board):
    opening = kind.new()
    assert not kind.check(board, opening.commitment, opening)  # not recorded yet
    kind.commit(board, opening, "alice")
    assert kind.check(board, opening.commitment, opening)
    assert not kind.check(board, opening.commitment, opening, "bob")  # bob recorded nothing
    assert not kind.check(board, opening.commitment, kind.forge(opening))


def test_rule_errors_share_one_root(kind, board):
    opening = kind.new()
    kind.commit(board, opening, "alice")
    with pytest.raises(CommitmentError):
        kind.commit(board, opening, "alice")


# ------------------------------------------------------------------ bit commitments


def test_bit_record_keeps_r1_and_the_opened_payload(board):
    opening = BIT.new()
    BIT.commit(board, opening, "alice")
    assert board.bit_record("alice", opening.commitment).r1 == opening.r1
    assert board.bit_record("alice", opening.commitment).payload is None
    BIT.reveal(board, opening.commitment, opening, "alice")
    assert board.bit_record("alice", opening.commitment).payload == opening.payload


@pytest.mark.parametrize("payload", [b"", b"x" * 1025])
def test_bit_reveal_with_bad_payload_length_is_rejected(board, payload):
    opening = BIT.new()
    BIT.commit(board, opening, "alice")
    with pytest.raises(InvalidPayloadLengthError) as info:
        board.reveal_bit(opening.commitment, opening.r2, payload, sender="alice")
    assert info.value.length == len(payload)


def test_check_bit_opening_is_false_for_malformed_openings(board):
    opening = BIT.new()
    BIT.commit(board, opening, "alice")
    assert not board.check_bit_opening("alice", opening.commitment, opening.r2[:31], opening.payload)
    assert not board.check_bit_opening("alice", opening.commitment, opening.r2, b"")


# ------------------------------------------------------------------ blinding commitments


def test_blinding_record_has_no_bit_fields(board):
    opening = BLINDING.new()
    BLINDING.commit(board, opening, "alice")
    record = board.blinding_record("alice", opening.commitment)
    assert record.r1 is None and record.payload is None


@pytest.mark.parametrize("r, salt", [(-1, bytes(32)), (2**256, bytes(32)), (True, bytes(32)), (5, b"short")])
def test_check_blinding_is_false_for_malformed_openings(board, r, salt):
    opening = BLINDING.new()
    BLINDING.commit(board, opening, "alice")
    assert not board.check_blinding("alice", opening.commitment, r, salt)


# ------------------------------------------------------------------ accounts and views


def test_views_share_records_and_act_as_their_account(board):
    opening = BLINDING.new()
    alice = board.as_account("alice")
    alice.commit_blinding(opening.commitment)
    assert board.blinding_record("alice", opening.commitment).committer == "alice"
    with pytest.raises(CommitmentNotFoundError):
        board.as_account("bob").reveal_blinding(opening.commitment, opening.r, opening.salt)
    alice.reveal_blinding(opening.commitment, opening.r, opening.salt)
    assert board.blinding_record("alice", opening.commitment).revealed


def test_sender_overrides_the_view_account_for_one_call(board):
    opening = BIT.new()
    board.as_account("bob").commit_bit(opening.commitment, opening.r1, sender="alice")
    assert board.bit_record("alice", opening.commitment).committer == "alice"
    assert board.bit_record("bob", opening.commitment) is None


def test_account_must_be_a_non_empty_str():
    with pytest.raises(InputError, match="account"):
        MemoryCommitmentBoard("")


def test_committer_match_ignores_address_checksum_case(board):
    opening = BLINDING.new()
    board.commit_blinding(opening.commitment, sender="0xAbCd")
    board.reveal_blinding(opening.commitment, opening.r, opening.salt, sender="0xabcd")
    assert board.blinding_record("0xABCD", opening.commitment).revealed


def test_same_account_ignores_only_hex_address_case():
    assert same_account("0xAbCd", "0xabcd")
    assert not same_account("Alice", "alice")
