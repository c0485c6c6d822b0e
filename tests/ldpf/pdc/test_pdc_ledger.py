"""The platform's ledger (crowdsense.ldpf.pdc.ledger) and what the platform does with it:
state kept outside the platform object, a lost answer asked again, one answer per receiver."""

from __future__ import annotations

import dataclasses

import pytest

from crowdsense.ldpf.pdc.errors import ProtocolStateError
from crowdsense.ldpf.pdc.ledger import MemoryLedger
from crowdsense.ldpf.pdc.platform import Platform
from pdc_cases import CENTRE, manhattan


def test_a_second_platform_on_the_same_ledger_finishes_the_round(keypair, grid, board, make_receiver):
    """The state of a round is the ledger's: a platform built anew (a restarted service) on the
    same ledger accepts the reveal of a query the first one decrypted."""
    ledger = MemoryLedger()
    first = Platform(keypair[1], grid, board=board, allow_insecure=True, ledger=ledger)
    alice = make_receiver("alice", (2, 5))
    decryption = first.handle_query(alice.respond(first.open_task("t1", CENTRE, public={"region": "r"})))
    second = Platform(keypair[1], grid, board=board, allow_insecure=True, ledger=ledger)
    assert second.handle_reveal(alice.finish(decryption)) == manhattan((2, 5), CENTRE)
    assert second.distances("t1") == {"alice": manhattan((2, 5), CENTRE)}
    assert ledger.public("t1") == {"region": "r"} and ledger.public("t2") is None


def test_the_same_query_again_gets_the_same_decryption(platform, make_receiver):
    alice = make_receiver("alice", (4, 1))
    query = alice.respond(platform.open_task("t1", CENTRE))
    first = platform.handle_query(query)
    assert platform.handle_query(query) == first  # the answer was lost: nothing new is decrypted
    assert platform.ledger.answer("t1", "alice").state == "pending"
    assert platform.handle_reveal(alice.finish(first)) == manhattan((4, 1), CENTRE)


def test_another_z_under_the_same_commitment_is_refused(keypair, grid, board, make_receiver):
    platform = Platform(keypair[1], grid, board=board, allow_insecure=True, require_proofs=False)
    alice = make_receiver("alice", (4, 1), prove=False)
    query = alice.respond(platform.open_task("t1", CENTRE))
    platform.handle_query(query)
    other = dataclasses.replace(query, z=query.z * query.z % (keypair[0].n ** 2))
    with pytest.raises(ProtocolStateError, match="already queried task 't1'"):
        platform.handle_query(other)


def test_memory_ledger_keeps_one_answer_per_receiver_and_one_query_per_commitment(platform, make_receiver):
    ledger = MemoryLedger()
    message = platform.open_task("t1", CENTRE)
    ledger.add_task(message, CENTRE)
    with pytest.raises(ProtocolStateError, match="already open"):
        ledger.add_task(message, CENTRE)
    ledger.record_pending("t1", "alice", commitment=b"\x01" * 32, z=5, s=9, masks=None)
    with pytest.raises(ProtocolStateError, match="already queried"):
        ledger.record_pending("t1", "alice", commitment=b"\x02" * 32, z=6, s=9, masks=None)
    with pytest.raises(ProtocolStateError, match="commitment already used"):
        ledger.record_pending("t1", "bob", commitment=b"\x01" * 32, z=7, s=9, masks=None)
    assert ledger.commitment_used(b"\x01" * 32) and not ledger.commitment_used(b"\x02" * 32)
    ledger.record_accepted("t1", "alice", 3)
    ledger.record_rejected("t1", "carol", "caught")
    assert ledger.accepted("t1") == {"alice": 3} and ledger.rejected("t1") == {"carol": "caught"}
    assert ledger.answer("t1", "alice").commitment == b"\x01" * 32  # kept after acceptance
    assert ledger.answer("t1", "dave") is None and ledger.task("t2") is None
