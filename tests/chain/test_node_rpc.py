"""crowdsense.chain.node's raw JSON-RPC helpers (against a tiny local HTTP server), port picking
from the configured range, and finding the node binaries."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from crowdsense.chain import node as node_module
from crowdsense.chain.node import ENV_TEST_PORTS, find_binary, free_port, port_range, rpc_alive, rpc_call
from crowdsense.errors import InputError, ToolchainError


class _Handler(http.server.BaseHTTPRequestHandler):
    """Answers every call with the JSON the server was given (``server.answer``)."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(request)  # type: ignore[attr-defined]
        body = self.server.answer  # type: ignore[attr-defined]
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def server() -> Iterator[Any]:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.requests = []  # type: ignore[attr-defined]
    srv.answer = {"jsonrpc": "2.0", "id": 1, "result": "0x7a69"}  # type: ignore[attr-defined]
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"  # type: ignore[attr-defined]
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_rpc_call_sends_method_and_params_and_returns_the_result(server: Any) -> None:
    assert rpc_call(server.url, "evm_setAutomine", [True]) == "0x7a69"
    assert server.requests[-1]["method"] == "evm_setAutomine"
    assert server.requests[-1]["params"] == [True]


def test_rpc_call_raises_on_an_error_answer_naming_the_method(server: Any) -> None:
    server.answer = {"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "no such method"}}
    with pytest.raises(ToolchainError, match=r"anvil_nope at .* failed: expected a JSON-RPC result.*no such method"):
        rpc_call(server.url, "anvil_nope")
    assert rpc_alive(server.url) is False


def test_rpc_call_raises_on_an_answer_that_is_not_json(server: Any) -> None:
    server.answer = b"<html>not a node</html>"
    with pytest.raises(ValueError):
        rpc_call(server.url, "eth_chainId")
    assert rpc_alive(server.url) is False


def test_rpc_alive_true_for_a_node_and_false_for_a_closed_port(server: Any) -> None:
    assert rpc_alive(server.url) is True
    assert rpc_alive(f"http://127.0.0.1:{free_port()}", timeout=0.5) is False


def test_free_port_in_a_range_is_bindable_and_inside_it() -> None:
    port = free_port(8600, 8699)
    assert 8600 <= port <= 8699
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", port))


def test_free_port_skips_busy_ports_and_fails_clearly_when_all_are_busy() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        with pytest.raises(ToolchainError, match=rf"no free TCP port in {taken}-{taken}"):
            free_port(taken, taken)


# ----------------------------------------------------------------------- the configurable range


def test_free_port_defaults_to_the_configured_range(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        lo = probe.getsockname()[1]  # a port that was just free, and its neighbour
    monkeypatch.setenv(ENV_TEST_PORTS, f"{lo}-{lo + 1}")
    assert port_range() == (lo, lo + 1)
    assert free_port() in (lo, lo + 1)


def test_port_range_default_is_the_test_suites_range(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_TEST_PORTS, raising=False)
    assert port_range() == (8600, 8699)


@pytest.mark.parametrize("value", ["8600", "8699-8600", "a-b", "0-10", "8600-70000", "8600:8699", "1-2-3"])
def test_malformed_port_range_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(ENV_TEST_PORTS, value)
    with pytest.raises(InputError, match=rf"\$CROWDSENSE_TEST_PORTS is '{value}': expected a port range LO-HI"):
        free_port()


# -------------------------------------------------------------------------------- node binaries


def test_node_binary_is_found_on_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    fake = tmp_path / "anvil"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_binary("anvil") == str(fake)


def test_missing_node_binary_names_its_npm_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(node_module, "checkout_root", lambda: None)  # as in an installed wheel
    with pytest.raises(ToolchainError, match=r"anvil not found on PATH: expected the npm package @foundry-rs/anvil"):
        find_binary("anvil")
