"""The receiver's answer budget: at most B PDC answers per platform per period, journaled.

Why. Every accepted answer tells the platform the receiver's Manhattan distance to a centre
*the platform chose*. One answer confines the receiver to a ring of at most ``4 dist`` grid
points. Two answers from a receiver that has not moved, to centres at ``(0, 0)`` and
``(w - 1, 0)``, give ``x + y`` and ``(w - 1 - x) + y``, hence ``x`` and ``y`` exactly. Well-formed
queries and commitments cannot prevent this, because the platform is only doing what the
protocol is for. So the receiver's own client limits how often it answers: B answers per
platform within any window of ``period`` seconds. With the default (:data:`DEFAULT_ANSWERS` = 1
per :data:`DEFAULT_PERIOD_S` = one day) a platform learns one ring per day. A receiver that
stays put is still located after two days, so the budget slows the attack but does not stop it.
B >= 2 within one period lets a platform that picks its centres locate a receiver that stays
put at once.

How. The journal is a small JSON file in the receiver's state folder, replaced atomically
(write, fsync, rename) *before* the answer is computed, so a crash can only spend budget,
never return it. Answering the same task again (a resumed query) costs nothing.

Which platform. A task carries the platform's Paillier key, not a name. By default answers are
counted per key. A platform that switches keys would get a fresh budget, so a client that knows
the platform's stable identity (for example its account on chain) passes it as ``platform``.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable

from crowdsense.atomicfile import write_atomic
from crowdsense.commitments import keccak256
from crowdsense.errors import InputError
from crowdsense.ldpf.pdc.errors import PDCError

__all__ = ["DEFAULT_ANSWERS", "DEFAULT_PERIOD_S", "BUDGET_FILE", "AnswerBudget", "AnswerBudgetExceeded",
           "platform_key_id"]

#: Default B: one answer per platform per period.
DEFAULT_ANSWERS = 1
#: Default period: one day, as a sliding window.
DEFAULT_PERIOD_S = 86_400.0
#: Name of the journal inside the receiver's state folder.
BUDGET_FILE = "pdc-answer-budget.json"
_FORMAT = 1


def platform_key_id(n: int) -> str:
    """The default platform identity: ``key:0x`` and 16 hex digits of keccak256 of its modulus n."""
    return "key:0x" + keccak256(int(n).to_bytes((int(n).bit_length() + 7) // 8, "big")).hex()[:16]


class AnswerBudgetExceeded(PDCError):
    """The receiver has already answered B tasks of this platform within the period."""

    def __init__(self, platform: str, limit: int, period_s: float, next_at: float) -> None:
        self.platform, self.limit, self.period_s, self.next_at = platform, limit, period_s, next_at
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(next_at))
        super().__init__(
            f"answer budget exhausted: {limit} answer(s) to platform {platform} within {period_s:g} s "
            f"already given; the next one is allowed at {when}"
        )


class AnswerBudget:
    """At most ``limit`` answers per platform within any ``period_s`` seconds, journaled in ``state_dir``.

    Parameters
    ----------
    state_dir : str or Path
        The receiver's own state folder (created if missing); the journal is :data:`BUDGET_FILE`.
    limit : int, default 1
        B, answers allowed per platform and period (>= 1).
    period_s : float, default 86400
        Length of the sliding window in seconds (> 0).
    clock : callable, optional
        Seconds since the epoch (``time.time``); tests pass their own.
    """

    def __init__(
        self,
        state_dir: str | os.PathLike[str],
        *,
        limit: int = DEFAULT_ANSWERS,
        period_s: float = DEFAULT_PERIOD_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InputError(f"answer budget limit must be an int >= 1, got {limit!r}")
        if isinstance(period_s, bool) or not isinstance(period_s, (int, float)) or not (
            math.isfinite(period_s) and period_s > 0
        ):
            raise InputError(f"answer budget period must be a finite number of seconds > 0, got {period_s!r}")
        self.path = Path(state_dir) / BUDGET_FILE
        self.limit, self.period_s, self._clock = limit, float(period_s), clock
        self._lock = threading.Lock()

    def _load(self) -> dict[str, list[list[Any]]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            data = json.loads(text)
            if data.get("format") != _FORMAT or not isinstance(data.get("answers"), dict):
                raise ValueError("unknown layout")
            return {str(k): [[float(t), str(task)] for t, task in v] for k, v in data["answers"].items()}
        except (ValueError, TypeError, AttributeError) as exc:
            raise InputError(f"answer budget journal {self.path} is unreadable ({exc}): restore or remove it") from exc

    def _save(self, answers: dict[str, list[list[Any]]]) -> None:
        write_atomic(self.path, json.dumps({"format": _FORMAT, "answers": answers}))

    def answers(self, platform: str) -> list[tuple[float, str]]:
        """``(time, task_id)`` of the answers to ``platform`` still inside the window."""
        cutoff = self._clock() - self.period_s
        return [(t, task) for t, task in self._load().get(platform, []) if t > cutoff]

    def remaining(self, platform: str) -> int:
        """Answers ``platform`` may still get in the current window."""
        return max(0, self.limit - len(self.answers(platform)))

    def charge(self, platform: str, task_id: str) -> None:
        """Record an answer to ``task_id`` of ``platform``, or raise :class:`AnswerBudgetExceeded`.

        Charging a task already recorded in the window is free (a resumed answer).
        """
        with self._lock:
            now = self._clock()
            answers = self._load()
            recent = [[t, task] for t, task in answers.get(platform, []) if t > now - self.period_s]
            if any(task == task_id for _, task in recent):
                return
            if len(recent) >= self.limit:
                raise AnswerBudgetExceeded(platform, self.limit, self.period_s, min(t for t, _ in recent) + self.period_s)
            answers[platform] = [*recent, [now, task_id]]
            self._save(answers)
