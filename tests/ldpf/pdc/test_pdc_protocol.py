"""Protocol 2 end to end: correct distances, cheating detected both ways, secrets stored first."""

import dataclasses

import pytest

from crowdsense.commitments import CommitmentError, MemorySecretStore, blinding_commitment
from crowdsense.ldpf.pdc import (
    MIN_R_BITS,
    BlindingBitsError,
    CheatingDetected,
    DecryptionMessage,
    GridError,
    KeyLengthError,
    MessageError,
    Platform,
    ProtocolStateError,
    QueryMessage,
    Receiver,
    RevealMessage,
    TaskMessage,
    run_round,
)
from crowdsense.ldpf.pdc.fastpaillier import PublicEngine
from crowdsense.ldpf.pdc.protocol import encrypted_distance

from pdc_cases import CENTRE, LOCATIONS
from pdc_cases import manhattan as _manhattan
from pdc_cases import query as _query


# ------------------------------------------------------------------------------ round trips


@pytest.mark.parametrize("json_transport", [True, False])
def test_round_gives_every_receiver_its_manhattan_distance(platform, make_receiver, json_transport):
    receivers = [make_receiver(name, loc) for name, loc in LOCATIONS.items()]
    got = run_round(platform, receivers, task_id="t1", centre=CENTRE, json_transport=json_transport)
    assert got == {name: _manhattan(loc, CENTRE) for name, loc in LOCATIONS.items()}


def test_receiver_learns_the_same_distance(platform, make_receiver):
    receivers = [make_receiver(name, loc) for name, loc in LOCATIONS.items()]
    run_round(platform, receivers, task_id="t1", centre=CENTRE)
    for receiver in receivers:
        assert receiver.distance("t1") == _manhattan(receiver.location, CENTRE)
        assert receiver.state("t1") == "revealed"


def test_round_works_on_crt_path_key(phe_keypair, grid, board, make_receiver):
    platform = Platform(phe_keypair[1], grid, board=board, allow_insecure=True)
    assert platform.engine.obfuscator_method == "crt"
    receivers = [make_receiver("alice", (8, 6)), make_receiver("bob", (0, 1))]
    assert run_round(platform, receivers, task_id="t", centre=(2, 3)) == {"alice": 9, "bob": 4}


def test_round_works_with_precomputed_obfuscators(platform, make_receiver, grid):
    platform.precompute(grid.code_length)
    alice = make_receiver("alice", (1, 1))
    alice.precompute(platform.public_key, 1)
    assert run_round(platform, [alice], task_id="t", centre=(4, 4)) == {"alice": 6}
    assert platform.engine.pool_size == 0


def test_a_proof_part_drawn_elsewhere_serves_the_query_and_nothing_else_is_taken(platform, make_receiver, grid):
    from crowdsense.ldpf.pdc.proofs import precompute_query

    alice = make_receiver("alice", (2, 5))
    n = platform.public_key.n
    alice.add_precomputed_proof(n, precompute_query(n, grid.shape, alice.location, r_bits=alice.r_bits))
    assert run_round(platform, [alice], task_id="t", centre=(4, 4)) == {"alice": 3}
    with pytest.raises(ValueError, match="expected a QueryPrecomputation, got dict"):
        alice.add_precomputed_proof(n, {"x": 1})


@pytest.mark.parametrize("location", [(0, 0), (8, 6), (0, 6), (8, 0), (6, 2)])
def test_encrypted_distance_decrypts_to_distance_plus_offset(platform, keypair, location):
    task = platform.open_task("t", CENTRE)
    z = encrypted_distance(PublicEngine(task.public_key_n), task, location, offset=1000)
    assert keypair[1].raw_decrypt(int(z)) == _manhattan(location, CENTRE) + 1000


def test_same_task_ciphertexts_serve_every_receiver(platform, make_receiver):
    task = platform.open_task("t1", CENTRE)
    q1 = make_receiver("alice", (0, 0)).respond(task)
    q2 = make_receiver("bob", (1, 1)).respond(task)
    assert q1.task_digest == q2.task_digest == platform.task_message("t1").digest


def test_query_is_rerandomised(platform, make_receiver):
    # Two receivers at the same place must not send related ciphertexts.
    task = platform.open_task("t1", CENTRE)
    z1 = make_receiver("alice", (3, 3)).respond(task).z
    z2 = make_receiver("bob", (3, 3)).respond(task).z
    assert z1 != z2


def test_platform_selects_nearest_accepted_receivers(platform, make_receiver):
    receivers = [make_receiver(name, loc) for name, loc in LOCATIONS.items()]
    run_round(platform, receivers, task_id="t1", centre=CENTRE)
    chosen = platform.select("t1", 2, random_state=0)
    assert [(s.receiver, s.distance) for s in chosen] == [("bob", 0), ("erin", 3)]


# ------------------------------------------------------------------------ cheating detection


def test_receiver_revealing_different_r_is_detected(platform, make_receiver):
    alice = make_receiver("alice", (2, 2))
    _, query = _query(platform, alice)
    reveal = alice.finish(platform.handle_query(query))
    forged = dataclasses.replace(reveal, r=reveal.r - 1)  # would claim distance + 1
    with pytest.raises(CheatingDetected) as err:
        platform.handle_reveal(forged)
    assert err.value.party == "receiver"
    assert platform.distances("t1") == {}


def test_honest_reveal_still_accepted_after_a_forged_one(platform, make_receiver):
    alice = make_receiver("alice", (2, 2))
    _, query = _query(platform, alice)
    reveal = alice.finish(platform.handle_query(query))
    with pytest.raises(CheatingDetected):
        platform.handle_reveal(dataclasses.replace(reveal, r=reveal.r + 5))
    assert platform.handle_reveal(reveal) == _manhattan((2, 2), CENTRE)


def test_receiver_committing_after_decryption_is_refused(platform, make_receiver, board):
    # The platform decrypts only for a commitment that is already on the board.
    alice = make_receiver("alice", (2, 2), receiver_board=_NoCommitBoard(board.as_account("alice")))
    _, query = _query(platform, alice)
    with pytest.raises(ProtocolStateError, match="not on the board"):
        platform.handle_query(query)


def test_commitment_recorded_by_another_account_is_refused(keypair, grid, board, make_receiver):
    platform = Platform(keypair[1], grid, board=board, allow_insecure=True, require_proofs=False)
    alice = make_receiver("alice", (2, 2), prove=False)
    _, query = _query(platform, alice)
    stolen = dataclasses.replace(query, receiver="mallory")
    with pytest.raises(ProtocolStateError, match="not on the board under 'mallory'"):
        platform.handle_query(stolen)


def test_proven_query_replayed_under_another_account_is_refused_before_decryption(platform, make_receiver):
    # The proof's challenge binds the receiver's account: mallory cannot reuse alice's query.
    alice = make_receiver("alice", (2, 2))
    _, query = _query(platform, alice)
    with pytest.raises(CheatingDetected, match="proof fails"):
        platform.handle_query(dataclasses.replace(query, receiver="mallory"))
    assert "mallory" in platform.rejected("t1")


def test_receiver_with_malformed_z_is_rejected_before_decryption(platform, make_receiver, keypair):
    alice = make_receiver("alice", (2, 2))
    _, query = _query(platform, alice)
    bad = dataclasses.replace(query, z=int(PublicEngine(keypair[0]).add_plain(query.z, 10**6)))
    with pytest.raises(CheatingDetected, match="not the product") as err:
        platform.handle_query(bad)
    assert err.value.party == "receiver" and "alice" in platform.rejected("t1")


def test_unproven_receiver_with_malformed_z_is_rejected_after_reveal(keypair, grid, board, make_receiver):
    # Protocol 2 as published (no proofs): only the range check at the reveal is left.
    platform = Platform(keypair[1], grid, board=board, allow_insecure=True, require_proofs=False)
    alice = make_receiver("alice", (2, 2), prove=False)
    _, query = _query(platform, alice)
    engine = PublicEngine(keypair[0])
    bad = dataclasses.replace(query, z=int(engine.add_plain(query.z, 10**6)))  # Enc(dist + r + 10^6)
    decryption = platform.handle_query(bad)
    r = int(alice.secret_store.get("ldpf-pdc/t1/alice")["r"])
    salt = bytes.fromhex(alice.secret_store.get("ldpf-pdc/t1/alice")["salt"][2:])
    with pytest.raises(CheatingDetected, match="outside") as err:
        platform.handle_reveal(RevealMessage("t1", "alice", query.commitment, r, salt))
    assert err.value.party == "receiver"
    assert "alice" in platform.rejected("t1") and decryption.plaintext - r > 10**5


@pytest.mark.parametrize("delta", [1, -1, 3])
def test_platform_returning_wrong_s_is_detected(platform, make_receiver, board, delta):
    alice = make_receiver("alice", (2, 2))
    _, query = _query(platform, alice)
    honest = platform.handle_query(query)
    n2 = platform.public_key.n ** 2
    # The cheating platform even recomputes an n-th root for its shifted claim.
    forged_rho = int(platform.engine.randomness(query.z * (1 - delta * platform.public_key.n) % n2))
    for rho in (honest.randomness, forged_rho):
        forged = dataclasses.replace(honest, plaintext=honest.plaintext + delta, randomness=rho)
        with pytest.raises(CheatingDetected) as err:
            alice.finish(forged)
        assert err.value.party == "platform"
    # Nothing was revealed: neither on the board nor in the receiver's state.
    assert not board.blinding_record("alice", query.commitment).revealed
    assert alice.state("t1") == "committed"


def test_receiver_accepts_honest_decryption_after_rejecting_forged_one(platform, make_receiver):
    alice = make_receiver("alice", (2, 2))
    _, query = _query(platform, alice)
    honest = platform.handle_query(query)
    with pytest.raises(CheatingDetected):
        alice.finish(dataclasses.replace(honest, plaintext=honest.plaintext + 1))
    reveal = alice.finish(honest)
    assert platform.handle_reveal(reveal) == _manhattan((2, 2), CENTRE)


def test_platform_with_malformed_task_ciphertexts_is_detected(keypair, grid, board, make_receiver):
    # Every "bit" encrypts 5: the receiver's distance falls outside [0, max_distance].
    platform = Platform(keypair[1], grid, board=board, allow_insecure=True, require_proofs=False)
    engine = platform.engine
    fives = tuple(int(engine.encrypt(5)) for _ in range(grid.code_length))
    task = TaskMessage("t1", grid, keypair[0].n, fives)
    platform.ledger.add_task(task, (0, 0))  # a malicious platform registers its own ciphertexts
    alice = make_receiver("alice", (0, 0))
    query = alice.respond(task)
    with pytest.raises(CheatingDetected, match="not a valid Encode 1") as err:
        alice.finish(platform.handle_query(query))
    assert err.value.party == "platform"


# ------------------------------------------------------------------- acceptance range boundaries
# On the 9 x 7 grid the largest Manhattan distance is (9 - 1) + (7 - 1) = 14, between the
# opposite corners (0, 0) and (8, 6). Both sides accept s - r in [0, 14], both ends included.

GRID_MAX_DISTANCE = 14


def _stored_opening(receiver, task_id="t1"):
    entry = receiver.secret_store.get(f"ldpf-pdc/{task_id}/{receiver.account}")
    return int(entry["r"]), bytes.fromhex(entry["salt"][2:])


def test_receiver_at_the_largest_distance_is_accepted_by_both_sides(platform, make_receiver, grid):
    assert grid.max_distance == GRID_MAX_DISTANCE
    alice = make_receiver("alice", (8, 6))
    _, query = _query(platform, alice, centre=(0, 0))
    reveal = alice.finish(platform.handle_query(query))  # the receiver's range check
    assert alice.distance("t1") == GRID_MAX_DISTANCE
    assert platform.handle_reveal(reveal) == GRID_MAX_DISTANCE  # the platform's range check
    assert platform.rejected("t1") == {}


@pytest.mark.parametrize("location, claimed", [((7, 6), 14), ((8, 6), 15)])
def test_platform_accepts_up_to_the_largest_distance_and_no_further(keypair, grid, board, make_receiver, location,
                                                                    claimed):
    """Without proofs, a receiver adds 1 to its Z: from (7, 6) it claims 13 + 1 = 14 (at the
    edge: accepted), from (8, 6) it claims 14 + 1 = 15 (one beyond: rejected)."""
    platform = Platform(keypair[1], grid, board=board, allow_insecure=True, require_proofs=False)
    alice = make_receiver("alice", location, prove=False)
    _, query = _query(platform, alice, centre=(0, 0))
    shifted = dataclasses.replace(query, z=int(PublicEngine(keypair[0]).add_plain(query.z, 1)))
    platform.handle_query(shifted)
    r, salt = _stored_opening(alice)
    reveal = RevealMessage("t1", "alice", query.commitment, r, salt)
    if claimed <= GRID_MAX_DISTANCE:
        assert platform.handle_reveal(reveal) == claimed
        return
    with pytest.raises(CheatingDetected) as caught:
        platform.handle_reveal(reveal)
    assert caught.value.party == "receiver"
    assert caught.value.reason.startswith(f"s - r = {claimed} is outside [0, {GRID_MAX_DISTANCE}]: ")
    assert list(platform.rejected("t1")) == ["alice"] and platform.distances("t1") == {}


@pytest.mark.parametrize("location, claimed", [((1, 1), 14), ((1, 0), 15), ((0, 1), 15)])
def test_receiver_accepts_up_to_the_largest_distance_and_no_further(keypair, grid, board, make_receiver, location,
                                                                    claimed):
    """A platform encrypts 0 for every bit of the centre's code. By Proposition 2 the receiver
    then computes sum_i a_i (1 - 0) + (1 - a_i) 0 = |A| = (9 - x) + (7 - y): 14 from (1, 1)
    (at the edge: accepted), 15 from (1, 0) and (0, 1) (one beyond: rejected)."""
    platform = Platform(keypair[1], grid, board=board, allow_insecure=True, require_proofs=False)
    zeros = tuple(int(platform.engine.encrypt(0)) for _ in range(grid.code_length))
    task = TaskMessage("t1", grid, keypair[0].n, zeros)
    platform.ledger.add_task(task, (0, 0))  # a malicious platform registers its own ciphertexts
    alice = make_receiver("alice", location)
    decryption = platform.handle_query(alice.respond(task))
    if claimed <= GRID_MAX_DISTANCE:
        alice.finish(decryption)
        assert alice.distance("t1") == claimed
        return
    with pytest.raises(CheatingDetected) as caught:
        alice.finish(decryption)
    assert caught.value.party == "platform"
    assert caught.value.reason.startswith(f"s - r = {claimed} is outside [0, {GRID_MAX_DISTANCE}]: ")
    assert alice.state("t1") == "committed"  # nothing revealed


# ---------------------------------------------------------------- secrets stored before commit


class _NoCommitBoard:
    """A board view that silently drops commits (a transaction that never lands)."""

    def __init__(self, inner):
        self.inner = inner

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def commit_blinding(self, commitment):
        return None


class _FailingBoard(_NoCommitBoard):
    """A board whose commits raise; ``record_first`` simulates a lost receipt."""

    def __init__(self, inner, *, record_first=False, store=None, store_key=None):
        super().__init__(inner)
        self.record_first = record_first
        self.store, self.store_key = store, store_key
        self.seen_in_store = None

    def commit_blinding(self, commitment):
        if self.store is not None:
            self.seen_in_store = self.store.get(self.store_key)
        if self.record_first:
            self.inner.commit_blinding(commitment)
        raise CommitmentError("node unreachable")


def test_opening_is_stored_before_commit_is_sent(make_receiver, board, platform):
    store = MemorySecretStore()
    spy = _FailingBoard(board.as_account("alice"), store=store, store_key="ldpf-pdc/t1/alice")
    alice = make_receiver("alice", (2, 2), store=store, receiver_board=spy)
    task = platform.open_task("t1", CENTRE)
    with pytest.raises(CommitmentError):
        alice.respond(task)
    seen = spy.seen_in_store
    assert seen is not None and seen["state"] == "committing"
    recomputed = blinding_commitment(int(seen["r"]), bytes.fromhex(seen["salt"][2:]))
    assert recomputed.hex() == seen["commitment"][2:]


def test_failed_commit_leaves_opening_in_store_and_nothing_on_board(make_receiver, board, platform):
    store = MemorySecretStore()
    failing = _FailingBoard(board.as_account("alice"))
    alice = make_receiver("alice", (2, 2), store=store, receiver_board=failing)
    task = platform.open_task("t1", CENTRE)
    with pytest.raises(CommitmentError):
        alice.respond(task)
    entry = store.get("ldpf-pdc/t1/alice")
    assert entry["state"] == "committing"
    assert board.blinding_record("alice", bytes.fromhex(entry["commitment"][2:])) is None


@pytest.mark.parametrize("record_first", [False, True], ids=["not-sent", "receipt-lost"])
def test_resumed_receiver_commits_and_completes_from_store(make_receiver, board, platform, record_first):
    store = MemorySecretStore()
    crashed = make_receiver(
        "alice",
        (2, 2),
        store=store,
        receiver_board=_FailingBoard(board.as_account("alice"), record_first=record_first),
    )
    task = platform.open_task("t1", CENTRE)
    with pytest.raises(CommitmentError):
        crashed.respond(task)
    resumed = make_receiver("alice", (2, 2), store=store)
    query = resumed.resume("t1")
    reveal = resumed.finish(platform.handle_query(query))
    assert platform.handle_reveal(reveal) == _manhattan((2, 2), CENTRE)


def test_resumed_receiver_reveals_from_stored_opening(make_receiver, board, platform):
    store = MemorySecretStore()
    first = make_receiver("alice", (2, 2), store=store)
    _, query = _query(platform, first)
    decryption = platform.handle_query(query)
    del first  # crash after sending the query
    second = make_receiver("alice", (2, 2), store=store)
    reveal = second.finish(DecryptionMessage.from_json(decryption.to_json()))
    assert platform.handle_reveal(reveal) == _manhattan((2, 2), CENTRE)
    assert board.blinding_record("alice", query.commitment).revealed


def test_finish_after_reveal_returns_same_reveal(make_receiver, platform):
    alice = make_receiver("alice", (2, 2))
    _, query = _query(platform, alice)
    decryption = platform.handle_query(query)
    assert alice.finish(decryption) == alice.finish(decryption)


def _commit_failed(make_receiver, board, platform):
    """alice after her response to task t1 failed at the commit (her secrets are stored), her
    store, and the commitment she could not send."""
    store = MemorySecretStore()
    alice = make_receiver("alice", (2, 2), store=store, receiver_board=_FailingBoard(board.as_account("alice")))
    with pytest.raises(CommitmentError):
        alice.respond(platform.open_task("t1", CENTRE))
    return alice, store, bytes.fromhex(store.get("ldpf-pdc/t1/alice")["commitment"][2:])


def test_a_front_run_copy_of_the_commitment_is_harmless(make_receiver, board, platform):
    _, store, commitment = _commit_failed(make_receiver, board, platform)
    board.as_account("mallory").commit_blinding(commitment)  # front-running copy
    alice = make_receiver("alice", (2, 2), store=store)
    query = alice.resume("t1")
    assert board.blinding_record("alice", commitment) is not None
    reveal = alice.finish(platform.handle_query(query))
    assert platform.handle_reveal(reveal) == _manhattan((2, 2), CENTRE)
    assert board.blinding_record("alice", commitment).revealed
    assert not board.blinding_record("mallory", commitment).revealed


def test_respond_twice_is_refused(make_receiver, platform):
    alice = make_receiver("alice", (2, 2))
    task, _ = _query(platform, alice)
    with pytest.raises(ProtocolStateError, match="resume"):
        alice.respond(task)


def test_finish_before_commit_confirmed_is_refused(make_receiver, board, platform):
    alice, _, commitment = _commit_failed(make_receiver, board, platform)
    fake = DecryptionMessage("t1", "alice", commitment, 1, 1)
    with pytest.raises(ProtocolStateError, match="resume"):
        alice.finish(fake)


# -------------------------------------------------------------------------------- bad input


def test_parties_reject_a_grid_that_is_not_a_grid(keypair, board):
    with pytest.raises(GridError, match="Grid"):
        Receiver((0, 0), (9, 7), board=board, secret_store=MemorySecretStore(), allow_insecure=True)
    with pytest.raises(GridError, match="Grid"):
        Platform(keypair[1], 9, board=board, allow_insecure=True)


def test_receiver_rejects_location_off_grid(grid, board):
    with pytest.raises(GridError, match="off the grid"):
        Receiver((9, 0), grid, board=board, secret_store=MemorySecretStore(), allow_insecure=True)


def test_receiver_rejects_non_integer_location(grid, board):
    with pytest.raises(GridError, match="integer"):
        Receiver((1.5, 0), grid, board=board, secret_store=MemorySecretStore(), allow_insecure=True)


@pytest.mark.parametrize("r_bits", [MIN_R_BITS - 1, 0, 257, 64.0, True])
def test_receiver_rejects_bad_r_bits(grid, board, r_bits):
    with pytest.raises(BlindingBitsError, match="r_bits"):
        Receiver(
            (0, 0), grid, board=board, secret_store=MemorySecretStore(), r_bits=r_bits, allow_insecure=True
        )


def test_receiver_accepts_minimum_r_bits(platform, make_receiver):
    alice = make_receiver("alice", (4, 4), r_bits=MIN_R_BITS)
    assert run_round(platform, [alice], task_id="t", centre=(0, 0)) == {"alice": 8}


def test_receiver_rejects_short_task_key_without_override(platform, grid, board):
    store = MemorySecretStore()
    strict = Receiver((0, 0), grid, board=board.as_account("alice"), secret_store=store)
    with pytest.raises(KeyLengthError):
        strict.respond(platform.open_task("t1", CENTRE))
    assert store.keys() == []  # no partial state


def test_receiver_rejects_r_bits_too_long_for_proofs(grid, board):
    with pytest.raises(BlindingBitsError, match="at most 128 with well-formedness proofs"):
        Receiver((0, 0), grid, board=board.as_account("a"), secret_store=MemorySecretStore(), r_bits=129)
    Receiver((0, 0), grid, board=board.as_account("a"), secret_store=MemorySecretStore(), r_bits=128)


def test_receiver_rejects_r_bits_too_long_for_key(platform, make_receiver):
    alice = make_receiver("alice", (0, 0), r_bits=256, prove=False)
    with pytest.raises(KeyLengthError, match="r_bits=256"):
        alice.respond(platform.open_task("t1", CENTRE))
    assert alice.state("t1") is None


def test_receiver_rejects_task_on_other_grid(platform, make_receiver, keypair, board):
    from crowdsense.ldpf.pdc.encoding import Grid

    other = Platform(keypair[1], Grid(5), board=board, allow_insecure=True)
    alice = make_receiver("alice", (0, 0))
    with pytest.raises(MessageError, match="grid"):
        alice.respond(other.open_task("t1", (1, 1)))
    assert alice.state("t1") is None


def test_receiver_rejects_non_invertible_task_ciphertext(platform, make_receiver, keypair):
    task = platform.open_task("t1", CENTRE)
    p = keypair[1].p
    broken = dataclasses.replace(task, ciphertexts=(p,) + task.ciphertexts[1:])
    alice = make_receiver("alice", (0, 0))
    with pytest.raises(MessageError, match="invertible"):
        alice.respond(broken)
    assert alice.state("t1") is None


def test_platform_rejects_short_key_without_override(keypair, grid, board):
    with pytest.raises(KeyLengthError):
        Platform(keypair[1], grid, board=board)


def test_platform_rejects_centre_off_grid_without_partial_state(platform):
    with pytest.raises(GridError):
        platform.open_task("t1", (9, 9))
    assert platform.open_task("t1", (1, 1)).task_id == "t1"


def test_platform_rejects_query_on_tampered_task(platform, make_receiver):
    task = platform.open_task("t1", CENTRE)
    tampered = dataclasses.replace(task, ciphertexts=task.ciphertexts[::-1])
    query = make_receiver("alice", (0, 0)).respond(tampered)
    with pytest.raises(MessageError, match="another version"):
        platform.handle_query(query)


def test_platform_refuses_second_query_of_same_receiver(platform, make_receiver, board):
    alice = make_receiver("alice", (2, 2))
    _, query = _query(platform, alice)
    platform.handle_query(query)
    again = make_receiver("alice", (3, 3), store=MemorySecretStore()).respond(platform.task_message("t1"))
    with pytest.raises(ProtocolStateError, match="one decryption"):
        platform.handle_query(again)


def test_platform_refuses_commitment_reused_for_another_task(platform, make_receiver):
    alice = make_receiver("alice", (2, 2))
    _, query = _query(platform, alice)
    platform.handle_query(query)
    task2 = platform.open_task("t2", (0, 0))
    reused = dataclasses.replace(query, task_id="t2", task_digest=task2.digest)
    with pytest.raises(ProtocolStateError, match="already used"):
        platform.handle_query(reused)


def test_platform_rejects_z_outside_ciphertext_space(platform, make_receiver):
    alice = make_receiver("alice", (2, 2))
    _, query = _query(platform, alice)
    with pytest.raises(MessageError, match="not a ciphertext"):
        platform.handle_query(dataclasses.replace(query, z=platform.public_key.n))


def test_platform_rejects_unknown_task(platform):
    query = QueryMessage("nope", bytes(32), "alice", b"\x01" * 32, 5)
    with pytest.raises(ProtocolStateError, match="unknown task"):
        platform.handle_query(query)


def test_platform_rejects_reveal_without_query(platform):
    platform.open_task("t1", CENTRE)
    with pytest.raises(ProtocolStateError, match="no pending"):
        platform.handle_reveal(RevealMessage("t1", "alice", b"\x01" * 32, 5, b"\x02" * 32))


def test_finish_rejects_message_for_another_receiver(platform, make_receiver):
    alice = make_receiver("alice", (2, 2))
    _, query = _query(platform, alice)
    decryption = platform.handle_query(query)
    with pytest.raises(MessageError, match="addressed"):
        alice.finish(dataclasses.replace(decryption, receiver="bob"))
    assert alice.state("t1") == "committed"


def test_messages_must_have_the_right_type(platform, make_receiver):
    alice = make_receiver("alice", (2, 2))
    with pytest.raises(MessageError):
        alice.respond({"task_id": "t1"})
    with pytest.raises(MessageError):
        platform.handle_query("not a message")
