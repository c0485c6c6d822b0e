"""Fault-injection helpers of the trust tests: restartable nodes and a fault-injecting proxy.

* :class:`RestartableAnvil` - an Anvil whose chain survives a kill: it runs with
  ``--state FILE`` (loaded at start, dumped on exit), can be stopped with any signal and
  started again on the same port;
* :class:`FaultProxy` - a JSON-RPC proxy that injects faults *per method and per call data*
  (:class:`Fault`): a JSON-RPC error answer, no answer (a timeout), or "forward, then kill the
  node" so that a transaction is mined while its sender never hears back.

(``tests/conftest.py``'s ``FlakyProxy`` fails requests whatever their method; these
rules target one call, e.g. the second ``setLevels`` batch or the first ``revealBlinding``.)
"""

from __future__ import annotations

import gzip
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from crowdsense.errors import ToolchainError
from crowdsense.chain.node import free_port as node_free_port
from crowdsense.chain.node import rpc_call
from threaded_http import ThreadedServer

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ANVIL = PROJECT_ROOT / "node_modules" / ".bin" / "anvil"
#: Genesis timestamp of restartable nodes (see RestartableAnvil.start).
GENESIS_TIMESTAMP = 1_700_000_000

__all__ = ["free_port", "rpc", "RestartableAnvil", "Fault", "FaultProxy"]


def free_port(lo: int | None = None, hi: int | None = None) -> int:
    """A port of [lo, hi] (default $CROWDSENSE_TEST_PORTS, the test suites' range) nobody listens on."""
    return node_free_port(lo, hi)


rpc = rpc_call


def _alive(url: str) -> bool:
    try:
        rpc(url, "eth_chainId", timeout=0.5)
        return True
    except (OSError, ValueError, ToolchainError):
        return False


# ---------------------------------------------------------------------------- restartable node


class RestartableAnvil:
    """An Anvil on a fixed free port whose chain lives in ``state_file`` across kills.

    Started in its own process group, so a signal reaches Anvil itself and not only the npm
    wrapper of ``node_modules/.bin/anvil``. ``kill(signal.SIGTERM)`` is the ordinary ``kill
    PID``: Anvil dumps the state and exits. ``kill(signal.SIGKILL)`` is a crash: what was not
    dumped yet (``--state-interval``) is lost.
    """

    def __init__(self, state_file: Path | None, *, extra: tuple[str, ...] = ()) -> None:
        if not ANVIL.exists() and shutil.which("anvil") is None:
            raise RuntimeError("anvil is not installed (run `make setup`)")
        self.binary = str(ANVIL) if ANVIL.exists() else "anvil"
        self.state_file = state_file
        self.extra = extra
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.kills: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> "RestartableAnvil":
        assert not self.running
        # Anvil 1.7 makes a new genesis block (timestamp "now") at every start, even with --state,
        # and the dump then holds several; the client's journal, which identifies a chain by its
        # genesis hash, would take the restarted node for another chain. A fixed genesis
        # timestamp keeps the genesis block, and so its hash, the same at every start.
        state = ["--state", str(self.state_file), "--timestamp", str(GENESIS_TIMESTAMP)] \
            if self.state_file is not None else []
        err = ""
        for _ in range(5):
            self.proc = subprocess.Popen([self.binary, "--port", str(self.port), "--silent", *state, *self.extra],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and self.proc.poll() is None:
                if _alive(self.url):
                    time.sleep(0.1)
                    if self.proc.poll() is None:  # ours answers, not another suite's node
                        self.starts += 1
                        if self.state_file is not None:
                            self._keep_time_monotonic()
                        return self
                time.sleep(0.05)
            if self.proc.poll() is not None and self.proc.stderr:
                err = self.proc.stderr.read().decode(errors="replace")
            self._signal(signal.SIGKILL)
            self.port = free_port()  # the port was taken meanwhile: the proxy follows the new one
        raise RuntimeError(f"could not start anvil: {err[-500:]}")

    def _keep_time_monotonic(self) -> None:
        """Move the clock past the last block's timestamp, as a real node restarted later would.

        With a fixed genesis timestamp Anvil's clock restarts from it (plus the time since this
        start), which would put new blocks *before* the blocks loaded from the state.
        """
        latest = int(rpc(self.url, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
        pending = int(rpc(self.url, "eth_getBlockByNumber", ["pending", False])["timestamp"], 16)
        if pending <= latest:
            rpc(self.url, "evm_increaseTime", [latest - pending + 1])

    def _signal(self, sig: int) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)
        if self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None

    def kill(self, sig: int = signal.SIGTERM) -> None:
        """Stop the node with ``sig`` (SIGTERM: state dumped; SIGKILL: a crash)."""
        self.kills.append(signal.Signals(sig).name)
        self._signal(sig)

    def crash(self, snapshot: bytes | None = None) -> None:
        """SIGKILL; with ``snapshot`` (``anvil_dumpState``), the chain restarts from it.

        Anvil dumps its state only on a clean exit (or every ``--state-interval`` seconds), so
        a crash loses recent blocks; restoring a snapshot taken just before a request makes
        exactly what that request did the lost part.
        """
        self.kill(signal.SIGKILL)
        if snapshot is not None and self.state_file is not None:
            data = gzip.decompress(snapshot) if snapshot[:2] == b"\x1f\x8b" else snapshot
            self.state_file.write_bytes(data)

    def stop(self) -> None:
        self._signal(signal.SIGTERM)


@dataclass
class Fault:
    """One fault rule of :class:`FaultProxy`.

    ``method`` (and, for ``eth_sendRawTransaction``, ``selector``: the 4-byte function selector
    read from the signed transaction) selects requests; ``skip`` matching requests pass first,
    then the next ``times`` get ``action``:

    * ``"rpc-error"`` - a JSON-RPC error answer (``code``, ``message``), nothing forwarded;
    * ``"stall"`` - no answer for ``seconds`` then the connection closes, nothing forwarded;
    * ``"kill-before"`` - the node is killed (``on_kill``) before the request reaches it;
    * ``"kill-after"`` - the request is forwarded (a transaction is mined at once by Anvil),
      then the node is killed before the answer goes back;
    * ``"crash-after"`` - as ``kill-after``, but the node crashes losing what it did since just
      before the request: the proxy takes a state snapshot (``anvil_dumpState``) before
      forwarding and hands it to ``on_kill``, which restores it (a transaction accepted and
      mined by the node, then lost with it).
    """

    method: str
    action: str
    selector: str | None = None
    skip: int = 0
    times: int = 1
    code: int = -32603
    message: str = "internal error"
    seconds: float = 1.0
    hits: int = field(default=0, init=False)

    def matches(self, method: str, params: Any) -> bool:
        if method != self.method:
            return False
        if self.selector is not None:
            try:
                from crowdsense.chain.txsend import decode_raw_transaction

                data = bytes(decode_raw_transaction(params[0])["data"])
            except Exception:  # noqa: BLE001 - not a decodable transaction: no match
                return False
            if data[:4].hex() != self.selector.removeprefix("0x"):
                return False
        return True


class FaultProxy:
    """A JSON-RPC proxy in front of ``target()`` that applies :class:`Fault` rules in order.

    ``target`` is a callable so that the proxy follows a node restarted on another port. When
    the node is down the proxy answers HTTP 502, as a gateway in front of a dead node would.
    ``log`` records ``(method, action)`` of every request.
    """

    def __init__(self, target: Callable[[], str], *, on_kill: Callable[[bytes | None], None] | None = None) -> None:
        self.target = target
        self.on_kill = on_kill
        self.rules: list[Fault] = []
        self.log: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: bytes = b"") -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _drop(self) -> None:
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = None
                calls = payload if isinstance(payload, list) else [payload]
                rule, action = None, "forward"
                with proxy._lock:
                    for call in calls:
                        if not isinstance(call, dict):
                            continue
                        for r in proxy.rules:
                            if r.hits < r.skip + r.times and r.matches(call.get("method", ""), call.get("params")):
                                r.hits += 1
                                if r.hits > r.skip:
                                    rule, action = r, r.action
                                break
                        if rule is not None:
                            break
                    proxy.log.extend((c.get("method", "?"), action) for c in calls if isinstance(c, dict))
                if rule is not None and action == "rpc-error":
                    error = {"code": rule.code, "message": rule.message}
                    errors = [{"jsonrpc": "2.0", "id": c.get("id"), "error": error} for c in calls]
                    self._answer(200, json.dumps(errors if isinstance(payload, list) else errors[0]).encode())
                    return
                if rule is not None and action == "stall":
                    time.sleep(rule.seconds)
                    self._drop()
                    return
                if rule is not None and action == "kill-before":
                    proxy._kill(None)
                    self._drop()
                    return
                snapshot, head = None, None
                if rule is not None and action in ("kill-after", "crash-after"):
                    head = int(rpc(proxy.target(), "eth_blockNumber"), 16)
                    if action == "crash-after":
                        snapshot = bytes.fromhex(rpc(proxy.target(), "anvil_dumpState")[2:])
                try:
                    req = urllib.request.Request(proxy.target(), data=body,
                                                 headers={"Content-Type": "application/json"})
                    with urllib.request.urlopen(req, timeout=30) as resp:
                        answer = resp.read()
                except (OSError, urllib.error.URLError):
                    self._answer(502)
                    return
                if rule is not None and action in ("kill-after", "crash-after"):
                    deadline = time.monotonic() + 10  # Anvil mines just after answering: wait for it
                    while int(rpc(proxy.target(), "eth_blockNumber"), 16) <= head and time.monotonic() < deadline:
                        time.sleep(0.02)
                    proxy._kill(snapshot)
                    self._drop()
                    return
                self._answer(200, answer)

        self._served = ThreadedServer(Handler)
        self.url = self._served.url

    def _kill(self, snapshot: bytes | None) -> None:
        if self.on_kill is not None:
            self.on_kill(snapshot)

    def add(self, *faults: Fault) -> None:
        with self._lock:
            self.rules.extend(faults)

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def close(self) -> None:
        self._served.close()
