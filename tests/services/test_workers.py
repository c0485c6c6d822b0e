"""``crowdsense service serve --workers N``: worker processes on one port and one database."""

from __future__ import annotations

import os
import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest
from eth_utils import keccak

from crowdsense.chain.accounts import dev_signer
from crowdsense.errors import ToolchainError
from crowdsense.services.app import listen
from crowdsense.services.client import ServiceClient
from crowdsense.services.workers import serve_workers

WRITER = dev_signer(1)


def _workers(service) -> list[psutil.Process]:
    return psutil.Process(service.process.pid).children()


def _gone(workers: list[psutil.Process]) -> bool:
    return not any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers)


def _failing_build():
    raise RuntimeError("the database went away")


def _wait(predicate, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_workers_share_the_port_and_the_database(service_process, database_url):
    service = service_process(database_url, "--workers", "2")
    workers = _workers(service)
    assert len(workers) == 2
    blobs = [f"reading {i}".encode() * 50 for i in range(60)]
    with ThreadPoolExecutor(8) as pool:  # many connections at once, accepted by either worker
        list(pool.map(lambda data: ServiceClient(service.url, WRITER, timeout=30).put_blob(data), blobs))
        read = list(pool.map(lambda data: ServiceClient(service.url, timeout=30).get_blob(keccak(data)),
                             blobs))
    assert read == blobs
    assert all(each.is_running() for each in workers)


def test_a_dead_worker_is_replaced(service_process, tmp_path):
    service = service_process(f"sqlite:///{tmp_path}/s.sqlite", "--workers", "2")
    first, second = _workers(service)
    first.kill()
    _wait(lambda: {w.pid for w in _workers(service)} - {first.pid, second.pid},
          "no worker replaced the dead one")
    assert len(_workers(service)) == 2
    ServiceClient(service.url, WRITER).put_blob(b"served after a worker died")
    lines = [service.process.stderr.readline() for _ in range(2)]  # the start line, then the replacement
    assert f"worker {first.pid} exited with status -9; starting another" in lines[1]


def test_a_killed_supervisor_takes_its_workers_and_frees_the_port(service_process, tmp_path):
    service = service_process(f"sqlite:///{tmp_path}/s.sqlite", "--workers", "2")
    workers = _workers(service)
    service.kill()  # SIGKILL: no code of the supervisor runs
    _wait(lambda: _gone(workers), "a worker outlived its supervisor")
    with socket.create_server(("127.0.0.1", service.port)):  # a restart can listen again
        pass


def test_sigterm_stops_every_worker(service_process, tmp_path):
    service = service_process(f"sqlite:///{tmp_path}/s.sqlite", "--workers", "3")
    workers = _workers(service)
    assert len(workers) == 3
    service.stop()
    assert service.process.returncode == 0
    assert _gone(workers)
    assert "Traceback" not in service.process.stderr.read()


def test_workers_that_keep_failing_at_start_stop_the_service(capfd):
    before = signal.getsignal(signal.SIGTERM)
    sock = listen("127.0.0.1", 0)
    try:
        with pytest.raises(ToolchainError,
                           match=r"^service workers keep exiting at start \(the last with status 1\)"):
            serve_workers(_failing_build, sock, 2)
    finally:
        sock.close()
    assert "could not start: the database went away" in capfd.readouterr().err
    assert signal.getsignal(signal.SIGTERM) is before  # the supervisor's handlers are gone with it


def test_at_least_one_worker():
    with pytest.raises(ValueError, match="^workers must be at least 1, got 0$"):
        serve_workers(lambda: None, None, 0)  # type: ignore[arg-type]


def test_workers_option_out_of_range_is_one_error_line(run_cli, tmp_path):
    result = run_cli("service", "serve", "--workers", "0", "--database-url", f"sqlite:///{tmp_path}/s.sqlite")
    assert result.code == 2
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("error: ")
    assert "--workers" in result.stderr
    assert not (tmp_path / "s.sqlite").exists()


def test_sigint_reaches_each_worker_once_and_stops_gracefully(service_process, tmp_path):
    service = service_process(f"sqlite:///{tmp_path}/s.sqlite", "--workers", "2")
    workers = _workers(service)
    # a terminal's Ctrl-C reaches the supervisor's process group alone
    assert all(os.getpgid(w.pid) != os.getpgid(service.process.pid) for w in workers)
    service.process.send_signal(signal.SIGINT)
    assert service.process.wait(timeout=30) == 0
    assert _gone(workers)
    assert "Traceback" not in service.process.stderr.read()


def test_a_system_without_fork_is_told_so(monkeypatch):
    monkeypatch.delattr(os, "fork")
    with pytest.raises(ToolchainError, match=r"^worker processes need os\.fork, which this system lacks"):
        serve_workers(lambda: None, None, 2)  # type: ignore[arg-type]
