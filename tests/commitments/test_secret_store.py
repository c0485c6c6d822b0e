"""The in-memory secret store keeps JSON copies and refuses what a durable store could not hold."""

import pytest

from crowdsense.commitments import MemorySecretStore, SecretStore
from crowdsense.errors import InputError


def test_store_satisfies_the_protocol():
    assert isinstance(MemorySecretStore(), SecretStore)


def test_store_round_trips_and_keeps_copies():
    store = MemorySecretStore()
    value = {"r": "5", "nested": {"a": [1, 2]}}
    store.put("k", value)
    value["nested"]["a"].append(3)
    got = store.get("k")
    assert got == {"r": "5", "nested": {"a": [1, 2]}}
    got["r"] = "6"
    assert store.get("k")["r"] == "5"
    assert "k" in store and store.keys() == ["k"]


def test_later_put_replaces_earlier():
    store = MemorySecretStore()
    store.put("k", {"state": "committing"})
    store.put("k", {"state": "committed"})
    assert store.get("k") == {"state": "committed"}


def test_missing_key_is_none():
    assert MemorySecretStore().get("missing") is None


@pytest.mark.parametrize("value", [{"salt": b"raw bytes"}, {"x": float("nan")}, {"s": {1, 2}}])
def test_values_a_journal_cannot_hold_are_refused(value):
    store = MemorySecretStore()
    with pytest.raises(InputError, match="JSON"):
        store.put("k", value)
    assert "k" not in store


@pytest.mark.parametrize("key, value", [("", {}), (3, {}), ("k", ["not", "a", "dict"])])
def test_bad_keys_and_non_dict_values_are_refused(key, value):
    with pytest.raises(InputError):
        MemorySecretStore().put(key, value)
