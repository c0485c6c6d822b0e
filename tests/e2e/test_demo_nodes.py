"""The main job on Anvil and on Ganache as each starts with its own defaults, and on a node that
cannot fund the demo's parties.

A default Ganache draws a random mnemonic: the demo's admin, registrar and releaser (Anvil's
public dev accounts) start with nothing there, so the demo must fund every party through the
node itself. Ganache also words its reverts its own way; a full run covers it.
"""

from __future__ import annotations

import http.server
import json
import threading
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

from crowdsense.chain.node import LocalNode, free_port, rpc_alive
from crowdsense.errors import ToolchainError

#: Small options: one task over two levels, a few parties, a short Paillier key.
SMALL = dict(levels=2, tasks=1, receivers=4, ctbc_users=10, k=2, n=2, pdc_receivers=3, pdc_n=2, grid=10,
             key_bits=256, allow_insecure_key=True, workers=4, plots=False)
#: The client names the nodes report (``web3_clientVersion``), by kind.
CLIENT_PREFIX = {"anvil": "anvil/", "ganache": "Ganache/"}


def _role_addresses() -> list[str]:
    from crowdsense.chain.accounts import dev_signer

    return [dev_signer(i).address for i in range(3)]  # admin, registrar, releaser


@pytest.fixture(scope="module", params=["anvil", "ganache"])
def default_node(request: pytest.FixtureRequest) -> Iterator[LocalNode]:
    """A node of each kind, started with its own defaults on a free port."""
    try:
        node = LocalNode(request.param, port=free_port()).start()
    except ToolchainError as exc:
        pytest.fail(f"cannot start {request.param}: {exc}; run `make setup` to install it", pytrace=False)
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="module")
def demo_run(default_node: LocalNode, small_graph: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One demo run against ``default_node`` and the roles' balances before it."""
    from crowdsense.chain.connection import connect
    from crowdsense.runs.demo import DemoOptions, run_demo

    w3 = connect(default_node.url, retries=1, backoff=0.05)
    before = {a: w3.eth.get_balance(a) for a in _role_addresses()}
    out = tmp_path_factory.mktemp(f"demo-{default_node.kind}")
    options = DemoOptions(rpc_url=default_node.url, graph=small_graph, out=out, deployments_dir=out / "deployments",
                          seed=3, **SMALL)  # type: ignore[arg-type]
    return run_demo(options), before, w3


def test_demo_completes_on_a_default_node(default_node: LocalNode, demo_run: Any) -> None:
    result, _, _ = demo_run
    s = result.summary
    assert s["chain"]["client"].startswith(CLIENT_PREFIX[default_node.kind])
    assert s["chain"]["startedNode"] is False
    assert [lvl["level"] for lvl in s["classification"]["levels"]] == list(range(1, SMALL["levels"] + 1))
    assert sum(lvl["receivers"] for lvl in s["classification"]["levels"]) == SMALL["receivers"]
    subtasks = SMALL["tasks"] * SMALL["levels"]
    assert s["claims"] == {"subtasks": subtasks, "claimed": subtasks, "keysHandedOver": subtasks,
                           "fetchedAndDecrypted": subtasks, "dataSubmitted": subtasks}
    on_chain = [r["error"] for r in s["refusals"] if r["refusedOnChain"]]
    assert on_chain == ["TaskRegistryAlreadyHoldsSubtask", "TaskRegistryLevelMismatch", "TaskRegistryTaskClosed"]
    assert len(s["ctbc"]["selected"]) == SMALL["n"]
    assert len(s["pdc"]["selected"]) == SMALL["pdc_n"]
    assert sorted(u["fault"] for u in result.audit["ctbc"]["users"] if u["fault"]) == ["absent", "tamper"]


def test_demo_funds_the_roles_through_the_node(default_node: LocalNode, demo_run: Any) -> None:
    result, before, w3 = demo_run
    node_accounts = set(w3.eth.accounts)
    for address in _role_addresses():
        if default_node.kind == "ganache":
            assert address not in node_accounts and before[address] == 0  # a random mnemonic: nothing to spend
        assert w3.eth.get_balance(address) > 0
    assert w3.eth.get_code(result.summary["chain"]["taskRegistry"]) not in (b"", None)


def test_gas_estimate_reverts_are_typed_on_every_node(demo_run: Any, chain_at: Any) -> None:
    from crowdsense.chain.errors import UnknownTaskError
    from crowdsense.chain.reverts import call_decoded

    result, _, w3 = demo_run
    registry = chain_at(result).registry
    tx = {"from": w3.eth.accounts[0], "to": registry.address,
          "data": registry.functions.claimSubtask(10**6, 0, b"\x01" * 32)._encode_transaction_data()}
    for request in (w3.eth.estimate_gas, w3.eth.call):
        with pytest.raises(UnknownTaskError) as err:
            call_decoded(request, tx)
        assert err.value.taskId == 10**6


def test_demo_cli_starts_ganache_and_stops_it(small_graph: Path, run_cli: Any, unused_port: int,
                                              tmp_path: Path) -> None:
    res = run_cli("demo", "--node", "ganache", "--port", unused_port, "--graph", small_graph, "--levels", 2,
                  "--tasks", 1, "--receivers", 2, "--ctbc-users", 4, "--k", 2, "--n", 2, "--pdc-receivers", 2,
                  "--pdc-n", 1, "--grid", 10, "--key-bits", 256, "--insecure-test-key", "--no-faults", "--no-plots",
                  "--json", "--out", tmp_path, "--deployments-dir", tmp_path / "deployments")
    assert res.code == 0, res.stderr
    chain = res.json()["chain"]
    assert chain["startedNode"] is True and chain["client"].startswith(CLIENT_PREFIX["ganache"])
    assert chain["rpcUrl"] == f"http://127.0.0.1:{unused_port}" and not rpc_alive(chain["rpcUrl"])
    assert res.json()["claims"]["dataSubmitted"] == 2


def test_demo_node_option_offers_the_nodes_it_can_start() -> None:
    from crowdsense.chain.node import NODE_KINDS
    from crowdsense.cli.demo import demo
    from crowdsense.errors import InputError
    from crowdsense.runs.demo import DemoOptions

    assert tuple(next(p for p in demo.params if p.name == "node").type.choices) == NODE_KINDS  # type: ignore[attr-defined]
    with pytest.raises(InputError, match=r"node must be one of .*'geth'"):
        DemoOptions(node="geth").validate()  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- funding


class DevMethodsHidden:
    """A JSON-RPC proxy in front of ``target`` that answers ``hidden`` methods with "method not
    found" and, unless ``accounts``, reports no unlocked accounts; it records the methods asked."""

    def __init__(self, target: str, hidden: tuple[str, ...], *, accounts: bool) -> None:
        self.asked: list[str] = []
        proxy = self

        def answer(call: dict[str, Any]) -> dict[str, Any] | None:
            if call["method"] in hidden:
                return {"jsonrpc": "2.0", "id": call["id"],
                        "error": {"code": -32601, "message": f"the method {call['method']} does not exist"}}
            if call["method"] == "eth_accounts" and not accounts:
                return {"jsonrpc": "2.0", "id": call["id"], "result": []}
            return None

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                calls = body if isinstance(body, list) else [body]
                proxy.asked.extend(c["method"] for c in calls)
                local = [answer(c) for c in calls]
                rest = [c for c, a in zip(calls, local) if a is None]
                forwarded = iter(_forward(target, rest) if rest else [])
                answers = [a if a is not None else next(forwarded) for a in local]
                data = json.dumps(answers if isinstance(body, list) else answers[0]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _forward(target: str, calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    request = urllib.request.Request(target, data=json.dumps(calls).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        answers = json.loads(response.read())
    by_id = {a["id"]: a for a in answers}
    return [by_id[c["id"]] for c in calls]


@pytest.fixture()
def hiding_proxy(default_node: LocalNode) -> Iterator[Any]:
    """``hiding_proxy(accounts=...)``: a :class:`DevMethodsHidden` in front of ``default_node``."""
    from crowdsense.chain.registration import SET_BALANCE_METHODS

    proxies: list[DevMethodsHidden] = []

    def make(*, accounts: bool) -> DevMethodsHidden:
        proxies.append(DevMethodsHidden(default_node.url, SET_BALANCE_METHODS, accounts=accounts))
        return proxies[-1]

    yield make
    for p in proxies:
        p.close()


def test_funding_falls_back_to_the_nodes_unlocked_accounts(hiding_proxy: Any) -> None:
    from crowdsense.chain.accounts import simulation_signer
    from crowdsense.chain.connection import connect
    from crowdsense.chain.registration import fund_dev_accounts

    proxy = hiding_proxy(accounts=True)
    w3 = connect(proxy.url, retries=1, backoff=0.05)
    fresh = [simulation_signer(f"unlocked-{i}", seed="fallback").address for i in range(3)]
    assert fund_dev_accounts(w3, fresh, wei=10**17) == 3
    assert [w3.eth.get_balance(a) for a in fresh] == [10**17] * 3
    assert proxy.asked.count("eth_sendTransaction") == 3


def test_funding_leaves_accounts_that_hold_enough_alone(default_node: LocalNode) -> None:
    from crowdsense.chain.connection import connect
    from crowdsense.chain.registration import fund_dev_accounts

    w3 = connect(default_node.url, retries=1, backoff=0.05)
    rich = w3.eth.accounts[-1]
    held = w3.eth.get_balance(rich)
    fund_dev_accounts(w3, [rich], wei=held // 2)
    assert w3.eth.get_balance(rich) == held


def test_demo_on_a_node_that_cannot_fund_says_what_to_do(hiding_proxy: Any, default_node: LocalNode,
                                                        small_graph: Path, run_cli: Any, tmp_path: Path) -> None:
    from crowdsense.chain.registration import SET_BALANCE_METHODS

    proxy = hiding_proxy(accounts=False)
    res = run_cli("demo", "--rpc-url", proxy.url, "--graph", small_graph, "--out", tmp_path,
                  "--deployments-dir", tmp_path / "deployments")
    assert res.code == 1
    lines = res.stderr.splitlines()
    assert lines[-1].startswith("error: cannot fund ") and "Anvil or Ganache" in lines[-1]
    assert sum(line.startswith("error:") for line in lines) == 1
    assert all(m in lines[-1] for m in SET_BALANCE_METHODS)
    if default_node.kind == "ganache":  # the roles themselves hold nothing: refused before any transaction
        assert not (tmp_path / "deployments").exists()
        assert not {"eth_sendTransaction", "eth_sendRawTransaction"} & set(proxy.asked)
