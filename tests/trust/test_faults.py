"""Faults the client suite does not cover: a node killed mid-run, a faulty RPC endpoint in the
commitment flows, and a client killed between storing a CTBC/PDC secret and sending it.

For each fault a test shows the report the caller gets (a typed error with a clear one-line
message) and that doing the same calls again after the fault resumes the flow with

* **no lost secret**: every commitment on chain from our parties has its opening in the party's
  journal and that opening opens it (checked with the contract's own ``checkBitOpening`` /
  ``checkBlindingOpening``); every subtask key is in the releaser's journal and decrypts the
  subtask; every r accepted by the platform is the journaled one;
* **no duplicate**: each claim is on chain once, and no call was ever sent twice (the chain
  holds no two transactions with the same sender and the same call data).

What ``tests/chain`` already covers (SIGKILL of a claim or release around its broadcast, a
node that is down, a proxy answering HTTP 503 or nothing) is not repeated here.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from chain_scan import function_selectors
from faultkit import Fault

#: the platform's encryption-key seed: CTBC users seal their UD to its key (child processes too)
PLATFORM_SEED = "11" * 32


#: selectors of the calls the fault rules target, by function name
SELECTOR = function_selectors("TaskRegistry", "CommitmentVerifier")

LEVELS = 3
GRID = 12


@pytest.fixture(scope="module")
def paillier_key() -> Any:
    from crowdsense.ldpf.pdc.keys import generate_keypair

    return generate_keypair(512, allow_insecure=True)[1]


def _deploy(url: str, path: Path) -> None:
    from crowdsense.chain.accounts import dev_signer
    from crowdsense.chain.connection import connect, deploy_contracts

    deploy_contracts(connect(url, retries=1, backoff=0.05), dev_signer(0), LEVELS, path=path)


# ---------------------------------------------------------------------------- the multi-step flow


@dataclass
class Flow:
    """PMCB and LDPF parties of one run, each with its own journal, through one connection.

    :meth:`run` does every step of the run and is safe to call again after any failure: each
    step is the ordinary client call, which resumes from the journal (that is the property
    under test). ``step`` names the step in progress.
    """

    conn: Any
    tmp: Path
    paillier_key: Any
    tag: str
    step: str = ""
    released: Any = None
    decryptions: dict[str, Any] = field(default_factory=dict)
    accepted: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from crowdsense.chain.accounts import dev_signer, simulation_signer
        from crowdsense.chain.journal import Journal
        from crowdsense.chain.registration import fund_dev_accounts
        from crowdsense.chain.registry import TaskRegistryClient
        from crowdsense.chain.store import SubtaskStore
        from crowdsense.ldpf.ctbc.payload import encode_ud
        from crowdsense.ldpf.ctbc.protocol import CTBCUser
        from crowdsense.chain.boards import ChainCommitmentBoard, JournalSecretStore
        from crowdsense.ldpf.pdc.encoding import Grid
        from crowdsense.ldpf.pdc.platform import Platform
        from crowdsense.ldpf.pdc.receiver import Receiver

        conn = self.conn
        self.journals: dict[str, Any] = {}

        def journal(name: str) -> Any:
            self.journals[name] = Journal(self.tmp / f"{name}.sqlite")
            return self.journals[name]

        self.store = SubtaskStore(self.tmp / "store")
        self.receivers = [simulation_signer(f"{self.tag}-receiver-{i}", seed="trust") for i in range(6)]
        self.users = [simulation_signer(f"{self.tag}-ctbc-{i}", seed="trust") for i in range(4)]
        self.pdc_signers = [simulation_signer(f"{self.tag}-pdc-{i}", seed="trust") for i in range(2)]
        fund_dev_accounts(conn.w3, [s.address for s in self.receivers + self.users + self.pdc_signers], wei=10**18)
        self.levels = {s.address: 1 + i % LEVELS for i, s in enumerate(self.receivers)}
        self.registrar = TaskRegistryClient(conn, dev_signer(0), journal=journal("registrar"), store=self.store)
        self.releaser = TaskRegistryClient(conn, dev_signer(0), journal=self.registrar.journal, store=self.store)
        self.claimers = {lvl: TaskRegistryClient(conn, self.receivers[lvl - 1], journal=journal(f"receiver-{lvl}"),
                                                 store=self.store) for lvl in range(1, LEVELS + 1)}
        # CTBC: two groups of two users; everyone commits, one user of each group reveals
        self.epoch = 1000 + len(self.tag)
        payloads = [encode_ud(self.epoch, g, 1_234_567_891 * (g + 1), -987_654_321 * (g + 2)) for g in (0, 1)]
        self.payloads = [payloads[i // 2] for i in range(4)]
        ctbc_journal = journal("ctbc-users")
        self.bit_board = ChainCommitmentBoard(conn)
        store = JournalSecretStore(ctbc_journal, conn)
        self.ctbc = [CTBCUser(s.address, sender=self.bit_board.add_party(s, ctbc_journal), board=self.bit_board,
                              store=store) for s in self.users]
        # PDC: a platform and two receivers
        self.grid = Grid(GRID)
        self.platform_board = ChainCommitmentBoard(conn)
        self.platform = Platform(self.paillier_key, self.grid, board=self.platform_board, allow_insecure=True)
        self.task_id = f"{self.tag}-pdc"
        self.centre = (3, 4)
        self.task = self.platform.open_task(self.task_id, self.centre)
        pdc_journal = journal("pdc-receivers")
        pdc_store = JournalSecretStore(pdc_journal, conn)
        self.locations = [(0, 0), (9, 11)]
        self.pdc = [Receiver(loc, self.grid, board=self.platform_board.as_account(s, pdc_journal),
                             secret_store=pdc_store, allow_insecure=True)
                    for loc, s in zip(self.locations, self.pdc_signers)]

    def run(self) -> None:
        from crowdsense.pmcb.tasks import decompose
        from crowdsense.ldpf.pdc.messages import DecryptionMessage, QueryMessage, RevealMessage

        self.step = "register levels (3 batches)"
        self.registrar.register_levels(self.levels, batch_size=2)
        self.step = "release"
        plan = decompose(f"{self.tag} survey", ["street noise", "flat noise", "bedroom noise"], num_levels=LEVELS)
        self.released = self.releaser.release_task(plan, release_id=f"{self.tag}-release")
        self.step = "claims"
        for lvl, client in self.claimers.items():
            client.claim(self.released.task_id, lvl - 1)
        self.step = "hand-over + fetch"
        self.releaser.hand_over_keys([self.released.task_id])
        self.fetched = {lvl: c.fetch_subtask(self.released.task_id, lvl - 1).text for lvl, c in self.claimers.items()}
        self.step = "CTBC commits"
        for user, payload in zip(self.ctbc, self.payloads):
            user.commit(epoch=self.epoch, payload=payload, platform_key=_platform_key())
        self.step = "CTBC reveals"
        for user in (self.ctbc[0], self.ctbc[2]):
            user.reveal(epoch=self.epoch)
        self.step = "PDC queries (r commitments)"
        for rec in self.pdc:
            if rec.account in self.decryptions:
                continue
            state = rec.state(self.task_id)
            query = rec.respond(self.task) if state is None else rec.resume(self.task_id)
            self.decryptions[rec.account] = self.platform.handle_query(QueryMessage.from_json(query.to_json()))
        self.step = "PDC reveals"
        for rec in self.pdc:
            if rec.account in self.accepted:
                continue
            reveal = rec.finish(DecryptionMessage.from_json(self.decryptions[rec.account].to_json()))
            self.accepted[rec.account] = self.platform.handle_reveal(RevealMessage.from_json(reveal.to_json()))
        self.step = "done"


# ---------------------------------------------------------------------------- what the chain holds


def _chain(w3: Any, first: int = 0) -> list[tuple[Any, Any]]:
    """(transaction, receipt) of every transaction from block ``first`` to the head.

    Read block by block (receipts included) rather than with ``eth_getLogs``, so that the
    count does not depend on the node's log index.
    """
    out = []
    for b in range(first, int(w3.eth.block_number) + 1):
        receipts = {bytes(r["transactionHash"]): r for r in w3.eth.get_block_receipts(b)}
        out += [(tx, receipts[bytes(tx["hash"])]) for tx in w3.eth.get_block(b, full_transactions=True)["transactions"]]
    return out


@dataclass
class Tally:
    """Lost secrets and duplicates found on chain and in the journals (all must be 0)."""

    commitments: int = 0
    lost_secrets: list[str] = field(default_factory=list)
    claims: int = 0
    duplicate_claims: list[str] = field(default_factory=list)
    duplicate_sends: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {"commitments": self.commitments, "lostSecrets": len(self.lost_secrets), "claims": self.claims,
                "duplicateClaims": len(self.duplicate_claims), "duplicateSends": len(self.duplicate_sends)}


def tally(conn: Any, journals: list[Any], *, senders: set[str], released: Any = None, releaser_journal: Any = None,
          store: Any = None) -> Tally:
    """Check the chain against the journals (see the module docstring)."""
    from web3.logs import DISCARD

    from crowdsense.pmcb.tasks import decrypt_subtask
    from crowdsense.chain.boards import bit_opening_key, blinding_opening_key

    out = Tally()
    w3, verifier, registry = conn.w3, conn.verifier, conn.registry
    senders = {s.lower() for s in senders}
    chain = [(tx, r) for tx, r in _chain(w3, conn.deployment.block_number) if tx["from"].lower() in senders]
    for (sender, to, data), n in Counter((tx["from"], tx["to"], bytes(tx["input"])) for tx, _ in chain).items():
        if n > 1:
            out.duplicate_sends.append(f"{sender} sent 0x{data[:4].hex()}.. to {to} {n} times")

    def events(contract: Any, name: str) -> list[Any]:
        return [e for _, r in chain for e in getattr(contract.events, name)().process_receipt(r, errors=DISCARD)]

    # claims: one SubtaskClaimed per subtask, one claim transaction per claimant and subtask
    claims = events(registry, "SubtaskClaimed")
    out.claims = len(claims)
    per_subtask = Counter((e["args"]["taskId"], e["args"]["index"]) for e in claims)
    out.duplicate_claims += [f"subtask {k} claimed {n} times" for k, n in per_subtask.items() if n > 1]
    claim_sends = Counter((tx["from"], bytes(tx["input"])) for tx, _ in chain
                          if bytes(tx["input"])[:4].hex() == SELECTOR["claimSubtask"])
    out.duplicate_claims += [f"{s} sent one claim {n} times" for (s, _), n in claim_sends.items() if n > 1]
    # every commitment of our parties opens with the journaled opening
    for event in events(verifier, "BitCommitted"):
        out.commitments += 1
        c = bytes(event["args"]["commitment"])
        opening = next((o for o in (j.get(bit_opening_key(conn, c)) for j in journals) if o is not None), None)
        committer = event["args"]["committer"]
        if opening is None or not verifier.functions.checkBitOpening(committer, c, opening["r2"],
                                                                     opening["payload"]).call():
            out.lost_secrets.append(f"bit commitment 0x{c.hex()}")
    for event in events(verifier, "BlindingCommitted"):
        out.commitments += 1
        c = bytes(event["args"]["commitment"])
        opening = next((o for o in (j.get(blinding_opening_key(conn, c)) for j in journals) if o is not None), None)
        committer = event["args"]["committer"]
        if opening is None or not verifier.functions.checkBlindingOpening(committer, c, int(opening["r"]),
                                                                          opening["salt"]).call():
            out.lost_secrets.append(f"blinding commitment 0x{c.hex()}")
    # every subtask key of the released task is journaled and decrypts its subtask
    if released is not None:
        prefix = f"{conn.chain_id}/{conn.registry_address}"
        for index, (h, level) in enumerate(zip(released.subtask_hashes, released.levels)):
            secret = releaser_journal.get(f"subtask-key/{prefix}/0x{bytes(h).hex()}")
            try:
                decrypt_subtask(store.get_blob(h), secret["key"], chain_id=conn.chain_id,
                                registry=conn.registry_address, level=level, index=index)
            except Exception as exc:  # noqa: BLE001 - any failure is a lost key
                out.lost_secrets.append(f"key of subtask {index}: {type(exc).__name__}")
    return out



def _platform_key() -> bytes:
    from crowdsense.ldpf.ctbc.sealed import PlatformKey

    return PlatformKey(bytes.fromhex(PLATFORM_SEED)).encryption_key


# ---------------------------------------------------------------------------- 1. node killed


#: Where the faults strike, in protocol order: the function whose raw transaction is hit, and
#: how many of its transactions pass first.
FAULT_POINTS = [("setLevels", 1), ("claimSubtask", 1), ("commitBit", 2), ("revealBit", 0), ("commitBlinding", 1),
                ("revealBlinding", 0)]


def _schedule(actions: list[str]) -> list[Fault]:
    """One fault per point of :data:`FAULT_POINTS`, with the action of the same position."""
    return [Fault("eth_sendRawTransaction", action, selector=SELECTOR[name], skip=skip)
            for action, (name, skip) in zip(actions, FAULT_POINTS, strict=True)]


KILL_SCHEDULES = {
    # SIGTERM (`kill PID`): Anvil dumps its state and exits; the chain survives whole. The
    # 2nd batch of levels is mined and its answer lost; the 2nd claim never reaches the node.
    "killed": _schedule(["kill-after", "kill-before", "kill-after", "kill-before", "kill-after", "kill-after"]),
    # SIGKILL right after the node mined the transaction: the restarted chain has lost it.
    "crashed": _schedule(["crash-after"] * len(FAULT_POINTS)),
}


@pytest.mark.parametrize("mode", list(KILL_SCHEDULES))
def test_node_killed_at_every_step_then_restarted_loses_nothing(mode: str, restartable_anvil: Any, fault_proxy: Any,
                                                                 paillier_key: Any, tmp_path: Path) -> None:
    """Anvil (``--state``) goes down six times, each time while a transaction of another step is
    in flight: killed before the transaction reaches it or after it mined it but before the
    client heard back ("killed"), or crashed losing the transaction it had just mined
    ("crashed"). Each time the client reports NodeUnavailableError; the node is restarted and
    ``Flow.run`` (the same calls) resumes: journaled transactions are found on chain or sent
    again as the same signed bytes."""
    from crowdsense.chain.connection import open_connection
    from crowdsense.chain.errors import NodeUnavailableError
    from faultkit import rpc
    from crowdsense.ldpf.pdc.encoding import manhattan

    node = restartable_anvil()
    deployment = tmp_path / "deployment.json"
    _deploy(node.url, deployment)
    heads: list[tuple[int, int]] = []  # crashed: (head when the node died, head it restarted with)

    def on_kill(snapshot: bytes | None) -> None:
        if mode == "killed":
            node.kill(signal.SIGTERM)
            return
        head = int(rpc(node.url, "eth_blockNumber"), 16)
        node.crash(snapshot)
        heads.append((head, -1))

    proxy = fault_proxy(lambda: node.url, on_kill=on_kill)
    conn = open_connection(proxy.url, deployment, timeout=5, retries=2, backoff=0.05)
    flow = Flow(conn, tmp_path, paillier_key, mode)
    schedule = [Fault(f.method, f.action, selector=f.selector, skip=f.skip) for f in KILL_SCHEDULES[mode]]
    proxy.add(*schedule)
    reports: list[tuple[str, str]] = []
    for _ in range(len(schedule) + 1):
        try:
            flow.run()
            break
        except NodeUnavailableError as exc:
            reports.append((flow.step, str(exc)))
            assert not node.running
            node.start()
            if heads:
                heads[-1] = (heads[-1][0], int(rpc(node.url, "eth_blockNumber"), 16))
    assert flow.step == "done", reports
    assert [step for step, _ in reports] == ["register levels (3 batches)", "claims", "CTBC commits", "CTBC reveals",
                                             "PDC queries (r commitments)", "PDC reveals"]
    for _, message in reports:
        assert message.startswith(f"node at {proxy.url} is unavailable: ") and "\n" not in message
    assert all(r.hits == r.skip + 1 for r in schedule)
    assert node.kills == ["SIGTERM" if mode == "killed" else "SIGKILL"] * 6
    if mode == "crashed":
        assert [before - after for before, after in heads] == [1] * 6  # each crash lost the block just mined

    t = tally(conn, list(flow.journals.values()),
              senders={s.address for s in flow.receivers + flow.users + flow.pdc_signers} | {flow.registrar.me},
              released=flow.released, releaser_journal=flow.releaser.journal, store=flow.store)
    assert t.lost_secrets == [] and t.duplicate_claims == [] and t.duplicate_sends == [], t
    assert t.commitments == 4 + 2 and t.claims == 3
    # the run's results are those of an undisturbed run
    assert flow.fetched == {1: "street noise", 2: "flat noise", 3: "bedroom noise"}
    assert {a: conn.registry.functions.levelOf(a).call() for a in flow.levels} == flow.levels
    assert flow.accepted == {r.account: manhattan(loc, flow.centre, flow.grid)
                             for r, loc in zip(flow.pdc, flow.locations)}
    revealed = [flow.bit_board.bit_record(u.sender, u.opening(epoch=flow.epoch).commitment).revealed for u in flow.ctbc]
    assert revealed == [True, False, True, False]
    print(f"\nnode {mode} {len(node.kills)} times, NodeUnavailableError reports: {len(reports)}, {t.as_dict()}")


# ---------------------------------------------------------------------------- 2. faulty RPC endpoint


@pytest.fixture()
def deployed(node_url: str, tmp_path: Path) -> Path:
    path = tmp_path / "deployment.json"
    _deploy(node_url, path)
    return path


def _ctbc_party(conn: Any, tmp: Path, name: str) -> tuple[Any, Any, Any]:
    from crowdsense.chain.accounts import simulation_signer
    from crowdsense.chain.journal import Journal
    from crowdsense.chain.registration import fund_dev_accounts
    from crowdsense.ldpf.ctbc.protocol import CTBCUser
    from crowdsense.chain.boards import ChainCommitmentBoard, JournalSecretStore

    signer = simulation_signer(name, seed="trust")
    fund_dev_accounts(conn.w3, [signer.address], wei=10**18)
    journal = Journal(tmp / f"{name}.sqlite")
    board = ChainCommitmentBoard(conn)
    user = CTBCUser(signer.address, sender=board.add_party(signer, journal), board=board,
                    store=JournalSecretStore(journal, conn))
    return user, journal, signer


def _pdc_party(conn: Any, tmp: Path, name: str, platform: Any, location: tuple[int, int]) -> tuple[Any, Any, Any]:
    from crowdsense.chain.accounts import simulation_signer
    from crowdsense.chain.journal import Journal
    from crowdsense.chain.registration import fund_dev_accounts
    from crowdsense.chain.boards import ChainCommitmentBoard, JournalSecretStore
    from crowdsense.ldpf.pdc.receiver import Receiver

    signer = simulation_signer(name, seed="trust")
    fund_dev_accounts(conn.w3, [signer.address], wei=10**18)
    journal = Journal(tmp / f"{name}.sqlite")
    view = ChainCommitmentBoard(conn, signer, journal=journal)
    receiver = Receiver(location, platform.grid, board=view, secret_store=JournalSecretStore(journal, conn),
                        allow_insecure=True)
    return receiver, journal, signer


def _platform(conn: Any, key: Any, task_id: str) -> tuple[Any, Any]:
    from crowdsense.chain.boards import ChainCommitmentBoard
    from crowdsense.ldpf.pdc.encoding import Grid
    from crowdsense.ldpf.pdc.platform import Platform

    platform = Platform(key, Grid(GRID), board=ChainCommitmentBoard(conn), allow_insecure=True)
    return platform, platform.open_task(task_id, (5, 5))


def _finish_pdc(platform: Any, receiver: Any, query: Any) -> int:
    from crowdsense.ldpf.pdc.messages import DecryptionMessage, QueryMessage, RevealMessage

    decryption = platform.handle_query(QueryMessage.from_json(query.to_json()))
    reveal = receiver.finish(DecryptionMessage.from_json(decryption.to_json()))
    return platform.handle_reveal(RevealMessage.from_json(reveal.to_json()))


RPC_FAULTS = {
    # name: (fault rules, expected error type name or None when the client rides over it, message fragment)
    "send answers internal error": (
        [Fault("eth_sendRawTransaction", "rpc-error", code=-32603, message="internal error")],
        "TransactionError", "the node refused the transaction: internal error"),
    "send rate-limited then accepted": (
        [Fault("eth_sendRawTransaction", "rpc-error", code=-32005, message="limit exceeded", times=2)],
        None, None),
    "receipt polls answer errors": (
        [Fault("eth_getTransactionReceipt", "rpc-error", code=-32603, message="header not found", times=3)],
        "NodeUnavailableError", "header not found"),
    "estimate times out": (
        [Fault("eth_estimateGas", "stall", seconds=0.7, times=3)],
        "NodeUnavailableError", "no answer within 0.5 s after 3 attempts"),
    "send times out once": (
        [Fault("eth_sendRawTransaction", "stall", seconds=0.7, times=1)],
        None, None),
}


@pytest.mark.parametrize("fault", list(RPC_FAULTS))
def test_faulty_rpc_in_ctbc_and_pdc_commitments(fault: str, node_url: str, deployed: Path, fault_proxy: Any,
                                                paillier_key: Any, tmp_path: Path) -> None:
    """A JSON-RPC error or a timeout while a CTBC user and a PDC receiver commit and reveal.

    Either the client rides over it (transient: rate limit, one lost answer) or the caller gets a
    typed one-line error; then the same calls, once the endpoint behaves, finish the round with
    every opening journaled and each commitment sent once.
    """
    from crowdsense.chain.connection import open_connection
    from crowdsense.ldpf.ctbc.payload import encode_ud
    from crowdsense.errors import CrowdsenseError
    from crowdsense.ldpf.pdc.encoding import manhattan

    rules, error_name, fragment = RPC_FAULTS[fault]
    proxy = fault_proxy(lambda: node_url)
    conn = open_connection(proxy.url, deployed, timeout=0.5, retries=2, backoff=0.05)
    tag = fault.replace(" ", "-")
    user, bit_journal, user_signer = _ctbc_party(conn, tmp_path, f"{tag}-ctbc")
    platform, task = _platform(conn, paillier_key, f"{tag}-pdc")
    receiver, pdc_journal, receiver_signer = _pdc_party(conn, tmp_path, f"{tag}-pdc", platform, (1, 2))
    payload = encode_ud(7, 0, 1_111_111_111, -2_222_222_222)

    errors: list[BaseException] = []
    for phase in ("ctbc", "pdc"):
        proxy.clear()
        for rule in rules:
            proxy.add(Fault(**{k: getattr(rule, k) for k in ("method", "action", "selector", "skip", "times", "code",
                                                               "message", "seconds")}))
        try:
            if phase == "ctbc":
                user.commit(epoch=7, payload=payload, platform_key=_platform_key())
            else:
                receiver.respond(task)
        except CrowdsenseError as exc:
            errors.append(exc)
    proxy.clear()
    if error_name is None:
        assert errors == []
    else:
        assert [type(e).__name__ for e in errors] == [error_name] * 2, errors
        assert all(fragment in str(e) and "\n" not in str(e) for e in errors), [str(e) for e in errors]
    assert any(action != "forward" for _, action in proxy.log)  # the fault did happen

    # the same calls again: the round finishes
    user.commit(epoch=7, payload=payload, platform_key=_platform_key())
    user.reveal(epoch=7)
    query = receiver.resume(task.task_id) if receiver.state(task.task_id) else receiver.respond(task)
    assert _finish_pdc(platform, receiver, query) == manhattan((1, 2), (5, 5), platform.grid)
    t = tally(conn, [bit_journal, pdc_journal], senders={user_signer.address, receiver_signer.address})
    assert t.commitments == 2 and t.lost_secrets == [] and t.duplicate_sends == [], t


def test_http_errors_and_hangs_in_ctbc_and_pdc_flows(flaky_proxy: Any, deployed: Path, paillier_key: Any,
                                                       tmp_path: Path) -> None:
    """The client suite's flaky proxy (HTTP 503 bursts, requests left unanswered) in front of a
    CTBC user and a PDC receiver: short bursts are ridden over by the retries, long ones give
    NodeUnavailableError, and the same calls then finish the round."""
    from crowdsense.chain.connection import open_connection
    from crowdsense.chain.errors import NodeUnavailableError
    from crowdsense.ldpf.ctbc.payload import encode_ud
    from crowdsense.ldpf.pdc.encoding import manhattan
    from crowdsense.ldpf.pdc.messages import DecryptionMessage, QueryMessage, RevealMessage

    conn = open_connection(flaky_proxy.url, deployed, timeout=0.5, retries=2, backoff=0.05)
    user, bit_journal, user_signer = _ctbc_party(conn, tmp_path, "flaky-ctbc")
    platform, task = _platform(conn, paillier_key, "flaky-pdc")
    receiver, pdc_journal, receiver_signer = _pdc_party(conn, tmp_path, "flaky-pdc", platform, (7, 3))
    payload = encode_ud(9, 1, 3_333_333_333, 4_444_444_444)
    flaky_proxy.stall_seconds = 0.7  # longer than the 0.5 s client timeout

    flaky_proxy.fail_next = 2  # fewer than the 3 attempts: nobody notices
    user.commit(epoch=9, payload=payload, platform_key=_platform_key())
    flaky_proxy.stall_next = 1
    query = receiver.respond(task)
    assert flaky_proxy.failures == 3

    flaky_proxy.fail_next = 3
    with pytest.raises(NodeUnavailableError, match=r"^node at http://\S+ is unavailable: HTTP 503 after 3 attempts$"):
        user.reveal(epoch=9)
    flaky_proxy.fail_next = 0
    user.reveal(epoch=9)
    decryption = platform.handle_query(QueryMessage.from_json(query.to_json()))
    flaky_proxy.stall_next = 3
    with pytest.raises(NodeUnavailableError, match=r"no answer within 0\.5 s after 3 attempts$"):
        receiver.finish(DecryptionMessage.from_json(decryption.to_json()))
    flaky_proxy.stall_next = 0
    reveal = receiver.finish(DecryptionMessage.from_json(decryption.to_json()))
    assert platform.handle_reveal(RevealMessage.from_json(reveal.to_json())) == manhattan((7, 3), (5, 5), platform.grid)
    assert user.board.bit_record(user.sender, user.opening(epoch=9).commitment).revealed
    t = tally(conn, [bit_journal, pdc_journal], senders={user_signer.address, receiver_signer.address})
    assert t.commitments == 2 and t.lost_secrets == [] and t.duplicate_sends == [], t


# ---------------------------------------------------------------------------- 3. client killed

# A child process that plays one CTBC user or PDC receiver and SIGKILLs itself at a point:
#   after-store    the opening / r is journaled, the commit (or reveal) call not started
#   after-journal  the signed transaction is journaled, not broadcast
#   after-send     the transaction is broadcast (and mined), its receipt not read
CRASHING_PARTY = r"""
import json, os, signal, sys
from crowdsense.chain.accounts import simulation_signer
from crowdsense.chain.connection import open_connection
from crowdsense.chain.journal import Journal
from crowdsense.chain.txsend import TxSender
from crowdsense.chain import boards

url, deployment, journal_path, name, role, point, step, data = sys.argv[1:]
data = json.loads(data)

def die(*_a, **_k):
    os.kill(os.getpid(), signal.SIGKILL)

if point == "after-store":
    target = {("ctbc", "commit"): (boards.ChainCommitmentBoard, "commit_bit"),
              ("ctbc", "reveal"): (boards.ChainCommitmentBoard, "reveal_bit"),
              ("pdc", "commit"): (boards.ChainCommitmentBoard, "commit_blinding"),
              ("pdc", "reveal"): (boards.ChainCommitmentBoard, "reveal_blinding")}[(role, step)]
    setattr(*target, die)
elif point == "after-journal":
    TxSender._broadcast = die
elif point == "after-send":
    TxSender.wait_for_receipt = die

conn = open_connection(url, deployment)
signer = simulation_signer(name, seed="trust")
journal = Journal(journal_path)
store = boards.JournalSecretStore(journal, conn)
if role == "ctbc":
    from crowdsense.ldpf.ctbc.protocol import CTBCUser
    board = boards.ChainCommitmentBoard(conn)
    user = CTBCUser(signer.address, sender=board.add_party(signer, journal), board=board, store=store)
    if step == "commit":
        user.commit(epoch=data["epoch"], payload=bytes.fromhex(data["payload"]),
                    platform_key=bytes.fromhex(data["platform_key"]))
    else:
        user.reveal(epoch=data["epoch"])
else:
    from crowdsense.ldpf.pdc.encoding import Grid
    from crowdsense.ldpf.pdc.messages import DecryptionMessage, TaskMessage
    from crowdsense.ldpf.pdc.receiver import Receiver
    view = boards.ChainCommitmentBoard(conn, signer, journal=journal)
    receiver = Receiver(tuple(data["location"]), Grid(data["grid"]), board=view, secret_store=store,
                        allow_insecure=True)
    if step == "commit":
        receiver.respond(TaskMessage.from_json(data["task"]))
    else:
        receiver.finish(DecryptionMessage.from_json(data["decryption"]))
print("finished without crashing")
"""

CRASHES = [
    ("ctbc", "commit", "after-store"),
    ("ctbc", "commit", "after-send"),
    ("ctbc", "reveal", "after-journal"),
    ("pdc", "commit", "after-store"),
    ("pdc", "commit", "after-journal"),
    ("pdc", "reveal", "after-store"),
]


def test_client_killed_between_storing_a_secret_and_sending_then_resumed(node_url: str, deployed: Path,
                                                                          paillier_key: Any, tmp_path: Path) -> None:
    """SIGKILL of a CTBC user or PDC receiver process at each point around a commit or a reveal;
    a new process with the same journal resumes: the secret is there, the transaction is sent
    once, the round finishes. The children run in parallel."""
    from crowdsense.chain.accounts import simulation_signer
    from crowdsense.chain.connection import open_connection
    from crowdsense.chain.journal import Journal
    from crowdsense.chain.registration import fund_dev_accounts
    from crowdsense.ldpf.ctbc.payload import encode_ud
    from crowdsense.ldpf.pdc.encoding import manhattan
    from crowdsense.ldpf.pdc.messages import QueryMessage

    conn = open_connection(node_url, deployed, retries=1, backoff=0.05)
    platform, task = _platform(conn, paillier_key, "crash-pdc")
    names = [f"crash-{role}-{step}-{point}" for role, step, point in CRASHES]
    fund_dev_accounts(conn.w3, [simulation_signer(n, seed="trust").address for n in names], wei=10**18)
    epoch = 42
    payload = encode_ud(epoch, 3, 5_555_555_555, 6_666_666_666)
    parties: dict[str, Any] = {}
    locations = {n: (i % GRID, (3 * i) % GRID) for i, n in enumerate(names)}
    # reveal crashes need a committed party (and, for PDC, the platform's decryption) first
    for (role, step, point), name in zip(CRASHES, names):
        if step != "reveal":
            continue
        if role == "ctbc":
            user, journal, signer = _ctbc_party(conn, tmp_path, name)
            user.commit(epoch=epoch, payload=payload, platform_key=_platform_key())
            journal.close()
        else:
            receiver, journal, signer = _pdc_party(conn, tmp_path, name, platform, locations[name])
            parties[name] = platform.handle_query(QueryMessage.from_json(receiver.respond(task).to_json()))
            journal.close()

    def data(role: str, name: str) -> str:
        if role == "ctbc":
            return json.dumps({"epoch": epoch, "payload": payload.hex(), "platform_key": _platform_key().hex()})
        out = {"location": locations[name], "grid": GRID, "task": task.to_json()}
        if name in parties:
            out["decryption"] = parties[name].to_json()
        return json.dumps(out)

    children = [subprocess.Popen([sys.executable, "-c", CRASHING_PARTY, node_url, str(deployed),
                                  str(tmp_path / f"{name}.sqlite"), name, role, point, step, data(role, name)],
                                 cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
                for (role, step, point), name in zip(CRASHES, names)]
    for child in children:
        _, err = child.communicate(timeout=180)
        assert child.returncode == -signal.SIGKILL, err[-2000:]

    # each child died where it was meant to: the journal says how far it got
    kinds = {("ctbc", "commit"): "commitBit", ("ctbc", "reveal"): "revealBit", ("pdc", "commit"): "commitBlinding",
             ("pdc", "reveal"): "revealBlinding"}
    for (role, step, point), name in zip(CRASHES, names):
        with Journal(tmp_path / f"{name}.sqlite") as journal:
            status = [i.status for i in journal.intents(sender=simulation_signer(name, seed="trust").address)
                      if i.kind == kinds[(role, step)]]
        assert status == {"after-store": [], "after-journal": ["prepared"], "after-send": ["sent"]}[point], name

    lost, sent_twice = [], []
    for (role, step, point), name in zip(CRASHES, names):
        before = conn.w3.eth.get_transaction_count(simulation_signer(name, seed="trust").address)
        if role == "ctbc":
            user, journal, signer = _ctbc_party(conn, tmp_path, name)
            opening = user.opening(epoch=epoch)
            if opening is None:
                lost.append(name)
                continue
            user.commit(epoch=epoch, payload=payload, platform_key=_platform_key())  # the same call: resumes
            user.reveal(epoch=epoch)
            record = user.board.bit_record(signer.address, opening.commitment)
            assert record.committer == signer.address and record.revealed and record.payload == opening.payload
        else:
            receiver, journal, signer = _pdc_party(conn, tmp_path, name, platform, locations[name])
            if receiver.state(task.task_id) is None:
                lost.append(name)
                continue
            if step == "commit":
                query = receiver.resume(task.task_id)
                distance = _finish_pdc(platform, receiver, query)
            else:
                from crowdsense.ldpf.pdc.messages import DecryptionMessage, RevealMessage

                reveal = receiver.finish(DecryptionMessage.from_json(parties[name].to_json()))
                distance = platform.handle_reveal(RevealMessage.from_json(reveal.to_json()))
            assert distance == manhattan(locations[name], (5, 5), platform.grid)
        after = conn.w3.eth.get_transaction_count(signer.address)
        # what is left to send after the crash: the commit unless it was mined, and one reveal
        expected = {"after-store": 2, "after-journal": 2, "after-send": 1}[point] if step == "commit" else 1
        if after - before != expected:
            sent_twice.append(f"{name}: {after - before} transactions after the restart, expected {expected}")
        t = tally(conn, [journal], senders={signer.address})
        lost += t.lost_secrets
        sent_twice += t.duplicate_sends
    assert lost == [] and sent_twice == []
    print(f"\nclient crashes: {len(CRASHES)}, lost secrets: {len(lost)}, duplicate sends: {len(sent_twice)}")
