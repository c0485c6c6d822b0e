"""CommitmentVerifier: both commitments, the re-commit / reveal-once / ageing policy, and the
agreement of the Python hashes with the contract's own ``pure`` helpers."""

import secrets

import brownie
import pytest
from brownie import web3
from brownie.test import given, strategy

from crowdsense.commitments import bit_commitment, blinding_commitment, new_bit_opening, new_blinding_opening
from revert_strings import err


def hx(b: bytes) -> str:
    return "0x" + b.hex()


# ------------------------------------------------------------------ deployment


@pytest.mark.parametrize("ages", [(0, 0), (10, 5)])
def test_deploy_with_inconsistent_ages_reverts(CommitmentVerifier, admin, ages):
    with brownie.reverts(err("CommitmentVerifierInvalidAges", *ages)):
        CommitmentVerifier.deploy(*ages, {"from": admin})


def test_deploy_records_ages(aged_verifier):
    assert (aged_verifier.minAge(), aged_verifier.maxAge()) == (60, 3600)


# ------------------------------------------------------------------ hash parity


@given(r1=strategy("bytes32"), r2=strategy("bytes32"), payload=strategy("bytes", min_size=1, max_size=300))
def test_bit_commitment_matches_python(verifier, r1, r2, payload):
    assert verifier.makeBitCommitment(r1, r2, payload) == hx(bit_commitment(bytes(r1), bytes(r2), bytes(payload)))


@given(r=strategy("uint256"), salt=strategy("bytes32"))
def test_blinding_commitment_matches_python(verifier, r, salt):
    assert verifier.makeBlindingCommitment(r, salt) == hx(blinding_commitment(int(r), bytes(salt)))


# ------------------------------------------------------------------ bit commitment


def test_commit_and_reveal_bit(verifier, alice):
    opening = new_bit_opening(b"group-centre")
    c = opening.commitment
    tx = verifier.commitBit(c, opening.r1, {"from": alice})
    ev = tx.events["BitCommitted"]
    assert (ev["commitment"], ev["committer"], ev["r1"]) == (hx(c), alice, hx(opening.r1))
    recorded, committed_at, r1, revealed = verifier.bitCommitment(alice, c)
    assert (recorded, r1, revealed) == (True, hx(opening.r1), False)
    assert committed_at == tx.timestamp
    assert verifier.checkBitOpening(alice, c, opening.r2, opening.payload)
    tx = verifier.revealBit(c, opening.r2, opening.payload, {"from": alice})
    ev = tx.events["BitRevealed"]
    assert (ev["commitment"], ev["committer"], ev["payload"]) == (hx(c), alice, hx(opening.payload))
    assert verifier.bitCommitment(alice, c)[3] is True


def test_reveal_bit_with_wrong_payload_reverts(verifier, alice):
    opening = new_bit_opening(b"real")
    c = opening.commitment
    verifier.commitBit(c, opening.r1, {"from": alice})
    wrong = bit_commitment(opening.r1, opening.r2, b"fake")
    assert not verifier.checkBitOpening(alice, c, opening.r2, b"fake")
    with brownie.reverts(err("CommitmentVerifierOpeningMismatch", c, wrong)):
        verifier.revealBit(c, opening.r2, b"fake", {"from": alice})
    assert verifier.bitCommitment(alice, c)[3] is False


def test_reveal_bit_with_wrong_r2_reverts(verifier, alice):
    opening = new_bit_opening(b"real")
    verifier.commitBit(opening.commitment, opening.r1, {"from": alice})
    r2 = secrets.token_bytes(32)
    wrong = bit_commitment(opening.r1, r2, opening.payload)
    with brownie.reverts(err("CommitmentVerifierOpeningMismatch", opening.commitment, wrong)):
        verifier.revealBit(opening.commitment, r2, opening.payload, {"from": alice})


def test_reveal_bit_twice_reverts(verifier, alice):
    opening = new_bit_opening(b"x")
    verifier.commitBit(opening.commitment, opening.r1, {"from": alice})
    verifier.revealBit(opening.commitment, opening.r2, opening.payload, {"from": alice})
    with brownie.reverts(err("CommitmentVerifierAlreadyRevealed", opening.commitment)):
        verifier.revealBit(opening.commitment, opening.r2, opening.payload, {"from": alice})


def test_reveal_bit_by_other_finds_no_record_of_its_own(verifier, alice, mallory):
    opening = new_bit_opening(b"x")
    verifier.commitBit(opening.commitment, opening.r1, {"from": alice})
    with brownie.reverts(err("CommitmentVerifierNotFound", opening.commitment)):
        verifier.revealBit(opening.commitment, opening.r2, opening.payload, {"from": mallory})
    assert verifier.bitCommitment(alice, opening.commitment)[3] is False


def test_reveal_unknown_bit_commitment_reverts(verifier, alice):
    c = secrets.token_bytes(32)
    with brownie.reverts(err("CommitmentVerifierNotFound", c)):
        verifier.revealBit(c, bytes(32), b"x", {"from": alice})


@pytest.mark.parametrize("length", [0, 1025])
def test_reveal_bit_with_bad_payload_length_reverts(verifier, alice, length):
    with brownie.reverts(err("CommitmentVerifierInvalidPayloadLength", length, 1024)):
        verifier.revealBit(secrets.token_bytes(32), bytes(32), b"\x01" * length, {"from": alice})


def test_commit_bit_twice_reverts(verifier, alice):
    opening = new_bit_opening(b"x")
    verifier.commitBit(opening.commitment, opening.r1, {"from": alice})
    with brownie.reverts(err("CommitmentVerifierAlreadyCommitted", opening.commitment)):
        verifier.commitBit(opening.commitment, opening.r1, {"from": alice})


def test_front_run_copy_of_a_pending_commit_bit_is_harmless(verifier, alice, mallory):
    """mallory's copy of alice's commit is mined first (what a higher fee buys): alice's commit
    and opening still succeed, and mallory's copy is a record of mallory's own."""
    opening = new_bit_opening(b"x")
    mallory_tx = verifier.commitBit(opening.commitment, opening.r1, {"from": mallory})
    alice_tx = verifier.commitBit(opening.commitment, opening.r1, {"from": alice})
    assert mallory_tx.status == alice_tx.status == 1
    tx = verifier.revealBit(opening.commitment, opening.r2, opening.payload, {"from": alice})
    assert tx.events["BitRevealed"]["committer"] == alice
    assert verifier.bitCommitment(alice, opening.commitment)[3] is True
    copy = verifier.bitCommitment(mallory, opening.commitment)
    assert copy[0] is True and copy[3] is False


def test_commit_bit_after_reveal_reverts(verifier, alice):
    opening = new_bit_opening(b"x")
    verifier.commitBit(opening.commitment, opening.r1, {"from": alice})
    verifier.revealBit(opening.commitment, opening.r2, opening.payload, {"from": alice})
    with brownie.reverts(err("CommitmentVerifierAlreadyCommitted", opening.commitment)):
        verifier.commitBit(opening.commitment, opening.r1, {"from": alice})


def test_commit_zero_bit_commitment_reverts(verifier, alice):
    with brownie.reverts(err("CommitmentVerifierZeroCommitment")):
        verifier.commitBit(bytes(32), bytes(32), {"from": alice})


def test_unknown_bit_commitment_record_is_empty(verifier, alice, mallory):
    assert tuple(verifier.bitCommitment(alice, secrets.token_bytes(32))) == (False, "0 wei", hx(bytes(32)), False)
    assert not verifier.checkBitOpening(alice, secrets.token_bytes(32), bytes(32), b"x")
    opening = new_bit_opening(b"x")
    verifier.commitBit(opening.commitment, opening.r1, {"from": alice})
    assert not verifier.checkBitOpening(mallory, opening.commitment, opening.r2, opening.payload)
    assert tuple(verifier.bitCommitment(mallory, opening.commitment)) == (False, "0 wei", hx(bytes(32)), False)


# ------------------------------------------------------------------ blinding commitment


def test_commit_and_reveal_blinding(verifier, alice, bob):
    opening = new_blinding_opening(2**64 + 5)
    c = opening.commitment
    tx = verifier.commitBlinding(c, {"from": bob})
    assert tx.events["BlindingCommitted"]["commitment"] == hx(c)
    assert tx.events["BlindingCommitted"]["committer"] == bob
    assert verifier.checkBlindingOpening(bob, c, opening.r, opening.salt)
    assert not verifier.checkBlindingOpening(bob, c, opening.r + 1, opening.salt)
    assert not verifier.checkBlindingOpening(alice, c, opening.r, opening.salt)
    tx = verifier.revealBlinding(c, opening.r, opening.salt, {"from": bob})
    ev = tx.events["BlindingRevealed"]
    assert (ev["commitment"], ev["committer"], ev["r"]) == (hx(c), bob, opening.r)
    recorded, _, revealed = verifier.blindingCommitment(bob, c)
    assert (recorded, revealed) == (True, True)
    assert tuple(verifier.blindingCommitment(alice, c)) == (False, "0 wei", False)


def test_reveal_blinding_with_other_r_reverts(verifier, bob):
    opening = new_blinding_opening(1234)
    verifier.commitBlinding(opening.commitment, {"from": bob})
    wrong = blinding_commitment(1235, opening.salt)
    with brownie.reverts(err("CommitmentVerifierOpeningMismatch", opening.commitment, wrong)):
        verifier.revealBlinding(opening.commitment, 1235, opening.salt, {"from": bob})


def test_reveal_blinding_twice_reverts(verifier, bob):
    opening = new_blinding_opening(7)
    verifier.commitBlinding(opening.commitment, {"from": bob})
    verifier.revealBlinding(opening.commitment, 7, opening.salt, {"from": bob})
    with brownie.reverts(err("CommitmentVerifierAlreadyRevealed", opening.commitment)):
        verifier.revealBlinding(opening.commitment, 7, opening.salt, {"from": bob})


def test_reveal_blinding_by_other_finds_no_record_of_its_own(verifier, bob, mallory):
    opening = new_blinding_opening(7)
    verifier.commitBlinding(opening.commitment, {"from": bob})
    with brownie.reverts(err("CommitmentVerifierNotFound", opening.commitment)):
        verifier.revealBlinding(opening.commitment, 7, opening.salt, {"from": mallory})


def test_a_copied_blinding_commitment_is_the_copiers_own_record(verifier, bob, mallory):
    opening = new_blinding_opening(7)
    verifier.commitBlinding(opening.commitment, {"from": mallory})
    verifier.commitBlinding(opening.commitment, {"from": bob})
    verifier.revealBlinding(opening.commitment, 7, opening.salt, {"from": bob})
    assert verifier.blindingCommitment(bob, opening.commitment)[2] is True
    assert verifier.blindingCommitment(mallory, opening.commitment)[2] is False


def test_bit_and_blinding_records_are_separate(verifier, alice):
    """A blinding commitment cannot be opened as a bit commitment, nor the other way round."""
    opening = new_blinding_opening(7)
    verifier.commitBlinding(opening.commitment, {"from": alice})
    with brownie.reverts(err("CommitmentVerifierNotFound", opening.commitment)):
        verifier.revealBit(opening.commitment, bytes(32), b"x", {"from": alice})


def test_commit_blinding_twice_reverts(verifier, bob):
    opening = new_blinding_opening(7)
    verifier.commitBlinding(opening.commitment, {"from": bob})
    with brownie.reverts(err("CommitmentVerifierAlreadyCommitted", opening.commitment)):
        verifier.commitBlinding(opening.commitment, {"from": bob})


def test_commit_zero_blinding_commitment_reverts(verifier, bob):
    with brownie.reverts(err("CommitmentVerifierZeroCommitment")):
        verifier.commitBlinding(bytes(32), {"from": bob})


def test_reveal_unknown_blinding_commitment_reverts(verifier, bob):
    c = secrets.token_bytes(32)
    with brownie.reverts(err("CommitmentVerifierNotFound", c)):
        verifier.revealBlinding(c, 1, bytes(32), {"from": bob})


# ------------------------------------------------------------------ ageing
# aged_verifier accepts openings 60 s to 3600 s old, both ends included. The next block's
# timestamp is set exactly (Anvil's evm_setNextBlockTimestamp), so each age is exact.


def _next_block_at(timestamp: int) -> None:
    web3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])


@pytest.mark.parametrize("age", [60, 3600])
def test_reveal_at_either_end_of_the_age_window_succeeds(aged_verifier, alice, age):
    opening = new_blinding_opening(99)
    committed = aged_verifier.commitBlinding(opening.commitment, {"from": alice}).timestamp
    _next_block_at(committed + age)
    tx = aged_verifier.revealBlinding(opening.commitment, 99, opening.salt, {"from": alice})
    assert tx.timestamp == committed + age
    assert aged_verifier.blindingCommitment(alice, opening.commitment)[2] is True


@pytest.mark.parametrize("age, error", [(59, "CommitmentVerifierTooNew"), (3601, "CommitmentVerifierTooOld")])
def test_reveal_one_second_outside_the_age_window_reverts(aged_verifier, alice, age, error):
    opening = new_bit_opening(b"x")
    committed = aged_verifier.commitBit(opening.commitment, opening.r1, {"from": alice}).timestamp
    _next_block_at(committed + age)
    with brownie.reverts(err(error, opening.commitment, committed, committed + age)):
        aged_verifier.revealBit(opening.commitment, opening.r2, opening.payload, {"from": alice})
    assert aged_verifier.bitCommitment(alice, opening.commitment)[3] is False


def test_default_window_opens_in_the_commit_block(verifier, alice):
    """minAge 0: an opening in the very block of the commitment is accepted."""
    opening = new_blinding_opening(5)
    committed = verifier.commitBlinding(opening.commitment, {"from": alice}).timestamp
    _next_block_at(committed)
    assert verifier.revealBlinding(opening.commitment, 5, opening.salt, {"from": alice}).timestamp == committed
