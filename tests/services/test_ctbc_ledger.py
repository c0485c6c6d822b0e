"""The CTBC parties' ledgers (crowdsense.services.ctbc_ledger) on each database engine: the rules
the tables keep when requests race or repeat."""

from __future__ import annotations

import threading

import pytest

from crowdsense.ldpf.ctbc.payload import encode_ud
from crowdsense.ldpf.ctbc.transform import draw_transform
from crowdsense.services.ctbc_ledger import AnonymizerLedger, ConflictError, CtbcLedger, EdgeLedger
from crowdsense.services.db import open_database

TASK = {"center": [0.0, 0.0], "nRequired": 2, "region": {"center": [0.0, 0.0], "halfWidth": 10.0,
                                                         "halfHeight": 10.0, "angle": 0.0}}


@pytest.fixture()
def engine(database_url):
    made = open_database(database_url)
    yield made
    made.dispose()


def _account(i: int) -> str:
    return "0x" + f"{i:040x}"


def test_an_epoch_number_is_opened_once_and_its_transform_kept_exactly(engine):
    edge = EdgeLedger(engine)
    transform = draw_transform(7)
    edge.open_epoch(transform, (-22.9, -43.2))
    with pytest.raises(ConflictError):
        edge.open_epoch(draw_transform(7), (0.0, 0.0))
    origin, kept = edge.epoch(7)
    assert origin == (-22.9, -43.2) and kept == transform and edge.latest() == 7 and edge.epoch(8) is None


def test_registration_counts_only_new_accounts(engine):
    edge = EdgeLedger(engine)
    assert edge.register([_account(1), _account(2), _account(2)]) == 2
    assert edge.register([_account(2), _account(3)]) == 1
    assert edge.registered(_account(3)) and not edge.registered(_account(4))


def test_a_position_is_one_per_account_and_none_after_grouping(engine):
    anon = AnonymizerLedger(engine)
    assert anon.add_position(1, _account(1), 1.5, 2.5) is True
    assert anon.add_position(1, _account(1), 1.5, 2.5) is False  # the same again: nothing new
    with pytest.raises(ConflictError):
        anon.add_position(1, _account(1), 1.5, 9.0)
    anon.add_position(1, _account(2), 3.5, 2.5)
    with pytest.raises(ValueError):
        anon.group(1, 3)  # fewer users than k
    assert anon.group(1, 2) == (2, 1)
    assert anon.group(1, 2) == (2, 1)  # grouping again answers the same
    with pytest.raises(ConflictError):
        anon.group(1, 3)
    with pytest.raises(ConflictError):
        anon.add_position(1, _account(3), 0.0, 0.0)
    # both members get the centre of the two positions, in micrometres
    expected = encode_ud(1, 0, 2_500_000, 2_500_000)
    assert anon.ud(1, _account(1)) == anon.ud(1, _account(2)) == expected and anon.ud(1, _account(3)) is None


def _open(ledger: CtbcLedger, candidates: int) -> None:
    ledger.open_task("t", epoch=1, task=TASK, k=2, case=2, queue=[(_account(i), i // 2) for i in range(candidates)])


def test_failures_ask_the_next_candidates_in_order_and_a_verdict_stands(engine):
    ledger = CtbcLedger(engine)
    _open(ledger, 5)
    assert [c.state for c in ledger.candidates("t")] == ["asked", "asked", "queued", "queued", "queued"]
    assert ledger.settle("t", _account(0), selected=False, reason="bad") == "failed"
    assert [c.state for c in ledger.candidates("t")] == ["failed", "asked", "asked", "queued", "queued"]
    assert ledger.settle("t", _account(0), selected=True) == "failed"  # the first verdict stands
    assert ledger.settle("t", _account(3), selected=True) == "queued"  # not asked: nothing changes
    assert ledger.expire("t", "late") == [_account(1), _account(2)]
    assert [c.state for c in ledger.candidates("t")] == ["failed", "failed", "failed", "asked", "asked"]
    with pytest.raises(ConflictError):
        _open(ledger, 1)


def test_racing_failures_never_ask_one_candidate_for_two_places(engine):
    ledger = CtbcLedger(engine)
    _open(ledger, 40)
    ledger.open_task("u", epoch=1, task={**TASK, "nRequired": 20}, k=2, case=2,
                     queue=[(_account(i), i) for i in range(40)])
    barrier = threading.Barrier(20)

    def fail(i: int) -> None:
        barrier.wait()
        ledger.settle("u", _account(i), selected=False, reason="bad")

    threads = [threading.Thread(target=fail, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    states = [c.state for c in ledger.candidates("u")]
    assert states == ["failed"] * 20 + ["asked"] * 20  # each failure replaced once, in queue order


def test_an_upload_is_one_per_account_and_epoch_and_a_commitment_is_one_upload(engine):
    ledger = CtbcLedger(engine)
    c1, c2 = b"\x01" * 32, b"\x02" * 32
    assert ledger.add_upload(1, _account(1), c1, b"p", b"s") is True
    assert ledger.add_upload(1, _account(1), c1, b"p", b"s") is False
    with pytest.raises(ConflictError):
        ledger.add_upload(1, _account(1), c2, b"p", b"s")
    with pytest.raises(ConflictError):
        ledger.add_upload(1, _account(2), c1, b"p", b"s")  # another account's commitment
    assert [u.sender for u in ledger.uploads(1)] == [_account(1)] and ledger.upload(2, _account(1)) is None
