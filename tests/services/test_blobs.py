"""Blob storage: idempotent writes, envelopes written once per writer, on both engines."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from crowdsense.services.blobs import BlobStore, EnvelopeConflictError
from crowdsense.services.db import open_database

WRITER = "0x" + "aa" * 20
CLAIMANT = "0x" + "bb" * 20
SQUATTER = "0x" + "dd" * 20


def name(data: bytes) -> str:
    return "0x" + keccak(data).hex()


@pytest.fixture()
def store(database_url):
    engine = open_database(database_url)
    yield BlobStore(engine)
    engine.dispose()


def test_the_same_bytes_twice_make_one_row(store):
    assert store.put_blob(name(b"cipher"), b"cipher", kind="ciphertext", writer=WRITER) is True
    assert store.put_blob(name(b"cipher"), b"cipher", kind="ciphertext", writer=WRITER) is False
    assert store.count_blobs() == 1
    assert store.get_blob(name(b"cipher")) == b"cipher" and store.has_blob(name(b"cipher"))
    assert store.get_blob(name(b"other")) is None and not store.has_blob(name(b"other"))


def test_an_envelope_is_a_blob_indexed_by_subtask_claimant_and_writer(store):
    subtask = name(b"cipher")
    assert store.put_envelope(subtask, CLAIMANT, name(b"env"), b"env", writer=WRITER) is True
    assert store.put_envelope(subtask, CLAIMANT, name(b"env"), b"env", writer=WRITER) is False
    got = store.get_envelope(subtask, CLAIMANT, WRITER)
    assert (got.envelope_hash, got.data, got.writer) == (name(b"env"), b"env", WRITER)
    assert store.get_blob(name(b"env")) == b"env"  # readable by its own hash too
    assert store.get_envelope(subtask, "0x" + "cc" * 20, WRITER) is None
    assert store.get_envelope(subtask, CLAIMANT, SQUATTER) is None


def test_a_second_envelope_of_one_writer_is_refused_and_leaves_nothing(store):
    subtask = name(b"cipher")
    store.put_envelope(subtask, CLAIMANT, name(b"env"), b"env", writer=WRITER)
    with pytest.raises(EnvelopeConflictError, match=r"another envelope .* of writer 0xa+ .* expected the same bytes"):
        store.put_envelope(subtask, CLAIMANT, name(b"changed"), b"changed", writer=WRITER)
    assert store.get_envelope(subtask, CLAIMANT, WRITER).data == b"env"
    assert store.get_blob(name(b"changed")) is None  # the refused write left no blob behind


def test_an_envelope_written_first_by_another_account_takes_nobody_s_place(store):
    """Squatting: an account that writes a claimant's envelope before the releaser does is filed
    under its own name; the releaser's envelope is still stored and read under the releaser's."""
    subtask = name(b"cipher")
    assert store.put_envelope(subtask, CLAIMANT, name(b"garbage"), b"garbage", writer=SQUATTER) is True
    assert store.put_envelope(subtask, CLAIMANT, name(b"env"), b"env", writer=WRITER) is True
    assert store.get_envelope(subtask, CLAIMANT, WRITER).data == b"env"
    assert store.get_envelope(subtask, CLAIMANT, SQUATTER).data == b"garbage"


def test_the_memory_cache_keeps_the_most_recent_blobs_within_its_budget(database_url):
    engine = open_database(database_url)
    try:
        cache = BlobStore(engine, cache_bytes=1600)  # blobs of up to 100 bytes are cached
        small = [bytes([i]) * 100 for i in range(20)]
        for data in small:
            cache.put_blob(name(data), data, kind="ciphertext", writer=WRITER)
        # 16 of 100 bytes fit: the four written first were dropped, the rest are served from memory
        assert [cache.cached(name(d)) is not None for d in small] == [False] * 4 + [True] * 16
        assert cache.get_blob(name(small[0])) == small[0]  # read from the database, and kept again
        assert cache.cached(name(small[0])) == small[0] and cache.cached(name(small[4])) is None
        large = b"x" * 101
        cache.put_blob(name(large), large, kind="ciphertext", writer=WRITER)
        assert cache.cached(name(large)) is None and cache.get_blob(name(large)) == large
        # a fresh store over the same database (a restarted service) serves the same bytes
        assert BlobStore(engine).get_blob(name(small[3])) == small[3]
    finally:
        engine.dispose()
