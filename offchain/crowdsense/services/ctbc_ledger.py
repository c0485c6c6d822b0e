"""The CTBC parties' state in the service database (SQLite or PostgreSQL).

Three parties of LDPF's popular-region protocol keep their state here, each in its own tables
and each normally in its own service (run by its own operator):

* :class:`EdgeLedger`, the edge's **parameter generator and registration authority**: one secret
  rigid transform per epoch, with the epoch's public origin, and the accounts registered to read
  it (the receivers and the platform).
* :class:`AnonymizerLedger`, the **edge anonymizer**: the transformed positions users send it in
  an epoch, and once it has grouped them (MDAV, k-anonymity), each account's UD.
* :class:`CtbcLedger`, the **sensing platform**: the users' uploads (commitment, UD, sealed UD)
  per epoch, its tasks, and per task the ranked candidates and who has been asked, selected or
  excluded.

Every rule that must hold across processes is a key of the tables: one epoch per number, one
position and one upload per account and epoch, one commitment per upload, one state per task
and candidate. Every write is one transaction, so a service killed with SIGKILL restarts on a
consistent state and the round in progress continues.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Engine, and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from crowdsense.errors import CrowdsenseError
from crowdsense.ldpf.ctbc._validation import check_k
from crowdsense.ldpf.ctbc.grouping import k_anonymity_groups
from crowdsense.ldpf.ctbc.protocol import Upload, ud_payloads
from crowdsense.ldpf.ctbc.transform import RigidTransform
from crowdsense.services.db import (
    anon_epochs,
    anon_positions,
    ctbc_asks,
    ctbc_tasks,
    ctbc_uploads,
    edge_epochs,
    edge_parties,
)

__all__ = ["ConflictError", "EdgeLedger", "AnonymizerLedger", "CtbcLedger", "Candidate"]


class ConflictError(CrowdsenseError):
    """The request contradicts what the ledger already holds (answered 409)."""


def _now() -> int:
    return int(time.time())


def _hex(data: bytes) -> str:
    return "0x" + bytes(data).hex()


class EdgeLedger:
    """The parameter generator's epochs and the registered parties."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def open_epoch(self, transform: RigidTransform, origin: tuple[float, float]) -> None:
        row = {"epoch": transform.epoch, "origin": json.dumps(list(origin)),
               "transform": json.dumps(transform.to_dict()), "created": _now()}
        try:
            with self.engine.begin() as db:
                db.execute(insert(edge_epochs).values(**row))
        except IntegrityError:
            raise ConflictError(f"epoch {transform.epoch} is already open: expected a new epoch number") from None

    def epoch(self, epoch: int) -> tuple[tuple[float, float], RigidTransform] | None:
        with self.engine.connect() as db:
            row = db.execute(select(edge_epochs).where(edge_epochs.c.epoch == epoch)).first()
        if row is None:
            return None
        lat, lon = json.loads(row.origin)
        return (float(lat), float(lon)), RigidTransform.from_dict(json.loads(row.transform))

    def latest(self) -> int | None:
        with self.engine.connect() as db:
            return db.execute(select(func.max(edge_epochs.c.epoch))).scalar()

    def register(self, accounts: Sequence[str]) -> int:
        """Register ``accounts`` (lower-case hex) in one transaction; returns how many were new."""
        wanted = sorted(set(accounts))
        try:
            with self.engine.begin() as db:
                known = {row.account for start in range(0, len(wanted), 500) for row in db.execute(
                    select(edge_parties.c.account).where(edge_parties.c.account.in_(wanted[start:start + 500])))}
                new = [a for a in wanted if a not in known]
                if new:
                    db.execute(insert(edge_parties), [{"account": a, "created": _now()} for a in new])
            return len(new)
        except IntegrityError:  # another request registered some of them meanwhile: one by one
            added = 0
            for account in wanted:
                try:
                    with self.engine.begin() as db:
                        db.execute(insert(edge_parties).values(account=account, created=_now()))
                    added += 1
                except IntegrityError:
                    pass
            return added

    def registered(self, account: str) -> bool:
        with self.engine.connect() as db:
            return db.execute(select(edge_parties.c.account)
                              .where(edge_parties.c.account == account.lower())).first() is not None


class AnonymizerLedger:
    """The anonymizer's transformed positions and, once grouped, each account's UD."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def grouped(self, epoch: int) -> tuple[int, int] | None:
        """``(k, number of groups)`` once the epoch is grouped, else None."""
        with self.engine.connect() as db:
            row = db.execute(select(anon_epochs.c.k, anon_epochs.c.groups).where(anon_epochs.c.epoch == epoch)).first()
        return None if row is None else (int(row.k), int(row.groups))

    def add_position(self, epoch: int, account: str, x: float, y: float) -> bool:
        """Record ``account``'s transformed position; True if new, False if the same was recorded."""
        if self.grouped(epoch) is not None:
            raise ConflictError(f"epoch {epoch} is already grouped: expected positions before the anonymizer "
                                "groups the epoch")
        row = {"epoch": epoch, "account": account, "x": float(x).hex(), "y": float(y).hex(), "created": _now()}
        try:
            with self.engine.begin() as db:
                db.execute(insert(anon_positions).values(**row))
            return True
        except IntegrityError:
            with self.engine.connect() as db:
                old = db.execute(select(anon_positions.c.x, anon_positions.c.y).where(
                    and_(anon_positions.c.epoch == epoch, anon_positions.c.account == account))).first()
            if old is not None and (old.x, old.y) == (row["x"], row["y"]):
                return False
            raise ConflictError(f"account {account} already sent another position in epoch {epoch}: expected "
                                "one position per account and epoch") from None

    def count(self, epoch: int) -> int:
        with self.engine.connect() as db:
            return int(db.execute(select(func.count()).select_from(anon_positions)
                                  .where(anon_positions.c.epoch == epoch)).scalar() or 0)

    def group(self, epoch: int, k: int) -> tuple[int, int]:
        """Group the epoch's positions into k-anonymous groups (MDAV) and store every account's
        UD, in one transaction; returns ``(users, groups)``. Grouping again with the same k
        returns the same result; no position is accepted after it."""
        done = self.grouped(epoch)
        if done is not None:
            if done[0] != k:
                raise ConflictError(f"epoch {epoch} was grouped with k = {done[0]}: expected the same k")
            return self.count(epoch), done[1]
        with self.engine.begin() as db:
            rows = list(db.execute(select(anon_positions.c.account, anon_positions.c.x, anon_positions.c.y)
                                   .where(anon_positions.c.epoch == epoch).order_by(anon_positions.c.account)))
            points = np.array([[float.fromhex(r.x), float.fromhex(r.y)] for r in rows]).reshape(-1, 2)
            check_k(k, len(rows))
            grouping = k_anonymity_groups(points, k=k)
            payloads = ud_payloads(grouping, epoch=epoch)
            for row, label in zip(rows, grouping.labels.tolist()):
                db.execute(update(anon_positions)
                           .where(and_(anon_positions.c.epoch == epoch, anon_positions.c.account == row.account))
                           .values(ud=_hex(payloads[label])))
            try:
                db.execute(insert(anon_epochs).values(epoch=epoch, k=k, groups=grouping.n_groups, created=_now()))
            except IntegrityError:  # another process grouped it first: roll back ours
                raise ConflictError(f"epoch {epoch} was grouped meanwhile: expected one grouping") from None
        return len(rows), int(grouping.n_groups)

    def ud(self, epoch: int, account: str) -> bytes | None:
        with self.engine.connect() as db:
            text = db.execute(select(anon_positions.c.ud).where(
                and_(anon_positions.c.epoch == epoch, anon_positions.c.account == account))).scalar()
        return None if text is None else bytes.fromhex(text[2:])


@dataclass(frozen=True)
class Candidate:
    """One candidate of a task as the platform tracks it."""

    account: str
    rank: int
    group: int
    state: str  # queued, asked, selected, failed
    reason: str | None


class CtbcLedger:
    """The platform's uploads, tasks and candidates."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add_upload(self, epoch: int, account: str, commitment: bytes, payload: bytes, sealed: bytes) -> bool:
        """Record an upload; True if new, False if the same one was recorded before."""
        row = {"epoch": epoch, "account": account, "commitment": _hex(commitment), "payload": _hex(payload),
               "sealed": _hex(sealed), "created": _now()}
        try:
            with self.engine.begin() as db:
                db.execute(insert(ctbc_uploads).values(**row))
            return True
        except IntegrityError:
            with self.engine.connect() as db:
                old = db.execute(select(ctbc_uploads).where(
                    and_(ctbc_uploads.c.epoch == epoch, ctbc_uploads.c.account == account))).first()
            if old is not None and (old.commitment, old.payload, old.sealed) == (row["commitment"], row["payload"],
                                                                                 row["sealed"]):
                return False
            raise ConflictError(f"account {account} already uploaded another commitment in epoch {epoch}, or the "
                                "commitment is another account's: expected one upload per account and epoch") from None

    def uploads(self, epoch: int) -> list[Upload]:
        """The epoch's uploads in a fixed order (by account); ``Upload.user`` is the index."""
        with self.engine.connect() as db:
            rows = list(db.execute(select(ctbc_uploads).where(ctbc_uploads.c.epoch == epoch)
                                   .order_by(ctbc_uploads.c.account)))
        return [Upload(i, r.account, bytes.fromhex(r.payload[2:]), bytes.fromhex(r.sealed[2:]),
                       bytes.fromhex(r.commitment[2:])) for i, r in enumerate(rows)]

    def upload(self, epoch: int, account: str) -> Upload | None:
        with self.engine.connect() as db:
            r = db.execute(select(ctbc_uploads).where(
                and_(ctbc_uploads.c.epoch == epoch, ctbc_uploads.c.account == account))).first()
        if r is None:
            return None
        return Upload(0, r.account, bytes.fromhex(r.payload[2:]), bytes.fromhex(r.sealed[2:]),
                      bytes.fromhex(r.commitment[2:]))

    def open_task(self, task_id: str, *, epoch: int, task: dict[str, Any], k: int, case: int,
                  queue: Sequence[tuple[str, int]]) -> None:
        """Store the task and its ranked candidates, the first N of them asked, in one transaction."""
        n = int(task["nRequired"])
        try:
            with self.engine.begin() as db:
                db.execute(insert(ctbc_tasks).values(task_id=task_id, epoch=epoch, task=json.dumps(task), k=k,
                                                     n_required=n, selection_case=case, created=_now()))
                if queue:
                    db.execute(insert(ctbc_asks), [
                        {"task_id": task_id, "account": account, "rank": rank, "grp": group,
                         "state": "asked" if rank < n else "queued", "reason": None, "updated": _now()}
                        for rank, (account, group) in enumerate(queue)])
        except IntegrityError:
            raise ConflictError(f"task {task_id!r} is already open: expected a new task id") from None

    def task(self, task_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as db:
            row = db.execute(select(ctbc_tasks).where(ctbc_tasks.c.task_id == task_id)).first()
        if row is None:
            return None
        return {"taskId": row.task_id, "epoch": int(row.epoch), "task": json.loads(row.task), "k": int(row.k),
                "nRequired": int(row.n_required), "case": int(row.selection_case)}

    def candidate(self, task_id: str, account: str) -> Candidate | None:
        with self.engine.connect() as db:
            r = db.execute(select(ctbc_asks).where(
                and_(ctbc_asks.c.task_id == task_id, ctbc_asks.c.account == account))).first()
        return None if r is None else Candidate(r.account, int(r.rank), int(r.grp), r.state, r.reason)

    def candidates(self, task_id: str) -> list[Candidate]:
        with self.engine.connect() as db:
            rows = list(db.execute(select(ctbc_asks).where(ctbc_asks.c.task_id == task_id)
                                   .order_by(ctbc_asks.c.rank)))
        return [Candidate(r.account, int(r.rank), int(r.grp), r.state, r.reason) for r in rows]

    def settle(self, task_id: str, account: str, *, selected: bool, reason: str | None = None) -> str:
        """Mark an asked candidate selected or failed; a failure asks the next queued candidate
        (the replacement of LDPF Step 5). Returns the candidate's state afterwards (a candidate
        already settled keeps its state: the first verdict stands)."""
        with self.engine.begin() as db:
            where = and_(ctbc_asks.c.task_id == task_id, ctbc_asks.c.account == account, ctbc_asks.c.state == "asked")
            state = "selected" if selected else "failed"
            if not db.execute(update(ctbc_asks).where(where)
                              .values(state=state, reason=reason, updated=_now())).rowcount:
                now = db.execute(select(ctbc_asks.c.state).where(
                    and_(ctbc_asks.c.task_id == task_id, ctbc_asks.c.account == account))).scalar()
                return str(now)
            if not selected:
                self._ask_next(db, task_id, 1)
        return state

    def expire(self, task_id: str, reason: str) -> list[str]:
        """Exclude every candidate asked and not yet verified, and ask as many next candidates."""
        with self.engine.begin() as db:
            late = [r.account for r in db.execute(select(ctbc_asks.c.account).where(
                and_(ctbc_asks.c.task_id == task_id, ctbc_asks.c.state == "asked")))]
            if late:
                db.execute(update(ctbc_asks).where(and_(ctbc_asks.c.task_id == task_id, ctbc_asks.c.state == "asked"))
                           .values(state="failed", reason=reason, updated=_now()))
                self._ask_next(db, task_id, len(late))
        return late

    @staticmethod
    def _ask_next(db: Any, task_id: str, count: int) -> None:
        """Ask the ``count`` best queued candidates. Each is taken by a conditional update, so two
        processes replacing at once never ask the same candidate for two places."""
        queued = [r.account for r in db.execute(select(ctbc_asks.c.account).where(
            and_(ctbc_asks.c.task_id == task_id, ctbc_asks.c.state == "queued")).order_by(ctbc_asks.c.rank))]
        for account in queued:
            if count == 0:
                break
            count -= db.execute(update(ctbc_asks).where(and_(ctbc_asks.c.task_id == task_id,
                                                             ctbc_asks.c.account == account,
                                                             ctbc_asks.c.state == "queued"))
                                .values(state="asked", updated=_now())).rowcount
