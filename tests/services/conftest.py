"""Fixtures of the service tests: a throwaway PostgreSQL 15 cluster, a database per test on
each engine, and real uvicorn servers (in a thread, or a separate process that can be killed).

The cluster is started once per session with the Debian binaries in
``/usr/lib/postgresql/15/bin`` (``initdb`` and ``pg_ctl`` into a temporary folder, on a free
loopback port of ``$CROWDSENSE_TEST_PORTS``); as root they run as the ``postgres`` user, which
owns that folder. Without the binaries the PostgreSQL cases are skipped, except under CI
(``$CI`` set), where they fail: a CI run must not go green with half its engines untested.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from crowdsense.chain.node import free_port

POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")
ENGINES = ("sqlite", "postgresql")


# ---------------------------------------------------------------------------- PostgreSQL


@dataclass
class PostgresCluster:
    """A running throwaway cluster; :meth:`new_database` gives each test a database of its own."""

    folder: Path
    port: int

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        import psycopg

        name = f"t_{secrets.token_hex(6)}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _as_postgres(command: list[str]) -> list[str]:
    """``command`` run as the ``postgres`` user when we are root (PostgreSQL refuses root)."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    initdb, pg_ctl = POSTGRES_BIN / "initdb", POSTGRES_BIN / "pg_ctl"
    if not initdb.exists():
        message = f"PostgreSQL 15 is not installed ({initdb} is missing): apt-get install postgresql-15"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    # Not under pytest's tmp_path: its parents are private to root, and the server runs as postgres.
    folder = Path(tempfile.mkdtemp(prefix="crowdsense-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data, port = folder / "data", free_port()
    # cwd: the postgres user may not enter the folder the tests run from
    subprocess.run(_as_postgres([str(initdb), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync",
                                 "-E", "UTF8"]), check=True, capture_output=True, timeout=120, cwd=folder)
    started = subprocess.run(
        _as_postgres([str(pg_ctl), "-D", str(data), "-l", str(folder / "server.log"), "-w", "-t", "60",
                      "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1", "start"]),
        capture_output=True, text=True, timeout=120, cwd=folder)
    if started.returncode != 0:
        log = (folder / "server.log").read_text() if (folder / "server.log").exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        pytest.fail(f"cannot start PostgreSQL: {started.stderr.strip()} {log[-500:]}", pytrace=False)
    try:
        yield PostgresCluster(folder, port)
    finally:
        subprocess.run(_as_postgres([str(pg_ctl), "-D", str(data), "-m", "fast", "-w", "stop"]),
                       capture_output=True, timeout=120, cwd=folder)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each engine (the test runs once per engine)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/service.sqlite"
    return request.getfixturevalue("postgres").new_database()


# ---------------------------------------------------------------------------- servers


@pytest.fixture(scope="session")
def pdc_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1024-bit PDC platform key (the shortest accepted without test overrides), made once."""
    import warnings

    from crowdsense.ldpf.pdc.errors import WeakKeyWarning
    from crowdsense.ldpf.pdc.keys import generate_keypair, write_private_key

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WeakKeyWarning)
        _, key = generate_keypair(1024)
    return write_private_key(key, tmp_path_factory.mktemp("pdc-key") / "key.json")


@dataclass
class ThreadServer:
    """A service app served by uvicorn in a thread of the test process."""

    url: str
    domain: str
    app: Any


@pytest.fixture()
def serve_in_thread() -> Iterator[Any]:
    """``serve_in_thread(pdc=None, roles=None, **settings_without_domain)``: a real uvicorn on a free
    loopback port; ``roles`` are more keywords of ``create_app`` (edge, anonymizer, ctbc)."""
    import uvicorn

    from crowdsense.services.app import create_app, listen
    from crowdsense.services.settings import Settings

    running: list[tuple[Any, threading.Thread]] = []

    def start(pdc: Any = None, roles: dict[str, Any] | None = None, **settings: Any) -> ThreadServer:
        port = free_port()
        domain = f"127.0.0.1:{port}"
        app = create_app(Settings(domain=domain, **settings), pdc=pdc, **(roles or {}))
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws="none"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [listen("127.0.0.1", port)]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        running.append((server, thread))
        return ThreadServer(f"http://{domain}", domain, app)

    yield start
    for server, thread in running:
        server.should_exit = True
        thread.join(timeout=30)


class ServiceProcess:
    """``crowdsense service serve`` in a process of its own (what an operator runs)."""

    def __init__(self, database_url: str, cwd: Path, *extra: str) -> None:
        self.database_url, self.cwd, self.extra = database_url, cwd, extra
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> "ServiceProcess":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "crowdsense.cli.main", "service", "serve", "--port", str(self.port),
             "--database-url", self.database_url, "--log-level", "warning", *self.extra],
            cwd=self.cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the service exited: {self.process.stderr.read() if self.process.stderr else ''}")
            try:
                if requests.get(self.url + "/v1/health", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError("the service did not answer within 60 s")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)


@pytest.fixture()
def service_process(tmp_path: Path) -> Iterator[Any]:
    """``service_process(database_url, *options)``: a started :class:`ServiceProcess`, stopped at the end."""
    made: list[ServiceProcess] = []

    def start(database_url: str, *extra: str) -> ServiceProcess:
        made.append(ServiceProcess(database_url, tmp_path, *extra).start())
        return made[-1]

    yield start
    for process in made:
        process.stop()
