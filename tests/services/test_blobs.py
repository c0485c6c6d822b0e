"""Blob storage: idempotent writes, envelopes written once, on both engines."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from crowdsense.services.blobs import BlobStore, EnvelopeConflictError
from crowdsense.services.db import open_database

WRITER = "0x" + "aa" * 20
CLAIMANT = "0x" + "bb" * 20


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


def test_an_envelope_is_a_blob_indexed_by_subtask_and_claimant(store):
    subtask = name(b"cipher")
    assert store.put_envelope(subtask, CLAIMANT, name(b"env"), b"env", writer=WRITER) is True
    assert store.put_envelope(subtask, CLAIMANT, name(b"env"), b"env", writer=WRITER) is False
    got = store.get_envelope(subtask, CLAIMANT)
    assert (got.envelope_hash, got.data, got.writer) == (name(b"env"), b"env", WRITER)
    assert store.get_blob(name(b"env")) == b"env"  # readable by its own hash too
    assert store.get_envelope(subtask, "0x" + "cc" * 20) is None


def test_a_second_envelope_for_one_claimant_is_refused_and_leaves_nothing(store):
    subtask = name(b"cipher")
    store.put_envelope(subtask, CLAIMANT, name(b"env"), b"env", writer=WRITER)
    with pytest.raises(EnvelopeConflictError, match=r"another envelope .* expected the same bytes again"):
        store.put_envelope(subtask, CLAIMANT, name(b"forged"), b"forged", writer="0x" + "dd" * 20)
    assert store.get_envelope(subtask, CLAIMANT).data == b"env"
    assert store.get_blob(name(b"forged")) is None  # the refused write left no blob behind
