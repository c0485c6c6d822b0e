"""PDC rounds on a real chain through the library (crowdsense.runs)."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak

GRID = 20
CENTRE = (7, 12)
LOCATIONS = [(7, 12), (0, 0), (19, 19), (10, 10), (3, 15), (12, 1)]


def manhattan(a: tuple[int, int], b: tuple[int, int]) -> int:
    return abs(a[0] - b[0]) + abs(a[1] - b[1])


@pytest.fixture(scope="module")
def honest(deployed: Any, small_paillier_key: Any) -> Any:
    from crowdsense.runs import run_pdc_round

    return run_pdc_round(deployed.conn, LOCATIONS, CENTRE, grid=GRID, n_select=3,
                         signers=deployed.signers("pdc-honest", len(LOCATIONS)), journal=deployed.journal("pdc-honest"),
                         private_key=small_paillier_key, allow_insecure=True, random_state=0, workers=3)


def _revealed(deployed: Any) -> dict[bytes, tuple[str, int, int]]:
    logs = deployed.conn.verifier.events.BlindingRevealed().get_logs(from_block=0, to_block="latest")
    return {bytes(e["args"]["commitment"]): (e["args"]["committer"], int(e["args"]["r"]), int(e["blockNumber"]))
            for e in logs}


def test_round_accepts_the_true_manhattan_distances(honest: Any) -> None:
    expected = {acc: manhattan(loc, CENTRE) for acc, loc in zip(honest.accounts, LOCATIONS)}
    assert honest.distances == expected


def test_round_selects_the_n_nearest(honest: Any) -> None:
    distances = sorted(manhattan(loc, CENTRE) for loc in LOCATIONS)
    assert sorted(s.distance for s in honest.selected) == distances[:3]
    assert honest.selected[0].receiver == honest.accounts[0]  # the receiver at the centre, distance 0


def test_round_reveals_every_r_on_chain_matching_its_commitment(deployed: Any, honest: Any) -> None:
    revealed = _revealed(deployed)
    audit = {r["account"]: r for r in honest.audit()["receivers"]}
    for account in honest.accounts:
        entry = audit[account]
        c = bytes.fromhex(entry["commitment"][2:])
        committer, r, block = revealed[c]
        assert committer == account
        assert r == entry["r"]
        assert block == entry["revealBlock"]
        assert keccak(abi_encode(["uint256", "bytes32"], [r, bytes.fromhex(entry["salt"][2:])])) == c


def test_round_receivers_learn_their_own_distance(honest: Any) -> None:
    for entry, loc in zip(honest.audit()["receivers"], LOCATIONS):
        assert entry["learntDistance"] == manhattan(loc, CENTRE)
        assert entry["s"] - entry["r"] == manhattan(loc, CENTRE)


def test_round_messages_are_json_and_the_task_is_sent_once(honest: Any) -> None:
    sizes = honest.message_bytes
    # The task (2n ciphertexts) is sent once; each query carries a proof with one branch per axis
    # position (2n branches of several ciphertexts each), so it outweighs the task.
    assert sizes["queries"] / len(LOCATIONS) > sizes["task"]
    assert all(sizes[k] > 0 for k in ("queries", "decryptions", "reveals"))


def test_liar_is_refused_on_chain_and_rejected_by_the_platform(deployed: Any, small_paillier_key: Any) -> None:
    from crowdsense.runs import run_pdc_round

    result = run_pdc_round(deployed.conn, LOCATIONS, CENTRE, grid=GRID, n_select=2,
                           signers=deployed.signers("pdc-liar", len(LOCATIONS)), journal=deployed.journal("pdc-liar"),
                           private_key=small_paillier_key, allow_insecure=True, faults={1: "liar", 2: "absent"},
                           workers=3)
    outcome = {o.account: o for o in result.outcomes}
    liar, absent = result.accounts[1], result.accounts[2]
    assert outcome[liar].status == "rejected" and "cheating" in outcome[liar].reason
    assert outcome[absent].status == "absent"
    assert liar not in result.distances and absent not in result.distances
    forged = [r for r in result.transactions if r.kind == "revealBlinding" and not r.ok]
    assert [r.sender for r in forged] == [liar]
    assert deployed.conn.w3.eth.get_transaction_receipt(forged[0].tx_hash)["status"] == 0
    audit = {r["account"]: r for r in result.audit()["receivers"]}
    for account in (liar, absent):  # neither commitment was ever opened on chain
        c = bytes.fromhex(audit[account]["commitment"][2:])
        recorded, _, revealed = deployed.conn.verifier.functions.blindingCommitment(account, c).call()
        assert recorded and revealed is False
    assert sorted(s.distance for s in result.selected) == \
        sorted(manhattan(loc, CENTRE) for i, loc in enumerate(LOCATIONS) if i not in (1, 2))[:2]


def test_board_refuses_a_commitment_whose_opening_is_not_journaled(deployed: Any) -> None:
    from crowdsense.chain.boards import ChainCommitmentBoard, UnjournaledOpeningError

    (signer,) = deployed.signers("pdc-unjournaled", 1)
    board = ChainCommitmentBoard(deployed.conn).as_account(signer, deployed.journal("pdc-unjournaled"))
    before = deployed.nonce(signer.address)
    with pytest.raises(UnjournaledOpeningError):
        board.commit_blinding(keccak(b"not journaled"))
    assert deployed.nonce(signer.address) == before


def test_platform_view_is_read_only(deployed: Any) -> None:
    from crowdsense.errors import InputError
    from crowdsense.chain.boards import ChainCommitmentBoard

    with pytest.raises(InputError):
        ChainCommitmentBoard(deployed.conn).commit_blinding(keccak(b"x"))


def test_restarted_receiver_commits_once_and_finishes(deployed: Any, small_paillier_key: Any) -> None:
    """Crash after r is journaled but before the commit is sent; a new Receiver resumes."""
    from crowdsense.chain.boards import ChainCommitmentBoard, JournalSecretStore
    from crowdsense.ldpf.pdc.encoding import Grid
    from crowdsense.ldpf.pdc.messages import DecryptionMessage, QueryMessage, RevealMessage
    from crowdsense.ldpf.pdc.platform import Platform
    from crowdsense.ldpf.pdc.receiver import Receiver

    class CrashingBoard(ChainCommitmentBoard):
        def commit_blinding(self, commitment: bytes) -> None:
            raise KeyboardInterrupt("power cut before sending")

    (signer,) = deployed.signers("pdc-crash", 1)
    journal = deployed.journal("pdc-crash")
    store = JournalSecretStore(journal, deployed.conn)
    grid = Grid(GRID)
    platform_view = ChainCommitmentBoard(deployed.conn)
    platform = Platform(small_paillier_key, grid, board=platform_view, allow_insecure=True)
    task = platform.open_task("crash-task", CENTRE)
    crashing = CrashingBoard(deployed.conn, signer, journal=journal)
    with pytest.raises(KeyboardInterrupt):
        Receiver((1, 2), grid, board=crashing, secret_store=store, allow_insecure=True).respond(task)
    before = deployed.nonce(signer.address)

    restarted = Receiver((1, 2), grid, board=platform_view.as_account(signer, journal), secret_store=store,
                         allow_insecure=True)
    query = restarted.resume("crash-task")
    assert deployed.nonce(signer.address) == before + 1
    decryption = platform.handle_query(QueryMessage.from_json(query.to_json()))
    reveal = restarted.finish(DecryptionMessage.from_json(decryption.to_json()))
    assert platform.handle_reveal(RevealMessage.from_json(reveal.to_json())) == manhattan((1, 2), CENTRE)


def test_spent_answer_budget_fails_the_query_and_nothing_goes_on_chain(deployed: Any, small_paillier_key: Any,
                                                                       tmp_path: Any) -> None:
    from crowdsense.ldpf.pdc.budget import AnswerBudget, platform_key_id
    from crowdsense.runs import run_pdc_round

    signers = deployed.signers("pdc-budget", 2)
    budgets = [AnswerBudget(tmp_path / f"receiver-{i}", limit=1) for i in range(2)]
    budgets[1].charge(platform_key_id(small_paillier_key.public_key.n), "an-earlier-task")
    before = deployed.nonce(signers[1].address)
    result = run_pdc_round(deployed.conn, LOCATIONS[:2], CENTRE, grid=GRID, n_select=1, signers=signers,
                           journal=deployed.journal("pdc-budget"), private_key=small_paillier_key,
                           allow_insecure=True, budgets=budgets, workers=2)
    outcome = {o.account: o for o in result.outcomes}
    assert outcome[signers[0].address].status == "accepted"
    spent = outcome[signers[1].address]
    assert spent.status == "failed" and "answer budget exhausted" in spent.reason
    assert deployed.nonce(signers[1].address) == before  # no commitment was sent


def test_offline_proof_parts_drawn_in_worker_processes_serve_the_round(deployed: Any) -> None:
    """With a real key size the receivers' offline draws run in worker processes; the round is
    as exact as when each receiver draws its own."""
    from phe import paillier

    from crowdsense.runs import run_pdc_round

    _, key = paillier.generate_paillier_keypair(n_length=1024)
    result = run_pdc_round(deployed.conn, LOCATIONS[:3], CENTRE, grid=GRID, n_select=2,
                           signers=deployed.signers("pdc-processes", 3), journal=deployed.journal("pdc-processes"),
                           private_key=key, random_state=0, workers=2)
    assert sorted(s.distance for s in result.selected) == sorted(manhattan(p, CENTRE) for p in LOCATIONS[:3])[:2]
    assert result.distances == {a: manhattan(p, CENTRE) for a, p in zip(result.accounts, LOCATIONS[:3])}
