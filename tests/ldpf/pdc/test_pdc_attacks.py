"""Attacks on PDC by a cheating receiver: a Z that ignores the task must never be decrypted."""

import dataclasses

import gmpy2
import pytest
from gmpy2 import mpz

from crowdsense.ldpf.pdc import CheatingDetected, PDCError, Platform, RevealMessage
from crowdsense.ldpf.pdc.fastpaillier import PublicEngine
from crowdsense.ldpf.pdc.proofs import CURVE_ORDER

CENTRE = (6, 2)


def _forged_query(platform, receiver, task_id="t1"):
    """A receiver that answers honestly on the board (commits to r) but sends Z = Enc(r)."""
    task = platform.open_task(task_id, CENTRE)
    query = receiver.respond(task)
    r = int(receiver.secret_store.get(f"ldpf-pdc/{task_id}/{receiver.account}")["r"])
    z = int(PublicEngine(task.public_key_n).encrypt(r))
    return dataclasses.replace(query, z=z), r


def test_receiver_sending_enc_r_is_rejected_before_decryption(platform, make_receiver):
    far = make_receiver("far", (0, 6))  # truly at distance 10 from the centre
    forged, _ = _forged_query(platform, far)
    with pytest.raises(CheatingDetected, match="receiver"):
        platform.handle_query(forged)
    assert "far" in platform.rejected("t1")
    assert platform.distances("t1") == {}


def test_forged_query_never_yields_a_decryption(platform, make_receiver):
    far = make_receiver("far", (0, 6))
    forged, r = _forged_query(platform, far)
    try:
        decryption = platform.handle_query(forged)
    except PDCError:
        return
    pytest.fail(f"the platform decrypted a Z that ignores the task: s = {decryption.plaintext}, r = {r}")


def test_forger_with_consistent_axis_ciphertexts_is_rejected(platform, make_receiver, keypair):
    # Cleverer: W_x = Enc(r), W_y = Enc(0), so that Z = W_x W_y, keeping the honest proof otherwise.
    far = make_receiver("far", (0, 6))
    task = platform.open_task("t1", CENTRE)
    query = far.respond(task)
    r = int(far.secret_store.get("ldpf-pdc/t1/far")["r"])
    engine = PublicEngine(task.public_key_n)
    wx, wy = int(engine.encrypt(r)), int(engine.encrypt(0))
    proof = dataclasses.replace(query.proof, x=dataclasses.replace(query.proof.x, w=wx),
                                y=dataclasses.replace(query.proof.y, w=wy))
    forged = dataclasses.replace(query, z=int(mpz(wx) * wy % engine.nsquare), proof=proof)
    with pytest.raises(CheatingDetected, match="well-formedness proof fails"):
        platform.handle_query(forged)
    assert platform.distances("t1") == {}


def _centre_reader(task, r):
    """Z = Enc(r) * prod_i c_i^(2^i): its decryption spells out the centre's Encode 1 bit by bit."""
    engine = PublicEngine(task.public_key_n)
    z = engine.encrypt(r)
    for i, c in enumerate(task.ciphertexts):
        z = z * gmpy2.powmod(mpz(c), 1 << i, engine.nsquare) % engine.nsquare
    return int(z)


def test_published_protocol_lets_a_receiver_read_the_centre(keypair, grid, board, make_receiver):
    # Why proofs are needed: without them the decryption is an oracle for any linear function.
    platform = Platform(keypair[1], grid, board=board, allow_insecure=True, require_proofs=False)
    spy = make_receiver("spy", (0, 0), prove=False)
    task = platform.open_task("t1", CENTRE)
    query = spy.respond(task)
    r = int(spy.secret_store.get("ldpf-pdc/t1/spy")["r"])
    s = platform.handle_query(dataclasses.replace(query, z=_centre_reader(task, r))).plaintext
    bits = [(s - r) >> i & 1 for i in range(grid.code_length)]
    assert (bits[: grid.width].index(1), bits[grid.width:].index(1)) == CENTRE


def test_proofs_stop_the_centre_reader(platform, make_receiver):
    spy = make_receiver("spy", (0, 0))
    task = platform.open_task("t1", CENTRE)
    query = spy.respond(task)
    r = int(spy.secret_store.get("ldpf-pdc/t1/spy")["r"])
    with pytest.raises(CheatingDetected, match="not decrypted"):
        platform.handle_query(dataclasses.replace(query, z=_centre_reader(task, r)))


def test_published_protocol_accepts_enc_r_at_distance_zero(keypair, grid, board, make_receiver):
    # The attack as it stood: selected over an honest receiver that is nearer.
    platform = Platform(keypair[1], grid, board=board, allow_insecure=True, require_proofs=False)
    far, near = make_receiver("far", (0, 6), prove=False), make_receiver("near", (6, 3), prove=False)
    forged, r = _forged_query(platform, far)
    decryption = platform.handle_query(forged)
    salt = bytes.fromhex(far.secret_store.get("ldpf-pdc/t1/far")["salt"][2:])
    far.board.reveal_blinding(forged.commitment, r, salt)
    assert platform.handle_reveal(RevealMessage("t1", "far", forged.commitment, r, salt)) == 0
    assert decryption.plaintext == r
    platform.handle_reveal(near.finish(platform.handle_query(near.respond(platform.task_message("t1")))))
    assert platform.select("t1", 1)[0].receiver == "far"


def test_reveal_must_open_the_masks_of_the_proven_z(platform, make_receiver):
    alice = make_receiver("alice", (3, 3))
    task = platform.open_task("t1", CENTRE)
    reveal = alice.finish(platform.handle_query(alice.respond(task)))
    for tau in (None, (reveal.mask_opening + 1) % CURVE_ORDER):
        with pytest.raises(CheatingDetected, match="constant term"):
            platform.handle_reveal(dataclasses.replace(reveal, mask_opening=tau))
    assert platform.handle_reveal(reveal) == 3 + 1  # the honest opening is still accepted
