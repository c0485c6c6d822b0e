"""Bad input everywhere: every CLI command and every public library entry point, one table each.

Each row feeds one kind of bad input - a wrong type, an out-of-range level, an unknown task id,
an oversized array, a malformed or truncated file, a deployment for another chain, a missing
deployment file, an unreachable RPC URL, a keystore with a wrong password - and checks that

* the CLI exits non-zero (2 for usage errors, 1 otherwise) with one specific line (``error:
  ...``, usage errors included) naming what was wrong, and never prints a traceback;
* a library call raises a :class:`~crowdsense.errors.CrowdsenseError` (what the CLI turns into
  that one line) whose one-line message names what was wrong;
* nothing is left half done: no new file in the row's folder (outputs such as ``--out`` are
  not written) and the shared journal is unchanged (nothing was sent).

Completeness is checked, not hoped for: every command and sub-command registered in
``crowdsense.cli.main._COMMANDS`` must have a row, and every callable in the ``__all__`` of the
library's entry modules must have a row or a stated reason why it takes no user input.
"""

from __future__ import annotations

import gzip
import hashlib
import inspect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import numpy as np
import pytest

LEVELS = 3
BAD_KEY = "0x" + "zz" * 32


# ============================================================================ the world


@dataclass
class World:
    """A deployment (T = 3) with a released task 0 whose subtask 0 is claimed, and input files."""

    url: str
    down: str
    tmp: Path
    deployment: Path
    wrong_chain: Path
    truncated_deployment: Path
    journal: Path
    store: Path
    keystore: Path
    truncated_keystore: Path
    conn: Any = None
    files: dict[str, Path] = field(default_factory=dict)

    def env(self) -> dict[str, str | None]:
        return {"CROWDSENSE_RPC_URL": self.url, "CROWDSENSE_DEPLOYMENT": str(self.deployment),
                "CROWDSENSE_JOURNAL": str(self.journal), "CROWDSENSE_STORE": str(self.store),
                "CROWDSENSE_PRIVATE_KEY": None, "CROWDSENSE_KEYSTORE": None, "CROWDSENSE_KEYSTORE_PASSWORD": None,
                "CROWDSENSE_LEVELS": None}


def _write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


@pytest.fixture(scope="module")
def world(node_url: str, pick_port: Any, tmp_path_factory: pytest.TempPathFactory) -> World:
    from crowdsense.chain.accounts import create_keystore, dev_signer
    from crowdsense.chain.connection import connect, deploy_contracts, open_connection
    from crowdsense.chain.journal import Journal
    from crowdsense.chain.registry import TaskRegistryClient
    from crowdsense.chain.store import SubtaskStore
    from crowdsense.pmcb.tasks import decompose

    tmp = tmp_path_factory.mktemp("bad-input")
    deployment = tmp / "deployment.json"
    deploy_contracts(connect(node_url, retries=1, backoff=0.05), dev_signer(0), LEVELS, path=deployment)
    raw = json.loads(deployment.read_text())
    keystore = tmp / "keystore.json"
    create_keystore(keystore, "right", private_key=dev_signer(7)._account.key, kdf="pbkdf2", iterations=2)
    w = World(url=node_url, down=f"http://127.0.0.1:{pick_port()}", tmp=tmp, deployment=deployment,
              wrong_chain=_write(tmp / "sepolia.json", json.dumps({**raw, "chainId": 11155111})),
              truncated_deployment=_write(tmp / "truncated-deployment.json", deployment.read_text()[:60]),
              journal=tmp / "journal.sqlite", store=tmp / "store", keystore=keystore,
              truncated_keystore=_write(tmp / "truncated-keystore.json", keystore.read_text()[:80]))
    w.conn = open_connection(node_url, deployment, retries=1, backoff=0.05)
    journal, store = Journal(w.journal), SubtaskStore(w.store)
    admin = TaskRegistryClient(w.conn, dev_signer(0), journal=journal, store=store)
    admin.register_levels({dev_signer(4).address: 1, dev_signer(5).address: 2, dev_signer(6).address: 3})
    task = admin.release_task(decompose("probe", ["outdoor", "indoor", "bedroom"], num_levels=LEVELS))
    assert task.task_id == 0
    TaskRegistryClient(w.conn, dev_signer(4), journal=journal, store=store).claim(0, 0)
    journal.close()
    w.files = {
        "graph": _write(tmp / "graph.txt", "0 1\n1 2\n2 0\n2 3\n"),
        "levels": _write(tmp / "levels.json", json.dumps({"levels": {"a": 1, "b": 2}})),
        "addresses": _write(tmp / "addresses.csv", f"node,address\na,{dev_signer(8).address}\n"),
        "task": _write(tmp / "task.json", json.dumps({"title": "t", "parts": ["a", "b", "c"]})),
    }
    return w


def _journal_dump(path: Path) -> Any:
    """Everything the journal holds (secrets and intents), to compare before and after a row."""
    import sqlite3

    if not path.exists():
        return None
    db = sqlite3.connect(path)
    try:
        return (db.execute("SELECT key, value FROM secrets ORDER BY key").fetchall(),
                db.execute("SELECT intent_id, status, tx_hash FROM intents ORDER BY intent_id").fetchall())
    finally:
        db.close()


def _tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# ============================================================================ CLI rows


@dataclass(frozen=True)
class Row:
    """One bad CLI invocation.

    ``args`` may use ``{d}`` (the row's own folder, which starts with ``files``), ``{url}``,
    ``{down}`` (a URL nothing answers), ``{dep}``, ``{wrongdep}`` (a deployment of another
    chain), ``{truncdep}``, ``{ks}`` / ``{truncks}`` (keystores), ``{graph}``, ``{levels}``,
    ``{addresses}``, ``{task}``. ``fragment`` is a regular expression the error line must match.
    """

    id: str
    command: str
    args: tuple[Any, ...]
    fragment: str
    code: int = 1
    files: dict[str, str | bytes] = field(default_factory=dict)
    env: dict[str, str | None] = field(default_factory=dict)


def _levels(mapping: dict[str, Any]) -> str:
    return json.dumps({"levels": mapping})


def _dev(i: int) -> str:
    from crowdsense.chain.accounts import dev_signer

    return dev_signer(i).address


#: A registry of no deployment here: a tree or proof for it is another deployment's.
FOREIGN_REGISTRY = "0x" + "22" * 20


def _foreign_tree() -> bytes:
    """A valid levels tree file, for a registry that is not this world's."""
    import tempfile

    from crowdsense.pmcb.levels_tree import LevelsTree

    with tempfile.TemporaryDirectory() as d:
        path = LevelsTree.build({SOME_ADDRESS: 1}, chain_id=31337, registry=FOREIGN_REGISTRY).save(Path(d) / "t")
        return path.read_bytes()


def _foreign_proof(account: str) -> str:
    """A valid proof file of ``account`` at level 2, under a tree of another registry."""
    from crowdsense.pmcb.levels_tree import LevelsTree

    tree = LevelsTree.build({account: 2}, chain_id=31337, registry=FOREIGN_REGISTRY)
    return json.dumps(tree.proof_json(account))


def _gzip_truncated() -> bytes:
    return gzip.compress(b"".join(f"{i} {i + 1}\n".encode() for i in range(2000)))[:300]


WRONG_PW = {"CROWDSENSE_KEYSTORE_PASSWORD": "wrong"}
SMALL_LIMIT = {"CROWDSENSE_MAX_INPUT_BYTES": "4K"}  # deployments and keystores fit
#: An address in mixed case whose EIP-55 checksum is wrong (EIP-55's example, last letter's case flipped).
MISTYPED = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"
SOME_ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
DEV = ("--dev-account", 0)
R0 = ("--retries", 0)

CLI_ROWS: list[Row] = [
    # classify
    Row("classify-missing-graph", "classify", ("--graph", "{d}/missing.txt", "--levels", 3, "--out", "{d}/l.json"),
        r"graph file .*missing\.txt not found"),
    Row("classify-malformed-graph", "classify", ("--graph", "{d}/g.txt", "--levels", 2, "--out", "{d}/l.json"),
        r"g\.txt.*line 2", files={"g.txt": "0 1\nthis is not an edge list\n"}),
    Row("classify-truncated-gzip", "classify", ("--graph", "{d}/g.txt.gz", "--levels", 2, "--out", "{d}/l.json"),
        r"g\.txt\.gz", files={"g.txt.gz": _gzip_truncated()}),
    Row("classify-endless-graph", "classify", ("--graph", "/dev/zero", "--levels", 2, "--out", "{d}/l.json"),
        r"graph file /dev/zero is more than 4 KiB", env=SMALL_LIMIT),
    Row("classify-gzip-bomb", "classify", ("--graph", "{d}/g.txt.gz", "--levels", 2, "--out", "{d}/l.json"),
        r"g\.txt\.gz decompresses to more than 4 KiB", files={"g.txt.gz": gzip.compress(b"0 1\n1 2\n" * 1000)},
        env=SMALL_LIMIT),
    Row("classify-limit-not-a-size", "classify", ("--graph", "{graph}", "--levels", 2, "--out", "{d}/l.json"),
        r"CROWDSENSE_MAX_INPUT_BYTES='lots' is not a size", env={"CROWDSENSE_MAX_INPUT_BYTES": "lots"}),
    Row("classify-levels-out-of-range", "classify", ("--graph", "{graph}", "--levels", 1, "--out", "{d}/l.json"),
        r"--levels.*1 is not in the range", code=2),
    Row("classify-levels-wrong-type", "classify", ("--graph", "{graph}", "--levels", "three", "--out", "{d}/l.json"),
        r"'three' is not a valid integer", code=2),
    Row("classify-levels-above-nodes", "classify", ("--graph", "{graph}", "--levels", 9, "--out", "{d}/l.json"),
        r"\[2, 4\].*got 9"),
    # deploy
    Row("deploy-unreachable-rpc", "deploy", (*DEV, *R0, "--rpc-url", "{down}", "--out", "{d}/dep.json"),
        r"node at http://127\.0\.0\.1:\d+ is unavailable"),
    Row("deploy-levels-out-of-range", "deploy", (*DEV, "--levels", 256, "--out", "{d}/dep.json"),
        r"--levels.*256 is not in the range", code=2),
    Row("deploy-bad-admin-address", "deploy", (*DEV, "--admin", "0x1234", "--out", "{d}/dep.json"),
        r"admin: '0x1234' is not an address"),
    Row("deploy-admin-wrong-checksum", "deploy", (*DEV, "--registrar", MISTYPED, "--out", "{d}/dep.json"),
        rf"registrar: '{MISTYPED}' has an invalid EIP-55 checksum"),
    Row("deploy-ages-reversed", "deploy", (*DEV, "--min-age", 100, "--max-age", 50, "--out", "{d}/dep.json"),
        r"min_age <= max_age.*100, 50"),
    Row("deploy-keystore-wrong-password", "deploy", ("--keystore", "{ks}", "--out", "{d}/dep.json"),
        r"wrong password for keystore", env=WRONG_PW),
    # grant
    Row("grant-bad-address", "grant", (*DEV, "registrar", "not-an-address"), r"not-an-address"),
    Row("grant-wrong-checksum", "grant", (*DEV, "registrar", MISTYPED),
        rf"'{MISTYPED}' has an invalid EIP-55 checksum"),
    Row("grant-unknown-role", "grant", (*DEV, "superuser", "0x" + "11" * 20), r"'superuser' is not one of", code=2),
    Row("grant-missing-deployment", "grant", (*DEV, "--deployment", "{d}/none.json", "registrar", "0x" + "11" * 20),
        r"deployment file .*none\.json not found"),
    # status
    Row("status-unknown-task", "status", ("9999",), r"unknown task 9999"),
    Row("status-negative-task", "status", ("--", "-1"), r"-1 is not in the range", code=2),
    Row("status-wrong-chain", "status", ("--deployment", "{wrongdep}"), r"chain id 11155111.*chain id 31337"),
    Row("status-truncated-deployment", "status", ("--deployment", "{truncdep}"),
        r"deployment file .*truncated-deployment\.json is not valid JSON"),
    Row("status-keystore-wrong-password", "status", ("--keystore", "{ks}"), r"wrong password for keystore .*keystore",
        env=WRONG_PW),
    Row("status-truncated-keystore", "status", ("--keystore", "{truncks}"), r"truncated-keystore\.json is not",
        env={"CROWDSENSE_KEYSTORE_PASSWORD": "right"}),
    Row("status-rpc-not-http", "status", ("--rpc-url", "ws://127.0.0.1:1"), r"must start with http:// or https://"),
    # resume
    Row("resume-garbage-journal", "resume", (*DEV, "--journal", "{d}/j.sqlite"), r"cannot open the journal .*j\.sqlite",
        files={"j.sqlite": b"this is not a database" * 50}),
    Row("resume-unreachable-rpc", "resume", (*DEV, *R0, "--rpc-url", "{down}"), r"is unavailable"),
    # register
    # levels (private registration)
    Row("levels-unknown-subcommand", "levels", ("forget",), r"No such command 'forget'", code=2),
    Row("levels-publish-not-registrar", "levels publish", ("--dev-account", 4, "{levels}", "--addresses",
                                                           "{addresses}", "--tree", "{d}/t.tree"),
        r"does not have REGISTRAR_ROLE"),
    Row("levels-publish-level-above-t", "levels publish", (*DEV, "{d}/l.json", "--addresses", "{addresses}",
                                                           "--tree", "{d}/t.tree"),
        r"level above the registry's T = 3", files={"l.json": _levels({"a": 7})}),
    Row("levels-publish-no-tree-option", "levels publish", (*DEV, "{levels}", "--addresses", "{addresses}"),
        r"Missing option '--tree'", code=2),
    Row("levels-publish-over-another-tree", "levels publish", (*DEV, "{levels}", "--addresses", "{addresses}",
                                                               "--tree", "{d}/t.tree"),
        r"t\.tree holds another levels tree .*expected a new --tree path", files={"t.tree": _foreign_tree()}),
    Row("levels-publish-truncated-tree", "levels publish", (*DEV, "{levels}", "--addresses", "{addresses}",
                                                            "--tree", "{d}/t.tree"),
        r"t\.tree", files={"t.tree": _foreign_tree()[:150]}),
    Row("levels-proof-missing-tree", "levels proof", (SOME_ADDRESS, "--tree", "{d}/none.tree"), r"none\.tree"),
    Row("levels-proof-bad-address", "levels proof", ("0x12", "--tree", "{d}/t.tree"), r"'0x12' is not an address",
        files={"t.tree": _foreign_tree()}),
    Row("levels-proof-not-in-tree", "levels proof", ("0x" + "33" * 20, "--tree", "{d}/t.tree"),
        r"1 address\(es\) are not in the tree", files={"t.tree": _foreign_tree()}),
    Row("selection-unknown-subcommand", "selection", ("forget",), r"No such command 'forget'", code=2),
    Row("selection-publish-bad-account-line", "selection publish", (*DEV, "0", "--accounts-file", "{d}/a.txt"),
        r"a\.txt line 2: '0x12' is not an address", files={"a.txt": f"{SOME_ADDRESS}\n0x12\n"}),
    Row("selection-publish-no-account", "selection publish", (*DEV, "0"), r"no selected account"),
    Row("selection-publish-plain-task", "selection publish", (*DEV, "0", SOME_ADDRESS),
        r"task 0 was not released for selection"),
    Row("selection-proof-nothing-journaled", "selection proof", (*DEV, "0", SOME_ADDRESS),
        r"no selection of task 0 in this journal"),
    Row("claim-truncated-selection", "claim", ("--dev-account", 5, "0", "--selection", "{d}/s.json"), r"s\.json",
        files={"s.json": '{"chainId": 1'}),
    Row("claim-proof-of-another-registry", "claim", ("--dev-account", 5, "0", "--proof", "{d}/p.json"),
        rf"p\.json is a level proof for registry {FOREIGN_REGISTRY}", files={"p.json": _foreign_proof(_dev(5))}),
    Row("claim-proof-of-another-account", "claim", ("--dev-account", 5, "0", "--proof", "{d}/p.json"),
        r"p\.json is the level proof of .*not of your account", files={"p.json": _foreign_proof(SOME_ADDRESS)}),
    Row("claim-truncated-proof", "claim", ("--dev-account", 5, "0", "--proof", "{d}/p.json"), r"p\.json",
        files={"p.json": '{"chainId": 31337, "reg'}),
    Row("list-proof-edited", "list", ("--dev-account", 5, "--proof", "{d}/p.json"), r"does not lead from the leaf",
        files={"p.json": _foreign_proof(_dev(5)).replace('"level": 2', '"level": 3')}),
    Row("register-truncated-levels", "register", (*DEV, "{d}/l.json", "--addresses", "{addresses}"),
        r"l\.json is not valid JSON", files={"l.json": '{"levels": {"a": 1, "b"'}),
    Row("register-level-above-t", "register", (*DEV, "{d}/l.json", "--addresses", "{addresses}"),
        r"level above the registry's T = 3", files={"l.json": _levels({"a": 7})}),
    Row("register-level-wrong-type", "register", (*DEV, "{d}/l.json", "--addresses", "{addresses}"),
        r"node 'a' has level 'high'", files={"l.json": _levels({"a": "high"})}),
    Row("register-malformed-csv", "register", (*DEV, "{levels}", "--addresses", "{d}/a.csv"),
        r"a\.csv, line 2", files={"a.csv": "node,address\na,0xnot\n"}),
    Row("register-csv-wrong-checksum", "register", (*DEV, "{levels}", "--addresses", "{d}/a.csv"),
        r"a\.csv, line 2, node 'a': .* has an invalid EIP-55 checksum",
        files={"a.csv": f"node,address\na,{MISTYPED}\n"}),
    Row("register-one-address-two-levels", "register", (*DEV, "{levels}", "--addresses", "{d}/a.csv"),
        r"nodes 'a' and 'b' both map to 0x\w+, with levels 1 and 2",
        files={"a.csv": f"node,address\na,{SOME_ADDRESS}\nb,{SOME_ADDRESS.lower()}\n"}),
    Row("register-levels-key-twice", "register", (*DEV, "{d}/l.json", "--addresses", "{addresses}"),
        r"l\.json: key 'a' appears twice", files={"l.json": '{"levels": {"a": 1, "a": 2}}'}),
    Row("register-levels-too-large", "register", (*DEV, "{d}/l.json", "--addresses", "{addresses}"),
        r"levels file .*l\.json is more than 4 KiB", files={"l.json": _levels({f"n{i}": 1 for i in range(1000)})},
        env=SMALL_LIMIT),
    Row("register-batch-too-large", "register", (*DEV, "{levels}", "--addresses", "{addresses}", "--batch-size", 501),
        r"--batch-size.*501 is not in the range", code=2),
    Row("register-not-registrar", "register", ("--dev-account", 4, "{levels}", "--addresses", "{addresses}",
                                               "--write-addresses", "{d}/out.csv"), r"does not have REGISTRAR_ROLE"),
    Row("register-missing-deployment", "register", (*DEV, "--deployment", "{d}/none.json", "{levels}", "--simulate"),
        r"none\.json not found"),
    # release
    Row("release-truncated-task", "release", (*DEV, "{d}/t.json"), r"t\.json is not valid JSON",
        files={"t.json": '{"title": "x", "parts": ["a", '}),
    Row("release-too-many-parts", "release", (*DEV, "{d}/t.json"), r"1\.\.32 parts, got 33",
        files={"t.json": json.dumps({"title": "x", "parts": [f"part {i}" for i in range(33)]})}),
    Row("release-title-twice", "release", (*DEV, "{d}/t.json"), r"t\.json: key 'title' appears twice",
        files={"t.json": '{"title": "x", "parts": ["a"], "title": "y"}'}),
    Row("release-parts-wrong-type", "release", (*DEV, "{d}/t.json"), r"'parts' must be a list",
        files={"t.json": json.dumps({"title": "x", "parts": 5})}),
    Row("release-sensitivity-wrong-type", "release", (*DEV, "{d}/t.json"), r"part 0.*sensitivity.*'high'",
        files={"t.json": json.dumps({"title": "x", "parts": [{"text": "a", "sensitivity": "high"}]})}),
    Row("release-level-out-of-range", "release", (*DEV, "{d}/t.json"), r"level 9 is outside 1\.\.3",
        files={"t.json": json.dumps({"title": "x", "parts": [{"text": "a", "level": 9}]})}),
    Row("release-wrong-chain", "release", (*DEV, "--deployment", "{wrongdep}", "{task}"), r"chain id 11155111"),
    # handover
    Row("handover-unknown-task", "handover", (*DEV, "777"), r"unknown task 777"),
    Row("handover-wrong-type", "handover", (*DEV, "first"), r"'first' is not a valid integer", code=2),
    # close
    Row("close-unknown-task", "close", (*DEV, "778"), r"unknown task 778"),
    Row("close-unreachable-rpc", "close", (*DEV, *R0, "--rpc-url", "{down}", "0"), r"is unavailable"),
    # list
    Row("list-level-out-of-range", "list", ("--level", 9), r"level must be in 1\.\.3, got 9"),
    Row("list-unregistered", "list", ("--dev-account", 9), r"not registered"),
    Row("list-missing-deployment", "list", ("--deployment", "{d}/none.json", "--level", 1), r"none\.json not found"),
    # claim
    Row("claim-unknown-task", "claim", ("--dev-account", 5, "9999", "1"), r"unknown task 9999"),
    Row("claim-index-out-of-range", "claim", ("--dev-account", 5, "0", "40"),
        r"subtask index 40 out of range: task 0 has 3 subtasks"),
    Row("claim-wrong-type", "claim", ("--dev-account", 5, "zero"), r"'zero' is not a valid integer", code=2),
    Row("claim-keystore-wrong-password", "claim", ("--keystore", "{ks}", "0", "1"), r"wrong password", env=WRONG_PW),
    Row("claim-bad-private-key", "claim", ("0", "1"), r"not a 32-byte hex private key",
        env={"CROWDSENSE_PRIVATE_KEY": BAD_KEY}),
    # fetch
    Row("fetch-before-handover", "fetch", ("--dev-account", 4, "0", "0", "--out", "{d}/sub.txt"),
        r"no key for subtask 0x[0-9a-f]+ has been handed over to 0x"),
    Row("fetch-unknown-task", "fetch", ("--dev-account", 4, "4242", "0", "--out", "{d}/sub.txt"), r"unknown task 4242"),
    # submit
    Row("submit-hash-too-short", "submit", ("--dev-account", 4, "0", "0", "--data-hash", "0x1234"),
        r"expected 32 bytes.*got 2 bytes", code=2),
    Row("submit-hash-not-hex", "submit", ("--dev-account", 4, "0", "0", "--data-hash", "0xzz"), r"not hex", code=2),
    Row("submit-unknown-task", "submit", ("--dev-account", 4, "31337", "0", "--data", "x"), r"unknown task 31337"),
    Row("submit-missing-data-file", "submit", ("--dev-account", 4, "0", "0", "--data-file", "{d}/none.bin"),
        r"none\.bin.*does not exist", code=2),
    Row("submit-deliver-only-a-hash", "submit", ("--dev-account", 4, "0", "0", "--deliver", "--data-hash", "0x" + "11" * 32),
        r"--deliver needs the data \(--data-file or --data\), not only its hash", code=2),
    Row("submit-deliver-not-claimant", "submit", ("--dev-account", 9, "0", "0", "--deliver", "--data", "x"),
        r"is not the claimant of subtask 0"),
    # collect
    Row("collect-no-task", "collect", DEV, r"Missing argument 'TASK_IDS\.\.\.'", code=2),
    Row("collect-unknown-task", "collect", (*DEV, "779"), r"unknown task 779"),
    Row("collect-not-releaser", "collect", ("--dev-account", 4, "0"), r"releaser"),
    # account
    Row("account-unknown-subcommand", "account", ("rename",), r"No such command 'rename'", code=2),
    Row("account-new-exists", "account new", ("{ks}",), r"already exists; refusing to overwrite",
        env={"CROWDSENSE_KEYSTORE_PASSWORD": "pw"}),
    Row("account-new-bad-env-key", "account new", ("{d}/k.json", "--from-env"), r"not a 32-byte hex private key",
        env={"CROWDSENSE_KEYSTORE_PASSWORD": "pw", "CROWDSENSE_PRIVATE_KEY": BAD_KEY}),
    Row("account-new-empty-password", "account new", ("{d}/k.json",), r"password must not be empty",
        env={"CROWDSENSE_KEYSTORE_PASSWORD": ""}),
    Row("account-address-wrong-password", "account address", ("--keystore", "{ks}"), r"wrong password", env=WRONG_PW),
    Row("account-address-endless-password-file", "account address",
        ("--keystore", "{ks}", "--password-file", "/dev/zero"), r"password file /dev/zero is more than 4 KiB",
        env=SMALL_LIMIT),
    Row("account-address-truncated", "account address", ("--keystore", "{truncks}"), r"truncated-keystore\.json is not",
        env={"CROWDSENSE_KEYSTORE_PASSWORD": "right"}),
    Row("account-address-no-key", "account address", (), r"give --keystore FILE or set", code=2),
    # ctbc
    Row("ctbc-unknown-subcommand", "ctbc", ("play",), r"No such command 'play'", code=2),
    Row("ctbc-round-k-above-users", "ctbc round", ("--users", 4, "--k", 9, "--audit", "{d}/a.json"),
        r"k = 9 exceeds the number of users 4", code=2),
    Row("ctbc-round-missing-deployment", "ctbc round", ("--deployment", "{d}/none.json", "--users", 4, "--k", 2,
                                                        "--n", 2, "--audit", "{d}/a.json"), r"none\.json not found"),
    Row("ctbc-round-wrong-chain", "ctbc round", ("--deployment", "{wrongdep}", "--users", 4, "--k", 2, "--n", 2),
        r"chain id 11155111"),
    Row("ctbc-round-unreachable-rpc", "ctbc round", (*R0, "--rpc-url", "{down}", "--users", 4, "--k", 2, "--n", 2),
        r"is unavailable"),
    Row("ctbc-round-users-wrong-type", "ctbc round", ("--users", "many"), r"'many' is not a valid integer", code=2),
    # pdc
    Row("pdc-unknown-subcommand", "pdc", ("go",), r"No such command 'go'", code=2),
    Row("pdc-round-short-key", "pdc round", ("--receivers", 2, "--key-bits", 512, "--audit", "{d}/a.json"),
        r"512"),
    Row("pdc-round-too-many-liars", "pdc round", ("--receivers", 2, "--liars", 2, "--absent", 1),
        r"--liars 2 \+ --absent 1 exceed --receivers 2", code=2),
    Row("pdc-round-grid-too-small", "pdc round", ("--grid", 1), r"--grid.*1 is not in the range", code=2),
    Row("pdc-round-missing-deployment", "pdc round", ("--deployment", "{d}/none.json", "--receivers", 2),
        r"none\.json not found"),
    Row("pdc-round-unreachable-rpc", "pdc round", (*R0, "--rpc-url", "{down}", "--receivers", 2), r"is unavailable"),
    Row("pdc-keygen-existing-file", "pdc keygen", ("--out", "{d}/key.json", "--key-bits", 256, "--insecure-test-key"),
        r"key\.json already exists: expected a new path", files={"key.json": "{}"}),
    Row("pdc-keygen-short-key", "pdc keygen", ("--out", "{d}/key.json", "--key-bits", 256), r"small test keys"),
    Row("pdc-open-no-service", "pdc open", ("t1", "--service", "{down}", *DEV, *R0, "--origin", "-22.95,-43.3",
                                            "--cell", 50, "--width", 40, "--centre", "-22.942,-43.291"),
        r"is unavailable: .*expected a running service"),
    Row("pdc-open-centre-outside", "pdc open", ("t1", "--service", "{down}", *DEV, "--origin", "-22.95,-43.3",
                                                "--cell", 50, "--width", 40, "--centre", "-22.8,-43.1"),
        r"--centre -22\.8,-43\.1 is outside the task's region"),
    Row("pdc-open-bad-service-url", "pdc open", ("t1", "--service", "ftp://x", *DEV, "--origin", "-22.95,-43.3",
                                                 "--cell", 50, "--width", 40, "--centre", "-22.942,-43.291"),
        r"service URL 'ftp://x' is not usable"),
    Row("pdc-answer-location-not-a-position", "pdc answer", ("t1", "--service", "{down}", *DEV,
                                                             "--location", "-22.9;-43.2"),
        r"is not a position: expected LAT,LON"),
    Row("pdc-answer-no-account", "pdc answer", ("t1", "--service", "{down}", "--location", "-22.9,-43.2"),
        r"this command needs an account", code=2),
    Row("pdc-answer-no-service", "pdc answer", ("t1", "--service", "{down}", *DEV, *R0, "--location", "-22.9,-43.2"),
        r"is unavailable"),
    Row("pdc-answers-accounts-without-n", "pdc answers", ("t1", "--service", "{down}", *DEV, *R0,
                                                          "--accounts-out", "{d}/sel.txt"),
        r"--accounts-out needs --n: expected how many", code=2),
    Row("pdc-answers-no-service", "pdc answers", ("t1", "--service", "{down}", *DEV, *R0), r"is unavailable"),
    # CTBC between real parties
    Row("ctbc-keygen-existing-file", "ctbc keygen", ("--out", "{d}/key.json",),
        r"key\.json already exists: expected a new path", files={"key.json": "{}"}),
    Row("ctbc-join-location-not-on-earth", "ctbc join", ("--edge", "{down}", "--anonymizer", "{down}", "--epoch", 1,
                                                         *DEV, "--location", "-122.9,-43.2"),
        r"--location .* is not on Earth"),
    Row("ctbc-join-epoch-zero", "ctbc join", ("--edge", "{down}", "--anonymizer", "{down}", "--epoch", 0, *DEV,
                                              "--location", "-22.9,-43.2"), r"--epoch.*0 is not in the range", code=2),
    Row("ctbc-commit-no-service", "ctbc commit", ("--anonymizer", "{down}", "--service", "{down}", "--epoch", 1, *DEV,
                                                  *R0), r"is unavailable"),
    Row("ctbc-reveal-bad-service-url", "ctbc reveal", ("t1", "--service", "ftp://x", *DEV),
        r"service URL 'ftp://x' is not usable"),
    Row("ctbc-open-centre-not-a-position", "ctbc open", ("t1", "--service", "{down}", "--edge", "{down}", "--epoch", 1,
                                                         "--centre", "here", "--half-width", 100, "--n", 1, "--k", 2,
                                                         *DEV, *R0), r"is unavailable|is not a position"),
    Row("ctbc-open-k-one", "ctbc open", ("t1", "--service", "{down}", "--edge", "{down}", "--epoch", 1, "--centre",
                                         "-22.9,-43.2", "--half-width", 100, "--n", 1, "--k", 1, *DEV),
        r"--k.*1 is not in the range", code=2),
    Row("ctbc-selection-no-service", "ctbc selection", ("t1", "--service", "{down}", *DEV, *R0,
                                                        "--accounts-out", "{d}/sel.txt"), r"is unavailable"),
    Row("edge-unknown-subcommand", "edge", ("go",), r"No such command 'go'", code=2),
    Row("edge-open-epoch-origin-not-on-earth", "edge open-epoch", ("--service", "{down}", *DEV, "--origin", "95,0"),
        r"--origin .* is not on Earth"),
    Row("edge-register-bad-address", "edge register", ("--service", "{down}", *DEV, "0x1234"),
        r"account: '0x1234' is not an address"),
    Row("edge-register-nothing", "edge register", ("--service", "{down}", *DEV), r"no account to register"),
    Row("edge-group-no-service", "edge group", ("--service", "{down}", *DEV, *R0, "--epoch", 1, "--k", 2),
        r"is unavailable"),
    # demo
    Row("demo-rpc-not-http", "demo", ("--rpc-url", "ftp://example.org", "--out", "{d}/out"),
        r"rpc_url must start with http"),
    Row("demo-k-above-users", "demo", ("--rpc-url", "{url}", "--ctbc-users", 4, "--k", 6, "--out", "{d}/out"),
        r"k = 6 exceeds ctbc_users = 4"),
    Row("demo-levels-out-of-range", "demo", ("--levels", 300, "--out", "{d}/out"), r"300 is not in the range",
        code=2),
    Row("demo-missing-graph", "demo", ("--graph", "{d}/none.txt", "--out", "{d}/out"), r"none\.txt.*does not exist",
        code=2),
    Row("demo-malformed-graph", "demo", ("--rpc-url", "{url}", "--graph", "{d}/g.txt", "--out", "{d}/out",
                                         "--deployments-dir", "{d}/deployments"),
        r"g\.txt.*line 1", files={"g.txt": "not an edge list at all\n"}),
    Row("demo-unreachable-rpc", "demo", ("--rpc-url", "{down}", "--graph", "{graph}", "--out", "{d}/out",
                                         "--deployments-dir", "{d}/deployments"), r"is unavailable"),
    # service
    Row("service-unknown-subcommand", "service", ("start",), r"No such command 'start'", code=2),
    Row("service-serve-unsupported-database", "service serve", ("--database-url", "mysql://u:pw@db/cs"),
        r"database URL mysql://u:\*\*\*@db/cs is not supported: expected sqlite:///PATH or postgresql://"),
    Row("service-serve-all-interfaces-without-domain", "service serve",
        ("--host", "0.0.0.0", "--database-url", "sqlite:///{d}/s.sqlite"), r"expected --domain HOST:PORT"),
    Row("service-serve-bad-writer", "service serve", ("--writer", "0x12", "--database-url", "sqlite:///{d}/s.sqlite"),
        r"writer '0x12' is not an address"),
    Row("service-serve-port-out-of-range", "service serve", ("--port", 70000), r"70000 is not in the range", code=2),
]


def _command_names() -> list[str]:
    """Every command and sub-command reachable from ``crowdsense.cli.main._COMMANDS``."""
    from crowdsense.cli.main import _COMMANDS, cli

    names = []
    ctx = click.Context(cli)
    for name in _COMMANDS:
        command = cli.get_command(ctx, name)
        assert command is not None, name
        names.append(name)
        if isinstance(command, click.Group):
            names += [f"{name} {sub}" for sub in command.list_commands(click.Context(command))]
    return names


def test_every_cli_command_has_a_bad_input_row() -> None:
    covered = {row.command for row in CLI_ROWS}
    missing = [name for name in _command_names() if name not in covered]
    assert missing == [], f"commands without a bad-input row: {missing}"
    assert len({row.id for row in CLI_ROWS}) == len(CLI_ROWS)


@pytest.mark.parametrize("row", CLI_ROWS, ids=[r.id for r in CLI_ROWS])
def test_cli_bad_input(row: Row, world: World, run_cli: Any, tmp_path: Path) -> None:
    folder = tmp_path / row.id
    folder.mkdir()
    for name, content in row.files.items():
        _write(folder / name, content)
    values = {"d": folder, "url": world.url, "down": world.down, "dep": world.deployment,
              "wrongdep": world.wrong_chain, "truncdep": world.truncated_deployment, "ks": world.keystore,
              "truncks": world.truncated_keystore, **world.files}
    args = [str(a).format(**values) for a in (*row.command.split(), *row.args)]
    before_tree, before_journal = _tree(folder), _journal_dump(world.journal)

    result = run_cli(*args, env={**world.env(), **row.env})

    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.code == row.code, (result.code, output)
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, result.stderr
    assert re.search(row.fragment, lines[0]), lines[0]
    if row.code == 1:
        assert result.stderr.rstrip().splitlines()[-1] == lines[0]  # the error is the last word
    assert _tree(folder) == before_tree, "partial state left behind"
    assert _journal_dump(world.journal) == before_journal, "the journal changed"


def test_unexpected_exception_is_one_line_not_a_traceback(run_cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug in a command (an exception that is no CrowdsenseError) still ends in one line."""
    import crowdsense.cli.chain as chain

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug\nover two lines")

    monkeypatch.setattr(chain.account_address, "callback", broken)
    result = run_cli("account", "address")
    assert result.code == 1 and "Traceback" not in result.stdout + result.stderr
    assert result.stderr.splitlines() == [
        "error: unexpected RuntimeError: a bug (set CROWDSENSE_DEBUG=1 for the traceback)"]
    with pytest.raises(RuntimeError):
        run_cli("account", "address", env={"CROWDSENSE_DEBUG": "1"})


# ============================================================================ library rows


@dataclass(frozen=True)
class Lib:
    """One bad library call: ``call(ctx)`` must raise a CrowdsenseError matching ``fragment``."""

    id: str
    target: str  # "module:Name" or "module:Class.method" the row covers
    call: Callable[[Any], Any]
    fragment: str


@dataclass
class Ctx:
    world: World
    tmp: Path

    def file(self, name: str, content: str | bytes) -> Path:
        return _write(self.tmp / name, content)

    @property
    def conn(self) -> Any:
        return self.world.conn

    def registry(self, account: int | None = 5) -> Any:
        from crowdsense.chain.accounts import dev_signer
        from crowdsense.chain.journal import Journal
        from crowdsense.chain.registry import TaskRegistryClient
        from crowdsense.chain.store import SubtaskStore

        return TaskRegistryClient(self.conn, None if account is None else dev_signer(account),
                                  journal=Journal(self.tmp / "journal.sqlite"), store=SubtaskStore(self.tmp / "store"))

    def verifier(self, account: int | None = 5) -> Any:
        from crowdsense.chain.accounts import dev_signer
        from crowdsense.chain.journal import Journal
        from crowdsense.chain.verifier import CommitmentVerifierClient

        return CommitmentVerifierClient(self.conn, None if account is None else dev_signer(account),
                                        journal=Journal(self.tmp / "journal.sqlite"))

    def journal(self) -> Any:
        from crowdsense.chain.journal import Journal

        return Journal(self.tmp / "journal.sqlite")

    def classification(self) -> Any:
        """The 4-node graph classified into 2 levels (made once)."""
        if "result" not in _CLASSIFIED:
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _CLASSIFIED["result"] = _m(C).classify_graph(self.world.files["graph"], n_levels=2, n_jobs=1,
                                                             random_state=0)
        return _CLASSIFIED["result"]


_CLASSIFIED: dict[str, Any] = {}


def _m(module: str) -> Any:
    import importlib

    return importlib.import_module(module)


def _task(n_required: int = 2) -> Any:
    from crowdsense.ldpf.ctbc import Region, Task

    return Task((0.0, 0.0), n_required, Region((0.0, 0.0), 100.0, 100.0))


def _grid(n: int = 10) -> Any:
    from crowdsense.ldpf.pdc import Grid

    return Grid(n)


def _pdc_key() -> Any:
    from crowdsense.ldpf.pdc import generate_keypair

    return generate_keypair(256, allow_insecure=True)[1]


G, C, CL = "crowdsense.pmcb.graph_io", "crowdsense.pmcb.classify", "crowdsense.chain"
REG, CT, PD, LD = "crowdsense.chain.registration", "crowdsense.ldpf.ctbc", "crowdsense.ldpf.pdc", "crowdsense.runs"
CM = "crowdsense.commitments"
CITY = "crowdsense.ldpf.city"
SV = "crowdsense.services"
NAN_POINTS = [[0.0, 0.0], [float("nan"), 1.0], [2.0, 2.0]]

LIB_ROWS: list[Lib] = [
    # classifier loaders
    Lib("load-edge-list-missing", f"{G}:load_edge_list", lambda c: _m(G).load_edge_list(c.tmp / "none.txt"),
        r"graph file .*none\.txt not found"),
    Lib("load-edge-list-malformed", f"{G}:load_edge_list",
        lambda c: _m(G).load_edge_list(c.file("bad.txt", "0 1\n1\n")), r"bad\.txt.*line 2"),
    Lib("load-edge-list-truncated-gzip", f"{G}:load_edge_list",
        lambda c: _m(G).load_edge_list(c.file("t.txt.gz", _gzip_truncated())), r"t\.txt\.gz"),
    Lib("load-edge-list-endless", f"{G}:load_edge_list", lambda c: _m(G).load_edge_list("/dev/zero"),
        r"/dev/zero has a line longer than 64 KiB"),
    Lib("load-edge-list-bad-policy", f"{G}:load_edge_list",
        lambda c: _m(G).load_edge_list(c.world.files["graph"], directed="maybe"), r"'maybe'"),
    Lib("from-edges-not-pairs", f"{G}:from_edges", lambda c: _m(G).from_edges([(1, 2), (3,)]),
        r"edge 1 must be a pair.*\(3,\)"),
    Lib("from-edges-empty", f"{G}:from_edges", lambda c: _m(G).from_edges([]), r"has no edge"),
    Lib("from-networkx-directed", f"{G}:from_networkx",
        lambda c: _m(G).from_networkx(__import__("networkx").DiGraph([(0, 1), (1, 0)])), r"is directed"),
    Lib("as-graph-wrong-type", f"{G}:as_graph", lambda c: _m(G).as_graph(3.5), r"got float"),
    Lib("classify-levels-one", f"{C}:classify_graph",
        lambda c: _m(C).classify_graph(c.world.files["graph"], n_levels=1), r"n_levels.*1"),
    Lib("classify-levels-wrong-type", f"{C}:classify_graph",
        lambda c: _m(C).classify_graph(c.world.files["graph"], n_levels="3"), r"n_levels.*'3'"),
    Lib("classify-neighbors-zero", f"{C}:classify_graph",
        lambda c: _m(C).classify_graph(c.world.files["graph"], n_levels=2, n_neighbors=0), r"n_neighbors.*0"),
    Lib("classify-bad-influence", f"{C}:classify_graph",
        lambda c: _m(C).classify_graph(c.world.files["graph"], n_levels=2, influence="max"), r"influence.*'max'"),
    Lib("write-levels-into-a-folder", f"{C}:write_levels_json",
        lambda c: _m(C).write_levels_json(c.classification(), c.tmp), r"cannot write .*: Is a directory"),
    Lib("write-features-into-a-folder", f"{C}:write_features_csv",
        lambda c: _m(C).write_features_csv(c.classification(), c.tmp), r"cannot write .*: Is a directory"),
    Lib("kmeans-too-many-clusters", f"{C}:kmeans_baseline",
        lambda c: _m(C).kmeans_baseline(np.ones((3, 4)), n_clusters=5), r"n_clusters.*5"),
    Lib("partition-quality-labels-length", f"{C}:partition_quality",
        lambda c: _m(C).partition_quality(c.classification().partition.similarity, c.classification().features,
                                          [0, 1]), r"labels.*\b2\b.*\b4\b|\b4\b.*labels.*\b2\b"),
    # client: accounts, connection, journal, store, tasks
    Lib("dev-signer-negative", f"{CL}:dev_signer", lambda c: _m(CL).dev_signer(-1), r"index.*-1"),
    Lib("load-keystore-wrong-password", f"{CL}:load_keystore",
        lambda c: _m(CL).load_keystore(c.world.keystore, "wrong"), r"wrong password for keystore"),
    Lib("load-keystore-foreign-address", f"{CL}:load_keystore",
        lambda c: _m(CL).load_keystore(c.file("k.json", json.dumps({**json.loads(c.world.keystore.read_text()),
                                                                   "address": SOME_ADDRESS})), "right"),
        r"its 'address' 0x\w+ is not the address of its key"),
    Lib("load-keystore-truncated", f"{CL}:load_keystore",
        lambda c: _m(CL).load_keystore(c.world.truncated_keystore, "right"), r"truncated-keystore\.json is not"),
    Lib("signer-from-env-bad-key", f"{CL}:signer_from_env",
        lambda c: _m(CL).signer_from_env({"CROWDSENSE_PRIVATE_KEY": BAD_KEY}), r"not a 32-byte hex private key"),
    Lib("signer-from-key-short", f"{CL}:Signer", lambda c: _m("crowdsense.chain.accounts").signer_from_key(b"\x01" * 5),
        r"32 bytes, got 5"),
    Lib("connect-unreachable", f"{CL}:connect", lambda c: _m(CL).connect(c.world.down, retries=0), r"is unavailable"),
    Lib("connect-not-http", f"{CL}:connect", lambda c: _m(CL).connect("ipc:///tmp/x"), r"must start with http"),
    Lib("connect-timeout-zero", f"{CL}:connect", lambda c: _m(CL).connect(c.world.url, timeout=0), r"timeout.*0"),
    Lib("open-connection-missing-deployment", f"{CL}:open_connection",
        lambda c: _m(CL).open_connection(c.world.url, c.tmp / "none.json", retries=0), r"none\.json not found"),
    Lib("open-connection-wrong-chain", f"{CL}:open_connection",
        lambda c: _m(CL).open_connection(c.world.url, c.world.wrong_chain, retries=0), r"chain id 11155111"),
    Lib("open-connection-truncated", f"{CL}:open_connection",
        lambda c: _m(CL).open_connection(c.world.url, c.world.truncated_deployment, retries=0), r"not valid JSON"),
    Lib("deploy-levels-out-of-range", f"{CL}:deploy_contracts",
        lambda c: _m(CL).deploy_contracts(c.conn.w3, _m(CL).dev_signer(0), 300, write=False), r"num_levels.*300"),
    Lib("journal-garbage-file", f"{CL}:Journal", lambda c: _m(CL).Journal(c.file("j.sqlite", b"garbage" * 100)),
        r"cannot open the journal"),
    Lib("journal-put-not-a-dict", f"{CL}:Journal", lambda c: c.journal().put("k", [1, 2]), r"must be a dict, got list"),
    Lib("store-missing-blob", f"{CL}:SubtaskStore",
        lambda c: _m(CL).SubtaskStore(c.tmp / "s").get_blob(b"\x01" * 32), r"0x0101"),
    Lib("decompose-too-many-parts", f"{CL}:decompose",
        lambda c: _m(CL).decompose("t", [f"p{i}" for i in range(33)], num_levels=3), r"1\.\.32 parts, got 33"),
    Lib("decompose-level-out-of-range", f"{CL}:decompose",
        lambda c: _m(CL).decompose("t", [{"text": "a", "level": 0}], num_levels=3), r"level 0 is outside 1\.\.3"),
    Lib("decompose-sensitivity-wrong-type", f"{CL}:decompose",
        lambda c: _m(CL).decompose("t", [{"text": "a", "sensitivity": "high"}], num_levels=3), r"sensitivity.*'high'"),
    Lib("taskplan-digest-of-wrong-plan", f"{CL}:TaskPlan",
        lambda c: _m(CL).decompose("", ["a"], num_levels=3), r"non-empty title"),
    Lib("load-task-file-truncated", "crowdsense.pmcb.tasks:load_task_file",
        lambda c: _m("crowdsense.pmcb.tasks").load_task_file(c.file("t.json", '{"title": ')),
        r"t\.json is not valid JSON"),
    Lib("read-levels-truncated", f"{REG}:read_levels", lambda c: _m(REG).read_levels(c.file("l.json", '{"levels": {')),
        r"l\.json is not valid JSON"),
    Lib("read-levels-negative", f"{REG}:read_levels",
        lambda c: _m(REG).read_levels(c.file("l.json", _levels({"a": -2}))), r"node 'a' has level -2"),
    Lib("read-levels-node-twice", f"{REG}:read_levels",
        lambda c: _m(REG).read_levels(c.file("l.json", json.dumps({"nodes": ["a", "a"], "levels": [1, 2]}))),
        r"node 'a' appears twice"),
    Lib("read-address-csv-wrong-checksum", f"{REG}:read_address_csv",
        lambda c: _m(REG).read_address_csv(c.file("a.csv", f"node,address\na,{MISTYPED}\n")), r"EIP-55 checksum"),
    Lib("levels-by-address-two-levels", f"{REG}:levels_by_address",
        lambda c: _m(REG).levels_by_address({"a": 1, "b": 2}, {"a": SOME_ADDRESS, "b": SOME_ADDRESS}),
        r"nodes 'a' and 'b' both map to"),
    Lib("read-address-csv-no-header", f"{REG}:read_address_csv",
        lambda c: _m(REG).read_address_csv(c.file("a.csv", "a,b\n")), r"needs a header 'node,address'"),
    Lib("write-address-csv-bad-address", f"{REG}:write_address_csv",
        lambda c: _m(REG).write_address_csv(c.tmp / "o.csv", {"a": "0xnot"}), r"node 'a'.*'0xnot'"),
    Lib("fund-dev-accounts-bad-address", f"{REG}:fund_dev_accounts",
        lambda c: _m(REG).fund_dev_accounts(c.conn.w3, ["0x12"], wei=1), r"'0x12'"),
    Lib("fund-dev-accounts-negative", f"{REG}:fund_dev_accounts",
        lambda c: _m(REG).fund_dev_accounts(c.conn.w3, ["0x" + "11" * 20], wei=-1), r"-1"),
    Lib("txsender-call-reverts", f"{CL}:TxSender",
        lambda c: _m(CL).TxSender(c.conn.w3, _m(CL).dev_signer(5)).send(
            {"to": c.conn.registry.address, "data": c.conn.registry.functions.claimSubtask(8888, 0, _m(CL).dev_signer(5).encryption_key)
             ._encode_transaction_data()}), r"unknown task 8888"),
    # client: registry methods
    Lib("registry-levels-root-negative-epoch", f"{CL}:TaskRegistryClient.levels_root",
        lambda c: c.registry().levels_root(-1), r"-1"),
    Lib("registry-task-levels-epoch-unknown", f"{CL}:TaskRegistryClient.task_levels_epoch",
        lambda c: c.registry().task_levels_epoch(9999), r"unknown task 9999"),
    Lib("registry-task-selection-unknown", f"{CL}:TaskRegistryClient.task_selection",
        lambda c: c.registry().task_selection(9999), r"unknown task 9999"),
    Lib("registry-set-selection-not-a-selection", f"{CL}:TaskRegistryClient.set_selection",
        lambda c: c.registry().set_selection("0x" + "01" * 32), r"is not a selection: expected a Selection"),
    Lib("registry-selection-negative-task", f"{CL}:TaskRegistryClient.selection",
        lambda c: c.registry().selection(-1), r"task id.*-1"),
    Lib("registry-publish-zero-root", f"{CL}:TaskRegistryClient.publish_levels_root",
        lambda c: c.registry(0).publish_levels_root(b"\x00" * 32), r"32 non-zero bytes"),
    Lib("registry-claim-proof-unknown-task", f"{CL}:TaskRegistryClient.claim_proof",
        lambda c: c.registry(9).claim_proof(9999), r"unknown task 9999"),
    Lib("registry-claim-function-without-account", f"{CL}:TaskRegistryClient.claim_function",
        lambda c: c.registry(None).claim_function(0, 0, None), r"claiming needs the claimant's account: expected"),
    Lib("registry-remembered-proof-unknown-task", f"{CL}:TaskRegistryClient.remembered_proof",
        lambda c: c.registry().remembered_proof(9999), r"unknown task 9999"),
    Lib("registry-remember-proof-not-a-proof", f"{CL}:TaskRegistryClient.remember_proof",
        lambda c: c.registry().remember_proof("not a proof"), r"not a level proof"),
    Lib("registry-claim-unknown-task", f"{CL}:TaskRegistryClient.claim", lambda c: c.registry().claim(9999, 0),
        r"unknown task 9999"),
    Lib("registry-claim-negative-task", f"{CL}:TaskRegistryClient.claim", lambda c: c.registry().claim(-3, 0),
        r"task id.*-3"),
    Lib("registry-register-level-out-of-range", f"{CL}:TaskRegistryClient.register_levels",
        lambda c: c.registry(0).register_levels({"0x" + "11" * 20: 4}), r"in 1\.\.3, got 4"),
    Lib("registry-register-oversized-batch", f"{CL}:TaskRegistryClient.register_levels",
        lambda c: c.registry(0).register_levels({"0x" + f"{i:040x}": 1 for i in range(1, 4)}, batch_size=501),
        r"batch_size.*501"),
    Lib("registry-release-wrong-levels", f"{CL}:TaskRegistryClient.release_task",
        lambda c: c.registry(0).release_task(_m(CL).decompose("t", ["a", "b"], num_levels=5)), r"5 levels.*3"),
    Lib("registry-submit-both", f"{CL}:TaskRegistryClient.submit_data",
        lambda c: c.registry(4).submit_data(0, 0, data=b"x", data_hash=b"\x00" * 32),
        r"exactly one of data or data_hash"),
    Lib("registry-fetch-unknown", f"{CL}:TaskRegistryClient.fetch_subtask",
        lambda c: c.registry(4).fetch_subtask(555, 0), r"unknown task 555"),
    Lib("registry-grant-unknown-role", f"{CL}:TaskRegistryClient.grant_role",
        lambda c: c.registry(0).grant_role("king", "0x" + "11" * 20), r"unknown role 'king'"),
    Lib("registry-close-unknown", f"{CL}:TaskRegistryClient.close_task", lambda c: c.registry(0).close_task(556),
        r"unknown task 556"),
    Lib("registry-handover-unknown", f"{CL}:TaskRegistryClient.hand_over_keys",
        lambda c: c.registry(0).hand_over_keys([557]), r"unknown task 557"),
    Lib("registry-open-subtasks-level", f"{CL}:TaskRegistryClient.open_subtasks",
        lambda c: c.registry(5).open_subtasks(7), r"level must be in 1\.\.3, got 7"),
    Lib("registry-level-of-bad-address", f"{CL}:TaskRegistryClient.level_of",
        lambda c: c.registry(5).level_of("0xabc"), r"account: '0xabc' is not an address"),
    Lib("registry-level-of-wrong-checksum", f"{CL}:TaskRegistryClient.level_of",
        lambda c: c.registry(5).level_of(MISTYPED), r"invalid EIP-55 checksum"),
    Lib("registry-has-role-unknown", f"{CL}:TaskRegistryClient.has_role",
        lambda c: c.registry(5).has_role("king"), r"unknown role 'king'"),
    Lib("registry-require-role-missing", f"{CL}:TaskRegistryClient.require_role",
        lambda c: c.registry(5).require_role("registrar"), r"REGISTRAR_ROLE"),
    Lib("registry-task-unknown", f"{CL}:TaskRegistryClient.task", lambda c: c.registry().task(558),
        r"unknown task 558"),
    Lib("registry-subtask-out-of-range", f"{CL}:TaskRegistryClient.subtask", lambda c: c.registry().subtask(0, 9),
        r"9"),
    Lib("registry-subtasks-unknown", f"{CL}:TaskRegistryClient.subtasks", lambda c: c.registry().subtasks(559),
        r"unknown task 559"),
    Lib("registry-held-subtask-bad-address", f"{CL}:TaskRegistryClient.held_subtask",
        lambda c: c.registry().held_subtask(0, "nobody"), r"account: 'nobody' is not an address"),
    Lib("registry-current-levels-bad-address", f"{CL}:TaskRegistryClient.current_levels",
        lambda c: c.registry().current_levels(["0x1"]), r"account: '0x1' is not an address"),
    Lib("registry-plan-batch-mismatch", f"{CL}:TaskRegistryClient.plan_level_batch_size",
        lambda c: c.registry(0).plan_level_batch_size(["0x" + "11" * 20], [1, 2]), r"1 accounts and 2 levels"),
    Lib("registry-claim-keys-negative-task", f"{CL}:TaskRegistryClient.claim_keys",
        lambda c: c.registry().claim_keys(-1), r"-1"),
    Lib("registry-check-claim-out-of-range", f"{CL}:TaskRegistryClient.check_claim",
        lambda c: c.registry(5).check_claim(0, 12), r"12"),
    Lib("registry-pick-unknown", f"{CL}:TaskRegistryClient.pick_subtask", lambda c: c.registry(5).pick_subtask(560),
        r"unknown task 560"),
    # client: verifier methods
    Lib("verifier-commit-without-account", f"{CL}:CommitmentVerifierClient.commit_bit",
        lambda c: c.verifier(None).commit_bit(_m("crowdsense.commitments").new_bit_opening(b"x")), r"account"),
    Lib("verifier-reveal-unjournaled", f"{CL}:CommitmentVerifierClient.reveal_bit",
        lambda c: c.verifier().reveal_bit(b"\x07" * 32), r"no opening of bit commitment 0x0707"),
    Lib("verifier-commit-blinding-without-journal", f"{CL}:CommitmentVerifierClient.commit_blinding",
        lambda c: _m(CL).CommitmentVerifierClient(c.conn, _m(CL).dev_signer(5)).commit_blinding(
            _m("crowdsense.commitments").new_blinding_opening(5)), r"journal"),
    Lib("verifier-reveal-blinding-unjournaled", f"{CL}:CommitmentVerifierClient.reveal_blinding",
        lambda c: c.verifier().reveal_blinding(b"\x08" * 32), r"no opening of blinding commitment 0x0808"),
    Lib("verifier-bit-record-short", f"{CL}:CommitmentVerifierClient.bit_record",
        lambda c: c.verifier().bit_record(c.verifier().me, b"\x01"), r"commitment must be 32 bytes, got 1 bytes"),
    Lib("verifier-bit-record-bad-committer", f"{CL}:CommitmentVerifierClient.bit_record",
        lambda c: c.verifier().bit_record("0x1234", b"\x01" * 32), r"committer"),
    Lib("verifier-blinding-record-short", f"{CL}:CommitmentVerifierClient.blinding_record",
        lambda c: c.verifier().blinding_record(c.verifier().me, b"\x01\x02"),
        r"commitment must be 32 bytes, got 2 bytes"),
    Lib("verifier-bit-opening-wrong-type", f"{CL}:CommitmentVerifierClient.bit_opening",
        lambda c: c.verifier().bit_opening("c"), r"commitment must be 32 bytes, got str"),
    Lib("verifier-blinding-opening-wrong-type", f"{CL}:CommitmentVerifierClient.blinding_opening",
        lambda c: c.verifier().blinding_opening(17), r"commitment must be 32 bytes, got int"),
    # commitments
    Lib("bit-commitment-short-r1", "crowdsense.commitments:bit_commitment",
        lambda c: _m("crowdsense.commitments").bit_commitment(b"\x01", b"\x02" * 32, b"p"), r"r1.*32 bytes"),
    # CTBC
    Lib("ctbc-user-bad-payload", f"{CT}:CTBCUser", lambda c: _m(CT).CTBCUser(
        0, sender="u", board=_m(CM).MemoryCommitmentBoard(), store=_m(CM).MemorySecretStore()).commit(
            epoch=1, payload=b"", platform_key=_m(CT).PlatformKey.generate().encryption_key),
        r"a UD payload is 128 bytes, got 0 bytes"),
    Lib("ctbc-platform-key-short-seed", f"{CT}:PlatformKey", lambda c: _m(CT).PlatformKey(b"\x01"),
        r"seed must be 32 bytes"),
    Lib("ctbc-seal-ud-bad-key", f"{CT}:seal_ud",
        lambda c: _m(CT).seal_ud(b"\x05" * 31, _m(CT).encode_ud(1, 0, 0, 0), committer="u"),
        r"encryption key must be 32 bytes naming a secp256k1 point"),
    Lib("ctbc-open-ud-short", f"{CT}:open_ud",
        lambda c: _m(CT).open_ud(_m(CT).PlatformKey.generate(), b"\x01", committer="u", epoch=1),
        r"a sealed UD is 190 bytes, got 1"),
    Lib("ctbc-parameter-generator-negative", f"{CT}:ParameterGenerator",
        lambda c: _m(CT).ParameterGenerator(max_offset=-1.0), r"max_offset.*-1"),
    Lib("ctbc-region-negative-width", f"{CT}:Region", lambda c: _m(CT).Region((0.0, 0.0), -5.0, 1.0), r"-5"),
    Lib("ctbc-rigid-transform-nan", f"{CT}:RigidTransform", lambda c: _m(CT).RigidTransform(float("nan"), 0.0, 0.0),
        r"theta must be a finite number, got nan"),
    Lib("city-synthetic-city-probabilities", f"{CITY}:SyntheticCity",
        lambda c: _m(CITY).SyntheticCity.from_bus_points(p_hotspot=0.9, p_street=0.5), r"p_hotspot.*0\.9, 0\.5"),
    Lib("city-synthetic-city-missing-data", f"{CITY}:SyntheticCity",
        lambda c: _m(CITY).SyntheticCity.from_bus_points(c.tmp / "buses.csv"), r"buses\.csv"),
    Lib("city-load-bus-points-not-numeric", f"{CITY}:load_bus_points",
        lambda c: _m(CITY).load_bus_points(c.file("buses.csv", "latitude,longitude\n1,east\n")),
        r"buses\.csv, line 2: a missing or non-numeric coordinate"),
    Lib("city-load-bus-points-no-columns", f"{CITY}:load_bus_points",
        lambda c: _m(CITY).load_bus_points(c.file("buses.csv", "lat,lon\n1,2\n")), r"latitude and longitude"),
    Lib("city-project-lonlat-nan", f"{CITY}:project_lonlat", lambda c: _m(CITY).project_lonlat(NAN_POINTS),
        r"finite, got 1 NaN/infinite coordinate\(s\) \(first in row 1\)"),
    Lib("ctbc-task-zero-required", f"{CT}:Task",
        lambda c: _m(CT).Task((0.0, 0.0), 0, _m(CT).Region((0.0, 0.0), 1.0, 1.0)), r"n_required.*0"),
    Lib("city-classify-region-nan", f"{CITY}:classify_region",
        lambda c: _m(CITY).classify_region(NAN_POINTS, _m(CT).Region((0.0, 0.0), 1.0, 1.0)),
        r"finite, got 1 NaN/infinite coordinate\(s\) \(first in row 1\)"),
    Lib("ctbc-decode-ud-short", f"{CT}:decode_ud", lambda c: _m(CT).decode_ud(b"\x00" * 64), r"128 bytes, got 64"),
    Lib("ctbc-draw-transform-negative-epoch", f"{CT}:draw_transform", lambda c: _m(CT).draw_transform(-1),
        r"epoch.*-1"),
    Lib("ctbc-drift-shape-mismatch", f"{CT}:drift_degree",
        lambda c: _m(CT).drift_degree(np.zeros((3, 2)), np.zeros((2, 2))), r"same shape, got \(3, 2\) and \(2, 2\)"),
    Lib("ctbc-encode-ud-group-too-large", f"{CT}:encode_ud", lambda c: _m(CT).encode_ud(1, 2**40, 0, 0), r"group"),
    Lib("ctbc-k-anonymity-k-too-large", f"{CT}:k_anonymity_groups",
        lambda c: _m(CT).k_anonymity_groups(np.zeros((3, 2)), k=5), r"k.*5"),
    Lib("ctbc-k-anonymity-wrong-shape", f"{CT}:k_anonymity_groups",
        lambda c: _m(CT).k_anonymity_groups(np.zeros((4, 3)), k=2), r"shape \(n, 2\), got \(4, 3\)"),
    Lib("ctbc-kanonymity-baseline-method", f"{CT}:kanonymity_baseline",
        lambda c: _m(CT).kanonymity_baseline(np.random.default_rng(0).random((6, 2)), _task(), k=2, method="best"),
        r"method.*'best'"),
    Lib("ctbc-knn-cloaks-nan", f"{CT}:knn_cloaks", lambda c: _m(CT).knn_cloaks(NAN_POINTS, k=2),
        r"finite, got 1 NaN/infinite coordinate\(s\) \(first in row 1\)"),
    Lib("ctbc-matching-degree-wrong-shape", f"{CT}:matching_degree",
        lambda c: _m(CT).matching_degree(np.zeros((2, 3)), (0.0, 0.0)), r"shape \(n, 2\), got \(2, 3\)"),
    Lib("ctbc-mdav-k-zero", f"{CT}:mdav_labels", lambda c: _m(CT).mdav_labels(np.zeros((3, 2)), k=0), r"k.*0"),
    Lib("ctbc-platform-groups-k-one", f"{CT}:platform_groups", lambda c: _m(CT).platform_groups([], k=1), r"k.*1"),
    Lib("ctbc-rank-candidates-mismatch", f"{CT}:rank_candidates",
        lambda c: _m(CT).rank_candidates(np.zeros((2, 2)), [0, 1, 5], _task()),
        r"labels must be in \[0, 2\).*\[0, 5\]"),
    Lib("city-region-density-wrong-shape", f"{CITY}:region_density",
        lambda c: _m(CITY).region_density(np.zeros(5), _m(CT).Region((0.0, 0.0), 1.0, 1.0)),
        r"shape \(n, 2\), got \(5,\)"),
    Lib("ctbc-run-round-k-too-large", f"{CT}:run_round",
        lambda c: _m(CT).run_round(np.random.default_rng(0).random((4, 2)), _task(), k=9), r"k.*9"),
    Lib("ctbc-select-users-k-one", f"{CT}:select_users",
        lambda c: _m(CT).select_users([], _task(), k=1, board=_m(CM).MemoryCommitmentBoard(), reveal=lambda u: None,
                                      opener=_m(CT).PlatformKey.generate()), r"k.*1"),
    Lib("ctbc-ud-payloads-negative-epoch", f"{CT}:ud_payloads",
        lambda c: _m(CT).ud_payloads(_m(CT).k_anonymity_groups(np.random.default_rng(0).random((4, 2)), k=2), epoch=-1),
        r"epoch.*-1"),
    # PDC
    Lib("pdc-grid-empty", f"{PD}:Grid", lambda c: _m(PD).Grid(0), r"got 0"),
    Lib("pdc-grid-wrong-type", f"{PD}:Grid", lambda c: _m(PD).Grid("3"), r"'3'"),
    Lib("pdc-encode1-out-of-range", f"{PD}:encode1", lambda c: _m(PD).encode1(12, 10), r"12"),
    Lib("pdc-encode2-wrong-type", f"{PD}:encode2", lambda c: _m(PD).encode2("3", 10), r"'3'"),
    Lib("pdc-encode-point-outside", f"{PD}:encode_point", lambda c: _m(PD).encode_point((10, 0), _grid()), r"10"),
    Lib("pdc-encoded-distance-mismatch", f"{PD}:encoded_distance",
        lambda c: _m(PD).encoded_distance(np.zeros(3), np.zeros(3), np.zeros(4), np.zeros(4)),
        r"same length, got shapes \(3,\), \(3,\), \(4,\), \(4,\)"),
    Lib("pdc-manhattan-outside", f"{PD}:manhattan", lambda c: _m(PD).manhattan((0, 0), (0, 99), _grid()), r"99"),
    Lib("pdc-generate-keypair-short", f"{PD}:generate_keypair", lambda c: _m(PD).generate_keypair(512), r"512"),
    Lib("pdc-decryption-message-truncated", f"{PD}:DecryptionMessage",
        lambda c: _m(PD).DecryptionMessage.from_json('{"type": "decryption", "task_id"'), r"JSON"),
    Lib("pdc-encrypted-distance-wrong-type", f"{PD}:EncryptedDistanceMessage",
        lambda c: _m(PD).EncryptedDistanceMessage("t", b"\x00" * 32, "r", "z"),
        r"z must be a non-negative int, got 'z'"),
    Lib("pdc-query-message-bad-commitment", f"{PD}:QueryMessage",
        lambda c: _m(PD).QueryMessage("t", b"\x00" * 32, "r", b"\x01", 5), r"commitment"),
    Lib("pdc-reveal-message-bad-salt", f"{PD}:RevealMessage",
        lambda c: _m(PD).RevealMessage("t", "r", b"\x00" * 32, 5, b"\x01"), r"salt"),
    Lib("pdc-task-message-truncated", f"{PD}:TaskMessage", lambda c: _m(PD).TaskMessage.from_json("{"), r"JSON"),
    Lib("pdc-parse-message-unknown-type", f"{PD}:parse_message",
        lambda c: _m(PD).parse_message('{"type": "gossip"}'), r"gossip"),
    Lib("pdc-platform-weak-key", f"{PD}:Platform",
        lambda c: _m(PD).Platform(_pdc_key(), _grid(), board=_m(CM).MemoryCommitmentBoard()), r"got 256"),
    Lib("pdc-receiver-outside-grid", f"{PD}:Receiver",
        lambda c: _m(PD).Receiver((0, 50), _grid(), board=_m(CM).MemoryCommitmentBoard(),
                                  secret_store=_m(CM).MemorySecretStore()), r"50"),
    Lib("pdc-run-round-centre-off-grid", f"{PD}:run_round",
        lambda c: _m(PD).run_round(_m(PD).Platform(_pdc_key(), _grid(), board=_m(CM).MemoryCommitmentBoard(),
                                                   allow_insecure=True), [], task_id="t", centre=(0, 99)),
        r"\(0, 99\) is off the grid"),
    Lib("pdc-select-nearest-zero", f"{PD}:select_nearest", lambda c: _m(PD).select_nearest({"a": 1}, 0),
        r"n_select.*0"),
    Lib("commitment-board-commit-short", f"{CM}:MemoryCommitmentBoard",
        lambda c: _m(CM).MemoryCommitmentBoard().commit_blinding(b"\x01"), r"32"),
    # LDPF on chain
    Lib("ldpf-board-short-r1", f"{LD}:ChainCommitmentBoard", lambda c: _m(LD).ChainCommitmentBoard(c.conn).commit_bit(
        b"\x00" * 32, b"\x01", sender="x"), r"r1 must be 32 bytes"),
    Lib("ldpf-board-no-journal", f"{LD}:ChainCommitmentBoard",
        lambda c: _m(LD).ChainCommitmentBoard(c.conn, _m(CL).dev_signer(5)), r"journal"),
    Lib("ldpf-secret-store-wrong-journal", f"{LD}:JournalSecretStore",
        lambda c: _m(LD).JournalSecretStore("journal.sqlite", c.conn), r"must be a Journal, got str"),
    Lib("ldpf-ctbc-round-k-too-large", f"{LD}:run_ctbc_round",
        lambda c: _m(LD).run_ctbc_round(c.conn, np.zeros((3, 2)), _task(), k=7, signers=[], journal=c.journal()),
        r"k must be an int in \[2, 3\].*7"),
    Lib("ldpf-ctbc-round-wrong-shape", f"{LD}:run_ctbc_round",
        lambda c: _m(LD).run_ctbc_round(c.conn, np.zeros((3, 3)), _task(), k=2, signers=[], journal=c.journal()),
        r"shape \(n, 2\).*\(3, 3\)"),
    Lib("ldpf-pdc-round-outside-grid", f"{LD}:run_pdc_round",
        lambda c: _m(LD).run_pdc_round(c.conn, [(0, 0), (50, 1)], (1, 1), grid=10, n_select=1, signers=[],
                                       journal=c.journal()), r"50"),
    Lib("ldpf-pdc-round-n-select-zero", f"{LD}:run_pdc_round",
        lambda c: _m(LD).run_pdc_round(c.conn, [(0, 0)], (1, 1), grid=10, n_select=0,
                                       signers=[_m(CL).dev_signer(5)], journal=c.journal()), r"n_select.*0"),
    Lib("ldpf-city-scenario-population", f"{LD}:city_scenario", lambda c: _m(LD).city_scenario(population=0),
        r"population.*0"),
    Lib("ldpf-ctbc-setup-users", f"{LD}:ctbc_setup",
        lambda c: _m(LD).ctbc_setup(_m(LD).city_scenario(random_state=0), users=0, n_required=1), r"users.*0"),
    Lib("ldpf-pdc-setup-grid", f"{LD}:pdc_setup",
        lambda c: _m(LD).pdc_setup(_m(LD).city_scenario(random_state=0), receivers=2, grid=1), r"grid.*1"),
    Lib("ldpf-to-grid-n", f"{LD}:to_grid",
        lambda c: _m(LD).to_grid(np.zeros((2, 2)), _m(CT).Region((0.0, 0.0), 1.0, 1.0), 0), r"0"),
    Lib("ldpf-send-unchecked-bad-data", f"{LD}:send_unchecked",
        lambda c: _m(LD).send_unchecked(_m(CL).TxSender(c.conn.w3, _m(CL).dev_signer(5), journal=c.journal()),
                                        c.conn.verifier.address, "0xzz", intent_id="x", kind="k"),
        r"data must be bytes or a 0x-prefixed hex string, got '0xzz'"),
    # services
    Lib("service-settings-zero-window", f"{SV}:Settings", lambda c: _m(SV).Settings(timestamp_window=0),
        r"timestamp_window = 0 is not usable: expected an integer in 1\.\.86400"),
    Lib("service-create-app-unsupported-database", f"{SV}:create_app",
        lambda c: _m(SV).create_app(_m(SV).Settings(database_url="mysql://u@db/cs")), r"is not supported"),
    Lib("service-client-not-http", f"{SV}:ServiceClient", lambda c: _m(SV).ServiceClient("ftp://store"),
        r"'ftp://store' is not usable: expected http://host:port"),
    Lib("service-subtask-store-short-hash", f"{SV}:ServiceSubtaskStore",
        lambda c: _m(SV).ServiceSubtaskStore(c.world.down).get_blob(b"\x01"), r"is not a 32-byte hash"),
]

#: Callables of the entry modules' __all__ without a row, each with the reason it needs none.
NO_USER_INPUT = {
    f"{G}:Graph": "built by load_edge_list / from_edges / from_networkx, which check its fields (rows above)",
    f"{C}:Classification": "result record returned by classify_graph",
    f"{CL}:Connection": "built by open_connection, which checks the node and the deployment (rows above)",
    f"{CL}:TaskRegistryClient": "wires a Connection, Signer, Journal and store built by their own entry points; "
                                "its methods have rows",
    f"{CL}:CommitmentVerifierClient": "wires objects built by their own entry points; its methods have rows",
    f"{CL}:simulation_signer": "every node id is valid: the simulation account is derived from its text",
    f"{REG}:simulated_addresses": "every node id is valid (simulation_signer of each)",
    f"{CT}:fill_selection": "takes the Candidates of rank_candidates (row above) and the platform's callback",
    f"{CT}:verify_reveal": "a predicate: any opening that does not verify gives False, by design",
    f"{CL}:TxRecord": "record of a mined transaction",
    f"{CT}:BaselineResult": "result record",
    f"{CT}:Candidates": "result of rank_candidates", f"{CT}:DriftStats": "result of drift_degree",
    f"{CT}:Grouping": "result of k_anonymity_groups", f"{CT}:Reveal": "record of an opening (checked by verify_reveal)",
    f"{CT}:RoundResult": "result record", f"{CT}:Selection": "result of fill_selection",
    f"{CT}:Upload": "record of an upload (checked by platform_groups / verify_reveal)",
    f"{PD}:Selected": "result of select_nearest",
    f"{LD}:CTBCRoundResult": "result record", f"{LD}:PDCRoundResult": "result record",
    f"{LD}:CityScenario": "result of city_scenario", f"{LD}:TxLog": "empty log, no parameters",
    f"{LD}:TxRecord": "record of a mined transaction",
}

ENTRY_MODULES = (G, C, CL, REG, CT, CITY, PD, LD, SV)
#: Client classes whose public methods are entry points (each method needs a row).
CLIENT_CLASSES = ("TaskRegistryClient", "CommitmentVerifierClient")


def _entry_points() -> list[str]:
    import importlib

    names = []
    for module in ENTRY_MODULES:
        mod = importlib.import_module(module)
        for name in mod.__all__:
            obj = getattr(mod, name)
            if not callable(obj) or (isinstance(obj, type) and issubclass(obj, BaseException)):
                continue  # constants and exception classes
            if isinstance(obj, type) and getattr(obj, "_is_protocol", False):
                continue  # typing protocols (interfaces, never called)
            names.append(f"{module}:{name}")
            if module == CL and name in CLIENT_CLASSES:
                # the class's own methods and those of the mixins that make it up (the receiver
                # side of the registry client), not those of the shared ContractClient base
                from crowdsense.chain.contract import ContractClient

                own = {attr: member for klass in reversed(obj.__mro__) if klass not in ContractClient.__mro__
                       for attr, member in vars(klass).items()}
                for attr, member in own.items():
                    if attr.startswith("_") or not inspect.isfunction(member):
                        continue
                    if len(inspect.signature(member).parameters) > 1:  # takes more than self
                        names.append(f"{module}:{name}.{attr}")
    return names


def test_every_library_entry_point_has_a_bad_input_row() -> None:
    covered = {row.target for row in LIB_ROWS} | set(NO_USER_INPUT)
    missing = [name for name in _entry_points() if name not in covered]
    assert missing == [], f"entry points without a bad-input row: {missing}"
    stale = sorted({row.target for row in LIB_ROWS} - set(_entry_points()) - {
        "crowdsense.pmcb.tasks:load_task_file", f"{CM}:bit_commitment", f"{CM}:MemoryCommitmentBoard"})
    assert stale == [], f"rows naming no entry point: {stale}"
    assert len({row.id for row in LIB_ROWS}) == len(LIB_ROWS)


#: Rows that fail today in modules their owners are still writing: reported, not fixed here.
#: ``strict``: the day the owner fixes one, its row passes and the marker must go.
KNOWN_GAPS: dict[str, str] = {}


@pytest.mark.parametrize("row", [pytest.param(r, marks=pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[r.id]))
                                 if r.id in KNOWN_GAPS else r for r in LIB_ROWS], ids=[r.id for r in LIB_ROWS])
def test_library_bad_input(row: Lib, world: World, tmp_path: Path) -> None:
    from crowdsense.errors import CrowdsenseError

    before = _journal_dump(world.journal)
    try:
        row.call(Ctx(world, tmp_path))
    except CrowdsenseError as exc:
        message = str(exc)
        assert "\n" not in message.strip(), message
        assert re.search(row.fragment, message), message
    except Exception as exc:  # noqa: BLE001 - reported as the failure
        pytest.fail(f"{row.target} raised {type(exc).__name__} (not a CrowdsenseError): {exc}")
    else:
        pytest.fail(f"{row.target} accepted the bad input")
    assert _journal_dump(world.journal) == before
