"""Privacy audit as a test: after a full main-job run, nothing secret is on chain.

``crowdsense demo`` runs once (small options, faults on: an absent and a forging CTBC user, a
lying PDC receiver) against this module's own Anvil. Its ``audit.json`` lists the run's secret
material; :mod:`chain_scan` then reads *every* transaction input, created contract's code,
event topic and event data from block 0 to the head and searches them for each secret in every
plausible encoding.

What may be on chain, by design (docs/design.md sections 5-7, ``audit.json["expectedOnChain"]``):
hashes, levels, claimants, data hashes; CTBC commitments and r1, and for a user the platform
asked to reveal, its r2 and UD (its k-anonymity group centre, transformed); PDC commitments and,
from its reveal block on, a receiver's r (in its own ``revealBlinding`` call and the
``BlindingRevealed`` event). A cheating party publishes its own forged opening in a reverted
transaction. Everything else in ``audit.json`` must appear nowhere.

The encodings are proven right by positive controls (the values that *are* published by design
are found where expected) and the scanner by a negative control (values planted on chain are
found).
"""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak

from chain_scan import (
    Blob,
    Needle,
    bytes_needles,
    collect_chain,
    coordinate_needles,
    distinctive,
    event_topics,
    function_selectors,
    int_needles,
    int_word,
    needles_of,
    scan,
    text_needles,
    words,
)

SELECTOR = function_selectors("CommitmentVerifier")
TOPIC = event_topics("CommitmentVerifier")


@dataclass
class Run:
    url: str
    out: Path
    summary: dict[str, Any]
    audit: dict[str, Any]
    blobs: list[Blob]
    head: int
    verifier: str


@pytest.fixture(scope="module")
def run(run_cli: Any, start_anvil: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The demo, once, on a private Anvil; then every blob of the chain from block 0."""
    import networkx as nx

    from crowdsense.chain.connection import connect

    tmp = tmp_path_factory.mktemp("privacy")
    g = nx.convert_node_labels_to_integers(nx.les_miserables_graph())
    graph = tmp / "lesmis.txt"
    graph.write_text("# Les Miserables co-appearances\n" + "".join(f"{u} {v}\n" for u, v in g.edges()))
    out = tmp / "demo"
    node = start_anvil()
    try:
        res = run_cli("demo", "--rpc-url", node.url, "--graph", graph, "--levels", 3, "--tasks", 2, "--receivers", 6,
                      "--ctbc-users", 12, "--k", 3, "--n", 3, "--pdc-receivers", 4, "--pdc-n", 2, "--grid", 20,
                      "--key-bits", 512, "--insecure-test-key", "--workers", 4, "--seed", 3, "--no-plots",
                      "--out", out, "--deployments-dir", out / "deployments", "--json")
        assert res.code == 0, res.stderr[-3000:]
        w3 = connect(node.url, retries=1, backoff=0.05)
        head = int(w3.eth.block_number)
        blobs = collect_chain(w3, from_block=0, to_block=head)
        summary = res.json()
        audit = json.loads((out / "audit.json").read_text())
        yield Run(node.url, out, summary, audit, blobs, head, summary["chain"]["commitmentVerifier"])
    finally:
        node.stop()


def _is(blob: Blob, kind: str, sel: str) -> bool:
    return blob.kind == kind and blob.selector == sel


def _report(hits: list[Any]) -> str:
    return "\n".join(str(h) for h in hits[:20]) + (f"\n... {len(hits) - 20} more" if len(hits) > 20 else "")


# ------------------------------------------------------------------------------ the run itself


def test_audit_file_is_private_and_lists_every_party(run: Run) -> None:
    assert stat.S_IMODE((run.out / "audit.json").stat().st_mode) == 0o600
    assert len(run.audit["ctbc"]["users"]) == 12 and len(run.audit["pdc"]["receivers"]) == 4
    assert sorted(u["fault"] for u in run.audit["ctbc"]["users"] if u["fault"]) == ["absent", "tamper"]
    assert [r["fault"] for r in run.audit["pdc"]["receivers"] if r["fault"]] == ["liar"]


def test_scan_reads_every_transaction_and_log_of_the_chain(run: Run) -> None:
    """The scanner is not vacuous: it holds every transaction of every block and every log."""
    from crowdsense.chain.connection import connect

    w3 = connect(run.url, retries=1, backoff=0.05)
    txs = sum(len(w3.eth.get_block(b)["transactions"]) for b in range(run.head + 1))
    logs = sum(len(r["logs"]) for b in range(run.head + 1) for r in w3.eth.get_block_receipts(b))
    assert sum(b.kind == "calldata" for b in run.blobs) == txs >= run.summary["chain"]["transactions"]
    assert sum(b.kind == "logdata" for b in run.blobs) == logs > 0
    assert {b.to for b in run.blobs if b.kind == "code"} >= {run.summary["chain"]["taskRegistry"], run.verifier}


# ----------------------------------------------------------------------------- PMCB: descriptions


def test_no_subtask_description_title_key_or_data_on_chain(run: Run) -> None:
    needles: list[Needle] = []
    for task in run.audit["tasks"]:
        needles += text_needles(f"title of task {task['taskId']}", task["title"])
        for sub in task["subtasks"]:
            where = f"task {task['taskId']} subtask {sub['index']}"
            needles += text_needles(f"description of {where}", sub["text"])
            needles += text_needles(f"plaintext of {where}", sub["plaintext"])
            needles += bytes_needles(f"key of {where}", bytes.fromhex(sub["key"][2:]))
            if sub["data"]:
                needles += text_needles(f"sensing data of {where}", sub["data"])
    assert len(needles) > 50
    hits = scan(run.blobs, needles)
    assert hits == [], _report(hits)


def test_subtask_hashes_are_on_chain_as_designed(run: Run) -> None:
    """Positive control of the descriptions' scan: what is published by design is found."""
    hashes = [sub["subtaskHash"] for task in run.audit["tasks"] for sub in task["subtasks"]]
    found = scan(run.blobs, [n for h in hashes for n in bytes_needles(h, bytes.fromhex(h[2:]))[:1]])
    assert {h.needle.label for h in found} == set(hashes)


# ------------------------------------------------------------------------------ CTBC: coordinates


def _asked_groups(audit: dict[str, Any]) -> set[int]:
    """Groups of the users the platform asked to reveal (selected, or failed by forging)."""
    return {u["group"] for u in audit["ctbc"]["users"] if u["selected"] or u["fault"] == "tamper"}


def test_no_individual_coordinate_real_or_transformed_on_chain(run: Run) -> None:
    ctbc, pdc = run.audit["ctbc"], run.audit["pdc"]
    needles: list[Needle] = []
    for u in ctbc["users"]:
        needles += needles_of(f"real position of CTBC user {u['account']}", u["real"])
        needles += needles_of(f"transformed position of CTBC user {u['account']}", u["transformed"])
        # the needles encode exactly what a UD payload holds (a coordinate whose word is too
        # plain to search for, one near zero, has no needle in that encoding)
        assert [n.data for n in needles_of("t", u["transformed"]) if n.encoding == "fixed-point x1000000 int256 word"] \
            == [int_word(v) for v in u["transformedFixed"] if distinctive(int_word(v))]
    for r in pdc["receivers"]:
        needles += needles_of(f"real position of PDC receiver {r['account']}", r["real"])
    needles += needles_of("real PDC task centre", pdc["centreReal"])
    needles += needles_of("real CTBC task centre", ctbc["task"]["center"])
    needles += needles_of("transformed CTBC task centre", ctbc["taskTransformed"]["center"])
    for name in ("aFloat", "bFloat"):
        needles += coordinate_needles(f"transform parameter {name}", ctbc["transform"][name])
    needles += [n for n in coordinate_needles("transform angle theta", ctbc["transform"]["thetaFloat"])
                if n.encoding.startswith(("float64", "decimal"))]
    for name in ("theta", "a", "b"):  # the parameters as exact hexadecimal float text
        needles += text_needles(f"transform parameter {name} (hex float)", ctbc["transform"][name])
    assert len(needles) > 300
    hits = scan(run.blobs, needles)
    assert hits == [], _report(hits)
    # metre-rounded coordinates are small words: look for them where every word is a value, the
    # commitment calls and events (their only small words are the UD's epoch and group, and the
    # offset and length of revealBit's payload, all below 256)
    metres = {round(v) for u in ctbc["users"] for v in (*u["real"], *u["transformed"])}
    metres |= {round(v) for r in pdc["receivers"] for v in r["real"]}
    metres = {m % 2**256 for m in metres if abs(m) >= 256}
    verifier_blobs = [b for b in run.blobs if b.to == run.verifier and b.kind in ("calldata", "topic", "logdata")]
    assert verifier_blobs and [(b.where, w) for b in verifier_blobs for w in words(b) if w in metres] == []


def test_group_centres_only_in_reveals_of_asked_groups(run: Run) -> None:
    """A UD is a k-user mean; it is published only when a member of its group is asked to reveal."""
    asked = _asked_groups(run.audit)
    assert asked and len(asked) < len(run.audit["ctbc"]["groupCentresFixed"])  # some groups stay hidden

    def in_reveal_of(group: int) -> Callable[[Blob], bool]:
        return lambda b: group in asked and (_is(b, "calldata", SELECTOR["revealBit"])
                                             or _is(b, "logdata", TOPIC["BitRevealed"]))

    needles = [n for g, centre in enumerate(run.audit["ctbc"]["groupCentresTransformed"])
               for n in needles_of(f"centre of group {g}", centre, allowed=in_reveal_of(g))]
    hits = scan(run.blobs, needles)
    assert hits == [], _report(hits)
    # positive control: each selected user's group centre is in a BitRevealed event, as encoded
    selected_groups = {u["group"] for u in run.audit["ctbc"]["users"] if u["selected"]}
    events = [b for b in run.blobs if _is(b, "logdata", TOPIC["BitRevealed"])]
    for g in selected_groups:
        x, y = run.audit["ctbc"]["groupCentresFixed"][g]
        assert any(int_word(x) + int_word(y) in b.data for b in events), f"group {g} centre not found"


def test_r2_only_in_the_reveal_of_its_own_user(run: Run) -> None:
    users = run.audit["ctbc"]["users"]
    needles: list[Needle] = []
    for u in users:
        commitment = bytes.fromhex(u["commitment"][2:])

        def own_reveal(b: Blob, u: dict = u, c: bytes = commitment) -> bool:
            if not (_is(b, "calldata", SELECTOR["revealBit"]) and b.sender == u["account"] and b.data[4:36] == c):
                return False
            return (u["selected"] and b.block >= u["revealBlock"]) or (u["fault"] == "tamper" and not b.ok)

        needles += bytes_needles(f"r2 of CTBC user {u['account']}", bytes.fromhex(u["r2"][2:]), allowed=own_reveal)
    hits = scan(run.blobs, needles)
    assert hits == [], _report(hits)
    selected = [u for u in users if u["selected"]]
    published = [Needle(n.label, n.encoding, n.data) for n in needles if n.encoding == "raw bytes"]
    found = {h.needle.label for h in scan(run.blobs, published)}
    assert found == {f"r2 of CTBC user {u['account']}" for u in users if u["selected"] or u["fault"] == "tamper"}
    assert len(selected) == 3


# ----------------------------------------------------------------------------------- PDC: r, dist


def _receivers(run: Run) -> list[dict[str, Any]]:
    return run.audit["pdc"]["receivers"]


def _pdc_blob(b: Blob) -> bool:
    return (_is(b, "calldata", SELECTOR["commitBlinding"]) or _is(b, "calldata", SELECTOR["revealBlinding"])
            or b.selector in (TOPIC["BlindingCommitted"], TOPIC["BlindingRevealed"]))


def test_r_and_salt_only_in_their_own_reveal_from_the_reveal_block(run: Run) -> None:
    needles: list[Needle] = []
    for rec in _receivers(run):
        c = bytes.fromhex(rec["commitment"][2:])

        def own_reveal(b: Blob, rec: dict = rec, c: bytes = c) -> bool:
            if rec["revealBlock"] is None or b.block < rec["revealBlock"]:
                return False
            return ((_is(b, "calldata", SELECTOR["revealBlinding"]) and b.sender == rec["account"] and b.data[4:36] == c)
                    or (_is(b, "logdata", TOPIC["BlindingRevealed"]) and b.tx_hash and b.sender == rec["account"]))

        def own_forgery(b: Blob, rec: dict = rec, c: bytes = c) -> bool:
            """A liar's reverted revealBlinding carries its true salt (and a false r)."""
            return (rec["fault"] == "liar" and _is(b, "calldata", SELECTOR["revealBlinding"]) and not b.ok
                    and b.sender == rec["account"] and b.data[4:36] == c)

        needles += int_needles(f"r of PDC receiver {rec['account']}", rec["r"], allowed=own_reveal)
        needles += bytes_needles(f"salt of PDC receiver {rec['account']}", bytes.fromhex(rec["salt"][2:]),
                                 allowed=lambda b, a=own_reveal, f=own_forgery: a(b) or f(b))
    hits = scan(run.blobs, needles)
    assert hits == [], _report(hits)
    # positive control: every honest r is in its BlindingRevealed event, at its recorded block
    events = [b for b in run.blobs if _is(b, "logdata", TOPIC["BlindingRevealed"])]
    for rec in _receivers(run):
        at = [b.block for b in events if int_word(rec["r"]) in b.data]
        assert at == ([] if rec["fault"] == "liar" else [rec["revealBlock"]]), rec["account"]


def test_no_distance_location_or_s_in_any_pdc_transaction_or_event(run: Run) -> None:
    """dist, grid points and s = dist + r never reach the chain (a liar's own forgery apart)."""
    receivers = _receivers(run)
    small = {v for r in receivers for v in (r["trueDistance"], *r["location"])} | set(run.audit["pdc"]["centre"])
    small |= {r["learntDistance"] for r in receivers if r["learntDistance"] is not None}
    pdc_blobs = [b for b in run.blobs if _pdc_blob(b)]
    assert len(pdc_blobs) >= 3 * len(receivers)  # commit + its event, and reveals
    found = [(b.where, w) for b in pdc_blobs for w in words(b) if w in small]
    assert found == []
    liar = {r["account"] for r in receivers if r["fault"] == "liar"}
    needles = [n for r in receivers
               for n in int_needles(f"s of PDC receiver {r['account']}", r["s"],
                                    allowed=lambda b, a=r["account"]: a in liar and not b.ok and b.sender == a
                                    and _is(b, "calldata", SELECTOR["revealBlinding"]))]
    hits = scan(run.blobs, needles)
    assert hits == [], _report(hits)


def test_only_the_liar_forgery_exposes_a_distance(run: Run) -> None:
    """Distances cannot be derived from the chain either, except a liar's own, from its forgery.

    For every ``revealBlinding(c, r', salt)`` on chain whose opening is wrong, try r = r' - d for
    every distance d the grid allows: a match means r' - r (a distance) is public. The honest
    receivers' openings are right (nothing to derive: s never goes on chain); a liar who sends
    r + dist with its true salt gives its own distance away in at most 2 (grid - 1) + 1 hashes.
    """
    grid = run.audit["pdc"]["grid"]
    max_distance = (grid[0] - 1) + (grid[1] - 1)
    derived: dict[str, int] = {}
    for b in run.blobs:
        if not _is(b, "calldata", SELECTOR["revealBlinding"]):
            continue
        c, r_claimed, salt = b.data[4:36], int.from_bytes(b.data[36:68], "big"), b.data[68:100]
        if keccak(abi_encode(["uint256", "bytes32"], [r_claimed, salt])) == c:
            continue
        for d in range(max_distance + 1):
            if r_claimed >= d and keccak(abi_encode(["uint256", "bytes32"], [r_claimed - d, salt])) == c:
                derived[b.sender] = d
    liars = {r["account"]: r["trueDistance"] for r in _receivers(run) if r["fault"] == "liar"}
    assert liars and derived == {a: max(d, 1) for a, d in liars.items()}  # the lie is r + max(dist, 1)


# ------------------------------------------------------------------------------ negative control

# Runtime code that emits its call data as a LOG0: CALLDATASIZE PUSH1 0 PUSH1 0 CALLDATACOPY
# CALLDATASIZE PUSH1 0 LOG0 STOP.
_LOGGER_RUNTIME = bytes.fromhex("366000600037366000a000")


def _init_code(runtime: bytes) -> bytes:
    """Creation code returning ``runtime``: PUSH2 len PUSH1 14 PUSH1 0 CODECOPY PUSH2 len PUSH1 0 RETURN."""
    n = len(runtime).to_bytes(2, "big")
    return b"\x61" + n + bytes.fromhex("600e600039") + b"\x61" + n + bytes.fromhex("6000f3") + runtime


def test_scanner_finds_values_planted_on_chain(run: Run) -> None:
    """Negative control: a description, a coordinate and an r planted on chain are all found."""
    from crowdsense.chain.connection import connect

    w3 = connect(run.url, retries=1, backoff=0.05)
    sender = w3.eth.accounts[9]
    description = run.audit["tasks"][0]["subtasks"][-1]["text"]
    user = run.audit["ctbc"]["users"][0]
    receiver = next(r for r in _receivers(run) if r["fault"] != "liar")
    payload = description.encode() + int_word(user["transformedFixed"][0]) + int_word(receiver["r"])

    def send(tx: dict[str, Any]) -> Any:
        receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction({"from": sender, **tx}))
        assert receipt["status"] == 1
        return receipt

    first = int(w3.eth.block_number) + 1
    in_calldata = send({"to": "0x000000000000000000000000000000000000dEaD", "data": payload})
    logger = send({"data": _init_code(_LOGGER_RUNTIME)})["contractAddress"]
    in_log = send({"to": logger, "data": payload})
    in_code = send({"data": _init_code(_LOGGER_RUNTIME + description.encode())})  # dead bytes after STOP

    blobs = collect_chain(w3, from_block=first)
    needles = (text_needles("description", description)
               + needles_of("transformed position", user["transformed"])
               + int_needles("r", receiver["r"], allowed=lambda b: False))
    hits = scan(blobs, needles)
    by_place = {(h.needle.label.split("[")[0], h.blob.kind, h.blob.tx_hash) for h in hits}
    tx = {"calldata": "0x" + bytes(in_calldata["transactionHash"]).hex(),
          "log": "0x" + bytes(in_log["transactionHash"]).hex(),
          "code": "0x" + bytes(in_code["transactionHash"]).hex()}
    for label in ("description", "transformed position", "r"):
        assert (label, "calldata", tx["calldata"]) in by_place
        assert (label, "logdata", tx["log"]) in by_place
    assert ("description", "calldata", tx["code"]) in by_place  # the creation input
    assert ("description", "code", tx["code"]) in by_place  # the deployed runtime code
    assert all(h.blob.block >= first for h in hits)
    # and the allow rule of r is what lets the real reveal through: the same needle with it
    # finds nothing in the reveal itself, without it finds the reveal
    reveal = [b for b in run.blobs if _is(b, "calldata", SELECTOR["revealBlinding"]) and b.sender == receiver["account"]]
    assert reveal and scan(reveal, int_needles("r", receiver["r"]))
