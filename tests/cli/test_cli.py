"""The CLI end to end through ``crowdsense.cli.main.main`` (what the ``crowdsense`` script runs).

A module-scoped deployment is made *through the CLI* (``crowdsense deploy``), roles are
granted with ``crowdsense grant``; each actor has its own journal. Every refusal must be one
line on stderr starting with ``error:``, exit code 1, and no traceback.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from crowdsense.chain.accounts import create_keystore, dev_signer, simulation_signer

COMMANDS = ["deploy", "grant", "status", "resume", "register", "release", "handover", "close", "list", "claim",
            "fetch", "submit"]

ADMIN, REGISTRAR, RELEASER, ALICE, BOB, CAROL, DAVE, MALLORY = range(8)


@dataclass
class Cli:
    run: Any
    url: str
    tmp: Path
    deployment: Path

    def env(self, **extra: str) -> dict[str, str]:
        return {"CROWDSENSE_RPC_URL": self.url, "CROWDSENSE_DEPLOYMENT": str(self.deployment),
                "CROWDSENSE_STORE": str(self.tmp / "store"),
                "CROWDSENSE_JOURNAL": str(self.tmp / "default-journal.sqlite"), **extra}

    def as_(self, account: int, *args: Any, json_out: bool = True) -> Any:
        """Run a command as dev account ``account`` with its own journal."""
        extra = ["--json"] if json_out else []
        return self.run(*args, "--dev-account", account, "--journal", self.tmp / f"j{account}.sqlite", *extra,
                        env=self.env())


def assert_refused(result: Any, pattern: str) -> None:
    import re

    assert result.code == 1, (result.code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert re.search(pattern, lines[0]), lines[0]
    assert "Traceback" not in result.stderr + result.stdout


@pytest.fixture(scope="module")
def cli(run_cli, node_url, tmp_path_factory) -> Cli:
    tmp = tmp_path_factory.mktemp("cli")
    deployment = tmp / "deployment.json"
    c = Cli(run_cli, node_url, tmp, deployment)
    out = run_cli("deploy", "--levels", 3, "--out", deployment, "--dev-account", ADMIN, "--journal",
                  tmp / "j0.sqlite", "--json", env={"CROWDSENSE_RPC_URL": node_url,
                                                    "CROWDSENSE_JOURNAL": str(tmp / "default-journal.sqlite")})
    assert out.code == 0, out.stderr
    for role, who in (("registrar", REGISTRAR), ("releaser", RELEASER)):
        granted = c.as_(ADMIN, "grant", role, dev_signer(who).address)
        assert granted.code == 0 and granted.json()["alreadyHeld"] is False, granted.stderr
    levels = tmp / "levels.json"
    levels.write_text(json.dumps({"levels": {"a": 1, "b": 2, "c": 2, "d": 3, "x": 1}, "T": 3}))
    with open(tmp / "addresses.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["node", "address"])
        for node, idx in (("a", ALICE), ("b", BOB), ("c", CAROL), ("d", DAVE)):
            w.writerow([node, dev_signer(idx).address])
    reg = c.as_(REGISTRAR, "register", levels, "--addresses", tmp / "addresses.csv")
    assert reg.code == 0, reg.stderr
    assert reg.json()["registered"] == 4 and reg.json()["unmapped"] == 1
    return c


def _release(cli: Cli, parts: list, title: str) -> dict:
    task = cli.tmp / f"{title}.json"
    task.write_text(json.dumps({"title": title, "parts": parts}))
    out = cli.as_(RELEASER, "release", task)
    assert out.code == 0, out.stderr
    return out.json()


# ---------------------------------------------------------------------------- help and usage


@pytest.mark.parametrize("command", COMMANDS)
def test_help_of_every_command(run_cli, command):
    result = run_cli(command, "--help")
    assert result.code == 0 and "Usage: crowdsense " + command in result.stdout
    assert "--rpc-url" in result.stdout and "--json" in result.stdout


def test_help_of_account_commands(run_cli):
    for args in (("account", "--help"), ("account", "new", "--help"), ("account", "address", "--help")):
        result = run_cli(*args)
        assert result.code == 0 and "Usage:" in result.stdout


def test_submit_without_data_is_a_usage_error(cli):
    result = cli.as_(BOB, "submit", 0, 0)
    assert result.code == 2 and "exactly one of --data-file, --data or --data-hash" in result.stderr


# ---------------------------------------------------------------------------- the flow


def test_status_shows_deployment_and_roles(cli):
    data = cli.as_(REGISTRAR, "status").json()
    assert data["chainId"] == 31337 and data["numLevels"] == 3
    assert data["roles"] == ["registrar"] and data["account"] == dev_signer(REGISTRAR).address


def test_register_simulated_accounts_funded_and_written(cli):
    out_csv = cli.tmp / "sim.csv"
    result = cli.as_(REGISTRAR, "register", cli.tmp / "levels.json", "--simulate", "--limit", 2, "--fund", 1,
                     "--write-addresses", out_csv)
    assert result.code == 0, result.stderr
    assert result.json()["registered"] == 2 and result.json()["funded"] == 2
    rows = list(csv.DictReader(open(out_csv)))
    assert [(r["node"], r["address"]) for r in rows] == [(n, simulation_signer(n).address) for n in ("a", "b")]
    sim = cli.run("status", "--sim-node", "b", "--json", "--journal", cli.tmp / "sim.sqlite", env=cli.env())
    assert sim.json()["level"] == 2


def test_release_list_claim_handover_fetch_submit_close(cli):
    released = _release(cli, ["street noise", "home noise", "bedroom noise"], "flow")
    task = released["taskId"]
    assert released["levels"] == [1, 2, 3]

    listed = cli.as_(BOB, "list").json()
    assert [(s["taskId"], s["index"], s["level"]) for s in listed if s["taskId"] == task] == [(task, 1, 2)]

    claimed = cli.as_(BOB, "claim", task)
    assert claimed.code == 0 and claimed.json()["index"] == 1 and claimed.json()["resumed"] is False
    again = cli.as_(BOB, "claim", task, 1).json()
    assert again["resumed"] is True and again["tx"] == claimed.json()["tx"]

    assert_refused(cli.as_(BOB, "fetch", task, 1), "handover")
    handed = cli.as_(RELEASER, "handover", task).json()
    assert [(h["index"], h["written"]) for h in handed] == [(1, True)]
    fetched = cli.as_(BOB, "fetch", task, 1, "--out", cli.tmp / "sub.txt")
    assert fetched.json()["part"] == "home noise" and (cli.tmp / "sub.txt").read_text() == "home noise\n"

    submitted = cli.as_(BOB, "submit", task, 1, "--data", "48 dB")
    assert submitted.code == 0 and submitted.json()["alreadySubmitted"] is False
    closed = cli.as_(RELEASER, "close", task)
    assert closed.code == 0
    status = cli.as_(BOB, "status", task).json()
    from eth_utils import keccak

    assert status["closed"] is True
    assert status["subtasks"][1]["claimant"] == dev_signer(BOB).address
    assert status["subtasks"][1]["dataHash"] == "0x" + keccak(b"48 dB").hex()


def test_human_output_without_json(cli):
    released = _release(cli, ["p", "q", "r"], "human")
    result = cli.as_(ALICE, "claim", released["taskId"], json_out=False)
    assert result.code == 0 and f"claimed subtask 0 (level 1) of task {released['taskId']}" in result.stdout


def test_resume_with_nothing_pending(cli):
    result = cli.as_(ALICE, "resume", json_out=False)
    assert result.code == 0 and "nothing pending" in result.stdout


# ---------------------------------------------------------------------------- refusals


def test_claim_wrong_level_refused(cli):
    task = _release(cli, ["p", "q", "r"], "wrong-level")["taskId"]
    assert_refused(cli.as_(BOB, "claim", task, 2), r"level mismatch: subtask needs level 3, receiver 0x\w+ has level 2")


def test_claim_already_claimed_refused(cli):
    task = _release(cli, ["p", "q", "r"], "already")["taskId"]
    assert cli.as_(BOB, "claim", task, 1).code == 0
    assert_refused(cli.as_(CAROL, "claim", task, 1), f"subtask 1 of task {task} is already claimed by")


def test_claim_second_subtask_of_task_refused(cli):
    task = _release(cli, ["p", "q", "q2", "r"], "second")["taskId"]  # levels 1, 2, 2, 3
    assert cli.as_(CAROL, "claim", task, 1).code == 0
    assert_refused(cli.as_(CAROL, "claim", task, 2), "already holds subtask 1")


def test_claim_closed_task_refused(cli):
    task = _release(cli, ["p", "q", "r"], "closed")["taskId"]
    assert cli.as_(RELEASER, "close", task).code == 0
    assert_refused(cli.as_(ALICE, "claim", task, 0), f"task {task} is closed")


def test_claim_unknown_task_refused(cli):
    assert_refused(cli.as_(ALICE, "claim", 9999, 0), "unknown task 9999")


def test_handover_serves_every_other_subtask_and_exits_non_zero_naming_the_one_it_cannot(cli):
    from crowdsense.chain.connection import open_connection
    from crowdsense.chain.txsend import TxSender

    task = _release(cli, ["p", "q", "r"], "unservable")["taskId"]
    conn = open_connection(cli.url, cli.deployment, retries=1, backoff=0.05)
    no_point = (5).to_bytes(32, "big")  # in the field, but no point of the curve lies above it
    data = conn.registry.functions.claimSubtask(task, 0, no_point)._encode_transaction_data()
    TxSender(conn.w3, dev_signer(ALICE)).send({"to": conn.registry.address, "data": data})
    assert cli.as_(BOB, "claim", task, 1).code == 0

    result = cli.as_(RELEASER, "handover", task)
    assert_refused(result, rf"1 claimed subtask\(s\) got no key \(task {task} subtask 0: the claim carries no usable "
                           r"encryption key .*\): fix what is named and run `crowdsense handover` again")
    assert [(h["index"], h["written"], h["error"] is None) for h in result.json()] == [(0, False, False), (1, True, True)]
    assert cli.as_(BOB, "fetch", task, 1).json()["part"] == "q"


def test_levels_published_as_a_root_and_claimed_with_a_proof(cli, run_cli):
    """mallory has no stored level: the tree is all the chain knows of it, and only as a root."""
    addresses = cli.tmp / "mallory.csv"
    addresses.write_text(f"node,address\nx,{dev_signer(MALLORY).address}\n")
    tree = cli.tmp / "levels.tree"
    publish = ("levels", "publish", cli.tmp / "levels.json", "--addresses", addresses, "--tree", tree)
    first = cli.as_(REGISTRAR, *publish)
    assert first.code == 0, first.stderr
    assert first.json()["receivers"] == 1 and first.json()["alreadyPublished"] is False and tree.exists()
    again = cli.as_(REGISTRAR, *publish).json()
    assert again["alreadyPublished"] is True and again["epoch"] == first.json()["epoch"]

    printed = run_cli("levels", "proof", dev_signer(MALLORY).address, "--tree", tree)
    assert printed.code == 0, printed.stderr
    proof = cli.tmp / "mallory-proof.json"
    proof.write_text(printed.stdout)
    assert json.loads(printed.stdout)["level"] == 1

    task = _release(cli, ["p", "q", "r"], "private levels")["taskId"]
    listed = cli.as_(MALLORY, "list", "--proof", proof).json()
    assert [(s["taskId"], s["index"]) for s in listed if s["taskId"] == task] == [(task, 0)]
    claimed = cli.as_(MALLORY, "claim", task, "--proof", proof)
    assert claimed.code == 0 and claimed.json()["index"] == 0, claimed.stderr
    later = _release(cli, ["s", "t", "u"], "private levels later")["taskId"]
    assert cli.as_(MALLORY, "claim", later).json()["index"] == 0  # the journal kept the proof

    assert_refused(cli.as_(BOB, "claim", later, "--proof", proof), "not of your account")
    assert_refused(run_cli("levels", "proof", dev_signer(BOB).address, "--tree", tree), "not in the tree")


def test_a_task_released_for_selection_is_claimed_only_by_the_selected(cli, run_cli):
    """The platform (granted the selector role) fixes alice and bob for a task released for
    selection; bob claims with his proof, carol (not selected) cannot, even with bob's proof."""
    platform = 9
    assert cli.as_(ADMIN, "grant", "selector", dev_signer(platform).address).code == 0
    task_file = cli.tmp / "selective.json"
    task_file.write_text(json.dumps({"title": "selective", "parts": ["p", "q", "r"]}))
    released = cli.as_(RELEASER, "release", task_file, "--for-selection")
    assert released.code == 0, released.stderr
    task = released.json()["taskId"]
    assert_refused(cli.as_(BOB, "claim", task), f"task {task} was released for selection")

    selected = cli.tmp / "selected.txt"
    selected.write_text(f"# near the task\n{dev_signer(ALICE).address}\n{dev_signer(BOB).address}\n")
    proofs = cli.tmp / "selection-proofs"
    publish = ("selection", "publish", task, "--accounts-file", selected, "--out-dir", proofs)
    first = cli.as_(platform, *publish)
    assert first.code == 0, first.stderr
    assert first.json()["alreadyPublished"] is False and len(first.json()["proofFiles"]) == 2
    assert cli.as_(platform, *publish).json()["alreadyPublished"] is True  # a rerun sends nothing
    bob_proof = proofs / f"{dev_signer(BOB).address}.json"

    claimed = cli.as_(BOB, "claim", task, "--selection", bob_proof)
    assert claimed.code == 0 and claimed.json()["index"] == 1, claimed.stderr
    assert_refused(cli.as_(CAROL, "claim", task, 1, "--selection", bob_proof), "expected the proof of this account")
    again = cli.as_(platform, "selection", "proof", task, dev_signer(ALICE).address)
    assert again.code == 0 and json.loads(again.stdout)["account"] == dev_signer(ALICE).address


def test_close_not_releaser_refused(cli):
    task = _release(cli, ["p", "q", "r"], "not-releaser")["taskId"]
    assert_refused(cli.as_(BOB, "close", task), f"is not the releaser of task {task}")


def test_register_not_registrar_refused(cli):
    assert_refused(cli.as_(MALLORY, "register", cli.tmp / "levels.json", "--addresses", cli.tmp / "addresses.csv"),
                   "does not have REGISTRAR_ROLE")


def test_release_not_releaser_refused(cli):
    task = cli.tmp / "t.json"
    task.write_text(json.dumps({"title": "x", "parts": ["a"]}))
    assert_refused(cli.as_(ALICE, "release", task), "does not have RELEASER_ROLE")


def test_fetch_not_claimant_refused(cli):
    task = _release(cli, ["p", "q", "r"], "not-claimant")["taskId"]
    assert cli.as_(BOB, "claim", task, 1).code == 0
    assert cli.as_(RELEASER, "handover", task).code == 0
    assert_refused(cli.as_(CAROL, "fetch", task, 1), "is not the claimant of subtask 1")


# ---------------------------------------------------------------------------- input files


def _mistyped(address: str) -> str:
    """``address`` with the case of its last letter flipped: same bytes, wrong EIP-55 checksum."""
    i = max(i for i, c in enumerate(address) if c.isalpha() and i > 1)
    return address[:i] + address[i].swapcase() + address[i + 1:]


def _register(cli: Cli, name: str, levels: str, rows: list[tuple[str, str]]) -> Any:
    (cli.tmp / f"{name}.json").write_text(levels)
    (cli.tmp / f"{name}.csv").write_text("node,address\n" + "".join(f"{n},{a}\n" for n, a in rows))
    return cli.as_(REGISTRAR, "register", cli.tmp / f"{name}.json", "--addresses", cli.tmp / f"{name}.csv")


def test_register_refuses_an_address_with_a_wrong_checksum(cli):
    target = dev_signer(8).address
    typo = _mistyped(target)
    result = _register(cli, "typo", json.dumps({"levels": {"m": 2}}), [("m", typo)])
    assert_refused(result, rf"typo\.csv, line 2, node 'm': '{typo}' has an invalid EIP-55 checksum")
    assert cli.as_(8, "status").json()["level"] == 0
    lowercase = _register(cli, "lower", json.dumps({"levels": {"m": 2}}), [("m", target.lower())])
    assert lowercase.code == 0 and cli.as_(8, "status").json()["level"] == 2


def test_register_refuses_one_address_for_two_levels(cli):
    target = dev_signer(9).address
    result = _register(cli, "shared", json.dumps({"levels": {"m": 1, "n": 3}}), [("m", target), ("n", target.lower())])
    assert_refused(result, rf"nodes 'm' and 'n' both map to {target}, with levels 1 and 3: expected one level "
                           "per account")
    assert cli.as_(9, "status").json()["level"] == 0


def test_register_refuses_a_node_twice_in_the_levels_file(cli):
    result = _register(cli, "twice", '{"levels": {"m": 1, "m": 3}}', [("m", dev_signer(9).address)])
    assert_refused(result, r"twice\.json: key 'm' appears twice in one object")
    assert cli.as_(9, "status").json()["level"] == 0


def test_submit_hashes_a_data_file_larger_than_the_input_limit(cli):
    from eth_utils import keccak

    task = _release(cli, ["p", "q", "r"], "big-data")["taskId"]
    assert cli.as_(ALICE, "claim", task, 0).code == 0
    data = cli.tmp / "sensing.bin"
    data.write_bytes(bytes(range(256)) * 400)  # 100 kB; the limit below is for files that are parsed
    result = cli.run("submit", task, 0, "--data-file", data, "--dev-account", ALICE, "--journal",
                     cli.tmp / f"j{ALICE}.sqlite", "--json", env=cli.env(CROWDSENSE_MAX_INPUT_BYTES="1K"))
    assert result.code == 0, result.stderr
    status = cli.as_(ALICE, "status", task).json()
    assert status["subtasks"][0]["dataHash"] == "0x" + keccak(data.read_bytes()).hex()


def test_password_file_is_bounded_and_its_byte_order_mark_dropped(cli):
    keystore = cli.tmp / "pw-file.json"
    create_keystore(keystore, "right", private_key=dev_signer(DAVE)._account.key, kdf="pbkdf2", iterations=2)
    marked = cli.tmp / "password.txt"
    marked.write_bytes(b"\xef\xbb\xbfright\r\nignored second line\n")
    shown = cli.run("account", "address", "--keystore", keystore, "--password-file", marked, env=cli.env())
    assert shown.code == 0 and shown.stdout.strip() == dev_signer(DAVE).address, shown.stderr
    endless = cli.run("account", "address", "--keystore", keystore, "--password-file", "/dev/zero", env=cli.env())
    assert_refused(endless, r"password file /dev/zero is more than 64 KiB")


def test_missing_deployment_file_refused(cli):
    missing = cli.tmp / "missing.json"
    result = cli.run("status", "--deployment", missing, env=cli.env())
    assert_refused(result, f"deployment file {missing} not found")


def test_wrong_chain_id_refused(cli):
    raw = json.loads(cli.deployment.read_text())
    raw["chainId"] = 11155111
    wrong = cli.tmp / "sepolia.json"
    wrong.write_text(json.dumps(raw))
    assert_refused(cli.run("status", "--deployment", wrong, env=cli.env()),
                   "is for chain id 11155111, but the node reports chain id 31337")


def test_node_down_refused(cli, unused_port):
    url = f"http://127.0.0.1:{unused_port}"
    result = cli.run("status", "--rpc-url", url, "--retries", 1, env=cli.env())
    assert_refused(result, f"node at {url} is unavailable")


def test_keystore_wrong_password_refused(cli):
    keystore = cli.tmp / "alice.json"
    if not keystore.exists():
        create_keystore(keystore, "right", private_key=dev_signer(ALICE)._account.key, kdf="pbkdf2", iterations=2)
    ok = cli.run("status", "--keystore", keystore, "--json", env=cli.env(CROWDSENSE_KEYSTORE_PASSWORD="right"))
    assert ok.code == 0 and ok.json()["account"] == dev_signer(ALICE).address
    bad = cli.run("status", "--keystore", keystore, env=cli.env(CROWDSENSE_KEYSTORE_PASSWORD="wrong"))
    assert_refused(bad, f"wrong password for keystore {keystore}")


def test_private_key_from_environment(cli):
    key = "0x" + dev_signer(DAVE)._account.key.hex().removeprefix("0x")
    result = cli.run("status", "--json", env=cli.env(CROWDSENSE_PRIVATE_KEY=key))
    assert result.code == 0 and result.json()["account"] == dev_signer(DAVE).address
    assert key[2:] not in result.stdout + result.stderr


def test_account_new_then_address(cli):
    keystore = cli.tmp / "new.json"
    env = cli.env(CROWDSENSE_KEYSTORE_PASSWORD="pw", CROWDSENSE_PRIVATE_KEY="0x" + "cd" * 32)
    made = cli.run("account", "new", keystore, "--from-env", env=env)
    assert made.code == 0
    shown = cli.run("account", "address", "--keystore", keystore, env=env)
    from eth_account import Account

    assert shown.stdout.strip() == made.stdout.strip() == Account.from_key("0x" + "cd" * 32).address
    assert "cd" * 8 not in made.stdout + shown.stdout


def test_account_commands_print_json(cli):
    from eth_account import Account

    key = "0x" + "ce" * 32
    keystore = cli.tmp / "json.json"
    env = cli.env(CROWDSENSE_KEYSTORE_PASSWORD="pw", CROWDSENSE_PRIVATE_KEY=key)
    made = cli.run("account", "new", keystore, "--from-env", "--json", env=env)
    assert made.code == 0, made.stderr
    shown = cli.run("account", "address", "--keystore", keystore, "--json", env=env)
    from_env = cli.run("account", "address", "--json", env=env)
    expected = Account.from_key(key).address
    assert made.json() == {"address": expected, "keystore": str(keystore)}
    assert shown.json() == {"address": expected, "keystore": str(keystore)}
    assert from_env.json() == {"address": expected, "keystore": None}
    assert "ce" * 8 not in made.stdout + shown.stdout + from_env.stdout
