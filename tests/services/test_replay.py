"""Nonces: a signed request is served once, and the table forgets what has expired."""

from __future__ import annotations

import pytest

from crowdsense.services.auth import AuthenticationError, SignedRequest
from crowdsense.services.db import open_database
from crowdsense.services.replay import NonceLedger

ACCOUNT = "0x" + "11" * 20
NOW, WINDOW = 1_700_000_000, 300


@pytest.fixture()
def ledger(database_url):
    engine = open_database(database_url)
    yield NonceLedger(engine)
    engine.dispose()


def test_a_nonce_is_accepted_once(ledger):
    request = SignedRequest(ACCOUNT, NOW, "ab" * 16)
    ledger.record(request, window=WINDOW, now=NOW)
    with pytest.raises(AuthenticationError, match=r"replayed request: nonce abab.* already used"):
        ledger.record(request, window=WINDOW, now=NOW + 1)
    ledger.record(SignedRequest("0x" + "22" * 20, NOW, "ab" * 16), window=WINDOW, now=NOW)  # another account's
    assert ledger.count() == 2


def test_expired_nonces_are_pruned(ledger):
    for i in range(3):
        ledger.record(SignedRequest(ACCOUNT, NOW, f"{i:032x}"), window=WINDOW, now=NOW)
    assert ledger.count() == 3
    later = NOW + WINDOW + 1  # the three timestamps are no longer accepted: their rows can go
    ledger.record(SignedRequest(ACCOUNT, later, "ff" * 16), window=WINDOW, now=later)
    assert ledger.count() == 1
