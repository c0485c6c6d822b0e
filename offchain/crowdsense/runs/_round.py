"""What the on-chain CTBC and PDC rounds share: checks of the parties, stage timings, progress.

Both rounds simulate n parties, each with its own funded account and possibly a fault from a
fixed list; both time their stages and report ``progress(stage, done, total)`` as parties
finish, from the worker threads of :func:`~crowdsense.runs._parallel.thread_map`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np

from crowdsense.chain.accounts import Signer
from crowdsense.chain.txlog import TxLog, TxRecord
from crowdsense.errors import InputError

__all__ = ["Progress", "StageClock", "check_faults", "check_signers", "own_transactions", "progress_counter"]

#: ``progress(stage, done, total)``, as the rounds call it.
Progress = Callable[[str, int, int], None]


def check_signers(signers: Iterable[Signer], n: int, party: str) -> list[Signer]:
    """The n distinct accounts of n parties; ``party`` ("user", "receiver") names them in errors."""
    out = list(signers)
    if len(out) != n:
        raise InputError(f"need one signer per {party} ({n}), got {len(out)}")
    if len({s.address.lower() for s in out}) != n:
        raise InputError(f"the {party}s' signers must be distinct accounts")
    return out


def check_faults(faults: Mapping[int, str] | None, n: int, allowed: Sequence[str],
                 party: str) -> dict[int, str]:
    """``{party index: fault}``, every index in [0, n) and every fault one of ``allowed``."""
    out: dict[int, str] = {}
    for i, fault in dict(faults or {}).items():
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < n:
            raise InputError(f"fault keys must be {party} indices in [0, {n}), got {i!r}")
        if fault not in allowed:
            raise InputError(f"faults must be one of {tuple(allowed)}, got {fault!r} for {party} {i}")
        out[int(i)] = fault
    return out


class StageClock:
    """Seconds per stage: :meth:`lap` names the stage that just ended and starts the next."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = now - self._last
        self._last = now

    def with_total(self) -> dict[str, float]:
        """The timings with their sum as ``"total"`` (call once, at the end of the round)."""
        self.timings["total"] = sum(self.timings.values())
        return self.timings


def progress_counter(progress: Progress | None, stage: str, total: int) -> Callable[[int], None]:
    """A ``thread_map`` progress callback that counts finished parties into ``progress``."""
    lock = threading.Lock()
    done = 0

    def step(_: int) -> None:
        nonlocal done
        with lock:  # called from the worker threads
            done += 1
            count = done
        if progress is not None:
            progress(stage, count, total)

    return step


def own_transactions(log: TxLog, accounts: Iterable[str]) -> tuple[TxRecord, ...]:
    """The records of ``log`` sent by ``accounts`` (a log may be shared with other rounds)."""
    mine = set(accounts)
    return tuple(r for r in log.records() if r.sender in mine)
