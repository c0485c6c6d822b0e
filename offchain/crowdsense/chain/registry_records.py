"""The records :class:`~crowdsense.chain.registry.TaskRegistryClient` returns.

Tasks and subtasks as read from ``TaskRegistry``, and the outcome of each role's actions
(releases, claims, level registrations, key hand-overs, fetched subtasks). Each has
``to_json`` with the field names of the CLI's ``--json`` output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crowdsense.chain.txsend import TxRecord

__all__ = [
    "TaskInfo",
    "SubtaskInfo",
    "ReleasedTask",
    "ClaimResult",
    "RegistrationReport",
    "Handover",
    "FetchedSubtask",
]


def _hex(b: bytes | None) -> str | None:
    return None if b is None else "0x" + bytes(b).hex()


@dataclass(frozen=True)
class TaskInfo:
    task_id: int
    releaser: str
    subtask_count: int
    closed: bool

    def to_json(self) -> dict[str, Any]:
        return {"taskId": self.task_id, "releaser": self.releaser, "subtaskCount": self.subtask_count,
                "closed": self.closed}


@dataclass(frozen=True)
class SubtaskInfo:
    """One subtask's on-chain record (``claimant``/``data_hash`` None while unset)."""

    task_id: int
    index: int
    level: int
    subtask_hash: bytes
    claimant: str | None
    data_hash: bytes | None
    task_closed: bool = False
    block_number: int | None = None  # block of its release, when listed from events

    @property
    def claimable(self) -> bool:
        return self.claimant is None and not self.task_closed

    def to_json(self) -> dict[str, Any]:
        return {"taskId": self.task_id, "index": self.index, "level": self.level,
                "subtaskHash": _hex(self.subtask_hash), "claimant": self.claimant,
                "dataHash": _hex(self.data_hash), "taskClosed": self.task_closed,
                "releasedInBlock": self.block_number}


@dataclass(frozen=True)
class ReleasedTask:
    task_id: int
    subtask_hashes: tuple[bytes, ...]
    levels: tuple[int, ...]
    tx: TxRecord

    def to_json(self) -> dict[str, Any]:
        return {"taskId": self.task_id, "levels": list(self.levels),
                "subtaskHashes": [_hex(h) for h in self.subtask_hashes], "tx": self.tx.tx_hash,
                "block": self.tx.block_number, "resumed": self.tx.resumed}


@dataclass(frozen=True)
class ClaimResult:
    """A claim: the transaction, or ``tx=None`` when the caller already held this subtask."""

    task_id: int
    index: int
    level: int
    tx: TxRecord | None

    @property
    def already_held(self) -> bool:
        return self.tx is None

    def to_json(self) -> dict[str, Any]:
        return {"taskId": self.task_id, "index": self.index, "level": self.level,
                "tx": self.tx.tx_hash if self.tx else None, "resumed": bool(self.tx and self.tx.resumed),
                "alreadyHeld": self.already_held}


@dataclass(frozen=True)
class RegistrationReport:
    requested: int
    skipped: int
    batch_size: int
    batches: tuple[TxRecord, ...]

    @property
    def registered(self) -> int:
        return self.requested - self.skipped

    def to_json(self) -> dict[str, Any]:
        return {"requested": self.requested, "registered": self.registered, "skipped": self.skipped,
                "batchSize": self.batch_size, "transactions": [b.tx_hash for b in self.batches],
                "gasUsed": sum(b.gas_used for b in self.batches)}


@dataclass(frozen=True)
class Handover:
    task_id: int
    index: int
    claimant: str
    subtask_hash: bytes
    written: bool  # False when the envelope already existed (or none could be written)
    error: str | None = None  # why no envelope could be written for this subtask

    def to_json(self) -> dict[str, Any]:
        return {"taskId": self.task_id, "index": self.index, "claimant": self.claimant,
                "subtaskHash": _hex(self.subtask_hash), "written": self.written, "error": self.error}


@dataclass(frozen=True)
class FetchedSubtask:
    """A claimed subtask, decrypted; ``reply_to``: the releaser's encryption key it names (the
    key delivered data is encrypted to; None in descriptions released without one)."""

    task_id: int
    index: int
    level: int
    title: str
    text: str
    count: int
    reply_to: bytes | None = None

    def to_json(self) -> dict[str, Any]:
        return {"taskId": self.task_id, "index": self.index, "level": self.level, "title": self.title,
                "part": self.text, "subtaskCount": self.count,
                "replyTo": _hex(self.reply_to)}
