"""The platform's selection over uploads: k-anonymous groups of the current epoch only, and
candidates reported in the uploads' own numbering (users and groups as uploaded)."""

import pytest

from crowdsense.commitments import MemoryCommitmentBoard, MemorySecretStore
from crowdsense.ldpf.ctbc.geometry import Region, Task
from crowdsense.ldpf.ctbc.matching import matching_degree
from crowdsense.ldpf.ctbc.payload import encode_ud
from crowdsense.ldpf.ctbc.protocol import CTBCUser, Upload, platform_groups, select_users
from crowdsense.ldpf.ctbc.sealed import PlatformKey

PLATFORM = PlatformKey.generate()


def test_small_group_of_the_current_epoch_stays_invalid():
    now_a, now_b, old = encode_ud(2, 0, 10, 20), encode_ud(2, 1, 0, 0), encode_ud(1, 0, 0, 0)
    payloads = [now_a, now_a, now_b, old, old]
    uploads = [Upload(i, f"u{i}", p, b"", bytes([i + 1]) * 32) for i, p in enumerate(payloads)]
    _, _, valid = platform_groups(uploads, k=2, epoch=2)
    assert valid.tolist() == [True, True, False, False, False]


def _uploads(payloads, epoch):
    board = MemoryCommitmentBoard()
    users = [CTBCUser(i, sender=f"u{i}", board=board, store=MemorySecretStore()) for i in range(len(payloads))]
    for user, p in zip(users, payloads):
        user.commit(epoch=epoch, payload=p, platform_key=PLATFORM.encryption_key)
    uploads = [user.upload(i, epoch=epoch) for i, user in enumerate(users)]
    return board, users, uploads


@pytest.fixture
def scene():
    # group 0: one user on the task centre (not k-anonymous); group 1: 3 users at 2 m (fixed
    # point: micrometres); group 2: 3 users at 4 m; group 3: 3 users far outside the region
    near, mid, far = encode_ud(0, 1, 2_000_000, 0), encode_ud(0, 2, 4_000_000, 0), encode_ud(0, 3, 900_000_000, 0)
    payloads = [encode_ud(0, 0, 0, 0), mid, near, mid, near, far, mid, near, far, far]
    board, users, uploads = _uploads(payloads, epoch=0)
    task = Task((0.0, 0.0), 4, Region.square((0.0, 0.0), 100.0))
    return board, users, uploads, task


def test_candidates_are_reported_in_the_uploads_numbering(scene):
    board, users, uploads, task = scene
    sel, cand = select_users(uploads, task, k=3, board=board, reveal=lambda u: users[u.user].reveal(epoch=0),
                             opener=PLATFORM, random_state=0)
    centres, labels, _ = platform_groups(uploads, k=3)
    # group numbers are those of platform_groups over all uploads: 0 lonely, 1 mid, 2 near, 3 far
    assert labels.tolist() == [0, 1, 2, 1, 2, 3, 1, 2, 3, 3]
    assert cand.group_order.tolist() == [2, 1]
    assert sorted(cand.queue.tolist()) == [1, 2, 3, 4, 6, 7]
    assert cand.queue_groups.tolist() == labels[cand.queue].tolist()
    assert cand.in_region.dtype == bool and cand.in_region.tolist() == [False, True, True, False]
    expected_degree = matching_degree(centres, task.center)
    # every k-anonymous group has its degree (the far one too); the lonely upload's group none
    assert cand.degree.tolist() == [0.0, *expected_degree[1:].tolist()]
    assert sorted(sel.users.tolist()) == sorted(cand.queue[:4].tolist())
    assert set(sel.users.tolist()) >= {2, 4, 7}  # Case 2: the whole nearest group first


def test_groups_committed_for_another_epoch_are_not_selected():
    # the group on the task centre replays epoch 0's payloads in epoch 1
    stale, fresh = encode_ud(0, 0, 0, 0), encode_ud(1, 1, 3_000_000, 0)
    board, users, uploads = _uploads([stale] * 3, epoch=0)
    more = [CTBCUser(i, sender=f"u{i}", board=board, store=MemorySecretStore()) for i in range(3, 6)]
    for user in more:
        user.commit(epoch=1, payload=fresh, platform_key=PLATFORM.encryption_key)
    uploads += [user.upload(user.user, epoch=1) for user in more]
    everyone = users + more
    task = Task((0.0, 0.0), 2, Region.square((0.0, 0.0), 100.0))
    sel, cand = select_users(uploads, task, k=3, board=board, epoch=1, opener=PLATFORM, random_state=0,
                             reveal=lambda u: everyone[u.user].reveal(epoch=1 if u.user >= 3 else 0))
    assert sorted(cand.queue.tolist()) == [3, 4, 5]
    assert set(sel.users.tolist()) <= {3, 4, 5}
