"""User commit/reveal (store first, crash recovery), the platform's checks, and a full round."""

from dataclasses import replace

import numpy as np
import pytest

from crowdsense.commitments import (
    MemoryCommitmentBoard,
    MemorySecretStore,
    bit_commitment,
)
from crowdsense.errors import InputError
from crowdsense.ldpf.ctbc.baseline import kanonymity_baseline
from crowdsense.ldpf.ctbc.errors import StaleOpeningError
from crowdsense.ldpf.ctbc.geometry import Region, Task
from crowdsense.ldpf.ctbc.payload import decode_ud, encode_ud
from crowdsense.ldpf.ctbc.protocol import (
    CTBCUser,
    Reveal,
    Upload,
    opening_key,
    platform_groups,
    run_round,
    select_users,
    verify_reveal,
)
from crowdsense.ldpf.ctbc.sealed import PlatformKey, open_ud, seal_ud
from crowdsense.ldpf.ctbc.transform import RigidTransform

PAYLOAD = encode_ud(1, 0, 1_000_000, -2_000_000)
PLATFORM = PlatformKey.generate()
KEY = PLATFORM.encryption_key


class BoardDown(MemoryCommitmentBoard):
    """A board whose commit transaction never gets out (node down, process killed)."""

    def commit_bit(self, commitment, r1, *, sender):
        raise ConnectionError("node unreachable")


class SpyBoard(MemoryCommitmentBoard):
    """Records what the user's store held at the moment the commit was sent."""

    def __init__(self, store, key):
        super().__init__()
        self.store, self.key, self.stored_at_commit = store, key, None

    def commit_bit(self, commitment, r1, *, sender):
        self.stored_at_commit = self.store.get(self.key)
        super().commit_bit(commitment, r1, sender=sender)


# ------------------------------------------------------------------------------ user side


def test_opening_is_stored_before_the_commit_is_sent():
    store = MemorySecretStore()
    board = SpyBoard(store, opening_key(1, 0))
    c = CTBCUser(0, sender="alice", board=board, store=store).commit(epoch=1, payload=PAYLOAD, platform_key=KEY)
    rec = board.stored_at_commit
    assert rec is not None
    r1, r2, sealed = (bytes.fromhex(rec[f]) for f in ("r1", "r2", "payload"))
    assert bit_commitment(r1, r2, sealed) == c
    assert bytes.fromhex(rec["ud"]) == PAYLOAD
    assert open_ud(PLATFORM, sealed, committer="alice", epoch=1) == PAYLOAD


def test_the_commitment_binds_the_sealed_ud_not_the_ud():
    board = MemoryCommitmentBoard()
    user = CTBCUser(0, sender="alice", board=board, store=MemorySecretStore())
    user.commit(epoch=1, payload=PAYLOAD, platform_key=KEY)
    opening = user.opening(epoch=1)
    assert PAYLOAD not in opening.payload and opening.payload != PAYLOAD
    assert user.upload(0, epoch=1).sealed == opening.payload


def _commit_while_the_board_is_down() -> MemorySecretStore:
    """alice's store after her commit failed at the board (the opening was stored first)."""
    store = MemorySecretStore()
    with pytest.raises(ConnectionError):
        CTBCUser(0, sender="alice", board=BoardDown(), store=store).commit(epoch=1, payload=PAYLOAD,
                                                                          platform_key=KEY)
    return store


def test_board_failure_on_commit_leaves_the_opening_in_the_store():
    store = _commit_while_the_board_is_down()
    rec = store.get(opening_key(1, 0))
    assert rec is not None and bytes.fromhex(rec["ud"]) == PAYLOAD
    assert open_ud(PLATFORM, bytes.fromhex(rec["payload"]), committer="alice", epoch=1) == PAYLOAD


def test_resumed_user_commits_the_stored_opening_and_can_reveal():
    store = _commit_while_the_board_is_down()
    stored = store.get(opening_key(1, 0))
    board = MemoryCommitmentBoard()
    restarted = CTBCUser(0, sender="alice", board=board, store=store)  # same store, new process
    c = restarted.resume(epoch=1)
    assert c.hex() == stored["commitment"]
    opened = restarted.reveal(epoch=1)
    assert opened.payload.hex() == stored["payload"]
    assert board.bit_record("alice", c).revealed is True


def test_commit_after_a_crash_past_the_send_is_idempotent():
    store, board = MemorySecretStore(), MemoryCommitmentBoard()
    first = CTBCUser(0, sender="alice", board=board, store=store).commit(epoch=1, payload=PAYLOAD, platform_key=KEY)
    again = CTBCUser(0, sender="alice", board=board, store=store).commit(epoch=1, payload=PAYLOAD, platform_key=KEY)
    assert again == first and len(board) == 1


def test_resume_with_nothing_stored_sends_nothing():
    board = MemoryCommitmentBoard()
    assert CTBCUser(0, sender="alice", board=board, store=MemorySecretStore()).resume(epoch=1) is None
    assert len(board) == 0


def test_commit_of_another_payload_in_the_same_epoch_is_refused():
    store, board = MemorySecretStore(), MemoryCommitmentBoard()
    user = CTBCUser(0, sender="alice", board=board, store=store)
    user.commit(epoch=1, payload=PAYLOAD, platform_key=KEY)
    with pytest.raises(StaleOpeningError):
        user.commit(epoch=1, payload=encode_ud(1, 0, 0, 0), platform_key=KEY)


def test_commit_of_a_ud_of_another_epoch_is_refused_before_anything_is_stored():
    store, board = MemorySecretStore(), MemoryCommitmentBoard()
    with pytest.raises(InputError, match="expected epoch 2"):
        CTBCUser(0, sender="alice", board=board, store=store).commit(epoch=2, payload=PAYLOAD, platform_key=KEY)
    assert store.get(opening_key(2, 0)) is None and len(board) == 0


def test_commitment_front_run_by_another_account_is_harmless():
    """mallory copies alice's pending commit (hash and r1) and gets it recorded first: alice's
    commit, reveal and verification go through, and mallory's copy verifies for nobody."""
    store, board = MemorySecretStore(), MemoryCommitmentBoard()
    with pytest.raises(ConnectionError):
        CTBCUser(0, sender="alice", board=BoardDown(), store=store).commit(epoch=1, payload=PAYLOAD,
                                                                          platform_key=KEY)
    rec = store.get(opening_key(1, 0))
    board.commit_bit(bytes.fromhex(rec["commitment"]), bytes.fromhex(rec["r1"]), sender="mallory")
    alice = CTBCUser(0, sender="alice", board=board, store=store)
    assert alice.resume(epoch=1).hex() == rec["commitment"]
    opened = alice.reveal(epoch=1)
    upload = alice.upload(0, epoch=1)
    assert verify_reveal(upload, opened, board, PLATFORM)
    # after alice's opening is public, mallory replays it under its own record: the platform
    # decrypts the sealed UD for mallory and the AAD (bound to alice) refuses it
    board.reveal_bit(opened.commitment, opened.r2, opened.payload, sender="mallory")
    stolen = Upload(1, "mallory", PAYLOAD, opened.payload, opened.commitment)
    assert board.bit_record("mallory", opened.commitment).revealed
    assert not verify_reveal(stolen, opened, board, PLATFORM)


def test_old_opening_records_with_a_clear_ud_are_refused():
    store = MemorySecretStore()
    user = CTBCUser(0, sender="alice", board=MemoryCommitmentBoard(), store=store)
    user.commit(epoch=1, payload=PAYLOAD, platform_key=KEY)
    old = dict(store.get(opening_key(1, 0)), version=1)
    store.put(opening_key(1, 0), old)
    with pytest.raises(InputError, match="expected version 2"):
        user.reveal(epoch=1)


# -------------------------------------------------------------------------- platform side


@pytest.fixture
def committed():
    board = MemoryCommitmentBoard()
    user = CTBCUser(0, sender="alice", board=board, store=MemorySecretStore())
    user.commit(epoch=1, payload=PAYLOAD, platform_key=KEY)
    return board, user, user.upload(0, epoch=1)


def test_honest_opening_verifies(committed):
    board, user, upload = committed
    assert verify_reveal(upload, user.reveal(epoch=1), board, PLATFORM)


def test_an_opening_sealed_to_another_platform_is_rejected(committed):
    board, user, upload = committed
    assert not verify_reveal(upload, user.reveal(epoch=1), board, PlatformKey.generate())


def test_wrong_opening_is_rejected_off_chain(committed):
    board, user, upload = committed
    opening = user.opening(epoch=1)
    forged = Reveal(upload.commitment, bytes(32), upload.sealed)  # claimed without touching the board
    assert not verify_reveal(upload, forged, board, PLATFORM)
    # the right opening, but never revealed on the board, is not accepted either
    assert not verify_reveal(upload, Reveal(upload.commitment, opening.r2, upload.sealed), board, PLATFORM)


def test_opening_of_a_ud_other_than_the_uploaded_one_is_rejected():
    board = MemoryCommitmentBoard()
    user = CTBCUser(0, sender="alice", board=board, store=MemorySecretStore())
    user.commit(epoch=1, payload=PAYLOAD, platform_key=KEY)
    honest = user.upload(0, epoch=1)
    claimed = encode_ud(1, 0, 0, 0)  # uploads a better centre than it sealed and committed to
    upload = Upload(0, "alice", claimed, honest.sealed, honest.commitment)
    assert not verify_reveal(upload, user.reveal(epoch=1), board, PLATFORM)


def test_missing_reveal_is_rejected(committed):
    board, _, upload = committed
    assert not verify_reveal(upload, None, board, PLATFORM)


def test_opening_recorded_for_another_account_is_rejected(committed):
    board, user, upload = committed
    opened = user.reveal(epoch=1)
    assert not verify_reveal(Upload(0, "bob", PAYLOAD, upload.sealed, upload.commitment), opened, board, PLATFORM)


class RecordView(MemoryCommitmentBoard):
    """A board whose records show another opened payload: ``None`` (a node that no longer
    serves the reveal's event) or a given blob (a board that disagrees with the opening)."""

    def __init__(self, payload):
        super().__init__()
        self.shown = payload

    def bit_record(self, committer, commitment):
        record = super().bit_record(committer, commitment)
        return None if record is None else replace(record, payload=self.shown)


def test_opening_of_another_commitment_is_rejected(committed):
    board, _, upload = committed
    bob = CTBCUser(1, sender="bob", board=board, store=MemorySecretStore())
    bob.commit(epoch=1, payload=PAYLOAD, platform_key=KEY)
    assert bob.upload(1, epoch=1).commitment != upload.commitment
    assert not verify_reveal(upload, bob.reveal(epoch=1), board, PLATFORM)


def test_malformed_opening_is_rejected(committed):
    board, user, upload = committed
    opened = user.reveal(epoch=1)
    assert not verify_reveal(upload, Reveal(upload.commitment, opened.r2[:31], upload.sealed), board, PLATFORM)


def test_opening_with_another_r2_is_rejected_after_the_honest_reveal(committed):
    board, user, upload = committed
    opened = user.reveal(epoch=1)
    other_r2 = bytes([opened.r2[0] ^ 1]) + opened.r2[1:]
    assert board.bit_record("alice", upload.commitment).revealed
    assert not verify_reveal(upload, Reveal(upload.commitment, other_r2, upload.sealed), board, PLATFORM)


def test_opening_is_rejected_when_the_board_shows_another_opened_payload():
    other = seal_ud(KEY, PAYLOAD, committer="alice")  # decrypts to the same UD for alice
    board = RecordView(other)
    user = CTBCUser(0, sender="alice", board=board, store=MemorySecretStore())
    user.commit(epoch=1, payload=PAYLOAD, platform_key=KEY)
    upload = user.upload(0, epoch=1)
    assert other != upload.sealed
    assert not verify_reveal(upload, user.reveal(epoch=1), board, PLATFORM)


def test_upload_of_another_sealing_is_rejected_when_the_board_shows_no_payload():
    board = RecordView(None)
    user = CTBCUser(0, sender="alice", board=board, store=MemorySecretStore())
    user.commit(epoch=1, payload=PAYLOAD, platform_key=KEY)
    honest = user.upload(0, epoch=1)
    opened = user.reveal(epoch=1)
    assert verify_reveal(honest, opened, board, PLATFORM)
    # the same UD sealed again for alice decrypts fine, but it is not what the commitment binds
    resealed = replace(honest, sealed=seal_ud(KEY, PAYLOAD, committer="alice"))
    assert open_ud(PLATFORM, resealed.sealed, committer="alice", epoch=1) == PAYLOAD
    assert not verify_reveal(resealed, opened, board, PLATFORM)


def test_upload_before_commit_is_refused():
    user = CTBCUser(0, sender="alice", board=MemoryCommitmentBoard(), store=MemorySecretStore())
    with pytest.raises(InputError, match="expected commit"):
        user.upload(0, epoch=1)


def test_platform_groups_counts_identical_payloads():
    a, b = encode_ud(1, 0, 10, 20), encode_ud(1, 1, -5, 0)
    uploads = [Upload(i, f"u{i}", p, b"", bytes([i + 1]) * 32) for i, p in enumerate([a, b, a, b, a])]
    centres, labels, valid = platform_groups(uploads, k=2)
    assert labels.tolist() == [0, 1, 0, 1, 0] and valid.all()
    assert centres.tolist() == [[10e-6, 20e-6], [-5e-6, 0.0]]


def test_platform_groups_marks_uploads_of_another_epoch_invalid():
    now, old = encode_ud(2, 0, 10, 20), encode_ud(1, 0, 0, 0)
    uploads = [Upload(i, f"u{i}", p, b"", bytes([i + 1]) * 32) for i, p in enumerate([now, now, old, old])]
    _, _, valid = platform_groups(uploads, k=2, epoch=2)
    assert valid.tolist() == [True, True, False, False]


def test_upload_outside_any_k_group_is_never_selected():
    board = MemoryCommitmentBoard()
    payloads = [encode_ud(0, 0, 5_000_000, 0)] * 3 + [encode_ud(0, 9, 0, 0)]  # the last sits on the task
    users = [CTBCUser(i, sender=f"u{i}", board=board, store=MemorySecretStore()) for i in range(4)]
    for user, p in zip(users, payloads):
        user.commit(epoch=0, payload=p, platform_key=KEY)
    uploads = [user.upload(i, epoch=0) for i, user in enumerate(users)]
    task = Task((0.0, 0.0), 2, Region.square((0.0, 0.0), 100.0))
    sel, cand = select_users(uploads, task, k=3, board=board, reveal=lambda u: users[u.user].reveal(epoch=0),
                             opener=PLATFORM, random_state=0)
    assert 3 not in cand.queue.tolist() and set(sel.users.tolist()) <= {0, 1, 2}


# ------------------------------------------------------------------------------- a round


@pytest.fixture(scope="module")
def scene():
    rng = np.random.default_rng(42)
    positions = rng.uniform(-2000.0, 2000.0, size=(120, 2))
    task = Task((100.0, -50.0), 6, Region.square((100.0, -50.0), 2500.0))
    transform = RigidTransform(1.1, 40_000.0, -25_000.0, epoch=3)
    return positions, task, transform


def test_round_selects_n_users_with_verified_revealed_openings(scene):
    positions, task, transform = scene
    board = MemoryCommitmentBoard()
    res = run_round(positions, task, k=4, transform=transform, board=board, random_state=0)
    assert len(res.selection.users) == 6
    revealed = [u.user for u in res.uploads if board.bit_record(u.sender, u.commitment).revealed]
    assert sorted(revealed) == sorted(res.selection.users.tolist())  # only selected users reveal
    assert len(board) == 120  # every user committed


def test_round_selects_the_same_users_as_the_trusted_baseline(scene):
    positions, task, transform = scene
    ctbc = run_round(positions, task, k=4, transform=transform, random_state=7)
    base = kanonymity_baseline(positions, task, k=4, random_state=7)
    assert ctbc.selection.users.tolist() == base.selection.users.tolist()
    assert ctbc.drift.mean == pytest.approx(base.drift.mean, abs=1e-5)  # UD is rounded to 1 um


def test_round_uploads_bind_the_transformed_group_centres(scene):
    positions, task, transform = scene
    res = run_round(positions, task, k=4, transform=transform, random_state=0)
    for up in res.uploads[:10]:
        rec = decode_ud(up.payload)
        real_centre = positions[res.grouping.labels == rec.group].mean(axis=0)
        assert rec.epoch == 3
        assert np.array(rec.center) == pytest.approx(transform.forward(real_centre[None])[0], abs=1e-6)


@pytest.mark.parametrize("fault", ["absent", "tamper"])
def test_failing_users_are_replaced_by_the_next_candidates(scene, fault):
    positions, task, transform = scene
    clean = run_round(positions, task, k=4, transform=transform, random_state=5)
    failing = clean.selection.users[:2].tolist()
    board = MemoryCommitmentBoard()
    res = run_round(positions, task, k=4, transform=transform, board=board, random_state=5,
                    faults={u: fault for u in failing})
    expected = [u for u in res.candidates.queue.tolist() if u not in failing][:6]
    assert res.selection.users.tolist() == expected
    assert set(res.selection.failed) == set(failing)
    for u in failing:
        assert board.bit_record(res.uploads[u].sender, res.uploads[u].commitment).revealed is False
