"""Every failure of every command is one line: ``error: <what was wrong>: <what is expected>``.

The sweeps are built from the CLI itself (the commands of ``crowdsense --help`` and of its
groups, and their parameters), so a new command or option is swept without editing this file,
and a new file option must be declared an input or an output here:

* every integer parameter, given a value just outside its declared range: every integer has
  both bounds (those reaching a contract or the node are bounded by their ABI type, e.g. a task
  id by uint256), and every float refuses ``nan``;
* every command that reads a deployment file, given one whose contract entries point at the
  wrong contract;
* every file a command reads, given non-UTF-8, binary and truncated-JSON content.

Each case must exit non-zero with exactly one line on stderr, starting with ``error: `` and
holding ``: `` between what was wrong and what is expected, no traceback on stdout, and no
file left behind in the case's folder (no output file, journal or keystore of a refused run).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest

from crowdsense.chain.accounts import create_keystore, dev_signer

UINT256_OVERFLOW = 2**256
#: The commands the task-id sweep of the chain runs, with TASK_ID in the place of ``{id}``.
TASK_ID_COMMANDS = [("status", "{id}"), ("claim", "{id}"), ("fetch", "{id}", "0"),
                    ("submit", "{id}", "0", "--data", "x"), ("close", "{id}"), ("handover", "{id}")]
BAD_CONTENT: dict[str, bytes] = {
    "non-utf8": b"\xff\xfe\xfa{\"levels\": 1}\n",
    "binary": bytes(range(256)) * 4,
    "truncated-json": b'{"levels": {"a": 1, "b"',
}


# ---------------------------------------------------------------------------- the CLI's own inventory


def _leaf_commands() -> list[tuple[str, click.Command]]:
    """Every command of ``crowdsense --help``, a group's sub-commands in its place."""
    from crowdsense.cli.main import cli

    ctx = click.Context(cli)
    out: list[tuple[str, click.Command]] = []
    for name in cli.list_commands(ctx):
        command = cli.get_command(ctx, name)
        assert command is not None, name
        if isinstance(command, click.Group):
            out += [(f"{name} {sub}", command.get_command(click.Context(command), sub))  # type: ignore[misc]
                    for sub in command.list_commands(click.Context(command))]
        else:
            out.append((name, command))
    return out


COMMANDS = _leaf_commands()


def _placeholder(param: click.Parameter) -> str:
    """A value ``param`` accepts (for the positional arguments before the one under test)."""
    if isinstance(param.type, click.IntRange):
        return str(param.type.min)
    if isinstance(param.type, click.Choice):
        return str(param.type.choices[0])
    return "placeholder"


def _invocation(command: click.Command, param: click.Parameter, value: str) -> list[str]:
    """Arguments that give ``param`` the ``value`` (options first, then ``--`` and the positionals)."""
    if isinstance(param, click.Option):
        return [param.opts[0], value]
    positionals = [p for p in command.params if isinstance(p, click.Argument)]
    before = positionals[:positionals.index(param)]
    return ["--", *(_placeholder(p) for p in before), value]


def _int_cases() -> list[Any]:
    cases = []
    for name, command in COMMANDS:
        for param in command.params:
            if not isinstance(param.type, click.IntRange):
                continue
            for side, value in (("below", param.type.min), ("above", param.type.max)):
                if value is not None:
                    bad = value - 1 if side == "below" else value + 1
                    cases.append(pytest.param(name, _invocation(command, param, str(bad)),
                                              id=f"{name}-{param.name}-{side}"))
    return cases


def _float_cases() -> list[Any]:
    return [pytest.param(name, _invocation(command, param, "nan"), id=f"{name}-{param.name}-nan")
            for name, command in COMMANDS for param in command.params
            if isinstance(param.type, click.types.FloatParamType)]


def assert_one_error_line(result: Any) -> str:
    """The common contract of every failure; returns the error line."""
    assert result.code != 0, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("error: "), line
    assert ": " in line[len("error: "):], f"no ': ' between what was wrong and what is expected: {line}"
    assert "Traceback" not in result.stdout + result.stderr
    return line


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


# ---------------------------------------------------------------------------- integers and floats


def test_every_integer_parameter_is_a_range_and_chain_integers_have_their_abi_bounds() -> None:
    """No integer reaches a contract, the node or numpy unchecked: each is a range with a minimum
    and, where it goes to a contract or the node, the maximum of its ABI type."""
    from crowdsense.cli.clientctx import ChainInt

    unbounded = [f"{name} {p.name}" for name, command in COMMANDS for p in command.params
                 if isinstance(p.type, click.types.IntParamType)
                 and (not isinstance(p.type, click.IntRange) or p.type.min is None)]
    assert unbounded == []
    chain_ints = {p.name: p.type for _, command in COMMANDS for p in command.params if isinstance(p.type, ChainInt)}
    assert {"task_id", "task_ids", "index", "from_block", "to_block", "min_age", "max_age"} <= set(chain_ints)
    assert chain_ints["task_id"].max == chain_ints["index"].max == 2**256 - 1
    assert chain_ints["min_age"].max == 2**64 - 1  # CommitmentVerifier's ages are uint64


def test_every_float_parameter_refuses_non_finite_numbers() -> None:
    from crowdsense.cli.clientctx import FiniteRange

    loose = [f"{name} {p.name}" for name, command in COMMANDS for p in command.params
             if isinstance(p.type, click.types.FloatParamType) and not isinstance(p.type, FiniteRange)]
    assert loose == []


@pytest.mark.parametrize("command, args", _int_cases() + _float_cases())
def test_out_of_range_number_is_one_usage_line(run_cli: Any, tmp_path: Path, command: str, args: list[str]) -> None:
    before = _files(tmp_path)
    result = run_cli(*command.split(), *args, env={"CROWDSENSE_JOURNAL": str(tmp_path / "journal.sqlite"),
                                                   "CROWDSENSE_STORE": str(tmp_path / "store")})
    line = assert_one_error_line(result)
    assert result.code == 2 and "Invalid value" in line
    assert _files(tmp_path) == before


def test_usage_errors_without_a_value_point_at_the_help(run_cli: Any) -> None:
    line = assert_one_error_line(run_cli("close"))
    assert line == "error: Missing argument 'TASK_ID': see 'crowdsense close --help'"


def test_a_group_without_a_sub_command_shows_its_help(run_cli: Any) -> None:
    result = run_cli("account")
    assert result.code == 2 and "Commands:" in result.stderr + result.stdout and "error" not in result.stderr


# ---------------------------------------------------------------------------- the chain


@dataclass
class Chain:
    url: str
    tmp: Path
    deployment: Path
    files: dict[str, Path]

    def env(self, folder: Path) -> dict[str, str]:
        return {"CROWDSENSE_RPC_URL": self.url, "CROWDSENSE_DEPLOYMENT": str(self.deployment),
                "CROWDSENSE_JOURNAL": str(folder / "journal.sqlite"), "CROWDSENSE_STORE": str(folder / "store")}


@pytest.fixture(scope="module")
def chain(node_url: str, tmp_path_factory: pytest.TempPathFactory) -> Chain:
    """A deployment whose admin, registrar and releaser are dev account 0, and valid input files."""
    from crowdsense.chain.connection import connect, deploy_contracts

    tmp = tmp_path_factory.mktemp("error-lines")
    deployment = tmp / "deployment.json"
    deploy_contracts(connect(node_url, retries=1, backoff=0.05), dev_signer(0), 3, path=deployment)
    keystore = tmp / "keystore.json"
    create_keystore(keystore, "pw", private_key=dev_signer(0)._account.key, kdf="pbkdf2", iterations=2)
    files = {"levels": tmp / "levels.json", "task": tmp / "task.json", "graph": tmp / "graph.txt",
             "keystore": keystore, "addresses": tmp / "addresses.csv"}
    files["addresses"].write_text(f"node,address\na,{dev_signer(5).address}\n")
    files["levels"].write_text(json.dumps({"levels": {"a": 1, "b": 2}}))
    files["task"].write_text(json.dumps({"title": "t", "parts": ["a", "b", "c"]}))
    files["graph"].write_text("0 1\n1 2\n2 0\n2 3\n")
    from crowdsense.pmcb.levels_tree import LevelsTree, write_proof_json

    registry = json.loads(deployment.read_text())["contracts"]["TaskRegistry"]["address"]
    tree = LevelsTree.build({dev_signer(0).address: 1, dev_signer(5).address: 2}, chain_id=31337, registry=registry)
    files["tree"] = tree.save(tmp / "levels.tree")
    files["proof"] = write_proof_json(tree.proof_of(dev_signer(0).address), tmp / "proof.json")
    from crowdsense.ldpf.selection import Selection

    files["accounts"] = tmp / "selected.txt"
    files["accounts"].write_text(f"{dev_signer(0).address}\n{dev_signer(5).address}  # both\n")
    chosen = Selection.build([dev_signer(0).address], chain_id=31337, registry=registry, task_id=0)
    files["selection"] = tmp / "selection.json"
    files["selection"].write_text(json.dumps(chosen.proof_of(dev_signer(0).address).to_json()))
    from crowdsense.ldpf.pdc.keys import generate_keypair, write_private_key

    files["pdckey"] = write_private_key(generate_keypair(256, allow_insecure=True)[1], tmp / "pdc-key.json")
    from crowdsense.ldpf.ctbc.sealed import write_platform_key

    files["ctbckey"] = tmp / "ctbc-key.json"
    write_platform_key(files["ctbckey"])
    return Chain(node_url, tmp, deployment, files)


def _wrong_contract(chain: Chain, folder: Path, how: str) -> Path:
    raw = json.loads(chain.deployment.read_text())
    contracts = raw["contracts"]
    registry, verifier = contracts["TaskRegistry"]["address"], contracts["CommitmentVerifier"]["address"]
    if how == "registry-at-verifier":
        contracts["TaskRegistry"]["address"] = verifier
    elif how == "verifier-at-registry":
        contracts["CommitmentVerifier"]["address"] = registry
    else:  # an account without code
        contracts["TaskRegistry"]["address"] = dev_signer(9).address
    path = folder / "wrong-deployment.json"
    path.write_text(json.dumps(raw))
    return path


#: Arguments with which each command gets as far as reading its files (a valid invocation).
VALID_ARGS: dict[str, list[str]] = {
    "classify": ["--levels", "2", "--out", "{d}/levels-out.json"],
    "deploy": ["--out", "{d}/deployment-out.json"],
    "grant": ["registrar", dev_signer(5).address],
    "status": [],
    "resume": [],
    "register": ["{levels}", "--addresses", "{addresses}"],
    "levels publish": ["{levels}", "--addresses", "{addresses}", "--tree", "{d}/levels.tree"],
    "levels proof": [dev_signer(5).address, "--tree", "{tree}"],
    "release": ["{task}"],
    "selection publish": ["0", "--accounts-file", "{accounts}", "--out-dir", "{d}/selection"],
    "selection proof": ["0", dev_signer(5).address, "--out-dir", "{d}/selection"],
    "handover": [],
    "close": ["0"],
    "collect": ["0", "--out-dir", "{d}/data"],
    "list": ["--level", "1", "--proof", "{proof}"],
    "claim": ["0", "0", "--proof", "{proof}", "--selection", "{selection}"],
    "fetch": ["0", "0", "--out", "{d}/subtask.txt"],
    "submit": ["0", "0", "--data", "x"],
    "account new": ["{d}/new-keystore.json"],
    "account address": [],
    "ctbc round": ["--users", "4", "--k", "2", "--n", "2", "--audit", "{d}/audit.json"],
    "pdc round": ["--receivers", "2", "--key-bits", "512", "--insecure-test-key", "--audit", "{d}/audit.json"],
    "demo": ["--rpc-url", "{url}", "--out", "{d}/demo-out", "--deployments-dir", "{d}/deployments", "--no-plots"],
    "service serve": ["--database-url", "sqlite:///{d}/service.sqlite", "--pdc-key", "{pdckey}", "--pdc-operator",
                      dev_signer(0).address, "--rpc-url", "{url}", "--insecure-test-key", "--ctbc-key", "{ctbckey}",
                      "--ctbc-operator", dev_signer(0).address],
    "pdc keygen": ["--out", "{d}/pdc-key.json", "--key-bits", "256", "--insecure-test-key"],
    # the PDC commands fail on their own input before they reach the service (none answers here)
    "pdc open": ["t1", "--service", "http://127.0.0.1:9", "--origin", "-22.95,-43.3", "--cell", "50", "--width", "40",
                 "--centre", "-22.942,-43.291"],
    "pdc answer": ["t1", "--service", "http://127.0.0.1:9", "--location", "-22.945,-43.295"],
    "pdc answers": ["t1", "--service", "http://127.0.0.1:9", "--n", "1", "--accounts-out", "{d}/selected.txt"],
    # the CTBC parties' commands likewise, or at the service none answers
    "ctbc keygen": ["--out", "{d}/ctbc-key.json"],
    "ctbc join": ["--edge", "http://127.0.0.1:9", "--anonymizer", "http://127.0.0.1:9", "--epoch", "1",
                  "--location", "-22.9,-43.2", "--retries", "0"],
    "ctbc commit": ["--anonymizer", "http://127.0.0.1:9", "--service", "http://127.0.0.1:9", "--epoch", "1",
                    "--retries", "0"],
    "ctbc reveal": ["t1", "--service", "http://127.0.0.1:9", "--retries", "0"],
    "ctbc open": ["t1", "--service", "http://127.0.0.1:9", "--edge", "http://127.0.0.1:9", "--epoch", "1",
                  "--centre", "-22.9,-43.2", "--half-width", "100", "--n", "1", "--k", "2", "--retries", "0"],
    "ctbc selection": ["t1", "--service", "http://127.0.0.1:9", "--accounts-out", "{d}/selected.txt", "--retries", "0"],
    "edge open-epoch": ["--service", "http://127.0.0.1:9", "--origin", "-22.9,-43.2", "--retries", "0"],
    "edge register": ["--service", "http://127.0.0.1:9", dev_signer(5).address, "--accounts-file", "{accounts}",
                      "--retries", "0"],
    "edge group": ["--service", "http://127.0.0.1:9", "--epoch", "1", "--k", "2", "--retries", "0"],
}
#: File parameters each command reads (by parameter name), and the options that make it read them.
INPUTS: dict[str, dict[str, str]] = {"graph": {}, "levels_file": {}, "addresses_file": {}, "task_file": {},
                                     "deployment": {}, "journal_path": {},
                                     "keystore": {"CROWDSENSE_KEYSTORE_PASSWORD": "pw"}, "password_file": {},
                                     "tree_path": {}, "proof_file": {}, "accounts_file": {}, "selection_file": {},
                                     "pdc_key": {}, "ctbc_key": {}}
#: File parameters a command writes (or a folder it writes into): never read as input.
OUTPUTS = {"out", "out_path", "features_path", "write_addresses", "audit_path", "store_path", "deployments_dir", "out_dir",
           "accounts_out", "data_file"}  # submit hashes the raw bytes of --data-file: any content is valid data
#: Parameters named like an input that a command writes instead.
WRITTEN = {("account new", "keystore")}


def _fill(args: list[str], chain: Chain, folder: Path) -> list[str]:
    values = {"d": folder, "url": chain.url, **chain.files}
    return [a.format(**values) for a in args]


def test_every_command_has_valid_arguments_and_every_file_option_is_classified() -> None:
    assert sorted(VALID_ARGS) == sorted(name for name, _ in COMMANDS)
    file_params = {(name, p.name) for name, command in COMMANDS for p in command.params
                   if isinstance(p.type, click.Path) or p.name == "graph"}
    assert {(c, p) for c, p in file_params if p not in INPUTS and p not in OUTPUTS} - WRITTEN == set()


def _takes(name: str, option: str) -> bool:
    """Whether command ``name`` has the option whose parameter is called ``option``."""
    return any(p.name == option and isinstance(p, click.Option) for p in dict(COMMANDS)[name].params)


def _account_args(name: str) -> list[str]:
    return ["--dev-account", "0"] if _takes(name, "dev_account") else []


@pytest.mark.parametrize("how", ["registry-at-verifier", "verifier-at-registry", "registry-at-an-account"])
@pytest.mark.parametrize("name", [name for name, _ in COMMANDS if _takes(name, "deployment")])
def test_wrong_contract_deployment_is_one_line(chain: Chain, run_cli: Any, tmp_path: Path, name: str,
                                               how: str) -> None:
    wrong = _wrong_contract(chain, tmp_path, how)
    before = _files(tmp_path)
    result = run_cli(*name.split(), *_fill(VALID_ARGS[name], chain, tmp_path), *_account_args(name),
                     "--deployment", wrong, env=chain.env(tmp_path))
    line = assert_one_error_line(result)
    assert str(wrong) in line and ("is not the shipped" in line or "no contract code" in line), line
    assert _files(tmp_path) == before  # no journal, store, audit or output file


def _file_cases() -> list[Any]:
    cases = []
    for name, command in COMMANDS:
        for param in command.params:
            if param.name in INPUTS and (name, param.name) not in WRITTEN:
                for kind in BAD_CONTENT:
                    if param.name == "password_file" and kind == "truncated-json":
                        continue  # UTF-8 text: a password like any other (a wrong one)
                    cases.append(pytest.param(name, param, kind, id=f"{name}-{param.name}-{kind}"))
    return cases


@pytest.mark.parametrize("name, param, kind", _file_cases())
def test_undecodable_input_file_is_one_line(chain: Chain, run_cli: Any, tmp_path: Path, name: str,
                                            param: click.Parameter, kind: str) -> None:
    bad = tmp_path / f"bad-{kind}"
    bad.write_bytes(BAD_CONTENT[kind])
    args = _fill(VALID_ARGS[name], chain, tmp_path)
    if isinstance(param, click.Argument):  # the command's first argument (VALID_ARGS starts with it)
        args[0] = str(bad)
    else:  # given again after the valid value: the last one counts
        args += [param.opts[0], str(bad)]
    if param.name == "password_file" and _takes(name, "keystore"):
        args += ["--keystore", str(chain.files["keystore"])]
    elif param.name != "keystore":
        args += _account_args(name)
    before = _files(tmp_path)
    result = run_cli(*name.split(), *args, env={**chain.env(tmp_path), **INPUTS[param.name]})
    line = assert_one_error_line(result)
    assert bad.name in line, line
    assert _files(tmp_path) == before


# ---------------------------------------------------------------------------- the cases found by hand


@pytest.mark.parametrize("args", TASK_ID_COMMANDS, ids=[a[0] for a in TASK_ID_COMMANDS])
def test_task_id_beyond_uint256_is_one_line(chain: Chain, run_cli: Any, tmp_path: Path, args: tuple[str, ...]) -> None:
    argv = [a.format(id=UINT256_OVERFLOW) for a in args]
    line = assert_one_error_line(run_cli(*argv, "--dev-account", "0", env=chain.env(tmp_path)))
    assert f"{UINT256_OVERFLOW} is not in the range 0..2**256-1" in line
    assert _files(tmp_path) == set()


def test_refused_command_leaves_no_journal(chain: Chain, run_cli: Any, tmp_path: Path) -> None:
    """Refused by the chain state (an unknown task), after the client opened its journal."""
    line = assert_one_error_line(run_cli("close", 4242, "--dev-account", "0", env=chain.env(tmp_path)))
    assert "unknown task 4242" in line
    assert _files(tmp_path) == set()


def test_resume_exits_non_zero_when_a_transaction_cannot_be_finished(chain: Chain, run_cli: Any,
                                                                     tmp_path: Path) -> None:
    from crowdsense.chain.connection import connect
    from crowdsense.chain.journal import Journal
    from web3 import Web3

    signer = dev_signer(6)
    w3 = connect(chain.url, retries=1, backoff=0.05)
    nonce = w3.eth.get_transaction_count(signer.address)
    # Signed with too little gas to be accepted: the node refuses it when resume broadcasts it.
    signed = signer.sign_transaction({"to": dev_signer(7).address, "value": 1, "gas": 20_000, "nonce": nonce,
                                      "gasPrice": w3.eth.gas_price, "chainId": w3.eth.chain_id})
    with Journal(tmp_path / "journal.sqlite") as journal:
        journal.record_prepared(intent_id="transfer/doomed", chain_id=w3.eth.chain_id, sender=signer.address,
                                kind="transfer", to=dev_signer(7).address, nonce=nonce,
                                tx_hash=Web3.to_hex(signed.hash), raw_tx=Web3.to_hex(signed.raw_transaction))
    result = run_cli("resume", "--dev-account", "6", "--json", env=chain.env(tmp_path))
    line = assert_one_error_line(result)
    assert result.code == 1 and "1 of 1 pending transaction(s) could not be finished" in line
    assert [r["intent"] for r in json.loads(result.stdout) if r["error"]] == ["transfer/doomed"]


def test_non_utf8_password_file_is_one_line(run_cli: Any, tmp_path: Path) -> None:
    keystore = tmp_path / "keystore.json"
    create_keystore(keystore, "pw", kdf="pbkdf2", iterations=2)
    password = tmp_path / "password.txt"
    password.write_bytes(b"p\xe9\xff\n")
    line = assert_one_error_line(run_cli("account", "address", "--keystore", keystore, "--password-file", password))
    assert f"password file {password} is not UTF-8 text" in line


def _without_terminal(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``crowdsense ARGS`` in a new session (no controlling terminal) with stdin from /dev/null."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROWDSENSE_")}
    return subprocess.run([sys.executable, "-m", "crowdsense.cli.main", *args], cwd=cwd, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
                          start_new_session=True)


@pytest.mark.skipif(sys.platform == "win32", reason="sessions without a terminal are a POSIX notion")
def test_keystore_without_password_or_terminal_says_how_to_give_one(tmp_path: Path) -> None:
    keystore = tmp_path / "keystore.json"
    create_keystore(keystore, "pw", kdf="pbkdf2", iterations=2)
    for args in (("account", "address", "--keystore", str(keystore)), ("account", "new", str(tmp_path / "new.json"))):
        result = _without_terminal(*args, cwd=tmp_path)
        assert result.returncode == 1, result.stderr
        assert result.stderr.splitlines() == [
            "error: no keystore password and no terminal to ask for it: give --password-file FILE or set "
            "$CROWDSENSE_KEYSTORE_PASSWORD"]
    assert _files(tmp_path) == {"keystore.json"}


def test_demo_refused_on_a_public_chain_leaves_no_folder(run_cli: Any, unused_port: int, tmp_path: Path) -> None:
    from crowdsense.chain.node import LocalNode

    graph = tmp_path / "graph.txt"
    graph.write_text("".join(f"{i} {(i + 1) % 12}\n{i} {(i + 5) % 12}\n" for i in range(12)))
    with LocalNode(port=unused_port, extra_args=["--chain-id", "11155111"]) as node:
        result = run_cli("demo", "--rpc-url", node.url, "--graph", graph, "--out", tmp_path / "out",
                         "--deployments-dir", tmp_path / "deployments", "--no-plots")
    line = assert_one_error_line(result)
    assert "11155111" in line
    assert _files(tmp_path) == {"graph.txt"}
