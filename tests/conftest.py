"""Shared fixtures: a private Anvil, deployments made with plain web3, accounts by role, the CLI.

Contract fixtures (brownie's) live in ``tests/contracts/conftest.py``; tests of pure off-chain
code request none of these and run under plain pytest too
(``pytest -p no:pytest-brownie tests/pmcb tests/ldpf``).

The node is this suite's own Anvil on a free port of $CROWDSENSE_TEST_PORTS (never 8545, which brownie's
plugin and other suites use), started once per session and stopped at the end. Contracts are
deployed with :func:`crowdsense.chain.connection.deploy_contracts` once per module, so the
tests do not depend on brownie's network. Tests needing no node (errors, crypto, journal,
accounts) do not request these fixtures and run without Anvil.
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest

from crowdsense.errors import ToolchainError
from crowdsense.chain.node import ENV_TEST_PORTS, LocalNode, free_port, port_range, rpc_call
from threaded_http import ThreadedServer

PROJECT_ROOT = Path(__file__).resolve().parents[1]
NUM_LEVELS = 3


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist, each worker takes its own slice of $CROWDSENSE_TEST_PORTS.

    A free port is only free until something binds it: two workers drawing from one range could
    both pick it, and a test then talked to the other worker's service (or its restart found the
    port taken). Slices rule that out between workers; the subprocesses the tests start inherit them."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if not worker.startswith("gw") or count < 2:
        return
    lo, hi = port_range()
    size = (hi - lo + 1) // count
    if size >= 10:  # else too few for one test's node and services: share the range as before
        start = lo + int(worker[2:]) * size
        os.environ[ENV_TEST_PORTS] = f"{start}-{start + size - 1}"


# ---------------------------------------------------------------------------- node


@pytest.fixture(scope="session")
def node_url() -> Any:
    """URL of a private Anvil (chain id 31337, auto-mining), stopped after the session."""
    try:
        node = LocalNode("anvil", port=free_port()).start()
    except ToolchainError as exc:
        # A failure, not a skip: without Anvil the chain tests would vanish from a green run.
        pytest.fail(f"cannot start anvil: {exc}; run `make setup` to install it", pytrace=False)
    try:
        yield node.url
    finally:
        node.stop()


@pytest.fixture()
def unused_port() -> int:
    """A port of $CROWDSENSE_TEST_PORTS nothing listens on (for "node down")."""
    return free_port()


@pytest.fixture(scope="session")
def w3_node(node_url: str) -> Any:
    from crowdsense.chain.connection import connect

    return connect(node_url, retries=1, backoff=0.05)


@pytest.fixture(scope="session")
def node_rpc(node_url: str) -> Callable[..., Any]:
    """``node_rpc(method, params)``: a raw JSON-RPC call to the test node (e.g. evm_mine)."""
    return lambda method, params=None: rpc_call(node_url, method, params, timeout=2.0)


# ---------------------------------------------------------------------------- accounts


@dataclass(frozen=True)
class Roles:
    admin: Any
    registrar: Any
    releaser: Any
    alice: Any  # level 1
    bob: Any  # level 2
    carol: Any  # level 2
    dave: Any  # level 3
    mallory: Any  # unregistered
    erin: Any  # level 1


@pytest.fixture(scope="session")
def roles() -> Roles:
    from crowdsense.chain.accounts import dev_signer

    return Roles(*(dev_signer(i) for i in range(9)))


# ---------------------------------------------------------------------------- deployment


@dataclass
class Env:
    """One deployment with its role clients; ``client(signer)`` makes more."""

    url: str
    deployment_path: Path
    tmp: Path
    conn: Any
    store: Any
    roles: Roles

    def journal_path(self, name: str) -> Path:
        return self.tmp / f"{name}.sqlite"

    def client(self, signer: Any, name: str | None = None, **kwargs: Any) -> Any:
        from crowdsense.chain.journal import Journal
        from crowdsense.chain.registry import TaskRegistryClient

        journal = Journal(self.journal_path(name or signer.address))
        return TaskRegistryClient(self.conn, signer, journal=journal, store=self.store, **kwargs)


def make_env(url: str, roles: Roles, tmp: Path) -> Env:
    from crowdsense.chain.connection import connect, deploy_contracts, open_connection
    from crowdsense.chain.store import SubtaskStore

    w3 = connect(url, retries=1, backoff=0.05)
    path = tmp / "deployment.json"
    deploy_contracts(w3, roles.admin, NUM_LEVELS, registrar=roles.registrar.address,
                     releaser=roles.releaser.address, path=path)
    conn = open_connection(url, path, retries=1, backoff=0.05)
    env = Env(url, path, tmp, conn, SubtaskStore(tmp / "store"), roles)
    registrar = env.client(roles.registrar, "registrar")
    registrar.register_levels({roles.alice.address: 1, roles.bob.address: 2, roles.carol.address: 2,
                               roles.dave.address: 3, roles.erin.address: 1})
    return env


@pytest.fixture(scope="module")
def env(node_url: str, roles: Roles, tmp_path_factory: pytest.TempPathFactory) -> Env:
    """A fresh deployment per module: T = 3, separate admin/registrar/releaser, 5 receivers."""
    return make_env(node_url, roles, tmp_path_factory.mktemp("deploy"))


@pytest.fixture()
def fresh_env(node_url: str, roles: Roles, tmp_path: Path) -> Env:
    """Like ``env``, but a deployment of the test's own (for state no other test may touch)."""
    return make_env(node_url, roles, tmp_path)


@pytest.fixture()
def release_task(env: Env) -> Callable[..., Any]:
    """Release a task of three parts (levels 1, 2, 3) and return the ReleasedTask."""
    from crowdsense.pmcb.tasks import decompose

    releaser = env.client(env.roles.releaser, "releaser")
    counter = iter(range(10**6))

    def release(parts: list | None = None) -> Any:
        plan = decompose(f"task {time.time_ns()}-{next(counter)}", parts or ["outdoor noise", "indoor noise",
                                                                            "bedroom noise"],
                         num_levels=NUM_LEVELS)
        return releaser.release_task(plan)

    return release


# ---------------------------------------------------------------------------- flaky proxy


class FlakyProxy:
    """An HTTP JSON-RPC proxy in front of the node that fails on demand.

    ``delay = s`` holds every request for s seconds before forwarding it (a slow node);
    ``fail_next = n`` answers the next n requests with HTTP 503 without forwarding them;
    ``stall_next = n`` leaves the next n unanswered for ``stall_seconds`` (a hung node);
    ``drop_after_forward = {"eth_sendRawTransaction": n}`` forwards the next n requests of that
    method to the node and then drops the connection without answering (a response lost
    after the node acted on the request).
    """

    def __init__(self, target: str) -> None:
        self.target = target
        self.delay = 0.0
        self.fail_next = 0
        self.stall_next = 0  # the next n requests get no answer for `stall_seconds`
        self.stall_seconds = 1.0
        self.drop_after_forward: dict[str, int] = {}
        self.failures = 0
        self.forwarded: list[str] = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if proxy.stall_next > 0:
                    proxy.stall_next -= 1
                    proxy.failures += 1
                    time.sleep(proxy.stall_seconds)
                    self.close_connection = True
                    return
                if proxy.fail_next > 0:
                    proxy.fail_next -= 1
                    proxy.failures += 1
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                try:
                    payload = json.loads(body)
                    methods = [p["method"] for p in payload] if isinstance(payload, list) else [payload["method"]]
                except (ValueError, KeyError, TypeError):
                    methods = []
                time.sleep(proxy.delay)
                req = urllib.request.Request(proxy.target, data=body, headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(req, timeout=10) as resp:
                    answer = resp.read()
                proxy.forwarded.extend(methods)
                for m in methods:
                    if proxy.drop_after_forward.get(m, 0) > 0:
                        proxy.drop_after_forward[m] -= 1
                        proxy.failures += 1
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self._served = ThreadedServer(Handler)
        self.url = self._served.url

    def close(self) -> None:
        self._served.close()


@pytest.fixture()
def flaky_proxy(node_url: str) -> Any:
    proxy = FlakyProxy(node_url)
    try:
        yield proxy
    finally:
        proxy.close()


# ---------------------------------------------------------------------------- CLI


@dataclass(frozen=True)
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@pytest.fixture(scope="session")
def run_cli(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., CliResult]:
    """Run ``crowdsense ARGS`` in-process through :func:`crowdsense.cli.main.main` (what users run),
    capturing stdout/stderr separately and the exit code. CROWDSENSE_* variables of the
    calling shell are cleared; journal and store default to a temporary folder, never to the
    working directory."""
    from click.testing import CliRunner

    from crowdsense.cli.main import main

    scratch = tmp_path_factory.mktemp("cli-defaults")

    def run(*args: Any, env: dict[str, str | None] | None = None, input: str | None = None) -> CliResult:
        runner = CliRunner()
        base: dict[str, str | None] = {k: None for k in os.environ if k.startswith("CROWDSENSE_")}
        base |= {"CROWDSENSE_JOURNAL": str(scratch / "journal.sqlite"), "CROWDSENSE_STORE": str(scratch / "store")}
        with runner.isolation(input=input, env={**base, **(env or {})}) as (out, err, _):
            code = 0
            try:
                main([str(a) for a in args])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
        return CliResult(code, out.getvalue().decode(), err.getvalue().decode())

    return run


@pytest.fixture(scope="session")
def python_subprocess() -> Callable[..., subprocess.CompletedProcess]:
    """Run a Python snippet in a fresh interpreter in the project folder, ``env`` added to the
    environment (crash tests that SIGKILL themselves; the demo's entry point)."""

    def run(code: str, *args: str, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", code, *args], cwd=PROJECT_ROOT, capture_output=True, text=True,
                              timeout=timeout, env={**os.environ, **(env or {})})

    return run
