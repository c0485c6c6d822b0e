"""Several server processes on one listening socket: ``crowdsense service serve --workers N``.

A PDC query costs the platform tens of milliseconds of CPU, most of it big-number arithmetic
that holds Python's global interpreter lock, so one process uses about one core however many
requests wait. The service keeps nothing that matters in memory (every record is in the
database, and two processes sharing it share the rounds: the ledgers' keys and conditional
updates decide races, see :mod:`crowdsense.services.replay` and the ledgers), so it scales the
way pre-forking servers do: the supervisor binds the socket, forks N workers that each build
their own app (their own database connections, chain connection and key tables: nothing open is
shared across a fork) and accept on the shared socket, and the kernel spreads connections.

The supervisor forwards SIGINT and SIGTERM (a graceful stop) and starts a new worker when one
dies; workers that keep dying at start (a database gone, a port stolen) stop the service with
the reason. Workers are tied to the supervisor: killed with SIGKILL, it takes them with it
(Linux's parent-death signal; elsewhere each worker watches its parent), so a restart finds
the port free and nothing half-alive keeps serving. POSIX only (``os.fork``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import socket
import sys
import threading
import time
from typing import Any, Callable

from fastapi import FastAPI

from crowdsense.errors import ToolchainError

__all__ = ["serve_workers"]

# A worker that dies this soon after its start counts as failing to start; this many such deaths
# in a row stop the service (a crash loop helps nobody).
_QUICK_DEATH_S = 5.0
_QUICK_DEATHS = 3


def _die_with(parent: int) -> None:
    """Make this process exit when ``parent`` does (SIGKILL included)."""
    libc_name = ctypes.util.find_library("c")
    if sys.platform.startswith("linux") and libc_name:
        pr_set_pdeathsig = 1
        ctypes.CDLL(libc_name, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the call above took effect
        os._exit(1)
    if not sys.platform.startswith("linux"):
        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(1)

        threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _worker(build: Callable[[], FastAPI], sock: socket.socket, parent: int, log_level: str,
            options: dict[str, Any]) -> int:
    """A forked worker's life: its own app on the shared socket until told to stop."""
    from crowdsense.services.app import serve

    for each in (signal.SIGINT, signal.SIGTERM):  # first: the supervisor's forwarding is not the worker's
        signal.signal(each, signal.SIG_DFL)  # uvicorn installs its own graceful handlers
    _die_with(parent)
    os.setpgid(0, 0)  # a terminal's Ctrl-C reaches the supervisor alone, which forwards it once
    try:
        app = build()
    except Exception as exc:  # noqa: BLE001 - one line to the supervisor's stderr, then a non-zero exit
        print(f"error: worker {os.getpid()} could not start: {exc}", file=sys.stderr, flush=True)
        return 1
    serve(app, sock, log_level=log_level, **options)
    return 0


def serve_workers(build: Callable[[], FastAPI], sock: socket.socket, workers: int, *, log_level: str = "info",
                  **options: Any) -> None:
    """Serve the app ``build()`` makes with ``workers`` forked processes on the bound ``sock``,
    until SIGINT or SIGTERM (forwarded to every worker: each finishes its requests in progress).

    Raises
    ------
    ToolchainError
        Workers keep dying right after they start (the last one's error is on stderr).
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if not hasattr(os, "fork"):
        raise ToolchainError("worker processes need os.fork, which this system lacks: expected a POSIX "
                             "system, or one process (--workers 1)")
    parent = os.getpid()
    children: dict[int, float] = {}
    stopping: list[int] = []

    def start() -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = _worker(build, sock, parent, log_level, options)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        children[pid] = time.monotonic()
        if stopping:  # the signal came while this worker was being forked
            os.kill(pid, stopping[0])

    def stop(signum: int, _frame: Any) -> None:
        stopping.append(signum)
        for pid in list(children):
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    previous = {each: signal.signal(each, stop) for each in (signal.SIGINT, signal.SIGTERM)}
    quick_deaths = 0
    try:
        for _ in range(workers):
            start()
        while children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            started = children.pop(pid, None)
            if started is None or stopping:
                continue
            code = os.waitstatus_to_exitcode(status)
            quick_deaths = quick_deaths + 1 if time.monotonic() - started < _QUICK_DEATH_S else 0
            if quick_deaths >= _QUICK_DEATHS:
                stop(signal.SIGTERM, None)
                for other in list(children):
                    os.waitpid(other, 0)
                raise ToolchainError(f"service workers keep exiting at start (the last with status {code}): "
                                     "expected the database and the chain the service was started with to "
                                     "stay reachable")
            print(f"crowdsense service: worker {pid} exited with status {code}; starting another",
                  file=sys.stderr, flush=True)
            start()
    finally:
        for each, handler in previous.items():
            signal.signal(each, handler)
