"""Start, attach to and stop a local EVM node (Anvil or Ganache) on loopback.

Used by the main job, the benchmarks and the tests, so that every one of them runs against a
real node without any set-up by hand. Binaries come from ``PATH`` (an installed package has no
other place to look), else, in a source checkout, from its ``node_modules/.bin`` (installed by
``make setup``).

Ports picked for nodes and test servers come from one range, ``$CROWDSENSE_TEST_PORTS``
(``LO-HI``, default ``8600-8699``), away from the usual 8545 of a developer's own node, so that
several suites and benchmarks sharing a machine can be kept apart by giving each a range.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Literal

from crowdsense.chain.toolchain import checkout_root
from crowdsense.errors import InputError, ToolchainError

__all__ = [
    "LocalNode",
    "NodeKind",
    "NODE_KINDS",
    "free_port",
    "port_range",
    "ENV_TEST_PORTS",
    "rpc_call",
    "rpc_alive",
    "find_binary",
    "ANVIL_KEYS",
]

NodeKind = Literal["anvil", "ganache"]
#: The nodes :class:`LocalNode` can start.
NODE_KINDS: tuple[NodeKind, ...] = ("anvil", "ganache")
#: npm package that provides each node binary.
NPM_PACKAGES: dict[str, str] = {"anvil": "@foundry-rs/anvil", "ganache": "ganache"}
#: Environment variable with the port range ``LO-HI`` that :func:`free_port` picks from.
ENV_TEST_PORTS = "CROWDSENSE_TEST_PORTS"
DEFAULT_TEST_PORTS = "8600-8699"

#: The well-known development keys of Anvil's default mnemonic ("test test ... junk"). Never
#: use them on a public network.
ANVIL_KEYS = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
]


def port_range() -> tuple[int, int]:
    """``(lo, hi)`` of ``$CROWDSENSE_TEST_PORTS`` (``LO-HI``, default ``8600-8699``), inclusive."""
    text = os.environ.get(ENV_TEST_PORTS) or DEFAULT_TEST_PORTS
    lo_text, sep, hi_text = text.strip().partition("-")
    try:
        lo, hi = int(lo_text), int(hi_text)
    except ValueError:
        lo = hi = -1
    if not sep or not 1 <= lo <= hi <= 65535:
        raise InputError(f"${ENV_TEST_PORTS} is {text!r}: expected a port range LO-HI with "
                         f"1 <= LO <= HI <= 65535, e.g. {DEFAULT_TEST_PORTS}")
    return lo, hi


def free_port(lo: int | None = None, hi: int | None = None) -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago, from [lo, hi] (default :func:`port_range`).

    The range is tried in random order: several processes (test suites, benchmarks) share one
    range, and starting from a random port makes two of them far less likely to pick the same
    port between this check and the node's start.
    """
    if lo is None or hi is None:
        lo, hi = port_range()
    ports = list(range(lo, hi + 1))
    random.shuffle(ports)
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise ToolchainError(f"no free TCP port in {lo}-{hi} on 127.0.0.1")


def rpc_call(url: str, method: str, params: list[Any] | None = None, timeout: float = 5.0) -> Any:
    """One raw JSON-RPC call to ``url`` and its ``result``, with no web3 machinery.

    For node management (liveness, mining modes, state dumps) where a web3 provider would be
    overkill. Raises :class:`ToolchainError` when the node answers with an error (or without a
    result), ``OSError`` when it cannot be reached and ``ValueError`` when the answer is not JSON.
    """
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        answer = json.loads(response.read())
    if not isinstance(answer, dict) or "result" not in answer:
        error = answer.get("error") if isinstance(answer, dict) else answer
        raise ToolchainError(f"{method} at {url} failed: expected a JSON-RPC result, got {error!r}")
    return answer["result"]


def rpc_alive(url: str, timeout: float = 1.0) -> bool:
    """Whether an Ethereum JSON-RPC endpoint answers ``eth_chainId`` at ``url``."""
    try:
        rpc_call(url, "eth_chainId", timeout=timeout)
        return True
    except (OSError, ValueError, ToolchainError):
        return False


def find_binary(kind: NodeKind) -> str:
    """Path of the ``anvil`` or ``ganache`` executable: on ``PATH``, else in a checkout's
    ``node_modules/.bin``; a :class:`ToolchainError` naming the npm package otherwise."""
    found = shutil.which(kind)
    if found:
        return found
    root = checkout_root()
    local = root / "node_modules" / ".bin" / kind if root else None
    if local is not None and local.exists():
        return str(local)
    raise ToolchainError(
        f"{kind} not found on PATH: expected the npm package {NPM_PACKAGES[kind]} "
        f"(`npm install {NPM_PACKAGES[kind]}`, then put node_modules/.bin on PATH; in a checkout `make setup`)"
    )


@dataclass
class LocalNode:
    """A node process we started (``owned``) or one we attached to.

    Use as a context manager: a node we started is stopped on exit; one we attached to is left
    running.
    """

    kind: NodeKind = "anvil"
    port: int | None = None
    block_time: float | None = None
    accounts: int = 10
    gas_limit: int = 30_000_000
    extra_args: list[str] = field(default_factory=list)
    attach: bool = False
    startup_timeout: float = 60.0
    process: subprocess.Popen | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def owned(self) -> bool:
        return self.process is not None

    def command(self) -> list[str]:
        binary = find_binary(self.kind)
        if self.kind == "anvil":
            cmd = [binary, "--port", str(self.port), "--accounts", str(self.accounts),
                   "--gas-limit", str(self.gas_limit), "--silent"]
            if self.block_time:
                cmd += ["--block-time", str(self.block_time)]
        else:
            # Ganache's own accounts (a random mnemonic), as a user's Ganache has: whoever needs
            # funded accounts on a development node gets them from the node itself
            # (crowdsense.chain.registration.fund_dev_accounts), whatever its mnemonic.
            cmd = [binary, "--server.port", str(self.port), "--server.host", "127.0.0.1",
                   "--wallet.totalAccounts", str(self.accounts), "--miner.blockGasLimit", str(self.gas_limit),
                   "--chain.chainId", "1337", "--logging.quiet"]
            if self.block_time:
                cmd += ["--miner.blockTime", str(self.block_time)]
        return cmd + list(self.extra_args)

    def start(self) -> "LocalNode":
        if self.port is None:
            self.port = free_port()
        if rpc_alive(self.url):
            if self.attach:
                return self
            raise ToolchainError(f"a node already answers on {self.url}; pass attach=True to use it")
        self.process = subprocess.Popen(
            self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                self.process = None
                raise ToolchainError(f"{self.kind} exited at start-up: {err.strip()[:500]}")
            if rpc_alive(self.url, timeout=0.5):
                return self
            time.sleep(0.05)
        self.stop()
        raise ToolchainError(f"{self.kind} did not answer on {self.url} within {self.startup_timeout:.0f} s")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.process.stderr:
            self.process.stderr.close()
        self.process = None

    def __enter__(self) -> "LocalNode":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
