"""The services' storage: one schema behind SQLAlchemy Core, on SQLite or PostgreSQL.

SQLite is the default (one file, nothing to run): it is opened in WAL mode with
``synchronous=FULL``, so a commit is on disk before the request that made it is answered and
a service killed at any moment (``kill -9``, a power cut) loses nothing it acknowledged.
PostgreSQL is used when the URL says so (``postgresql://...``, driven by psycopg 3); its
commits are durable by default. The same tables, types and statements serve both: only the
engine differs. Tables are created when a service starts (idempotently), so a fresh database
needs no migration step.

Tables::

    blobs      hash (keccak256, 0x-hex, primary key), kind, data, size, created, writer
    envelopes  (subtask_hash, claimant, writer) primary key -> envelope_hash (a blob), created
    nonces     (account, nonce) primary key, expiry    -- replay protection of signed requests
    pdc_tasks    task_id primary key, message (the task's JSON), centre, region, created
    pdc_answers  (task_id, receiver) primary key, commitment (unique), z, s, masks, state,
                 distance, reason, updated             -- the PDC platform's ledger
    edge_epochs  epoch primary key, origin (lat, lon), transform (secret), created
    edge_parties account primary key, created          -- who may read an epoch's transform
    anon_epochs  epoch primary key, k, grouped         -- the anonymizer's rounds
    anon_positions (epoch, account) primary key, x, y, ud, created
    ctbc_uploads (epoch, account) primary key, commitment (unique), payload, sealed, created
    ctbc_tasks   task_id primary key, epoch, task, k, n_required, case, queue, created
    ctbc_asks    (task_id, account) primary key, rank, state, reason, updated
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Text,
    MetaData,
    String,
    Table,
    create_engine,
    event,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from crowdsense.errors import InputError, ToolchainError

__all__ = ["metadata", "blobs", "envelopes", "nonces", "pdc_tasks", "pdc_answers", "edge_epochs", "edge_parties",
           "anon_epochs", "anon_positions", "ctbc_uploads", "ctbc_tasks", "ctbc_asks", "open_database",
           "redacted_url", "engine_url"]

metadata = MetaData()

#: Hashes and addresses are kept as lower-case 0x-hex text: the same on both engines, readable
#: in a database shell, and compared without byte/bytea conversions.
HASH_TEXT = String(66)
ADDRESS_TEXT = String(42)

blobs = Table(
    "blobs", metadata,
    Column("hash", HASH_TEXT, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("size", Integer, nullable=False),
    Column("created", BigInteger, nullable=False),  # unix seconds
    Column("writer", ADDRESS_TEXT, nullable=False),
)

envelopes = Table(
    "envelopes", metadata,
    Column("subtask_hash", HASH_TEXT, primary_key=True),
    Column("claimant", ADDRESS_TEXT, primary_key=True),
    Column("envelope_hash", HASH_TEXT, ForeignKey("blobs.hash"), nullable=False),
    Column("writer", ADDRESS_TEXT, primary_key=True),
    Column("created", BigInteger, nullable=False),
)

nonces = Table(
    "nonces", metadata,
    Column("account", ADDRESS_TEXT, primary_key=True),
    Column("nonce", String(64), primary_key=True),
    Column("expiry", BigInteger, nullable=False),  # unix seconds after which the row may go
    Index("nonces_expiry", "expiry"),
)

pdc_tasks = Table(
    "pdc_tasks", metadata,
    Column("task_id", String(128), primary_key=True),
    Column("message", Text, nullable=False),  # TaskMessage.to_json(): the encrypted centre, public
    Column("centre_x", Integer, nullable=False),  # the platform's secret: the task's grid point
    Column("centre_y", Integer, nullable=False),
    Column("region", Text, nullable=False),  # JSON: where the grid lies (public)
    Column("created", BigInteger, nullable=False),
)

pdc_answers = Table(
    "pdc_answers", metadata,
    Column("task_id", String(128), ForeignKey("pdc_tasks.task_id"), primary_key=True),
    Column("receiver", String(128), primary_key=True),
    Column("commitment", HASH_TEXT, unique=True),  # one query per commitment, across tasks
    Column("z", Text),  # decimal
    Column("s", Text),  # decimal: dist + r, the platform's secret until the reveal
    Column("masks", Text),  # JSON [U, V] (0x-hex) of a proven query, or null
    Column("state", String(16), nullable=False),  # pending, accepted, rejected
    Column("distance", BigInteger),
    Column("reason", Text),
    Column("updated", BigInteger, nullable=False),
)

edge_epochs = Table(
    "edge_epochs", metadata,
    Column("epoch", BigInteger, primary_key=True),
    Column("origin", Text, nullable=False),  # JSON [lat, lon] of the epoch's local frame (public)
    Column("transform", Text, nullable=False),  # RigidTransform.to_dict() JSON: the edge's secret
    Column("created", BigInteger, nullable=False),
)

edge_parties = Table(
    "edge_parties", metadata,
    Column("account", ADDRESS_TEXT, primary_key=True),
    Column("created", BigInteger, nullable=False),
)

anon_epochs = Table(
    "anon_epochs", metadata,
    Column("epoch", BigInteger, primary_key=True),
    Column("k", Integer, nullable=False),
    Column("groups", Integer, nullable=False),
    Column("created", BigInteger, nullable=False),
)

anon_positions = Table(
    "anon_positions", metadata,
    Column("epoch", BigInteger, primary_key=True),
    Column("account", ADDRESS_TEXT, primary_key=True),
    Column("x", Text, nullable=False),  # float.hex(): transformed metres, exact
    Column("y", Text, nullable=False),
    Column("ud", Text),  # 0x-hex payload of the account's group centre, once grouped
    Column("created", BigInteger, nullable=False),
)

ctbc_uploads = Table(
    "ctbc_uploads", metadata,
    Column("epoch", BigInteger, primary_key=True),
    Column("account", ADDRESS_TEXT, primary_key=True),
    Column("commitment", HASH_TEXT, nullable=False, unique=True),
    Column("payload", Text, nullable=False),  # 0x-hex UD
    Column("sealed", Text, nullable=False),  # 0x-hex UD sealed to the platform
    Column("created", BigInteger, nullable=False),
)

ctbc_tasks = Table(
    "ctbc_tasks", metadata,
    Column("task_id", String(128), primary_key=True),
    Column("epoch", BigInteger, nullable=False),
    Column("task", Text, nullable=False),  # JSON: the task in transformed coordinates
    Column("k", Integer, nullable=False),
    Column("n_required", Integer, nullable=False),
    Column("selection_case", Integer, nullable=False),
    Column("created", BigInteger, nullable=False),
)

ctbc_asks = Table(
    "ctbc_asks", metadata,
    Column("task_id", String(128), ForeignKey("ctbc_tasks.task_id"), primary_key=True),
    Column("account", ADDRESS_TEXT, primary_key=True),
    Column("rank", Integer, nullable=False),  # place in the candidate queue, 0 = best
    Column("grp", Integer, nullable=False),  # the candidate's group (its UD)
    Column("state", String(16), nullable=False),  # queued, asked, selected, failed
    Column("reason", Text),
    Column("updated", BigInteger, nullable=False),
    Index("ctbc_asks_rank", "task_id", "rank"),
)

_EXPECTED = "expected sqlite:///PATH or postgresql://user:password@host:port/database"


def redacted_url(url: str | URL) -> str:
    """``url`` with its password, if any, replaced by ``***`` (for messages and logs)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<not a database URL>"


def engine_url(url: str) -> URL:
    """The SQLAlchemy URL of ``url``: ``postgresql://`` and ``postgres://`` use psycopg 3.

    Raises :class:`~crowdsense.errors.InputError` for anything but SQLite and PostgreSQL.
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise InputError(f"database URL {redacted_url(url)} is not a URL: {_EXPECTED}") from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend in ("postgresql", "postgres") and driver in ("", "psycopg"):
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        if not parsed.database or parsed.database == ":memory:":
            raise InputError(f"database URL {redacted_url(url)} names no file: {_EXPECTED} "
                             "(an in-memory database would lose everything on restart)")
        return parsed
    raise InputError(f"database URL {redacted_url(url)} is not supported: {_EXPECTED}")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Every SQLite connection: WAL (readers never block the writer), durable commits, waits
    for a busy writer instead of failing, and enforced foreign keys."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _one_thread_at_a_time(engine: Engine) -> None:
    """Let one thread of this process use the SQLite database at a time (a thread may nest).

    SQLite takes one writer at a time and makes the others wait in its busy handler, which
    sleeps in steps of 1 to 100 ms: a server's threads writing at once spent most of a request
    asleep there. Queued on a lock instead, each waits only for the work ahead of it (well
    under a millisecond a statement). Processes sharing the file still meet in the busy handler,
    one per process."""
    gate = threading.RLock()
    event.listen(engine, "checkout", lambda *_: gate.acquire())
    event.listen(engine, "checkin", lambda *_: gate.release())


def open_database(url: str) -> Engine:
    """An engine on ``url`` with the tables created (if missing) and the connection checked.

    Raises
    ------
    InputError
        The URL is malformed or names another engine.
    ToolchainError
        The database cannot be reached or opened (the message names the redacted URL).
    """
    parsed = engine_url(url)
    options: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":  # a file: no connection to go stale, nothing to ping
        assert parsed.database is not None
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        # Connections move between the server's worker threads, one thread at a time (below).
        options["connect_args"] = {"check_same_thread": False, "timeout": 10}
    else:
        options["connect_args"] = {"connect_timeout": 10}
        options["pool_pre_ping"] = True  # a restarted server drops the pool's connections
    try:
        engine = create_engine(parsed, **options)
    except (NoSuchModuleError, ImportError) as exc:
        raise ToolchainError(f"cannot use the database {redacted_url(url)}: {exc}: "
                             "expected the drivers of crowdsense[service]") from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        _one_thread_at_a_time(engine)
    try:
        metadata.create_all(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
        raise ToolchainError(f"cannot open the database {redacted_url(url)}: {reason}: "
                             "expected a reachable database the service may create tables in") from None
    return engine
