"""The service process: ``crowdsense service serve`` started, stopped, killed and restarted."""

from __future__ import annotations

import signal
import socket
import threading
import time

import pytest
from eth_utils import keccak

from crowdsense.chain.accounts import dev_signer
from crowdsense.errors import InputError, ToolchainError
from crowdsense.services.app import create_app, listen
from crowdsense.services.client import ServiceClient, ServiceError
from crowdsense.services.settings import Settings

WRITER, CLAIMANT = dev_signer(1), dev_signer(2)


def test_a_killed_service_loses_nothing_it_acknowledged(service_process, database_url):
    service = service_process(database_url)
    client = ServiceClient(service.url, WRITER, retries=0, timeout=10)
    acknowledged: list[bytes] = []
    envelopes: list[bytes] = []
    failed = threading.Event()

    def write() -> None:
        for i in range(100_000):
            data = f"ciphertext {i} ".encode() * 20
            try:
                client.put_blob(data)
                acknowledged.append(data)
                client.put_envelope(keccak(data), CLAIMANT.address, b"envelope of " + data)
                envelopes.append(data)
            except ServiceError:
                failed.set()
                return

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    deadline = time.monotonic() + 60
    while len(envelopes) < 25 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(envelopes) >= 25, "the service did not accept writes"
    service.kill()  # SIGKILL while the writer is sending
    writer.join(timeout=60)
    assert failed.is_set() and not writer.is_alive()

    restarted = service_process(database_url)
    reader = ServiceClient(restarted.url)
    assert [reader.get_blob(keccak(data)) for data in acknowledged] == acknowledged
    assert [reader.get_envelope(keccak(d), CLAIMANT.address, WRITER.address) for d in envelopes] == \
        [b"envelope of " + d for d in envelopes]
    ServiceClient(restarted.url, WRITER).put_blob(b"after the restart")  # and it goes on serving


def test_sigterm_stops_the_service_gracefully(service_process, tmp_path):
    service = service_process(f"sqlite:///{tmp_path}/s.sqlite")
    service.stop()  # SIGTERM, then SIGKILL only if it has not stopped within 30 s
    assert service.process is not None
    # uvicorn shuts down, then re-raises the signal it caught: killed by SIGTERM, not SIGKILL
    assert service.process.returncode in (0, -signal.SIGTERM)
    assert "Traceback" not in (service.process.stderr.read() if service.process.stderr else "")


def test_default_domain_is_the_host_and_port(service_process, tmp_path):
    service = service_process(f"sqlite:///{tmp_path}/s.sqlite")
    assert ServiceClient(service.url).health()["domain"] == f"127.0.0.1:{service.port}"
    ServiceClient(service.url, WRITER).put_blob(b"signed for 127.0.0.1")


def test_port_in_use_is_one_error_line(run_cli, tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = run_cli("service", "serve", "--port", port, "--database-url", f"sqlite:///{tmp_path}/s.sqlite")
    assert result.code == 1
    assert result.stderr.splitlines() == [
        f"error: cannot listen on 127.0.0.1:{port} (Address already in use): expected a free port (--port) on an "
        "address of this machine (--host)"]


def test_listen_refuses_an_unknown_host():
    with pytest.raises(InputError, match="cannot resolve host 'no-such-host.invalid'"):
        listen("no-such-host.invalid", 1)


def test_create_app_opens_the_database_at_once(tmp_path, unused_port):
    with pytest.raises(ToolchainError, match="cannot open the database"):
        create_app(Settings(database_url=f"postgresql://u@127.0.0.1:{unused_port}/db"))
    with pytest.raises(InputError, match="settings must be a Settings"):
        create_app({"database_url": "sqlite:///x"})  # type: ignore[arg-type]
    create_app(Settings(database_url=f"sqlite:///{tmp_path}/s.sqlite"))
    assert (tmp_path / "s.sqlite").exists()
