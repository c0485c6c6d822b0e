"""The PDC platform's ledger in the service database (SQLite or PostgreSQL).

Implements :class:`crowdsense.ldpf.pdc.ledger.PlatformLedger` over the ``pdc_tasks`` and
``pdc_answers`` tables, so that the platform's state lives in one committed place: a service
killed between a receiver's query and its reveal finds the pending answer when it restarts,
and server processes sharing the database share the round. The rules "one answer per receiver
and task" and "one query per commitment" are the tables' primary and unique keys, so the
database refuses the second of two racing queries whichever process sent it.

The task's region (where its grid lies) is kept beside the task: the service hands it out with
the task message, so a receiver can place its own location on the grid.
"""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import Engine, and_, insert, select, update
from sqlalchemy.exc import IntegrityError

from crowdsense.ldpf.pdc.encoding import Point
from crowdsense.ldpf.pdc.errors import ProtocolStateError
from crowdsense.ldpf.pdc.ledger import Answer
from crowdsense.ldpf.pdc.messages import TaskMessage
from crowdsense.services.db import pdc_answers, pdc_tasks

__all__ = ["SqlLedger"]


def _hex(data: bytes | None) -> str | None:
    return None if data is None else "0x" + bytes(data).hex()


def _bytes(text: str | None) -> bytes | None:
    return None if text is None else bytes.fromhex(text[2:])


class SqlLedger:
    """A :class:`~crowdsense.ldpf.pdc.ledger.PlatformLedger` in the service database (the task's
    public description, where its grid lies, in the ``region`` column)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # A task never changes once open: its parsed message (hundreds of ciphertexts, checked on
        # parsing, its digest computed once) and region are kept rather than read for every message.
        self._tasks: dict[str, tuple[TaskMessage, Point]] = {}
        self._public: dict[str, dict[str, Any]] = {}

    def add_task(self, message: TaskMessage, centre: Point, public: dict[str, Any] | None = None) -> None:
        row = {"task_id": message.task_id, "message": message.to_json(), "centre_x": int(centre[0]),
               "centre_y": int(centre[1]), "region": json.dumps(public or {}), "created": int(time.time())}
        try:
            with self.engine.begin() as db:
                db.execute(insert(pdc_tasks).values(**row))
        except IntegrityError:
            raise ProtocolStateError(f"task {message.task_id!r} is already open") from None

    def task(self, task_id: str) -> tuple[TaskMessage, Point] | None:
        known = self._tasks.get(task_id)
        if known is not None:
            return known
        with self.engine.connect() as db:
            row = db.execute(select(pdc_tasks.c.message, pdc_tasks.c.centre_x, pdc_tasks.c.centre_y)
                             .where(pdc_tasks.c.task_id == task_id)).first()
        if row is None:
            return None
        found = self._tasks[task_id] = TaskMessage.from_json(row.message), (int(row.centre_x), int(row.centre_y))
        return found

    def public(self, task_id: str) -> dict[str, Any] | None:
        known = self._public.get(task_id)
        if known is None:
            with self.engine.connect() as db:
                text = db.execute(select(pdc_tasks.c.region).where(pdc_tasks.c.task_id == task_id)).scalar()
            if text is None:
                return None
            known = self._public[task_id] = dict(json.loads(text))
        return dict(known)

    def answer(self, task_id: str, receiver: str) -> Answer | None:
        with self.engine.connect() as db:
            row = db.execute(select(pdc_answers).where(and_(pdc_answers.c.task_id == task_id,
                                                            pdc_answers.c.receiver == receiver))).first()
        if row is None:
            return None
        masks = json.loads(row.masks) if row.masks else None
        return Answer(state=row.state, commitment=_bytes(row.commitment), z=None if row.z is None else int(row.z),
                      s=None if row.s is None else int(row.s),
                      masks=None if masks is None else (_bytes(masks[0]), _bytes(masks[1])),  # type: ignore[arg-type]
                      distance=row.distance, reason=row.reason)

    def commitment_used(self, commitment: bytes) -> bool:
        with self.engine.connect() as db:
            return db.execute(select(pdc_answers.c.task_id)
                              .where(pdc_answers.c.commitment == _hex(commitment))).first() is not None

    def record_pending(self, task_id: str, receiver: str, *, commitment: bytes, z: int, s: int,
                       masks: tuple[bytes, bytes] | None) -> None:
        row = {"task_id": task_id, "receiver": receiver, "commitment": _hex(commitment), "z": str(z), "s": str(s),
               "masks": None if masks is None else json.dumps([_hex(m) for m in masks]), "state": "pending",
               "updated": int(time.time())}
        try:
            with self.engine.begin() as db:
                db.execute(insert(pdc_answers).values(**row))
        except IntegrityError:
            if self.answer(task_id, receiver) is not None:
                raise ProtocolStateError(f"receiver {receiver!r} already queried task {task_id!r}; "
                                         "one decryption per receiver and task") from None
            raise ProtocolStateError("commitment already used by another query (one commitment per query)") from None

    def record_accepted(self, task_id: str, receiver: str, distance: int) -> None:
        with self.engine.begin() as db:
            db.execute(update(pdc_answers)
                       .where(and_(pdc_answers.c.task_id == task_id, pdc_answers.c.receiver == receiver))
                       .values(state="accepted", distance=int(distance), updated=int(time.time())))

    def record_rejected(self, task_id: str, receiver: str, reason: str) -> None:
        values = {"state": "rejected", "reason": reason, "updated": int(time.time())}
        with self.engine.begin() as db:
            done = db.execute(update(pdc_answers)
                              .where(and_(pdc_answers.c.task_id == task_id, pdc_answers.c.receiver == receiver))
                              .values(**values)).rowcount
            if not done:
                db.execute(insert(pdc_answers).values(task_id=task_id, receiver=receiver, **values))

    def _rows(self, task_id: str, state: str) -> list[Any]:
        with self.engine.connect() as db:
            return list(db.execute(select(pdc_answers.c.receiver, pdc_answers.c.distance, pdc_answers.c.reason)
                                   .where(and_(pdc_answers.c.task_id == task_id, pdc_answers.c.state == state))
                                   .order_by(pdc_answers.c.receiver)))

    def accepted(self, task_id: str) -> dict[str, int]:
        return {row.receiver: int(row.distance) for row in self._rows(task_id, "accepted")}

    def rejected(self, task_id: str) -> dict[str, str]:
        return {row.receiver: row.reason or "" for row in self._rows(task_id, "rejected")}

    def pending(self, task_id: str) -> list[str]:
        """Receivers whose query was decrypted and whose reveal has not come."""
        return [row.receiver for row in self._rows(task_id, "pending")]
