"""Privacy audit as a test: after a full main-job run, nothing secret is on chain.

``crowdsense demo`` runs once (small options, faults on: an absent and a forging CTBC user, a
lying PDC receiver) against this module's own Anvil. Its ``audit.json`` lists the run's secret
material; :mod:`chain_scan` then reads *every* transaction input, created contract's code,
event topic and event data, storage write and the storage at the head, from block 0, and
searches them for each secret in every encoding of :mod:`leak_encodings` (numbers at 19
decimal scales and 4 roundings, in both byte orders, as floats, decimal and hex text; bytes
and text raw, reversed, as hex, base64 and UTF-16; every 8-byte piece of a plaintext).

What may be on chain, by design (docs/design.md sections 5-7, ``audit.json["expectedOnChain"]``):
hashes, levels, claimants, data hashes; CTBC commitments and r1, and for a user the platform
asked to reveal, its r2 and its UD sealed to the platform (no coordinate); PDC commitments and,
from its reveal block on, a receiver's r (in its own ``revealBlinding`` call and the
``BlindingRevealed`` event). A cheating party publishes its own forged opening in a reverted
transaction. Everything else in ``audit.json`` must appear nowhere.

The encodings are proven right by positive controls (the values that *are* published by design
are found where expected) and the scanner by the negative controls of ``test_chain_scan.py``
(each encoding planted on a chain is found, and a chain without it gives no finding).
"""

from __future__ import annotations

import json
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak

from chain_scan import Blob, Needle, Scanner, collect_chain, event_topics, function_selectors, scan, words
from leak_encodings import (
    bytes_needles,
    coordinate_needles,
    distinctive,
    fragment_needles,
    int_needles,
    int_word,
    needles_of,
    plain_words,
    text_needles,
)

SELECTOR = function_selectors("CommitmentVerifier")
TOPIC = event_topics("CommitmentVerifier")
REGISTRY_SELECTOR = function_selectors("TaskRegistry")
REGISTRY_TOPIC = event_topics("TaskRegistry")


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
        res = run_cli("demo", "--rpc-url", node.url, "--graph", graph, "--levels", 3, "--tasks", 2, "--receivers", 9,
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


# ------------------------------------------------------------------- the secrets of the run
#
# One builder per kind of secret: its needles in every encoding, with the places the protocol
# publishes it on purpose as the allow rule.


def _asked_groups(audit: dict[str, Any]) -> set[int]:
    """Groups of the users the platform asked to reveal (selected, or failed by forging)."""
    return {u["group"] for u in audit["ctbc"]["users"] if u["selected"] or u["fault"] == "tamper"}


def _description_needles(audit: dict[str, Any]) -> list[Needle]:
    """Titles, descriptions, plaintexts (whole and every 8-byte piece), keys, sensing data."""
    needles: list[Needle] = []
    for task in audit["tasks"]:
        needles += text_needles(f"title of task {task['taskId']}", task["title"])
        for sub in task["subtasks"]:
            where = f"task {task['taskId']} subtask {sub['index']}"
            needles += text_needles(f"description of {where}", sub["text"])
            needles += text_needles(f"plaintext of {where}", sub["plaintext"])
            needles += fragment_needles(f"plaintext of {where}", sub["plaintext"])
            needles += bytes_needles(f"key of {where}", bytes.fromhex(sub["key"][2:]))
            if sub["data"]:
                needles += text_needles(f"sensing data of {where}", sub["data"])
                needles += fragment_needles(f"sensing data of {where}", sub["data"])
    return needles


def _coordinate_needles(audit: dict[str, Any]) -> list[Needle]:
    """Real and transformed positions, task centres and the transform parameters."""
    ctbc, pdc = audit["ctbc"], audit["pdc"]
    needles: list[Needle] = []
    for u in ctbc["users"]:
        needles += needles_of(f"real position of CTBC user {u['account']}", u["real"])
        needles += needles_of(f"transformed position of CTBC user {u['account']}", u["transformed"])
    for r in pdc["receivers"]:
        needles += needles_of(f"real position of PDC receiver {r['account']}", r["real"])
    needles += needles_of("real PDC task centre", pdc["centreReal"])
    needles += needles_of("real CTBC task centre", ctbc["task"]["center"])
    needles += needles_of("transformed CTBC task centre", ctbc["taskTransformed"]["center"])
    for name in ("thetaFloat", "aFloat", "bFloat"):
        needles += coordinate_needles(f"transform parameter {name}", ctbc["transform"][name])
    return needles


def _group_centre_needles(audit: dict[str, Any]) -> list[Needle]:
    """A UD is a k-user mean, transformed: never on chain (a reveal opens it sealed to the platform)."""
    return [n for g, centre in enumerate(audit["ctbc"]["groupCentresTransformed"])
            for n in needles_of(f"centre of group {g}", centre)]


def _r2_needles(audit: dict[str, Any]) -> list[Needle]:
    """r2 only in the reveal of its own user (a forger's in its reverted reveal)."""
    needles: list[Needle] = []
    for u in audit["ctbc"]["users"]:
        commitment = bytes.fromhex(u["commitment"][2:])

        def own_reveal(b: Blob, u: dict = u, c: bytes = commitment) -> bool:
            if not (_is(b, "calldata", SELECTOR["revealBit"]) and b.sender == u["account"] and b.data[4:36] == c):
                return False
            return (u["selected"] and b.block >= u["revealBlock"]) or (u["fault"] == "tamper" and not b.ok)

        needles += bytes_needles(f"r2 of CTBC user {u['account']}", bytes.fromhex(u["r2"][2:]), allowed=own_reveal)
    return needles


def _r_and_salt_needles(audit: dict[str, Any]) -> list[Needle]:
    """r and salt only in their own reveal, from the reveal block on (a liar's salt in its forgery)."""
    needles: list[Needle] = []
    for rec in audit["pdc"]["receivers"]:
        c = bytes.fromhex(rec["commitment"][2:])

        def own_reveal(b: Blob, rec: dict = rec, c: bytes = c) -> bool:
            if rec["revealBlock"] is None or b.block < rec["revealBlock"]:
                return False
            return ((_is(b, "calldata", SELECTOR["revealBlinding"]) and b.sender == rec["account"] and b.data[4:36] == c)
                    or (_is(b, "logdata", TOPIC["BlindingRevealed"]) and b.sender == rec["account"]))

        def own_forgery(b: Blob, rec: dict = rec, c: bytes = c) -> bool:
            """A liar's reverted revealBlinding carries its true salt (and a false r)."""
            return (rec["fault"] == "liar" and _is(b, "calldata", SELECTOR["revealBlinding"]) and not b.ok
                    and b.sender == rec["account"] and b.data[4:36] == c)

        needles += int_needles(f"r of PDC receiver {rec['account']}", rec["r"], allowed=own_reveal)
        needles += bytes_needles(f"salt of PDC receiver {rec['account']}", bytes.fromhex(rec["salt"][2:]),
                                 allowed=lambda b, a=own_reveal, f=own_forgery: a(b) or f(b))
    return needles


def _s_needles(audit: dict[str, Any]) -> list[Needle]:
    """s = dist + r never reaches the chain (a liar's own forgery apart)."""
    receivers = audit["pdc"]["receivers"]
    liar = {r["account"] for r in receivers if r["fault"] == "liar"}
    return [n for r in receivers
            for n in int_needles(f"s of PDC receiver {r['account']}", r["s"],
                                 allowed=lambda b, a=r["account"]: a in liar and not b.ok and b.sender == a
                                 and _is(b, "calldata", SELECTOR["revealBlinding"]))]


def _level_salt_needles(audit: dict[str, Any]) -> list[Needle]:
    """A receiver's level salt only in its own claims by proof, plain or selected (the salt keeps
    its leaf, which other receivers' proofs carry, from naming its level)."""
    def own_claim(b: Blob, account: str) -> bool:
        return _is_claim_by_proof(b) and b.sender == account

    return [n for r in audit["receivers"]
            for n in bytes_needles(f"level salt of receiver {r['address']}", bytes.fromhex(r["levelSalt"][2:]),
                                   allowed=lambda b, a=r["address"]: own_claim(b, a))]


def _selection_salt_needles(audit: dict[str, Any]) -> list[Needle]:
    """A selected receiver's selection salt only in its own claim of the task for selection (the
    salt keeps its leaf, which other selected receivers' proofs carry, from naming it)."""
    def own_claim(b: Blob, account: str) -> bool:
        return _is(b, "calldata", REGISTRY_SELECTOR["claimSelectedSubtask"]) and b.sender == account

    return [n for r in audit["selection"]["receivers"]
            for n in bytes_needles(f"selection salt of receiver {r['address']}", bytes.fromhex(r["salt"][2:]),
                                   allowed=lambda b, a=r["address"]: own_claim(b, a))]


def _paillier_needles(audit: dict[str, Any]) -> list[Needle]:
    """The platform's private key (its primes) decrypts every PDC query: never on chain."""
    return [n for i, prime in enumerate(audit["pdc"]["privateKeyPrimes"])
            for n in int_needles(f"Paillier prime {'pq'[i]}", int(prime))]


_SECRETS: dict[str, Callable[[dict[str, Any]], list[Needle]]] = {
    "descriptions": _description_needles,
    "coordinates": _coordinate_needles,
    "group centres": _group_centre_needles,
    "r2": _r2_needles,
    "r and salt": _r_and_salt_needles,
    "s": _s_needles,
    "Paillier key": _paillier_needles,
    "level salts": _level_salt_needles,
    "selection salts": _selection_salt_needles,
}


Needles = dict[str, list[Needle]]


@pytest.fixture(scope="module")
def needles(run: Run) -> Needles:
    """The run's secrets in every encoding, by kind (built once: about 10^5 needles)."""
    return {kind: build(run.audit) for kind, build in _SECRETS.items()}


# ------------------------------------------------------------------------------ the run itself


def test_audit_file_is_private_and_lists_every_party(run: Run) -> None:
    assert stat.S_IMODE((run.out / "audit.json").stat().st_mode) == 0o600
    assert len(run.audit["ctbc"]["users"]) == 12 and len(run.audit["pdc"]["receivers"]) == 4
    assert sorted(u["fault"] for u in run.audit["ctbc"]["users"] if u["fault"]) == ["absent", "tamper"]
    assert [r["fault"] for r in run.audit["pdc"]["receivers"] if r["fault"]] == ["liar"]


def test_scan_reads_every_transaction_log_and_storage_slot_of_the_chain(run: Run) -> None:
    """The scanner is not vacuous: it holds every transaction, every log, every contract's
    storage as the node reports it slot by slot, and the storage writes of the run."""
    from crowdsense.chain.connection import connect

    w3 = connect(run.url, retries=1, backoff=0.05)
    txs = sum(len(w3.eth.get_block(b)["transactions"]) for b in range(run.head + 1))
    logs = sum(len(r["logs"]) for b in range(run.head + 1) for r in w3.eth.get_block_receipts(b))
    assert sum(b.kind == "calldata" for b in run.blobs) == txs >= run.summary["chain"]["transactions"]
    assert sum(b.kind == "logdata" for b in run.blobs) == logs > 0
    contracts = {run.summary["chain"]["taskRegistry"], run.verifier}
    assert {b.to for b in run.blobs if b.kind == "code"} >= contracts
    state = [b for b in run.blobs if b.kind == "state"]
    assert {b.to for b in state} >= contracts
    for b in state:  # every slot of the head state, as eth_getStorageAt reads it
        for i in range(len(b.data) // 32):
            slot = bytes(w3.eth.get_storage_at(b.to, b.position + i, run.head))
            assert slot == b.data[32 * i : 32 * i + 32]
    # every write of a transaction is read too: the r1 of each CTBC commitment, for example
    writes = [b for b in run.blobs if b.kind == "storage" and b.to == run.verifier]
    committed = [b for b in run.blobs if _is(b, "calldata", SELECTOR["commitBit"]) and b.ok]
    assert committed and all(any(w.tx_hash == c.tx_hash and c.data[36:68] in w.data for w in writes)
                             for c in committed)


_NUMBER = ("x10^18", "big-endian", "little-endian", "decimal", "hex text", "base64", "UTF-16LE",
           "UTF-16BE")
#: Secrets by the start of their label, and the encodings each of them must be searched in.
_FAMILIES: dict[tuple[str, ...], tuple[str, ...]] = {
    ("real", "transformed", "centre", "transform parameter"):
        (*_NUMBER, "float64 big-endian", "float64 little-endian", "decimal with point", "float.hex"),
    ("r of", "s of", "Paillier"): _NUMBER,
    ("key", "r2", "salt", "level salt", "selection salt"):
        ("raw bytes", "reversed bytes", "hex text", "HEX text", "base64", "UTF-16LE", "decimal"),
    ("title", "description", "plaintext", "sensing"):
        ("UTF-8", "reversed", "hex text", "HEX text", "base64", "UTF-16LE", "UTF-16BE"),
}


def _secret_count(audit: dict[str, Any]) -> int:
    """How many secrets audit.json holds (a point counts as two)."""
    ctbc, pdc = audit["ctbc"], audit["pdc"]
    points = 2 * len(ctbc["users"]) + len(pdc["receivers"]) + 3 + len(ctbc["groupCentresTransformed"])
    numbers = 3 + 2 * len(pdc["receivers"]) + len(pdc["privateKeyPrimes"])
    subtasks = [sub for task in audit["tasks"] for sub in task["subtasks"]]
    texts = len(audit["tasks"]) + 2 * len(subtasks) + sum(1 for sub in subtasks if sub["data"])
    keys = (len(subtasks) + len(ctbc["users"]) + len(pdc["receivers"]) + len(audit["receivers"])
            + len(audit["selection"]["receivers"]))
    return 2 * points + numbers + texts + keys


def test_every_secret_is_searched_in_every_encoding(run: Run, needles: Needles) -> None:
    """Each secret of audit.json has needles in each family of encodings, plaintexts and
    readings also every 8-byte piece; all of them at once find nothing. Prints the size of the
    search and its time."""
    everything = [n for kind in needles.values() for n in kind]
    encodings: dict[str, set[str]] = {}
    for n in everything:
        encodings.setdefault(n.label, set()).add(n.encoding)
    secrets = [label for label in encodings if not label.endswith(" (fragment)")]
    assert len(secrets) == _secret_count(run.audit)
    for label in secrets:
        [families] = [f for starts, f in _FAMILIES.items() if label.startswith(starts)]
        assert [f for f in families if not any(f in e for e in encodings[label])] == [], label
    pieces = [label for label in secrets if label.startswith(("plaintext", "sensing"))]
    assert pieces and all(f"{label} (fragment)" in encodings for label in pieces)
    started = time.perf_counter()
    hits = Scanner(everything).scan(run.blobs)
    seconds = time.perf_counter() - started
    assert hits == [], _report(hits)
    print(f"\nprivacy scan: {len(secrets)} secrets, {len(everything)} (secret, encoding) needles, "
          f"{len(run.blobs)} places of {sum(len(b.data) for b in run.blobs)} bytes, {seconds:.1f} s")


# ----------------------------------------------------------------------------- PMCB: levels


def test_no_level_of_a_receiver_that_did_not_claim_is_on_chain(run: Run, needles: Needles) -> None:
    """Levels go out as one Merkle root: no LevelSet event, no level in the registry's storage
    for any receiver, and the salt that would let anyone test a leaf against the few levels
    appears only in its owner's own claims; a receiver that never claimed leaves none."""
    from crowdsense.chain.connection import connect

    idle = [r for r in run.audit["receivers"] if not r["claimed"]]
    assert idle and len(idle) < len(run.audit["receivers"])  # both kinds of receiver exist
    assert not [b for b in run.blobs if b.kind == "logdata" and b.selector == REGISTRY_TOPIC["LevelSet"]]
    assert [b for b in run.blobs if b.kind == "logdata" and b.selector == REGISTRY_TOPIC["LevelsRootSet"]]
    registry = connect(run.url, retries=1, backoff=0.05).eth.contract(
        address=run.summary["chain"]["taskRegistry"], abi=_registry_abi())
    assert all(registry.functions.levelOf(r["address"]).call() == 0 for r in run.audit["receivers"])
    hits = scan(run.blobs, needles["level salts"])
    assert hits == [], _report(hits)
    # positive control: the salts of receivers that claimed are found, in their claims only
    found = scan(run.blobs, [n for r in run.audit["receivers"] if r["claimed"]
                             for n in bytes_needles(r["address"], bytes.fromhex(r["levelSalt"][2:]))[:1]])
    assert {h.needle.label for h in found} == {r["address"] for r in run.audit["receivers"] if r["claimed"]}
    assert all(_is_claim_by_proof(h.blob) for h in found)


def _is_claim_by_proof(b: Blob) -> bool:
    """A claim that proves its level: by proof, or of a task released for selection."""
    return any(_is(b, "calldata", REGISTRY_SELECTOR[f]) for f in ("claimSubtaskWithProof", "claimSelectedSubtask"))


def _registry_abi() -> list[dict[str, Any]]:
    from crowdsense.chain.deployment import load_abi

    return load_abi("TaskRegistry")


# ----------------------------------------------------------------------------- PMCB: descriptions


def test_a_selection_salt_only_in_its_own_claim(run: Run, needles: Needles) -> None:
    """The selection names nobody: a selected receiver's salt is on chain only in its own claim
    of the task (positive control: the salts of those that claimed are found there)."""
    hits = scan(run.blobs, needles["selection salts"])
    assert hits == [], _report(hits)
    claimed = [r for r in run.audit["selection"]["receivers"] if r["claimed"]]
    found = scan(run.blobs, [n for r in claimed for n in bytes_needles(r["address"], bytes.fromhex(r["salt"][2:]))[:1]])
    assert claimed and {h.needle.label for h in found} == {r["address"] for r in claimed}
    assert all(_is(h.blob, "calldata", REGISTRY_SELECTOR["claimSelectedSubtask"]) for h in found)


def test_no_subtask_description_title_key_or_data_on_chain(needles: Needles, run: Run) -> None:
    hits = scan(run.blobs, needles["descriptions"])
    assert hits == [], _report(hits)


def test_subtask_hashes_are_on_chain_as_designed(run: Run) -> None:
    """Positive control of the descriptions' scan: what is published by design is found."""
    hashes = [sub["subtaskHash"] for task in run.audit["tasks"] for sub in task["subtasks"]]
    found = scan(run.blobs, [n for h in hashes for n in bytes_needles(h, bytes.fromhex(h[2:]))[:1]])
    assert {h.needle.label for h in found} == set(hashes)
    assert {h.blob.kind for h in found} >= {"calldata", "storage", "state"}


# ------------------------------------------------------------------------------ CTBC: coordinates


def test_no_individual_coordinate_real_or_transformed_on_chain(needles: Needles, run: Run) -> None:
    ctbc, pdc = run.audit["ctbc"], run.audit["pdc"]
    # the needles hold what a UD payload would hold: each micrometre word, unless too plain to
    # search for (a coordinate near zero), contains a needle of its coordinate
    for u in ctbc["users"]:
        for axis, value, fixed in zip("xy", u["transformed"], u["transformedFixed"]):
            axis_needles = [n.data for n in needles_of("t", [value])]
            word = int_word(fixed)
            assert not distinctive(word) or any(d in word for d in axis_needles), (u, axis)
    hits = scan(run.blobs, needles["coordinates"])
    assert hits == [], _report(hits)
    # coordinates too plain for a raw needle (metres, decimetres, ... below 2^24 in magnitude)
    # are looked for word by word where every word is a value: from 2^16 in the input of every
    # call, every event and all storage; from 256 in the verifier's calls, events and storage
    # (their only smaller words are revealBit's payload offset and length; other calls have ABI
    # offsets and lengths up to a few thousand)
    plain: dict[int, int] = {}
    for u in ctbc["users"]:
        for v in (*u["real"], *u["transformed"]):
            plain.update(plain_words(v))
    for r in pdc["receivers"]:
        for v in r["real"]:
            plain.update(plain_words(v))
    for v in (*pdc["centreReal"], *ctbc["task"]["center"], *ctbc["taskTransformed"]["center"]):
        plain.update(plain_words(v))
    values = [b for b in run.blobs if b.kind in ("topic", "logdata", "storage", "state")
              or (b.kind == "calldata" and b.to is not None)]
    verifier = [b for b in values if b.to == run.verifier]
    assert verifier and len(values) > len(verifier)
    found = [(b.where, plain[w]) for b in values for w in words(b)
             if w in plain and (abs(plain[w]) >= 2**16 or (b.to == run.verifier and abs(plain[w]) >= 256))]
    assert found == []


def test_no_group_centre_on_chain_not_even_of_asked_groups(needles: Needles, run: Run) -> None:
    assert _asked_groups(run.audit)  # users were asked to reveal, and did
    hits = scan(run.blobs, needles["group centres"])
    assert hits == [], _report(hits)
    # what a reveal publishes instead: each selected user's UD sealed to the platform is in a
    # BitRevealed event, and its UD (as encoded) is in no call, event or storage
    events = [b for b in run.blobs if _is(b, "logdata", TOPIC["BitRevealed"])]
    selected = [u for u in run.audit["ctbc"]["users"] if u["selected"]]
    assert selected
    for u in selected:
        sealed, ud = bytes.fromhex(u["sealed"][2:]), bytes.fromhex(u["payload"][2:])
        assert any(sealed in b.data for b in events), f"sealed UD of {u['account']} not found"
        x, y = run.audit["ctbc"]["groupCentresFixed"][u["group"]]
        assert not any(ud in b.data or int_word(x) + int_word(y) in b.data for b in run.blobs)


def test_r2_only_in_the_reveal_of_its_own_user(needles: Needles, run: Run) -> None:
    users = run.audit["ctbc"]["users"]
    hits = scan(run.blobs, needles["r2"])
    assert hits == [], _report(hits)
    selected = [u for u in users if u["selected"]]
    published = [Needle(n.label, n.encoding, n.data) for n in needles["r2"] if n.encoding == "raw bytes"]
    found = {h.needle.label for h in scan(run.blobs, published)}
    assert found == {f"r2 of CTBC user {u['account']}" for u in users if u["selected"] or u["fault"] == "tamper"}
    assert len(selected) == 3


# ----------------------------------------------------------------------------------- PDC: r, dist


def _receivers(run: Run) -> list[dict[str, Any]]:
    return run.audit["pdc"]["receivers"]


def _pdc_blob(b: Blob) -> bool:
    """A PDC call, event, or storage written by a PDC call."""
    calls = (SELECTOR["commitBlinding"], SELECTOR["revealBlinding"])
    return ((b.kind in ("calldata", "storage") and b.selector in calls)
            or b.selector in (TOPIC["BlindingCommitted"], TOPIC["BlindingRevealed"]))


def test_r_and_salt_only_in_their_own_reveal_from_the_reveal_block(needles: Needles, run: Run) -> None:
    hits = scan(run.blobs, needles["r and salt"])
    assert hits == [], _report(hits)
    # positive control: every honest r is in its BlindingRevealed event, at its recorded block
    events = [b for b in run.blobs if _is(b, "logdata", TOPIC["BlindingRevealed"])]
    for rec in _receivers(run):
        at = [b.block for b in events if int_word(rec["r"]) in b.data]
        assert at == ([] if rec["fault"] == "liar" else [rec["revealBlock"]]), rec["account"]


def test_allow_rule_of_r_is_what_lets_its_reveal_through(run: Run) -> None:
    """The same r needles without their allow rule find the honest reveals."""
    receiver = next(r for r in _receivers(run) if r["fault"] != "liar")
    reveal = [b for b in run.blobs if _is(b, "calldata", SELECTOR["revealBlinding"]) and b.sender == receiver["account"]]
    assert reveal and scan(reveal, int_needles("r", receiver["r"]))


def test_no_distance_location_or_s_in_any_pdc_transaction_or_event(needles: Needles, run: Run) -> None:
    """dist, grid points and s = dist + r never reach the chain (a liar's own forgery apart)."""
    receivers = _receivers(run)
    small = {v for r in receivers for v in (r["trueDistance"], *r["location"])} | set(run.audit["pdc"]["centre"])
    small |= {r["learntDistance"] for r in receivers if r["learntDistance"] is not None}
    pdc_blobs = [b for b in run.blobs if _pdc_blob(b)]
    assert len(pdc_blobs) >= 3 * len(receivers)  # commit + its event, and reveals
    assert any(b.kind == "storage" for b in pdc_blobs)
    found = [(b.where, w) for b in pdc_blobs for w in words(b) if w in small]
    assert found == []
    hits = scan(run.blobs, needles["s"])
    assert hits == [], _report(hits)


def test_no_paillier_private_key_on_chain(needles: Needles, run: Run) -> None:
    p, q = (int(v) for v in run.audit["pdc"]["privateKeyPrimes"])
    assert p * q == int(run.audit["pdc"]["publicKeyN"])  # the audit holds the key of the run
    hits = scan(run.blobs, needles["Paillier key"])
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
