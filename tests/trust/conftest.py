"""Fixtures of the trust tests: the client suite's node, proxy and CLI runner, plus restartable nodes.

The fixtures, CLI runner and failure-injecting proxy of ``tests/conftest.py`` are shared with
the other suites. Added here, from :mod:`faultkit`: restartable
Anvil nodes (``start_anvil``, ``restartable_anvil``) and a per-method fault proxy
(``fault_proxy``).

``node_url`` is this suite's own: the same private Anvil as the client suite's, started through
:class:`faultkit.RestartableAnvil`, which picks a random free port of 8600-8699 (never 8545) and
checks that the node answering is the one it started (several suites share that range). Every
node is stopped by the fixture that started it.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from faultkit import FaultProxy, RestartableAnvil, free_port


@pytest.fixture(scope="session")
def pick_port() -> Callable[[], int]:
    """``pick_port()``: a port of 8600-8699 nothing listens on."""
    return free_port


@contextlib.contextmanager
def _anvils() -> Iterator[Callable[..., RestartableAnvil]]:
    """``make(state_file=None, extra=())`` starts a RestartableAnvil; all are stopped on exit."""
    made: list[RestartableAnvil] = []

    def make(state_file: Path | None = None, extra: tuple[str, ...] = ()) -> RestartableAnvil:
        made.append(RestartableAnvil(state_file, extra=extra).start())
        return made[-1]

    try:
        yield make
    finally:
        for node in made:
            node.stop()


@pytest.fixture(scope="session")
def start_anvil() -> Iterator[Callable[..., RestartableAnvil]]:
    """``start_anvil(state_file=None, extra=())``: a started RestartableAnvil; any left running
    is stopped at the end of the session."""
    with _anvils() as make:
        yield make


@pytest.fixture(scope="session")
def node_url(start_anvil: Any) -> str:
    """URL of a private Anvil (chain id 31337, auto-mining), stopped after the session."""
    return start_anvil().url


@pytest.fixture()
def restartable_anvil(tmp_path: Path) -> Iterator[Callable[..., RestartableAnvil]]:
    """``make(extra=(), persist=True)``: RestartableAnvil instances (state in tmp_path), stopped
    at the end of the test."""
    states = (tmp_path / f"anvil-state-{i}.json" for i in itertools.count())
    with _anvils() as start:
        yield lambda extra=(), *, persist=True: start(next(states) if persist else None, extra)


@pytest.fixture()
def fault_proxy() -> Any:
    """``make(target, on_kill=None)``: FaultProxy instances, closed at the end."""
    made: list[FaultProxy] = []

    def make(target: Callable[[], str], *, on_kill: Callable[[bytes | None], None] | None = None) -> FaultProxy:
        proxy = FaultProxy(target, on_kill=on_kill)
        made.append(proxy)
        return proxy

    yield make
    for proxy in made:
        proxy.close()
