"""Comparison points: the straightforward implementation and the Encode-1-only variant."""

import pytest

from crowdsense.commitments import MemoryCommitmentBoard
from crowdsense.ldpf.pdc.baseline import (
    Encode1OnlyPlatform,
    encode1_only_query,
    encode1_only_round,
    straightforward_round,
)
from crowdsense.ldpf.pdc.errors import CheatingDetected, ProtocolStateError
from crowdsense.ldpf.pdc.fastpaillier import PublicEngine

CENTRE = (5, 1)
LOCATIONS = {"alice": (0, 0), "bob": (8, 6), "carol": (5, 1)}
EXPECTED = {"alice": 6, "bob": 8, "carol": 0}  # |dx| + |dy| by hand


def test_straightforward_round_gives_manhattan_distances(keypair, grid):
    board = MemoryCommitmentBoard("platform")
    done = []
    got = straightforward_round(
        keypair[1], grid, CENTRE, LOCATIONS, board=board, allow_insecure=True, on_receiver_done=done.append
    )
    assert got == EXPECTED
    assert done == [1, 2, 3]


def test_straightforward_round_reveals_on_the_board(keypair, grid):
    board = MemoryCommitmentBoard("platform")
    straightforward_round(keypair[1], grid, CENTRE, {"alice": (1, 1)}, board=board, allow_insecure=True)
    records = list(board._ledger.blindings.values())
    assert [(r.committer, r.revealed) for r in records] == [("alice", True)]


def test_encode1_only_round_gives_manhattan_distances(keypair, grid):
    platform = Encode1OnlyPlatform(keypair[1], grid, allow_insecure=True)
    assert encode1_only_round(platform, LOCATIONS, task_id="t", centre=CENTRE) == EXPECTED


def test_encode1_only_cannot_stop_a_receiver_claiming_a_smaller_distance(keypair, grid):
    # The variant's weakness: a receiver encrypts any in-range number it likes.
    platform = Encode1OnlyPlatform(keypair[1], grid, allow_insecure=True)
    task = platform.open_task("t", CENTRE)
    honest = encode1_only_query(task, (8, 6), receiver="bob")
    lie = type(honest)(task.task_id, task.digest, "bob", int(PublicEngine(keypair[0]).encrypt(0)))
    assert platform.handle(lie) == 0


def test_encode1_only_range_check_catches_gross_lies(keypair, grid):
    platform = Encode1OnlyPlatform(keypair[1], grid, allow_insecure=True)
    task = platform.open_task("t", CENTRE)
    lie = encode1_only_query(task, (0, 0), receiver="bob")
    lie = type(lie)(task.task_id, task.digest, "bob", int(PublicEngine(keypair[0]).encrypt(10**6)))
    with pytest.raises(CheatingDetected):
        platform.handle(lie)


def test_encode1_only_refuses_second_answer(keypair, grid):
    platform = Encode1OnlyPlatform(keypair[1], grid, allow_insecure=True)
    task = platform.open_task("t", CENTRE)
    platform.handle(encode1_only_query(task, (0, 0), receiver="bob"))
    with pytest.raises(ProtocolStateError):
        platform.handle(encode1_only_query(task, (0, 0), receiver="bob"))


# The 9 x 7 grid's largest Manhattan distance: (9 - 1) + (7 - 1) = 14, from (0, 0) to (8, 6).


def test_straightforward_round_accepts_the_largest_distance(keypair, grid):
    board = MemoryCommitmentBoard("platform")
    got = straightforward_round(keypair[1], grid, (0, 0), {"bob": (8, 6)}, board=board, allow_insecure=True)
    assert got == {"bob": 14}


@pytest.mark.parametrize("claimed, accepted", [(14, True), (15, False)])
def test_encode1_only_range_check_is_inclusive_at_the_largest_distance(keypair, grid, claimed, accepted):
    platform = Encode1OnlyPlatform(keypair[1], grid, allow_insecure=True)
    task = platform.open_task("t", CENTRE)
    honest = encode1_only_query(task, (0, 0), receiver="bob")
    claim = type(honest)(task.task_id, task.digest, "bob", int(PublicEngine(keypair[0]).encrypt(claimed)))
    if accepted:
        assert platform.handle(claim) == claimed
        return
    with pytest.raises(CheatingDetected) as caught:
        platform.handle(claim)
    assert (caught.value.party, caught.value.reason) == ("receiver", f"decrypted distance {claimed} outside [0, 14]")
    assert platform.distances("t") == {}
