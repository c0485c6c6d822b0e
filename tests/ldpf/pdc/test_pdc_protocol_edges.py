"""Protocol 2 at its edges: every refusal says why, a second reveal names the first outcome,
recovery after a lost receipt, precomputed material, and the JSON transport of a round."""

import dataclasses

import pytest

from crowdsense.commitments import CommitmentError, MemorySecretStore
from crowdsense.ldpf.pdc import (
    CheatingDetected,
    GridError,
    MessageError,
    Platform,
    ProtocolStateError,
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


def _stored_opening(receiver, task_id="t1"):
    entry = receiver.secret_store.get(f"ldpf-pdc/{task_id}/{receiver.account}")
    return int(entry["r"]), bytes.fromhex(entry["salt"][2:])


class _BoardView:
    """A receiver's board view passed through, for the fault-injecting views below."""

    def __init__(self, inner):
        self.inner = inner

    def __getattr__(self, name):
        return getattr(self.inner, name)


class _FailingCommitBoard(_BoardView):
    """Commits raise before reaching the board (the node was unreachable)."""

    def commit_blinding(self, commitment):
        raise CommitmentError("node unreachable")


def _commit_failed(make_receiver, board, platform):
    """alice's store after her response to t1 failed at the commit, and the commitment."""
    store = MemorySecretStore()
    alice = make_receiver("alice", (2, 2), store=store, receiver_board=_FailingCommitBoard(board.as_account("alice")))
    with pytest.raises(CommitmentError):
        alice.respond(platform.open_task("t1", CENTRE))
    return alice, store, bytes.fromhex(store.get("ldpf-pdc/t1/alice")["commitment"][2:])


def test_second_reveal_of_an_accepted_receiver_says_so(platform, make_receiver):
    alice = make_receiver("alice", (2, 2))
    _, query = _query(platform, alice)
    reveal = alice.finish(platform.handle_query(query))
    assert platform.handle_reveal(reveal) == _manhattan((2, 2), CENTRE)
    with pytest.raises(ProtocolStateError, match=r"no pending query of 'alice'.*\(already accepted\)"):
        platform.handle_reveal(reveal)


def test_second_reveal_of_a_rejected_receiver_says_so_and_keeps_the_reason(keypair, grid, board, make_receiver):
    platform = Platform(keypair[1], grid, board=board, allow_insecure=True, require_proofs=False)
    alice = make_receiver("alice", (2, 2), prove=False)
    _, query = _query(platform, alice)
    bad = dataclasses.replace(query, z=int(PublicEngine(keypair[0]).add_plain(query.z, 10**6)))
    platform.handle_query(bad)
    r, salt = _stored_opening(alice)
    reveal = RevealMessage("t1", "alice", query.commitment, r, salt)
    with pytest.raises(CheatingDetected):
        platform.handle_reveal(reveal)
    assert "outside [0, 14]" in platform.rejected("t1")["alice"]
    with pytest.raises(ProtocolStateError, match=r"\(already rejected\)"):
        platform.handle_reveal(reveal)


def test_reveal_of_an_unknown_receiver_names_no_earlier_outcome(platform, make_receiver):
    alice = make_receiver("alice", (2, 2))
    _, query = _query(platform, alice)
    with pytest.raises(ProtocolStateError) as err:
        platform.handle_reveal(RevealMessage("t1", "bob", query.commitment, 1, b"\x00" * 32))
    assert str(err.value) == "no pending query of 'bob' for task 't1'"


def test_platform_select_applies_the_radius_and_the_seed(platform, make_receiver, monkeypatch):
    receivers = [make_receiver(name, loc) for name, loc in LOCATIONS.items()]
    got = run_round(platform, receivers, task_id="t1", centre=CENTRE)
    near = sorted(name for name, d in got.items() if d <= 4)
    assert sorted(s.receiver for s in platform.select("t1", len(near), max_distance=4)) == near
    # ties (equal distances) are broken by the seed: the same seed, the same order
    tied = {name: 3 for name in LOCATIONS}
    monkeypatch.setattr(platform.ledger, "accepted", lambda task_id: dict(tied))
    orders = {tuple(s.receiver for s in platform.select("t1", 5, random_state=seed)) for seed in range(6)}
    assert tuple(s.receiver for s in platform.select("t1", 5, random_state=4)) == \
        tuple(s.receiver for s in platform.select("t1", 5, random_state=4))
    assert len(orders) > 1


def test_encrypted_distance_without_offset_encrypts_the_distance_itself(platform, keypair):
    task = platform.open_task("t1", CENTRE)
    engine = PublicEngine(keypair[0])
    z = encrypted_distance(engine, task, (2, 5))
    assert keypair[1].raw_decrypt(int(z)) == _manhattan((2, 5), CENTRE)


def test_distance_of_an_unknown_task_is_none(make_receiver):
    assert make_receiver("alice", (2, 2)).distance("never-asked") is None


@pytest.mark.parametrize("count", [-1, True, 1.5])
def test_precompute_proofs_refuses_a_bad_count(make_receiver, keypair, count):
    with pytest.raises(ValueError, match=f"count must be a non-negative int, got {count!r}"):
        make_receiver("alice", (2, 2)).precompute_proofs(keypair[0], count)


@pytest.mark.parametrize("as_int", [False, True])
def test_precomputed_proofs_serve_the_next_queries(platform, make_receiver, keypair, as_int):
    alice = make_receiver("alice", (2, 2))
    alice.precompute_proofs(keypair[0].n if as_int else keypair[0], 0)  # zero is allowed
    alice.precompute_proofs(keypair[0].n if as_int else keypair[0], 2)
    pooled = list(alice._proof_pool[keypair[0].n])
    assert len(pooled) == 2
    for pre in pooled:  # drawn for this receiver's point on this grid, under the platform's key
        assert (pre.x.index, pre.y.index, pre.x.size, pre.y.size) == (2, 2, 9, 7)
        assert pre.x.n == keypair[0].n
    for task_id, pre in zip(("t1", "t2"), reversed(pooled)):
        _, query = _query(platform, alice, task_id=task_id)
        assert _stored_opening(alice, task_id)[0] == pre.r  # the query used the pooled draw
        assert platform.handle_reveal(alice.finish(platform.handle_query(query))) == _manhattan((2, 2), CENTRE)
    assert alice._proof_pool[keypair[0].n] == []


def _refusal(kind, action):
    with pytest.raises(kind) as err:
        action()
    return err.value


def test_every_refusal_of_a_message_says_why(platform, make_receiver, keypair):
    alice = make_receiver("alice", (2, 2))
    _, query = _query(platform, alice)
    decryption = platform.handle_query(query)
    other = b"\x33" * 32
    cases = [
        (MessageError, lambda: alice.finish("not a message"), "expected a DecryptionMessage, got str"),
        (MessageError, lambda: platform.handle_reveal("not a message"), "expected a RevealMessage, got str"),
        (ProtocolStateError, lambda: alice.finish(dataclasses.replace(decryption, task_id="t9")),
         "no stored query for task 't9'"),
        (ProtocolStateError, lambda: alice.resume("t9"), "nothing stored for task 't9'"),
        (MessageError, lambda: alice.finish(dataclasses.replace(decryption, commitment=other)),
         "decryption refers to another commitment"),
    ]
    for kind, action, message in cases:
        assert message in str(_refusal(kind, action))
    reveal = alice.finish(decryption)
    assert "another commitment" in str(_refusal(MessageError, lambda: platform.handle_reveal(
        dataclasses.replace(reveal, commitment=other))))
    wrong_r = _refusal(CheatingDetected, lambda: platform.handle_reveal(dataclasses.replace(reveal, r=reveal.r + 1)))
    assert (wrong_r.party, wrong_r.reason) == ("receiver", "the revealed (r, salt) does not open the commitment on the board")
    wrong_tau = _refusal(CheatingDetected, lambda: platform.handle_reveal(
        dataclasses.replace(reveal, mask_opening=reveal.mask_opening + 1)))
    assert wrong_tau.party == "receiver" and "constant term" in wrong_tau.reason
    assert platform.handle_reveal(reveal) == _manhattan((2, 2), CENTRE)


def test_distance_under_another_key_is_refused(platform, generated_phe_keypair):
    task = platform.open_task("t1", CENTRE)
    with pytest.raises(MessageError, match="different public keys"):
        encrypted_distance(PublicEngine(generated_phe_keypair[0]), task, (2, 2))


def test_location_off_the_grid_is_named_as_the_location(platform, keypair):
    task = platform.open_task("t1", CENTRE)
    with pytest.raises(GridError, match=r"^location \("):
        encrypted_distance(PublicEngine(keypair[0]), task, (9, 0))


def test_task_ciphertexts_sharing_a_factor_with_n_are_refused(platform, keypair, grid):
    n = keypair[0].n
    task = TaskMessage("t1", grid, n, tuple(n for _ in range(grid.code_length)))
    with pytest.raises(MessageError, match="not all invertible modulo n\\^2"):
        encrypted_distance(PublicEngine(keypair[0]), task, (2, 2))


@pytest.mark.parametrize("as_int", [False, True])
def test_precomputed_obfuscators_accept_the_key_or_its_modulus(make_receiver, platform, keypair, as_int):
    alice = make_receiver("alice", (2, 2))
    alice.precompute(keypair[0].n if as_int else keypair[0], 3)
    _, query = _query(platform, alice)
    assert platform.handle_reveal(alice.finish(platform.handle_query(query))) == _manhattan((2, 2), CENTRE)


def test_proof_drawn_elsewhere_serves_the_next_query(make_receiver, platform, keypair, grid):
    from crowdsense.ldpf.pdc.proofs import precompute_query

    alice = make_receiver("alice", (2, 2))
    pre = precompute_query(keypair[0].n, grid.shape, (2, 2), r_bits=alice.r_bits)
    alice.add_precomputed_proof(keypair[0].n, pre)
    _, query = _query(platform, alice)
    assert _stored_opening(alice)[0] == pre.r
    assert platform.handle_reveal(alice.finish(platform.handle_query(query))) == _manhattan((2, 2), CENTRE)


class _LostRevealReceiptBoard(_BoardView):
    """A board view whose first reveal lands on the board but whose receipt is lost."""

    def __init__(self, inner):
        super().__init__(inner)
        self.lost = False

    def reveal_blinding(self, commitment, r, salt):
        self.inner.reveal_blinding(commitment, r, salt)
        if not self.lost:
            self.lost = True
            raise CommitmentError("receipt lost")


def test_reveal_whose_receipt_was_lost_completes_on_retry(make_receiver, board, platform):
    alice = make_receiver("alice", (2, 2), receiver_board=_LostRevealReceiptBoard(board.as_account("alice")))
    _, query = _query(platform, alice)
    decryption = platform.handle_query(query)
    with pytest.raises(CommitmentError):
        alice.finish(decryption)
    # the distance is learnt and kept, the reveal is under way, the proof is dropped
    entry = alice.secret_store.get("ldpf-pdc/t1/alice")
    assert alice.state("t1") == "revealing" and alice.distance("t1") == _manhattan((2, 2), CENTRE)
    assert "proof" not in entry
    # the retry finds its own reveal on the board and completes
    reveal = alice.finish(decryption)
    assert alice.state("t1") == "revealed"
    assert platform.handle_reveal(reveal) == _manhattan((2, 2), CENTRE)


def test_resume_after_the_commit_landed_is_idempotent(make_receiver, board, platform):
    _, store, commitment = _commit_failed(make_receiver, board, platform)
    alice = make_receiver("alice", (2, 2), store=store)
    first = alice.resume("t1")
    assert alice.state("t1") == "committed"
    assert alice.resume("t1") == first  # a second resume (state committed) rebuilds the same query
    assert first.commitment == commitment
    reveal = alice.finish(platform.handle_query(first))  # the platform finds the commitment on the board
    assert platform.handle_reveal(reveal) == _manhattan((2, 2), CENTRE)


def test_resume_past_the_query_step_is_refused(make_receiver, platform):
    alice = make_receiver("alice", (2, 2))
    _, query = _query(platform, alice)
    alice.finish(platform.handle_query(query))
    with pytest.raises(ProtocolStateError, match="task 't1' is past the query step \\(state 'revealed'\\)"):
        alice.resume("t1")


class _SpyReceiver(Receiver):
    """A receiver that keeps the task messages it was given."""

    def respond(self, task):
        self.seen = task
        return super().respond(task)


@pytest.mark.parametrize("json_transport", [None, True, False])
def test_round_sends_messages_through_json_unless_told_not_to(platform, grid, board, json_transport):
    alice = _SpyReceiver((2, 2), grid, board=board.as_account("alice"), secret_store=MemorySecretStore(),
                         allow_insecure=True)
    kwargs = {} if json_transport is None else {"json_transport": json_transport}
    got = run_round(platform, [alice], task_id="t1", centre=CENTRE, **kwargs)
    assert got == {"alice": _manhattan((2, 2), CENTRE)}
    sent = platform.task_message("t1")
    assert alice.seen == sent
    assert (alice.seen is sent) is (json_transport is False)  # JSON is the default transport


@pytest.mark.parametrize("kwargs, kind, message", [
    ({"location": (9, 0)}, GridError, r"^receiver location \(9, 0\) is off the grid"),
    ({"grid": "9x7"}, GridError, "^grid must be a Grid, got str$"),
    ({"budget": "unlimited"}, TypeError, "^budget must be an AnswerBudget or None, got str$"),
    ({"board": object()}, TypeError,
     "^board lacks method[(]s[)] commit_blinding, reveal_blinding, check_blinding, blinding_record$"),
    ({"secret_store": {}}, TypeError, "^secret_store lacks method[(]s[)] put$"),
])
def test_receiver_refuses_bad_parts_naming_them(grid, board, kwargs, kind, message):
    args = {"location": (2, 2), "grid": grid, "board": board.as_account("alice"),
            "secret_store": MemorySecretStore(), **kwargs}
    location, grid_ = args.pop("location"), args.pop("grid")
    with pytest.raises(kind, match=message):
        Receiver(location, grid_, allow_insecure=True, **args)


def test_receiver_refuses_something_else_than_a_task(make_receiver):
    with pytest.raises(MessageError, match="^expected a TaskMessage, got dict$"):
        make_receiver("alice", (2, 2)).respond({"task_id": "t1"})


# ------------------------------------------------------------------ found by mutation testing


def test_platform_select_leaves_out_receivers_beyond_the_radius(platform, make_receiver):
    from crowdsense.ldpf.pdc import SelectionWarning

    receivers = [make_receiver(name, loc) for name, loc in LOCATIONS.items()]
    got = run_round(platform, receivers, task_id="t1", centre=CENTRE)
    near = sorted(name for name, d in got.items() if d <= 4)
    assert 0 < len(near) < len(LOCATIONS)
    with pytest.warns(SelectionWarning):
        chosen = platform.select("t1", len(LOCATIONS), max_distance=4)
    assert sorted(s.receiver for s in chosen) == near


class _RecordingPlatform(Platform):
    def handle_query(self, query):
        self.query_seen = query
        return super().handle_query(query)


class _RecordingReceiver(Receiver):
    def respond(self, task):
        self.query_sent = super().respond(task)
        return self.query_sent


@pytest.mark.parametrize("json_transport", [True, False])
def test_round_sends_queries_through_json_unless_told_not_to(keypair, grid, board, json_transport):
    platform = _RecordingPlatform(keypair[1], grid, board=board, allow_insecure=True)
    alice = _RecordingReceiver((2, 2), grid, board=board.as_account("alice"), secret_store=MemorySecretStore(),
                               allow_insecure=True)
    run_round(platform, [alice], task_id="t1", centre=CENTRE, json_transport=json_transport)
    assert platform.query_seen == alice.query_sent
    assert (platform.query_seen is alice.query_sent) is (not json_transport)


def test_query_without_proof_is_rejected_and_the_reason_kept(platform, make_receiver):
    alice = make_receiver("alice", (2, 2), prove=False)
    _, query = _query(platform, alice)
    assert query.proof is None
    with pytest.raises(CheatingDetected, match="no proof that Z was formed") as err:
        platform.handle_query(query)
    assert platform.rejected("t1") == {"alice": err.value.reason}
    assert "no proof that Z was formed" in platform.rejected("t1")["alice"]


def test_platform_refuses_something_else_than_a_query_naming_it(platform):
    with pytest.raises(MessageError, match="^expected a QueryMessage, got str$"):
        platform.handle_query("not a query")


def test_query_whose_commitment_was_already_opened_is_refused_saying_so(platform, make_receiver):
    alice = make_receiver("alice", (2, 2))
    _, query = _query(platform, alice)
    r, salt = _stored_opening(alice)
    alice.board.reveal_blinding(query.commitment, r, salt)
    with pytest.raises(ProtocolStateError, match="^commitment was opened before decryption$"):
        platform.handle_query(query)


def test_task_under_a_short_key_is_refused_naming_the_task_key(grid, board):
    from crowdsense.ldpf.pdc import KeyLengthError
    from crowdsense.ldpf.pdc.keys import generate_keypair

    short_pub, short_priv = generate_keypair(256, allow_insecure=True)
    platform = Platform(short_priv, grid, board=board, allow_insecure=True)
    strict = Receiver((2, 2), grid, board=board.as_account("alice"), secret_store=MemorySecretStore())
    with pytest.raises(KeyLengthError, match="^task key must have"):
        strict.respond(platform.open_task("t1", CENTRE))


def test_finish_after_the_reveal_returns_the_same_reveal_without_new_checks(platform, make_receiver):
    alice = make_receiver("alice", (2, 2))
    _, query = _query(platform, alice)
    decryption = platform.handle_query(query)
    reveal = alice.finish(decryption)
    assert alice.state("t1") == "revealed"
    # the distance is learnt once: a later decryption message, even a bad one, changes nothing
    assert alice.finish(dataclasses.replace(decryption, plaintext=decryption.plaintext + 1)) == reveal
    assert alice.distance("t1") == _manhattan((2, 2), CENTRE)


def test_bad_decryption_proof_is_blamed_on_the_platform_saying_why(platform, make_receiver):
    alice = make_receiver("alice", (2, 2))
    _, query = _query(platform, alice)
    decryption = platform.handle_query(query)
    with pytest.raises(CheatingDetected) as err:
        alice.finish(dataclasses.replace(decryption, plaintext=decryption.plaintext + 1))
    assert err.value.party == "platform" and err.value.reason.startswith("decryption proof fails")


class _StoreFailingOnce(MemorySecretStore):
    """The first write fails (the receiver crashed after charging its budget)."""

    def __init__(self):
        super().__init__()
        self.failed = False

    def put(self, key, value):
        if not self.failed:
            self.failed = True
            raise OSError("disk gone")
        return super().put(key, value)


def test_answer_retried_after_a_crash_is_not_charged_twice(platform, grid, board, tmp_path):
    from crowdsense.ldpf.pdc.budget import AnswerBudget

    budget = AnswerBudget(tmp_path, limit=1)
    store = _StoreFailingOnce()
    alice = Receiver((2, 2), grid, board=board.as_account("alice"), secret_store=store, allow_insecure=True,
                     budget=budget)
    task = platform.open_task("t1", CENTRE)
    with pytest.raises(OSError):
        alice.respond(task)
    assert budget.remaining(alice._platform(task)) == 0
    query = alice.respond(task)  # the same task again: free
    assert platform.handle_reveal(alice.finish(platform.handle_query(query))) == _manhattan((2, 2), CENTRE)


def test_platform_refuses_bad_parts_naming_what_was_given(keypair, grid, board):
    from crowdsense.ldpf.pdc import KeyLengthError

    with pytest.raises(GridError, match="^grid must be a Grid, got str$"):
        Platform(keypair[1], "9x7", board=board, allow_insecure=True)
    with pytest.raises(KeyLengthError, match="^private_key must be a phe PaillierPrivateKey, got str$"):
        Platform("key", grid, board=board, allow_insecure=True)


def test_platform_keeps_the_fixed_base_it_was_asked_for(keypair, grid, board):
    # the structured test key supports fixed-base obfuscators: they are used unless turned off
    assert Platform(keypair[1], grid, board=board, allow_insecure=True).engine.obfuscator_method == "fixed-base"
    off = Platform(keypair[1], grid, board=board, allow_insecure=True, fixed_base=False)
    assert off.engine.obfuscator_method == "crt"


def test_key_room_keeps_two_bits_above_the_larger_of_r_and_the_distance():
    from crowdsense.ldpf.pdc import KeyLengthError
    from crowdsense.ldpf.pdc.encoding import Grid
    from crowdsense.ldpf.pdc.protocol import _check_room

    grid = Grid(9, 7)  # max distance 14: 4 bits, below r_bits
    _check_room(42, 40, grid)
    with pytest.raises(KeyLengthError, match="^a 41-bit key cannot hold dist \\+ r with r_bits=40; need >= 42 bits$"):
        _check_room(41, 40, grid)


def test_precompute_proofs_draws_one_by_default(make_receiver, keypair):
    alice = make_receiver("alice", (2, 2))
    alice.precompute_proofs(keypair[0])
    assert len(alice._proof_pool[keypair[0].n]) == 1


def test_a_receiver_sends_again_exactly_what_it_stored_and_nothing_before(platform, make_receiver):
    """What an interrupted receiver sends again (its answer was lost) is the message it sent,
    read back from its store; before there is one, the refusal names the task and the state."""
    alice = make_receiver("alice", (3, 1))
    with pytest.raises(ProtocolStateError, match=r"nothing stored for task 't1'"):
        alice.stored_query("t1")
    with pytest.raises(ProtocolStateError, match=r"task 't1' is not revealed yet \(state None\)"):
        alice.stored_reveal("t1")
    _, query = _query(platform, alice)
    again = alice.stored_query("t1")
    assert (again.task_id, again.receiver, again.commitment, again.z) == ("t1", "alice", query.commitment, query.z)
    with pytest.raises(ProtocolStateError, match=r"is not revealed yet \(state 'committed'\)"):
        alice.stored_reveal("t1")
    reveal = alice.finish(platform.handle_query(query))
    assert alice.stored_reveal("t1") == reveal  # r, salt, commitment and the mask opening, all kept
    assert platform.handle_reveal(alice.stored_reveal("t1")) == _manhattan((3, 1), CENTRE)
    with pytest.raises(ProtocolStateError, match=r"nothing stored for task 't2'"):
        alice.stored_query("t2")


def test_a_task_id_is_opened_once_and_a_taken_id_is_named_before_anything_else(platform, grid):
    platform.open_task("t1", CENTRE)
    with pytest.raises(ProtocolStateError, match=r"task 't1' is already open"):
        platform.open_task("t1", (0, 0))
    off_grid = (grid.width, 0)  # the taken id is what is wrong first, not the centre
    with pytest.raises(ProtocolStateError, match=r"task 't1' is already open"):
        platform.open_task("t1", off_grid)
