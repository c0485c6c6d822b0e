"""The main job end to end, with small options: through the CLI, the library and the brownie script.

The bundled ego-Facebook graph takes seconds to classify; these tests use a 77-node graph and a
few receivers so that each run stays within seconds, and check the chain independently of the
demo's own report wherever they can.
"""

from __future__ import annotations

import json
import os
import signal
import stat
from pathlib import Path
from typing import Any

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak

from crowdsense.chain.node import rpc_alive


def _small(graph: Path, out: Path) -> list[str]:
    return ["--graph", str(graph), "--levels", "3", "--tasks", "2", "--receivers", "6", "--ctbc-users", "16",
            "--k", "3", "--n", "3", "--pdc-receivers", "4", "--pdc-n", "2", "--grid", "20", "--workers", "4",
            "--out", str(out), "--deployments-dir", str(out / "deployments")]


def _tiny(graph: Path, out: Path) -> list[str]:
    return ["--graph", str(graph), "--levels", "2", "--tasks", "1", "--receivers", "3", "--ctbc-users", "6",
            "--k", "2", "--n", "2", "--pdc-receivers", "2", "--pdc-n", "1", "--grid", "10", "--workers", "4",
            "--insecure-test-key", "--key-bits", "512", "--no-plots", "--no-faults", "--out", str(out),
            "--deployments-dir", str(out / "deployments")]


@pytest.fixture(scope="module")
def library_run(node_url: str, small_graph: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One demo run through the library against the suite's node (attached, not owned)."""
    from crowdsense.runs.demo import DemoOptions, run_demo

    out = tmp_path_factory.mktemp("demo-lib")
    lines: list[str] = []
    options = DemoOptions(rpc_url=node_url, graph=small_graph, tasks=2, receivers=6, ctbc_users=16, k=3, n=3,
                          pdc_receivers=4, pdc_n=2, grid=20, key_bits=512, allow_insecure_key=True, seed=5,
                          out=out, deployments_dir=out / "deployments", workers=4)
    result = run_demo(options, echo=lines.append)
    return result, lines


def test_demo_cli_starts_anvil_runs_everything_and_stops_it(small_graph: Path, run_cli: Any, unused_port: int,
                                                           tmp_path: Path) -> None:
    res = run_cli("demo", "--port", unused_port, "--key-bits", 1024, "--no-plots", "--json",
                  *_small(small_graph, tmp_path))
    assert res.code == 0, res.stderr
    out = res.json()
    url = f"http://127.0.0.1:{unused_port}"
    assert out["chain"]["rpcUrl"] == url and out["chain"]["startedNode"] is True
    assert not rpc_alive(url)  # started by the demo, stopped at its end
    assert Path(out["chain"]["deployment"]) == tmp_path / "deployments" / "31337.json"
    assert [r["error"] for r in out["refusals"]][:2] == ["TaskRegistryAlreadyHoldsSubtask", "TaskRegistryLevelMismatch"]
    assert len(out["ctbc"]["selected"]) == 3 and len(out["pdc"]["selected"]) == 2
    assert out["pdc"]["keyBits"] == 1024
    assert out["claims"]["dataSubmitted"] == 6
    assert [lvl["receivers"] for lvl in out["classification"]["levels"]] == [2, 2, 2]
    assert stat.S_IMODE((tmp_path / "audit.json").stat().st_mode) == 0o600
    assert "contracts deployed" in res.stderr and "PDC round" in res.stderr


def test_demo_cli_keep_node_leaves_anvil_running(small_graph: Path, run_cli: Any, unused_port: int,
                                                 tmp_path: Path) -> None:
    res = run_cli("demo", "--port", unused_port, "--keep-node", "--json", *_tiny(small_graph, tmp_path))
    url = f"http://127.0.0.1:{unused_port}"
    pid = res.json()["chain"]["nodePid"] if res.code == 0 else None
    try:
        assert res.code == 0, res.stderr
        assert res.json()["chain"]["nodeKeptRunning"] is True
        assert rpc_alive(url)
        assert res.json()["ctbc"]["failed"] == [] and res.json()["pdc"]["statuses"] == {"accepted": 2}
    finally:
        if pid:
            os.kill(pid, signal.SIGTERM)
            _wait_gone(url)


def _wait_gone(url: str) -> None:
    import time

    deadline = time.monotonic() + 10
    while rpc_alive(url, timeout=0.2) and time.monotonic() < deadline:
        time.sleep(0.1)


def test_demo_cli_rejects_a_url_that_is_not_http(run_cli: Any, tmp_path: Path) -> None:
    res = run_cli("demo", "--rpc-url", "ftp://example.org", "--out", tmp_path)
    assert res.code == 1
    assert res.stderr.startswith("error: rpc_url must start with http") and len(res.stderr.splitlines()) == 1


def test_demo_refuses_a_chain_that_is_not_a_development_chain(run_cli: Any, unused_port: int, small_graph: Path,
                                                             tmp_path: Path) -> None:
    from crowdsense.chain.node import LocalNode

    with LocalNode(port=unused_port, extra_args=["--chain-id", "11155111"]) as node:
        res = run_cli("demo", "--rpc-url", node.url, *_small(small_graph, tmp_path))
    assert res.code == 1
    assert res.stderr.splitlines()[-1].startswith("error: ") and "11155111" in res.stderr.splitlines()[-1]
    assert not (tmp_path / "deployments").exists()  # refused before deploying anything


def test_brownie_script_runs_the_demo_on_the_active_network(node_url: str, small_graph: Path, tmp_path: Path,
                                                            python_subprocess: Any) -> None:
    import shlex

    code = ("from brownie import web3\n"
            f"web3.connect({node_url!r})\n"
            "import runpy\n"
            "runpy.run_path('scripts/demo.py')['main']()\n")
    args = _tiny(small_graph, tmp_path) + ["--json", "--rpc-url", "http://127.0.0.1:1"]  # overridden by the script
    proc = python_subprocess(code, env={"CROWDSENSE_DEMO_ARGS": shlex.join(args)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    start = proc.stdout.index("\n{") + 1
    out = json.loads(proc.stdout[start:])
    assert out["chain"]["rpcUrl"] == node_url and out["chain"]["startedNode"] is False
    assert len(out["ctbc"]["selected"]) == 2 and len(out["pdc"]["selected"]) == 1


def test_demo_leaves_an_attached_node_running(library_run: Any, node_url: str) -> None:
    result, _ = library_run
    assert result.summary["chain"]["startedNode"] is False
    assert rpc_alive(node_url)


def test_demo_claims_every_subtask_at_its_level(library_run: Any, chain_at: Any) -> None:
    result, _ = library_run
    conn = chain_at(result)
    registry = conn.registry.functions
    for task in result.audit["tasks"][:-2]:  # then come the refusal probe and the task for selection
        for sub in task["subtasks"]:
            h, level, claimant, data_hash = registry.getSubtask(task["taskId"], sub["index"]).call()
            assert "0x" + bytes(h).hex() == sub["subtaskHash"]
            assert level == sub["level"]
            assert claimant == sub["claimant"]
            assert registry.levelOf(claimant).call() == 0  # levels are published as a root, not stored
            assert bytes(data_hash) == keccak(sub["data"].encode())
    assert result.summary["claims"]["claimed"] == 2 * 3


def test_demo_task_for_selection_is_claimed_by_pdc_selected_receivers_who_deliver(library_run: Any,
                                                                                   chain_at: Any) -> None:
    """The one task flow: the platform fixed PDC's selection on chain, only selected receivers
    hold its subtasks, each at its level, and their data reached the releaser encrypted."""
    result, _ = library_run
    conn = chain_at(result)
    registry = conn.registry.functions
    flow = result.summary["selectedTask"]
    for_selection, root = registry.taskSelection(flow["taskId"]).call()
    assert for_selection and "0x" + bytes(root).hex() == flow["selectionRoot"]
    selected = {s["account"] for s in result.summary["pdc"]["selected"]}
    levels = {r["address"]: r["level"] for r in result.audit["receivers"]}
    task = result.audit["tasks"][-1]
    assert task["taskId"] == flow["taskId"]
    claimed = [sub for sub in task["subtasks"] if sub["claimant"]]
    assert claimed and len(claimed) == len(flow["claimed"]) == flow["delivered"] == flow["collected"]
    for sub in claimed:
        _, level, claimant, data_hash = registry.getSubtask(task["taskId"], sub["index"]).call()
        assert claimant == sub["claimant"] and claimant in selected and levels[claimant] == level
        assert sub["delivered"] and "0x" + bytes(data_hash).hex() == sub["dataHash"]
        assert bytes(data_hash) != keccak(sub["data"].encode())  # the chain has the ciphertext's hash
    unclaimed = [sub for sub in task["subtasks"] if not sub["claimant"]]
    for sub in unclaimed:
        assert registry.getSubtask(task["taskId"], sub["index"]).call()[2] == "0x" + "00" * 20


def test_demo_subtask_hashes_commit_to_the_encrypted_plaintexts(library_run: Any, chain_at: Any) -> None:
    from crowdsense.ecies import aead_decrypt
    from crowdsense.pmcb.sealing import subtask_aad

    result, _ = library_run
    conn = chain_at(result)
    store = result.out / "state" / "store" / "subtasks"
    for task in result.audit["tasks"]:
        for sub in task["subtasks"]:
            blob = (store / f"{sub['subtaskHash'][2:]}.bin").read_bytes()
            assert "0x" + keccak(blob).hex() == sub["subtaskHash"]
            aad = subtask_aad(conn.chain_id, conn.registry_address, sub["level"], sub["index"])
            assert aead_decrypt(bytes.fromhex(sub["key"][2:]), blob, aad=aad).decode() == sub["plaintext"]


def test_demo_refusals_are_reverted_on_chain_with_typed_errors(library_run: Any, chain_at: Any) -> None:
    result, _ = library_run
    w3 = chain_at(result).w3
    on_chain = [r for r in result.summary["refusals"] if r["refusedOnChain"]]
    assert [r["error"] for r in on_chain] == ["TaskRegistryAlreadyHoldsSubtask", "TaskRegistryLevelMismatch",
                                              "TaskRegistryTaskClosed"]
    for r in on_chain:
        receipt = w3.eth.get_transaction_receipt(r["tx"])
        assert receipt["status"] == 0 and receipt["blockNumber"] == r["block"]
        assert r["clientPreCheck"] == r["error"]
    off_chain = [r for r in result.summary["refusals"] if not r["refusedOnChain"]]
    assert [r["error"] for r in off_chain] == ["DecryptionError"]


def test_demo_ctbc_selected_users_revealed_on_chain(library_run: Any, chain_at: Any) -> None:
    result, _ = library_run
    verifier = chain_at(result).verifier
    users = result.audit["ctbc"]["users"]
    selected = [u for u in users if u["selected"]]
    assert len(selected) == 3 and {u["account"] for u in selected} == set(result.summary["ctbc"]["selected"])
    for u in users:
        recorded, _, _, revealed = verifier.functions.bitCommitment(
            u["account"], bytes.fromhex(u["commitment"][2:])).call()
        assert recorded
        assert revealed == u["selected"]
    assert sorted(u["fault"] for u in users if u["fault"]) == ["absent", "tamper"]


def test_demo_pdc_r_values_revealed_at_the_recorded_blocks(library_run: Any, chain_at: Any) -> None:
    result, _ = library_run
    verifier = chain_at(result).verifier
    logs = verifier.events.BlindingRevealed().get_logs(from_block=result.summary["chain"]["fromBlock"],
                                                      to_block=result.summary["chain"]["toBlock"])
    revealed = {"0x" + bytes(e["args"]["commitment"]).hex(): (int(e["args"]["r"]), e["blockNumber"]) for e in logs}
    receivers = result.audit["pdc"]["receivers"]
    for rec in receivers:
        c = rec["commitment"]
        assert keccak(abi_encode(["uint256", "bytes32"], [rec["r"], bytes.fromhex(rec["salt"][2:])])).hex() == c[2:]
        if rec["fault"] == "liar":
            assert c not in revealed and rec["status"] == "rejected"
        else:
            assert revealed[c] == (rec["r"], rec["revealBlock"])
            assert rec["acceptedDistance"] == rec["trueDistance"]


def test_demo_gas_table_counts_the_chain_transactions(library_run: Any, chain_at: Any) -> None:
    result, _ = library_run
    gas = result.summary["gas"]
    chain = result.summary["chain"]
    assert sum(r["count"] for r in gas.values()) == chain["transactions"]
    assert gas["CommitmentVerifier.commitBit"]["count"] == 16
    assert gas["TaskRegistry.claimSubtaskWithProof (reverted)"]["count"] == 3
    assert gas["TaskRegistry.claimSubtaskWithProof"]["count"] == 2 * 3 + 1  # the tasks' subtasks and the probe's first
    assert gas["TaskRegistry.setLevelsRoot"]["count"] == 1 and "TaskRegistry.setLevels" not in gas


def test_demo_states_no_level_of_a_receiver_that_never_claimed(library_run: Any, chain_at: Any) -> None:
    """Levels go out as one root: no LevelSet event, and the levels on chain are those of claims."""
    result, _ = library_run
    conn = chain_at(result)
    registry = conn.registry
    start = result.summary["chain"]["fromBlock"]
    assert registry.events.LevelSet().get_logs(from_block=start) == []
    claimed = {log["args"]["claimant"] for log in registry.events.SubtaskClaimed().get_logs(from_block=start)}
    receivers = {a["address"] for a in result.audit["receivers"]}
    assert claimed and all(registry.functions.levelOf(a).call() == 0 for a in claimed | receivers)
    (root_set,) = registry.events.LevelsRootSet().get_logs(from_block=start)
    assert "0x" + bytes(root_set["args"]["root"]).hex() == result.summary["registration"]["root"]


def test_demo_writes_plots_summary_and_a_private_audit(library_run: Any) -> None:
    result, lines = library_run
    for name in ("levels.png", "ctbc_selection.png", "pdc_distances.png", "gas.png", "summary.json", "levels.json"):
        assert (result.out / name).stat().st_size > 0
    audit = result.out / "audit.json"
    assert stat.S_IMODE(audit.stat().st_mode) == 0o600
    assert "SECRET" in json.loads(audit.read_text())["_warning"]
    assert json.loads((result.out / "summary.json").read_text())["chain"] == result.summary["chain"]
    assert any("CTBC round" in line for line in lines)


def test_demo_summary_table_shows_every_part(library_run: Any) -> None:
    from crowdsense.runs.demo import format_summary

    result, _ = library_run
    text = format_summary(result.summary)
    for needle in ("PMCB classification", "refusals", "TaskRegistryLevelMismatch", "CTBC round", "PDC round",
                   "for selection", "data delivered", "gas per transaction type", "wall time"):
        assert needle in text
