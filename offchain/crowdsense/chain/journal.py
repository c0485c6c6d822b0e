"""The local journal: secrets and pending transactions, durable before anything depends on them.

One SQLite file (default ``.crowdsense/journal.sqlite``, mode 0600, in a 0700 folder) with two
parts:

* **Secrets** — a key-value store of JSON objects (commitment openings, blinding values ``r``,
  subtask keys, ...). It implements :class:`crowdsense.commitments.SecretStore`, the small
  protocol the protocol modules rely on::

      put(key: str, value: dict) -> None     # durable when it returns
      get(key: str) -> dict | None

  Values are JSON objects; ``bytes`` inside them are stored tagged and come back as
  ``bytes``. Overwriting a key keeps the previous value in a history table, so a secret is
  never silently lost; :meth:`Journal.put_first` stores a value only if its key is new.
* **Intents** — one row per transaction the client means to send, keyed by an *intent id*
  (for example ``claim/31337/0xReg.../7/2/0xMe...``). The signed raw transaction, its hash
  and nonce are recorded *before* it is broadcast; the status then moves
  ``prepared -> sent -> confirmed | reverted`` (or ``dropped`` when its nonce was used by
  another transaction, ``failed`` when the node refused it). :mod:`crowdsense.chain.txsend`
  uses this to resume after a crash without ever sending an intent twice.

Durability: every write is its own transaction, committed with ``synchronous=FULL`` in WAL
mode, i.e. fsynced before :meth:`Journal.put`, :meth:`Journal.put_first`,
:meth:`Journal.record_prepared` or :meth:`Journal.update_intent` returns; a crash (SIGKILL,
power cut) loses at most the write in progress, never one that returned.

Concurrency: threads of one process (one lock) and processes (SQLite's write lock, waited for
up to ``busy_timeout``) may share one journal file; their writes are serialised. Creating
something once is atomic: :meth:`Journal.put_first` lets exactly one writer of a key win and
hands the others the winner's value (with the secrets it wrote alongside), and
:meth:`Journal.record_prepared` admits one standing attempt per intent id (a second one is
refused, and the sender resumes the recorded transaction instead). A plain :meth:`Journal.put`
is last-writer-wins, the earlier value kept in the history.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Literal, Mapping

from crowdsense.chain.errors import JournalError
from crowdsense.commitments.store import SecretStore  # what the journal implements; re-exported

__all__ = [
    "DEFAULT_JOURNAL",
    "ENV_JOURNAL",
    "SecretStore",
    "IntentStatus",
    "Intent",
    "OPEN_STATUSES",
    "Journal",
    "LazyJournal",
]

DEFAULT_JOURNAL = Path(".crowdsense/journal.sqlite")
ENV_JOURNAL = "CROWDSENSE_JOURNAL"
_SCHEMA_VERSION = 1

IntentStatus = Literal["prepared", "sent", "confirmed", "reverted", "dropped", "failed"]
#: Statuses of an intent whose transaction may still be (or already be) on chain.
OPEN_STATUSES = ("prepared", "sent")


@dataclass(frozen=True)
class Intent:
    """A journaled transaction (see the module docstring for the status machine)."""

    intent_id: str
    chain_id: int
    sender: str
    kind: str
    to: str | None
    nonce: int
    tx_hash: str
    raw_tx: str
    status: IntentStatus
    attempt: int
    block_number: int | None
    error: str | None
    created_at: float
    updated_at: float


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS secrets (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS secret_history (
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    replaced_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS intents (
    intent_id TEXT PRIMARY KEY,
    chain_id INTEGER NOT NULL,
    sender TEXT NOT NULL,
    kind TEXT NOT NULL,
    to_address TEXT,
    nonce INTEGER NOT NULL,
    tx_hash TEXT NOT NULL,
    raw_tx TEXT NOT NULL,
    status TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    block_number INTEGER,
    error TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS intents_open ON intents (chain_id, sender, status);
CREATE TABLE IF NOT EXISTS intent_history (
    intent_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    nonce INTEGER NOT NULL,
    tx_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    archived_at REAL NOT NULL
);
"""


def _encode(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"__bytes__": bytes(value).hex()}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise JournalError("secret values must be JSON objects with string keys")
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise JournalError(f"cannot store a {type(value).__name__} in the journal (JSON values and bytes only)")


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if value.keys() == {"__bytes__"}:
            return bytes.fromhex(value["__bytes__"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


class Journal:
    """The SQLite journal at ``path`` (created with its folder when missing).

    Parameters
    ----------
    path : str or Path
        Database file; ``":memory:"`` gives a throw-away journal (tests only: it survives no
        crash).
    busy_timeout : float
        Seconds to wait for another process holding the write lock.
    """

    def __init__(self, path: str | Path = DEFAULT_JOURNAL, *, busy_timeout: float = 30.0) -> None:
        self.path = Path(path) if str(path) != ":memory:" else None
        self._lock = threading.RLock()
        try:
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                if not self.path.exists():
                    fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)
                    os.close(fd)
            self._db = sqlite3.connect(
                str(self.path) if self.path else ":memory:",
                timeout=busy_timeout,
                isolation_level=None,  # autocommit; explicit BEGIN IMMEDIATE where needed
                check_same_thread=False,
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            with self._tx():
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                row = self._db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
                if row is None:
                    self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(_SCHEMA_VERSION),))
                elif int(row[0]) != _SCHEMA_VERSION:
                    raise JournalError(
                        f"journal {path} has schema version {row[0]}, this client reads {_SCHEMA_VERSION}"
                    )
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"cannot open the journal {path}: {exc}") from None
        except OSError as exc:
            raise JournalError(f"cannot create the journal {path}: {exc.strerror or exc}") from None

    def __repr__(self) -> str:
        return f"Journal({self.path or ':memory:'})"

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ plumbing

    class _Tx:
        def __init__(self, journal: "Journal") -> None:
            self.j = journal

        def __enter__(self) -> sqlite3.Connection:
            self.j._lock.acquire()
            try:
                self.j._db.execute("BEGIN IMMEDIATE")
            except BaseException:
                self.j._lock.release()
                raise
            return self.j._db

        def __exit__(self, exc_type: Any, *rest: Any) -> None:
            try:
                self.j._db.execute("ROLLBACK" if exc_type else "COMMIT")
            finally:
                self.j._lock.release()

    def _tx(self) -> "Journal._Tx":
        return Journal._Tx(self)

    def _query(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.DatabaseError as exc:
                raise JournalError(f"journal {self.path} query failed: {exc}") from None

    # ------------------------------------------------------------------ secrets

    def put(self, key: str, value: dict) -> None:
        """Store ``value`` under ``key``, durably (fsynced) before returning."""
        text = self._secret_text(key, value)
        try:
            with self._tx() as db:
                self._write_secret(db, key, text)
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"cannot write secret {key!r} to the journal {self.path}: {exc}") from None

    def put_first(self, key: str, value: dict, *,
                  with_secrets: Mapping[str, dict] | None = None) -> tuple[dict, bool]:
        """Store ``value`` under ``key`` unless ``key`` exists; ``(stored value, stored by this call)``.

        Of several threads or processes racing to create ``key`` exactly one wins: the check and
        the writes are one SQLite transaction under the write lock. The others write nothing
        and get the winner's value, so whatever it names (ciphertext hashes, say) is the one
        truth every racer goes on with. ``with_secrets`` are written by the winner in the same
        transaction, so the secrets ``value`` refers to (the keys of those ciphertexts) are
        durable no later than ``value`` itself and a loser never replaces them.
        """
        text = self._secret_text(key, value)
        extra = {k: self._secret_text(k, v) for k, v in (with_secrets or {}).items()}
        try:
            with self._tx() as db:
                old = db.execute("SELECT value FROM secrets WHERE key=?", (key,)).fetchone()
                if old is not None:
                    return _decode(json.loads(old[0])), False
                for other, other_text in extra.items():
                    self._write_secret(db, other, other_text)
                self._write_secret(db, key, text)
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"cannot write secret {key!r} to the journal {self.path}: {exc}") from None
        return _decode(json.loads(text)), True

    @staticmethod
    def _secret_text(key: str, value: dict) -> str:
        if not isinstance(key, str) or not key:
            raise JournalError(f"a secret key must be a non-empty str, got {key!r}")
        if not isinstance(value, dict):
            raise JournalError(f"a secret value must be a dict, got {type(value).__name__}")
        return json.dumps(_encode(value), sort_keys=True)

    @staticmethod
    def _write_secret(db: sqlite3.Connection, key: str, text: str) -> None:
        """Upsert inside an open transaction; a replaced value goes to the history."""
        now = time.time()
        old = db.execute("SELECT value FROM secrets WHERE key=?", (key,)).fetchone()
        if old is not None:
            if old[0] == text:
                return
            db.execute("INSERT INTO secret_history VALUES (?, ?, ?)", (key, old[0], now))
        db.execute(
            "INSERT INTO secrets VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET "
            "value=excluded.value, updated_at=excluded.updated_at",
            (key, text, now),
        )

    def get(self, key: str) -> dict | None:
        """The value stored under ``key``, or None."""
        rows = self._query("SELECT value FROM secrets WHERE key=?", (key,))
        return _decode(json.loads(rows[0][0])) if rows else None

    def keys(self, prefix: str = "") -> list[str]:
        """Secret keys starting with ``prefix``, sorted."""
        rows = self._query(
            "SELECT key FROM secrets WHERE substr(key, 1, ?) = ? ORDER BY key", (len(prefix), prefix)
        )
        return [r[0] for r in rows]

    def history(self, key: str) -> list[dict]:
        """Earlier values of ``key``, oldest first."""
        rows = self._query("SELECT value FROM secret_history WHERE key=? ORDER BY rowid", (key,))
        return [_decode(json.loads(r[0])) for r in rows]

    # ------------------------------------------------------------------ intents

    _COLUMNS = (
        "intent_id, chain_id, sender, kind, to_address, nonce, tx_hash, raw_tx, status, attempt, "
        "block_number, error, created_at, updated_at"
    )

    def intent(self, intent_id: str) -> Intent | None:
        rows = self._query(f"SELECT {self._COLUMNS} FROM intents WHERE intent_id=?", (intent_id,))
        return Intent(*rows[0]) if rows else None

    def record_prepared(
        self,
        *,
        intent_id: str,
        chain_id: int,
        sender: str,
        kind: str,
        to: str | None,
        nonce: int,
        tx_hash: str,
        raw_tx: str,
    ) -> Intent:
        """Journal a signed transaction before it is broadcast (durable on return).

        An intent that already exists must be finished without effect on chain (``reverted``,
        ``dropped`` or ``failed``): its row is archived and this becomes the next attempt.
        Re-preparing an open or confirmed intent raises :class:`JournalError`, which is what
        stops a second claim.
        """
        now = time.time()
        try:
            with self._tx() as db:
                old = db.execute(
                    "SELECT attempt, nonce, tx_hash, status, error, created_at FROM intents WHERE intent_id=?",
                    (intent_id,),
                ).fetchone()
                attempt, created = 1, now
                if old is not None:
                    if old[3] in (*OPEN_STATUSES, "confirmed"):
                        raise JournalError(
                            f"intent {intent_id} is already {old[3]} (tx {old[2]}); refusing to send it again"
                        )
                    db.execute(
                        "INSERT INTO intent_history VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (intent_id, old[0], old[1], old[2], old[3], old[4], now),
                    )
                    db.execute("DELETE FROM intents WHERE intent_id=?", (intent_id,))
                    attempt, created = old[0] + 1, old[5]
                db.execute(
                    f"INSERT INTO intents ({self._COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (intent_id, chain_id, sender, kind, to, nonce, tx_hash, raw_tx, "prepared", attempt,
                     None, None, created, now),
                )
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"cannot journal intent {intent_id}: {exc}") from None
        intent = self.intent(intent_id)
        assert intent is not None
        return intent

    def update_intent(
        self,
        intent_id: str,
        *,
        status: IntentStatus,
        block_number: int | None = None,
        error: str | None = None,
    ) -> None:
        """Move an intent to ``status`` (durable on return)."""
        try:
            with self._tx() as db:
                cur = db.execute(
                    "UPDATE intents SET status=?, block_number=COALESCE(?, block_number), error=?, updated_at=? "
                    "WHERE intent_id=?",
                    (status, block_number, error, time.time(), intent_id),
                )
                if cur.rowcount != 1:
                    raise JournalError(f"no intent {intent_id} in the journal")
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"cannot update intent {intent_id}: {exc}") from None

    def intents(
        self,
        *,
        status: tuple[str, ...] | None = None,
        chain_id: int | None = None,
        sender: str | None = None,
    ) -> list[Intent]:
        """Intents filtered by status, chain and sender, oldest first."""
        sql = f"SELECT {self._COLUMNS} FROM intents WHERE 1=1"
        args: list[Any] = []
        if status:
            sql += f" AND status IN ({','.join('?' * len(status))})"
            args += list(status)
        if chain_id is not None:
            sql += " AND chain_id=?"
            args.append(chain_id)
        if sender is not None:
            sql += " AND lower(sender)=lower(?)"
            args.append(sender)
        return [Intent(*r) for r in self._query(sql + " ORDER BY created_at, nonce", tuple(args))]

    def open_intents(self, *, chain_id: int | None = None, sender: str | None = None) -> list[Intent]:
        """Intents that may still need resuming (``prepared`` or ``sent``)."""
        return self.intents(status=OPEN_STATUSES, chain_id=chain_id, sender=sender)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())


class LazyJournal(Journal):
    """The journal at ``path``, opened now if the file exists, else created by its first write.

    Until then it reads as an empty journal (no secrets, no intents). Creating it takes the
    journal's own lock, so threads of one command (the LDPF rounds send from several) see one
    journal before and after.

    Why: a command opens its journal before it knows whether it will send anything (clients
    read it first, to find a transaction an earlier run already sent), and a command refused
    after that (an unknown task, a missing role, a wrong deployment file) must leave no empty
    journal file behind. The file is never deleted afterwards: a journal another process may
    already hold open must not disappear, so the cure is not to create it.
    """

    def __init__(self, path: str | Path) -> None:
        target = Path(path)
        self._pending: Path | None = None if target.exists() else target
        super().__init__(":memory:" if self._pending else target)
        self.path = target  # error messages name the file, created or not

    def _create(self) -> None:
        """Open the file (creating it) and put its connection in place of the in-memory one.

        Under the journal's lock, which stays the same object: threads already waiting on it
        go on with the file's connection.
        """
        with self._lock:
            if self._pending is None:
                return
            opened = Journal(self._pending)
            self._db, empty = opened._db, self._db
            empty.close()
            self._pending = None

    def put(self, key: str, value: dict) -> None:
        self._create()
        super().put(key, value)

    def put_first(self, key: str, value: dict, *, with_secrets: Mapping[str, dict] | None = None) -> tuple[dict, bool]:
        self._create()
        return super().put_first(key, value, with_secrets=with_secrets)

    def record_prepared(self, **fields: Any) -> Intent:
        self._create()
        return super().record_prepared(**fields)

    def update_intent(self, intent_id: str, **fields: Any) -> None:
        self._create()
        super().update_intent(intent_id, **fields)
