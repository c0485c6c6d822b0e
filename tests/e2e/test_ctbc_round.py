"""CTBC rounds on a real chain through the library (crowdsense.runs)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from eth_utils import keccak

from crowdsense.ldpf.ctbc.geometry import Region, Task
from crowdsense.ldpf.ctbc.payload import encode_ud
from crowdsense.ldpf.ctbc.sealed import PlatformKey

N_USERS = 16
PLATFORM_KEY = PlatformKey.generate().encryption_key


def _scene(seed: int = 0) -> tuple[np.ndarray, Task]:
    """16 users in four tight clusters 300 m apart; the task at the first cluster, N = 3."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0], [300, 0], [0, 300], [300, 300]], dtype=float)
    positions = np.repeat(centres, 4, axis=0) + rng.normal(scale=10, size=(N_USERS, 2))
    task = Task((0.0, 0.0), 3, Region.square((0.0, 0.0), 1000.0))
    return positions, task


@pytest.fixture(scope="module")
def honest(deployed: Any) -> Any:
    from crowdsense.runs import run_ctbc_round

    positions, task = _scene()
    return run_ctbc_round(deployed.conn, positions, task, k=4, signers=deployed.signers("honest", N_USERS),
                          journal=deployed.journal("honest"), random_state=0, workers=4)


def _bit_record(deployed: Any, committer: str, commitment: bytes) -> tuple[bool, int, bytes, bool]:
    return deployed.conn.verifier.functions.bitCommitment(committer, commitment).call()


def _revealed_payloads(deployed: Any) -> dict[bytes, tuple[str, bytes]]:
    logs = deployed.conn.verifier.events.BitRevealed().get_logs(from_block=0, to_block="latest")
    return {bytes(e["args"]["commitment"]): (e["args"]["committer"], bytes(e["args"]["payload"])) for e in logs}


def test_round_selects_n_users_who_revealed_on_chain(deployed: Any, honest: Any) -> None:
    revealed = _revealed_payloads(deployed)
    selected = honest.selected.tolist()
    assert len(selected) == honest.task.n_required
    for i in selected:
        upload = honest.uploads[int(np.flatnonzero(honest.uploaded == i)[0])]
        committer, payload = revealed[upload.commitment]
        assert committer == honest.accounts[i]
        assert payload == upload.sealed  # the UD sealed to the platform, never the UD itself
        assert upload.payload not in payload and len(payload) == 190


def test_round_leaves_unselected_commitments_unopened(deployed: Any, honest: Any) -> None:
    selected = set(honest.selected.tolist())
    for j, upload in enumerate(honest.uploads):
        recorded, _, _, revealed = _bit_record(deployed, honest.accounts[int(honest.uploaded[j])], upload.commitment)
        assert recorded
        assert revealed == (int(honest.uploaded[j]) in selected)


def test_round_commitments_hash_the_journaled_openings(deployed: Any, honest: Any) -> None:
    from crowdsense.chain.boards import bit_opening_key

    journal = deployed.journal("honest")
    for upload in honest.uploads:
        opening = journal.get(bit_opening_key(deployed.conn, upload.commitment))
        _, _, r1_on_chain, _ = _bit_record(deployed, upload.sender, upload.commitment)
        assert bytes(opening["r1"]) == bytes(r1_on_chain)
        assert keccak(bytes(opening["r1"]) + bytes(opening["r2"]) + bytes(opening["payload"])) == upload.commitment


def test_round_selects_from_the_group_nearest_the_task(honest: Any) -> None:
    # Case 1: the group at the task centre has k = 4 >= N = 3 members; all selected come from it.
    members = {i for i in range(N_USERS) if np.linalg.norm(honest.positions[i]) < 100}
    assert honest.selection.case == 1
    assert set(honest.selected.tolist()) <= members


def test_round_drift_is_distance_to_own_group_centre(honest: Any) -> None:
    labels = honest.grouping.labels
    expected = []
    for i in honest.selected.tolist():
        centre = honest.transformed[labels == labels[i]].mean(axis=0)
        expected.append(np.hypot(*(honest.transformed[i] - centre)))
    assert honest.drift.mean == pytest.approx(float(np.mean(expected)), abs=1e-5)
    # distances are invariant under the rigid transform: the same in real coordinates
    real = [np.hypot(*(honest.positions[i] - honest.positions[labels == labels[i]].mean(axis=0)))
            for i in honest.selected.tolist()]
    assert honest.drift.mean == pytest.approx(float(np.mean(real)), abs=1e-5)


def test_round_one_commit_transaction_per_user(deployed: Any, honest: Any) -> None:
    commits = [r for r in honest.transactions if r.kind == "commitBit"]
    assert sorted(r.sender for r in commits) == sorted(honest.accounts)
    assert all(r.ok for r in commits)


def test_round_replaces_absent_and_forging_users(deployed: Any) -> None:
    from crowdsense.runs import run_ctbc_round

    positions, task = _scene(1)
    result = run_ctbc_round(deployed.conn, positions, task, k=4, signers=deployed.signers("faulty", N_USERS),
                            journal=deployed.journal("faulty"), asked_faults=("absent", "tamper"), random_state=0,
                            workers=4)
    queue = [int(result.uploaded[u]) for u in result.candidates.queue.tolist()]
    assert list(result.failed) == queue[:2]
    assert result.selected.tolist() == queue[2:5]
    assert result.faults == {queue[0]: "absent", queue[1]: "tamper"}
    forged = [r for r in result.transactions if r.kind == "revealBit" and not r.ok]
    assert [r.sender for r in forged] == [result.accounts[queue[1]]]
    assert "OpeningMismatch" in (forged[0].error or "") or "does not match" in (forged[0].error or "")
    for i in queue[:2]:  # neither failed user's commitment was opened
        j = int(np.flatnonzero(result.uploaded == i)[0])
        assert _bit_record(deployed, result.uploads[j].sender, result.uploads[j].commitment)[3] is False


def test_forged_reveal_is_mined_and_reverted(deployed: Any) -> None:
    from crowdsense.commitments import OpeningMismatchError
    from crowdsense.ldpf.ctbc.protocol import CTBCUser
    from crowdsense.chain.boards import ChainCommitmentBoard, JournalSecretStore

    (signer,) = deployed.signers("forger", 1)
    journal = deployed.journal("forger")
    board = ChainCommitmentBoard(deployed.conn)
    user = CTBCUser(0, sender=board.add_party(signer, journal), board=board, store=JournalSecretStore(journal, deployed.conn))
    user.commit(epoch=10**9, payload=encode_ud(10**9, 0, 1, 2), platform_key=PLATFORM_KEY)
    opening = user.opening(epoch=10**9)
    with pytest.raises(OpeningMismatchError):
        board.reveal_bit(opening.commitment, opening.r2, b"\x02" * 190, sender=signer.address)
    (record,) = [r for r in board.log if r.kind == "revealBit"]
    receipt = deployed.conn.w3.eth.get_transaction_receipt(record.tx_hash)
    assert receipt["status"] == 0 and not record.ok


def test_board_refuses_a_commitment_whose_opening_is_not_journaled(deployed: Any) -> None:
    from crowdsense.chain.boards import ChainCommitmentBoard, UnjournaledOpeningError

    (signer,) = deployed.signers("unjournaled", 1)
    board = ChainCommitmentBoard(deployed.conn)
    board.add_party(signer, deployed.journal("unjournaled"))
    before = deployed.nonce(signer.address)
    with pytest.raises(UnjournaledOpeningError):
        board.commit_bit(keccak(b"anything"), b"\x07" * 32, sender=signer.address)
    assert deployed.nonce(signer.address) == before


def test_reveal_by_another_account_finds_no_record_of_its_own(deployed: Any) -> None:
    from crowdsense.commitments import CommitmentNotFoundError
    from crowdsense.ldpf.ctbc.protocol import CTBCUser
    from crowdsense.chain.boards import ChainCommitmentBoard, JournalSecretStore

    alice, mallory = deployed.signers("thief", 2)
    journal = deployed.journal("thief")
    board = ChainCommitmentBoard(deployed.conn)
    store = JournalSecretStore(journal, deployed.conn)
    user = CTBCUser("alice", sender=board.add_party(alice, journal), board=board, store=store)
    board.add_party(mallory, journal)
    c = user.commit(epoch=7, payload=encode_ud(7, 0, 3, 3), platform_key=PLATFORM_KEY)
    opening = user.opening(epoch=7)
    with pytest.raises(CommitmentNotFoundError):
        board.reveal_bit(c, opening.r2, opening.payload, sender=mallory.address)
    assert _bit_record(deployed, alice.address, c)[3] is False


def test_a_commitment_front_run_by_a_copier_is_harmless(deployed: Any) -> None:
    """mallory sees alice's pending commitBit and sends a copy that is mined first: alice's own
    commit, reveal and the platform's check go through; mallory's replay of the public opening
    under its own record does not decrypt as mallory's UD."""
    from crowdsense.chain.boards import ChainCommitmentBoard, JournalSecretStore
    from crowdsense.ldpf.ctbc.protocol import CTBCUser, Upload, verify_reveal

    alice, mallory = deployed.signers("front-run", 2)
    platform = PlatformKey.generate()
    journal = deployed.journal("front-run")
    board = ChainCommitmentBoard(deployed.conn)
    user = CTBCUser("alice", sender=board.add_party(alice, journal), board=board,
                    store=JournalSecretStore(journal, deployed.conn))
    ud = encode_ud(8, 0, 5, 5)

    class Copier(ChainCommitmentBoard):
        """The network as mallory sees it: alice's commit is copied and mined first."""

        def commit_bit(self, commitment: bytes, r1: bytes, *, sender: str | None = None) -> None:
            fn = self.conn.verifier.functions.commitBit(commitment, r1)
            copy = fn.build_transaction({"from": mallory.address, "nonce": deployed.nonce(mallory.address),
                                         "chainId": deployed.conn.chain_id})
            tx = deployed.conn.w3.eth.send_raw_transaction(mallory.sign_transaction(copy).raw_transaction)
            assert deployed.conn.w3.eth.wait_for_transaction_receipt(tx)["status"] == 1
            super().commit_bit(commitment, r1, sender=sender)

    copier = Copier(deployed.conn, log=board.log, _parties=board._parties)
    user.board = copier
    c = user.commit(epoch=8, payload=ud, platform_key=platform.encryption_key)
    assert _bit_record(deployed, mallory.address, c)[0] and _bit_record(deployed, alice.address, c)[0]
    opened = user.reveal(epoch=8)
    assert verify_reveal(user.upload(0, epoch=8), opened, board, platform)
    board.add_party(mallory, journal)
    board.reveal_bit(c, opened.r2, opened.payload, sender=mallory.address)  # mallory replays the public opening
    assert _bit_record(deployed, mallory.address, c)[3] is True
    stolen = Upload(1, mallory.address, ud, opened.payload, c)
    assert not verify_reveal(stolen, opened, board, platform)


def test_restarted_user_publishes_a_journaled_commitment_once(deployed: Any) -> None:
    """Crash after the opening is journaled but before the commit is sent; the restart sends it once."""
    from crowdsense.ldpf.ctbc.protocol import CTBCUser
    from crowdsense.chain.boards import ChainCommitmentBoard, JournalSecretStore

    class CrashingBoard(ChainCommitmentBoard):
        def commit_bit(self, commitment: bytes, r1: bytes, *, sender: str) -> None:
            raise KeyboardInterrupt("power cut before sending")

    (signer,) = deployed.signers("crash", 1)
    journal = deployed.journal("crash")
    crashing = CrashingBoard(deployed.conn)
    store = JournalSecretStore(journal, deployed.conn)
    user = CTBCUser("u", sender=crashing.add_party(signer, journal), board=crashing, store=store)
    with pytest.raises(KeyboardInterrupt):
        user.commit(epoch=11, payload=encode_ud(11, 0, 4, 4), platform_key=PLATFORM_KEY)
    before = deployed.nonce(signer.address)

    board = ChainCommitmentBoard(deployed.conn)  # the restarted process: new objects, the same journal
    again = CTBCUser("u", sender=board.add_party(signer, journal), board=board, store=store)
    c1 = again.resume(epoch=11)
    c2 = again.commit(epoch=11, payload=encode_ud(11, 0, 4, 4), platform_key=PLATFORM_KEY)
    assert c1 == c2
    assert deployed.nonce(signer.address) == before + 1
    assert _bit_record(deployed, signer.address, c1)[0] is True


def test_secret_store_refuses_an_opening_that_does_not_hash_to_its_commitment(deployed: Any) -> None:
    from crowdsense.errors import InputError
    from crowdsense.chain.boards import JournalSecretStore, bit_opening_key

    journal = deployed.journal("bad-record")
    store = JournalSecretStore(journal, deployed.conn)
    wrong = keccak(b"some other commitment")
    record = {"kind": "ctbc-bit-opening", "r1": (b"\x01" * 32).hex(), "r2": (b"\x02" * 32).hex(),
              "payload": (b"\x03" * 128).hex(), "commitment": wrong.hex()}
    with pytest.raises(InputError):
        store.put("ctbc/bit/1/u", record)
    assert journal.get("ctbc/bit/1/u") is None
    assert journal.get(bit_opening_key(deployed.conn, wrong)) is None


def test_secret_store_files_the_opening_under_the_verifier_key(deployed: Any) -> None:
    from crowdsense.chain.boards import JournalSecretStore, bit_opening_key

    journal = deployed.journal("good-record")
    r1, r2, payload = b"\x01" * 32, b"\x02" * 32, b"\x03" * 128
    c = keccak(r1 + r2 + payload)
    JournalSecretStore(journal, deployed.conn).put("ctbc/bit/1/u", {
        "kind": "ctbc-bit-opening", "r1": r1.hex(), "r2": r2.hex(), "payload": payload.hex(), "commitment": c.hex()})
    mirrored = journal.get(bit_opening_key(deployed.conn, c))
    assert (bytes(mirrored["r1"]), bytes(mirrored["r2"]), bytes(mirrored["payload"])) == (r1, r2, payload)
    assert journal.get("ctbc/bit/1/u")["commitment"] == c.hex()
