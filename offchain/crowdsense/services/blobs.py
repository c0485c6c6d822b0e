"""Content-addressed blobs and the index of key envelopes, in a service database.

Every object is stored under ``keccak256`` of its bytes, the hash the chain records for a
subtask, so what a reader fetches is checked against the name it asked for and the service
cannot hand out altered bytes unnoticed. Key envelopes are blobs too (kind ``envelope``), found
through an index ``(subtask hash, claimant, writer) -> envelope hash``; a reader checks an
envelope by opening it (authenticated decryption under the claimant's key), which is all that
can be checked of a ciphertext made for someone else.

The writer is part of an envelope's name because only one writer's envelope is worth anything,
the subtask's releaser's, and the reader knows who that is (the chain says). Were envelopes
found by subtask and claimant alone, any account could write one first and keep the
releaser's from ever being stored; this way what other accounts write is filed under their own
names, and nobody reads it.

Writes are idempotent: storing the same bytes again changes nothing and reports that nothing
was new, never a second row. An envelope index entry is written once: a writer's first
envelope for a subtask and claimant stays, and a different one from the same writer is
refused (:class:`EnvelopeConflictError`), so a claimant's key, once handed over, never changes.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import Engine, Table, and_, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import Insert

from crowdsense.errors import CrowdsenseError
from crowdsense.services.db import blobs, envelopes

__all__ = ["BlobStore", "EnvelopeConflictError", "StoredEnvelope", "BLOB_KINDS"]

#: What a blob holds: a subtask ciphertext (or any public data) or a key envelope.
BLOB_KINDS = ("ciphertext", "envelope")


class EnvelopeConflictError(CrowdsenseError, ValueError):
    """This writer already stored another envelope for this subtask and claimant (the server answers 409)."""


@dataclass(frozen=True)
class StoredEnvelope:
    envelope_hash: str
    data: bytes
    writer: str


def _insert_ignoring_duplicates(engine: Engine, table: Table, **values: object) -> Insert:
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING <primary key>`` in the engine's dialect (both
    have it): the statement returns a row exactly when it created one. (RETURNING rather than
    the row count, which drivers do not report alike for this statement.)"""
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(**values).on_conflict_do_nothing()
    return statement.returning(*table.primary_key.columns)


class BlobStore:
    """Blobs and envelopes of one service database.

    Hashes are ``0x`` + 64 lower-case hex digits, addresses ``0x`` + 40; the routes check and
    normalise them before they get here.
    """

    #: Bytes of recently read or written blobs kept in memory (a blob never changes once stored,
    #: so a cached copy is never stale): readers of one task fetch the same ciphertexts.
    CACHE_BYTES = 64 << 20

    def __init__(self, engine: Engine, *, cache_bytes: int = CACHE_BYTES) -> None:
        self.engine = engine
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cache_limit = cache_bytes
        self._cached = 0
        self._lock = threading.Lock()

    def cached(self, blob_hash: str) -> bytes | None:
        """The blob if it is in memory (no database access: safe on the event loop)."""
        with self._lock:
            data = self._cache.get(blob_hash)
            if data is not None:
                self._cache.move_to_end(blob_hash)
            return data

    def _remember(self, blob_hash: str, data: bytes) -> None:
        if len(data) > self._cache_limit // 16:  # a few large blobs must not push out many small ones
            return
        with self._lock:
            if blob_hash in self._cache:
                return
            self._cache[blob_hash] = data
            self._cached += len(data)
            while self._cached > self._cache_limit:
                _, dropped = self._cache.popitem(last=False)
                self._cached -= len(dropped)

    def put_blob(self, blob_hash: str, data: bytes, *, kind: str, writer: str) -> bool:
        """Store ``data`` (whose keccak256 the caller has checked to be ``blob_hash``).

        Returns whether a row was created (False: these bytes were already stored)."""
        if kind not in BLOB_KINDS:
            raise ValueError(f"kind must be one of {BLOB_KINDS}, got {kind!r}")
        statement = _insert_ignoring_duplicates(self.engine, blobs, hash=blob_hash, kind=kind,
                                                data=bytes(data), size=len(data), created=int(time.time()),
                                                writer=writer.lower())
        with self.engine.begin() as conn:
            created = conn.execute(statement).first() is not None
        self._remember(blob_hash, bytes(data))  # after the commit: only what is stored is served
        return created

    def get_blob(self, blob_hash: str) -> bytes | None:
        found = self.cached(blob_hash)
        if found is not None:
            return found
        with self.engine.connect() as conn:
            row = conn.execute(select(blobs.c.data).where(blobs.c.hash == blob_hash)).first()
        if row is None:
            return None
        data = bytes(row.data)
        self._remember(blob_hash, data)
        return data

    def has_blob(self, blob_hash: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(blobs.c.size).where(blobs.c.hash == blob_hash)).first() is not None

    def count_blobs(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(blobs)).scalar_one())

    def put_envelope(self, subtask_hash: str, claimant: str, envelope_hash: str, data: bytes, *,
                     writer: str) -> bool:
        """Store an envelope as a blob and index it under ``(subtask_hash, claimant, writer)``.

        Returns whether the index entry was created (False: the same envelope was already
        there). One transaction: a reader never finds an index entry without its blob.

        Raises
        ------
        EnvelopeConflictError
            ``writer`` already indexed a different envelope for this subtask and claimant.
        """
        now = int(time.time())
        with self.engine.begin() as conn:
            conn.execute(_insert_ignoring_duplicates(self.engine, blobs, hash=envelope_hash, kind="envelope",
                                                     data=bytes(data), size=len(data), created=now,
                                                     writer=writer.lower()))
            created = conn.execute(_insert_ignoring_duplicates(
                self.engine, envelopes, subtask_hash=subtask_hash, claimant=claimant,
                envelope_hash=envelope_hash, writer=writer.lower(), created=now)).first() is not None
            if not created:
                key = and_(envelopes.c.subtask_hash == subtask_hash, envelopes.c.claimant == claimant,
                           envelopes.c.writer == writer.lower())
                stored = conn.execute(select(envelopes.c.envelope_hash).where(key)).scalar_one()
                if stored != envelope_hash:
                    raise EnvelopeConflictError(
                        f"another envelope ({stored}) of writer {writer.lower()} is already stored for subtask "
                        f"{subtask_hash} and claimant {claimant}: expected the same bytes again (an envelope "
                        "is written once)")
        return created

    def get_envelope(self, subtask_hash: str, claimant: str, writer: str) -> StoredEnvelope | None:
        """``writer``'s envelope of ``subtask_hash`` for ``claimant`` (None if it wrote none)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(envelopes.c.envelope_hash, envelopes.c.writer, blobs.c.data)
                .join(blobs, blobs.c.hash == envelopes.c.envelope_hash)
                .where(and_(envelopes.c.subtask_hash == subtask_hash, envelopes.c.claimant == claimant,
                            envelopes.c.writer == writer.lower()))
            ).first()
        return None if row is None else StoredEnvelope(row.envelope_hash, bytes(row.data), row.writer)
