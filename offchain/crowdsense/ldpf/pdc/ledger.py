"""What the PDC platform remembers between messages: its tasks and each receiver's answer.

:class:`~crowdsense.ldpf.pdc.platform.Platform` keeps no state of its own between a query and
its reveal; it reads and writes a *ledger*. :class:`MemoryLedger` (the default) keeps it in a
process; the platform service keeps it in its database
(:class:`crowdsense.services.pdc_ledger.SqlLedger`), so that a platform killed between a query
and its reveal resumes where it stopped, and several server processes share one round.

A receiver's answer goes ``pending`` (decrypted, waiting for the reveal) -> ``accepted``
(distance known) or ``rejected`` (caught cheating, with the reason). A receiver answers a task
once; a commitment serves one query, across all tasks. The ledger enforces both atomically
(:meth:`PlatformLedger.record_pending` refuses the second), so two servers racing on one
receiver cannot both decrypt for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from crowdsense.ldpf.pdc.encoding import Point
from crowdsense.ldpf.pdc.errors import ProtocolStateError
from crowdsense.ldpf.pdc.messages import TaskMessage

__all__ = ["Answer", "AnswerState", "MemoryLedger", "PlatformLedger"]

AnswerState = Literal["pending", "accepted", "rejected"]


@dataclass(frozen=True)
class Answer:
    """One receiver's standing in one task.

    ``commitment``, ``z``, ``s`` and ``masks`` are those of its query (None for a receiver
    rejected before anything was decrypted); ``distance`` is set once accepted, ``reason`` once
    rejected.
    """

    state: AnswerState
    commitment: bytes | None = None
    z: int | None = None
    s: int | None = None
    masks: tuple[bytes, bytes] | None = None  # Pedersen commitments U, V of a proven query
    distance: int | None = None
    reason: str | None = None


class PlatformLedger(Protocol):
    """The platform's tasks and answers (module docstring)."""

    def add_task(self, message: TaskMessage, centre: Point, public: dict[str, Any] | None = None) -> None:
        """Record an opened task and its public description (for example where its grid lies);
        :class:`ProtocolStateError` if its id is taken."""

    def task(self, task_id: str) -> tuple[TaskMessage, Point] | None:
        """The task's message and centre, or None."""

    def public(self, task_id: str) -> dict[str, Any] | None:
        """The task's public description ({} if none was given), or None for an unknown task."""

    def answer(self, task_id: str, receiver: str) -> Answer | None:
        """The receiver's answer to the task, or None."""

    def commitment_used(self, commitment: bytes) -> bool:
        """Whether a query with this commitment was decrypted (in any task)."""

    def record_pending(self, task_id: str, receiver: str, *, commitment: bytes, z: int, s: int,
                       masks: tuple[bytes, bytes] | None) -> None:
        """A decrypted query; :class:`ProtocolStateError` if the receiver already answered the
        task or the commitment was used (checked and written atomically)."""

    def record_accepted(self, task_id: str, receiver: str, distance: int) -> None:
        """The pending answer accepted with its distance."""

    def record_rejected(self, task_id: str, receiver: str, reason: str) -> None:
        """The receiver rejected for the task (its answer, if any, is replaced)."""

    def accepted(self, task_id: str) -> dict[str, int]:
        """Accepted distances of the task by receiver."""

    def rejected(self, task_id: str) -> dict[str, str]:
        """Rejected receivers of the task, with the reason."""


class MemoryLedger:
    """A :class:`PlatformLedger` in this process's memory (one platform object, one process)."""

    def __init__(self) -> None:
        self._tasks: dict[str, tuple[TaskMessage, Point]] = {}
        self._public: dict[str, dict[str, Any]] = {}
        self._answers: dict[str, dict[str, Answer]] = {}
        self._commitments: set[bytes] = set()

    def add_task(self, message: TaskMessage, centre: Point, public: dict[str, Any] | None = None) -> None:
        if message.task_id in self._tasks:
            raise ProtocolStateError(f"task {message.task_id!r} is already open")
        self._tasks[message.task_id] = (message, centre)
        self._public[message.task_id] = dict(public or {})
        self._answers[message.task_id] = {}

    def task(self, task_id: str) -> tuple[TaskMessage, Point] | None:
        return self._tasks.get(task_id)

    def public(self, task_id: str) -> dict[str, Any] | None:
        return None if task_id not in self._tasks else dict(self._public[task_id])

    def answer(self, task_id: str, receiver: str) -> Answer | None:
        return self._answers.get(task_id, {}).get(receiver)

    def commitment_used(self, commitment: bytes) -> bool:
        return commitment in self._commitments

    def record_pending(self, task_id: str, receiver: str, *, commitment: bytes, z: int, s: int,
                       masks: tuple[bytes, bytes] | None) -> None:
        answers = self._answers[task_id]
        if receiver in answers:
            raise ProtocolStateError(f"receiver {receiver!r} already queried task {task_id!r}; "
                                     "one decryption per receiver and task")
        if commitment in self._commitments:
            raise ProtocolStateError("commitment already used by another query (one commitment per query)")
        answers[receiver] = Answer("pending", commitment, z, s, masks)
        self._commitments.add(commitment)

    def record_accepted(self, task_id: str, receiver: str, distance: int) -> None:
        old = self._answers[task_id][receiver]
        self._answers[task_id][receiver] = Answer("accepted", old.commitment, old.z, old.s, old.masks, distance)

    def record_rejected(self, task_id: str, receiver: str, reason: str) -> None:
        old = self._answers[task_id].get(receiver) or Answer("rejected")
        self._answers[task_id][receiver] = Answer("rejected", old.commitment, old.z, old.s, old.masks, reason=reason)

    def accepted(self, task_id: str) -> dict[str, int]:
        return {r: a.distance for r, a in self._answers.get(task_id, {}).items()
                if a.state == "accepted" and a.distance is not None}

    def rejected(self, task_id: str) -> dict[str, str]:
        return {r: a.reason or "" for r, a in self._answers.get(task_id, {}).items() if a.state == "rejected"}
