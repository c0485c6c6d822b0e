"""Accounts (keys never shown) and the journal (durable secrets and intents); no node needed."""

from __future__ import annotations

import copy
import json
import pickle
import stat
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from eth_account import Account

from crowdsense.chain.accounts import (
    create_keystore,
    dev_signer,
    load_keystore,
    require_dev_chain,
    signer_from_env,
    signer_from_key,
    simulation_signer,
)
from crowdsense.chain.errors import AccountError, JournalError
from crowdsense.chain.journal import Journal, SecretStore

KEY = "0x" + "ab" * 32


def _keystore(tmp_path, password="correct horse"):
    return create_keystore(tmp_path / "k.json", password, private_key=KEY, kdf="pbkdf2", iterations=2)


# ---------------------------------------------------------------------------- accounts


def test_load_keystore_recovers_the_address(tmp_path):
    _keystore(tmp_path)
    assert load_keystore(tmp_path / "k.json", "correct horse").address == Account.from_key(KEY).address


def test_load_keystore_wrong_password_is_a_clear_error(tmp_path):
    _keystore(tmp_path)
    with pytest.raises(AccountError, match="wrong password for keystore"):
        load_keystore(tmp_path / "k.json", "battery staple")


def test_load_keystore_missing_file(tmp_path):
    with pytest.raises(AccountError, match="not found"):
        load_keystore(tmp_path / "none.json", "x")


def test_load_keystore_not_a_keystore(tmp_path):
    (tmp_path / "k.json").write_text('{"hello": 1}')
    with pytest.raises(AccountError, match="not an encrypted keystore"):
        load_keystore(tmp_path / "k.json", "x")


@pytest.mark.parametrize("address, message", [
    ("0x" + "11" * 20, r"its 'address' 0x1111111111111111111111111111111111111111 is not the address of its key"),
    ("mistyped", r"'address': '0x[0-9a-fA-F]{40}' has an invalid EIP-55 checksum"),
])
def test_load_keystore_refuses_an_address_field_that_is_not_its_key(tmp_path, address, message):
    _keystore(tmp_path)
    path = tmp_path / "k.json"
    keyfile = json.loads(path.read_text())
    if address == "mistyped":  # the key's own address, checksummed, with one letter's case flipped
        own = Account.from_key(KEY).address
        i = max(i for i, c in enumerate(own) if c.isalpha() and i > 1)
        address = own[:i] + own[i].swapcase() + own[i + 1:]
    path.write_text(json.dumps({**keyfile, "address": address}))
    with pytest.raises(AccountError, match=message):
        load_keystore(path, "correct horse")


def test_create_keystore_is_private_and_never_overwritten(tmp_path):
    _keystore(tmp_path)
    assert stat.S_IMODE((tmp_path / "k.json").stat().st_mode) == 0o600
    with pytest.raises(AccountError, match="already exists"):
        _keystore(tmp_path)


def test_signer_never_shows_its_key(tmp_path):
    signer = signer_from_key(KEY)
    raw = KEY.removeprefix("0x")
    assert raw not in repr(signer) and raw not in str(signer)
    with pytest.raises(TypeError):
        pickle.dumps(signer)
    with pytest.raises(TypeError):
        copy.deepcopy(signer)


def test_signer_from_env_reads_the_variable():
    assert signer_from_env({"CROWDSENSE_PRIVATE_KEY": KEY}).address == Account.from_key(KEY).address
    assert signer_from_env({}) is None


def test_signer_from_env_malformed_key_does_not_echo_it():
    bad = "0x" + "zz" * 32
    with pytest.raises(AccountError) as info:
        signer_from_env({"CROWDSENSE_PRIVATE_KEY": bad})
    assert "zz" * 4 not in str(info.value) and "CROWDSENSE_PRIVATE_KEY" in str(info.value)


def test_dev_signer_zero_is_anvils_first_account():
    # The address Anvil prints for account (0); derived here from the public mnemonic.
    assert dev_signer(0).address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def test_simulation_signer_is_deterministic_and_distinct():
    assert simulation_signer("17").address == simulation_signer("17").address
    assert simulation_signer("17").address != simulation_signer("18").address
    assert simulation_signer("17", seed="a").address != simulation_signer("17", seed="b").address


def test_require_dev_chain_refuses_mainnet():
    require_dev_chain(31337, "test keys")
    with pytest.raises(AccountError, match="chain id 1"):
        require_dev_chain(1, "test keys")


def test_signer_public_key_matches_address():
    from eth_utils import keccak

    signer = signer_from_key(KEY)
    assert "0x" + keccak(signer.public_key[1:])[-20:].hex() == signer.address.lower()


# ---------------------------------------------------------------------------- journal


def test_journal_is_a_secret_store(tmp_path):
    assert isinstance(Journal(tmp_path / "j.sqlite"), SecretStore)


def test_journal_put_get_roundtrip_with_bytes(tmp_path):
    j = Journal(tmp_path / "j.sqlite")
    value = {"r1": b"\x00\x01", "nested": {"r": 2**255, "list": [b"\xff", 3]}, "label": "x"}
    j.put("bit/1", value)
    assert j.get("bit/1") == value and j.get("missing") is None


def test_journal_survives_reopen(tmp_path):
    with Journal(tmp_path / "j.sqlite") as j:
        j.put("k", {"v": 1})
    assert Journal(tmp_path / "j.sqlite").get("k") == {"v": 1}


def test_journal_overwrite_keeps_history(tmp_path):
    j = Journal(tmp_path / "j.sqlite")
    j.put("k", {"v": 1})
    j.put("k", {"v": 2})
    assert j.get("k") == {"v": 2} and j.history("k") == [{"v": 1}]


def test_journal_file_is_private(tmp_path):
    Journal(tmp_path / "sub" / "j.sqlite")
    assert stat.S_IMODE((tmp_path / "sub" / "j.sqlite").stat().st_mode) == 0o600


def test_journal_rejects_non_dict_values(tmp_path):
    with pytest.raises(JournalError, match="dict"):
        Journal(tmp_path / "j.sqlite").put("k", [1, 2])  # type: ignore[arg-type]


def test_journal_keys_by_prefix(tmp_path):
    j = Journal(tmp_path / "j.sqlite")
    for k in ("task/1", "task/2", "other/1"):
        j.put(k, {})
    assert j.keys("task/") == ["task/1", "task/2"]


def _race(count, work):
    """``work(i)`` for i in range(count), in threads released at the same moment."""
    barrier = threading.Barrier(count)

    def run(i):
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_journal_put_first_lets_one_writer_win_and_hands_its_value_to_the_others(tmp_path):
    """Separate connections to one file, as separate processes have: one record, one set of keys."""
    journals = [Journal(tmp_path / "j.sqlite") for _ in range(6)]
    def create(i):
        return journals[i].put_first("release/x", {"hashes": [bytes([i]) * 32]},
                                     with_secrets={f"subtask-key/{i}": {"key": bytes([i]) * 32}})

    results = _race(6, create)
    winners = [i for i, (_, won) in enumerate(results) if won]
    assert len(winners) == 1
    (w,) = winners
    assert all(value == {"hashes": [bytes([w]) * 32]} for value, _ in results)
    reader = Journal(tmp_path / "j.sqlite")
    assert reader.get("release/x") == {"hashes": [bytes([w]) * 32]} and reader.history("release/x") == []
    assert reader.keys("subtask-key/") == [f"subtask-key/{w}"]


def test_journal_put_first_never_replaces_an_existing_value(tmp_path):
    j = Journal(tmp_path / "j.sqlite")
    j.put("k", {"v": 1})
    assert j.put_first("k", {"v": 2}, with_secrets={"other": {"v": 3}}) == ({"v": 1}, False)
    assert j.get("k") == {"v": 1} and j.get("other") is None


def _prepare(j, intent_id="claim/1", nonce=0, tx_hash="0x01"):
    return j.record_prepared(intent_id=intent_id, chain_id=1, sender="0xAb", kind="claim", to=None, nonce=nonce,
                             tx_hash=tx_hash, raw_tx="0x00")


def test_journal_refuses_to_prepare_an_open_intent_twice(tmp_path):
    j = Journal(tmp_path / "j.sqlite")
    _prepare(j)
    with pytest.raises(JournalError, match="refusing to send it again"):
        _prepare(j, nonce=1, tx_hash="0x02")


def test_journal_new_attempt_after_revert_archives_the_old(tmp_path):
    j = Journal(tmp_path / "j.sqlite")
    _prepare(j)
    j.update_intent("claim/1", status="reverted", error="AlreadyClaimed")
    again = _prepare(j, nonce=1, tx_hash="0x02")
    assert again.attempt == 2 and again.status == "prepared" and again.tx_hash == "0x02"


def test_journal_open_intents_filters_by_status_and_sender(tmp_path):
    j = Journal(tmp_path / "j.sqlite")
    _prepare(j, "a")
    _prepare(j, "b", nonce=1)
    j.update_intent("b", status="confirmed", block_number=3)
    assert [i.intent_id for i in j.open_intents(sender="0xab")] == ["a"]


# ------------------------------------------------------------------ found by mutation testing


def test_journal_creates_missing_parent_folders_private(tmp_path):
    Journal(tmp_path / "a" / "b" / "j.sqlite").put("k", {"v": 1})
    for folder in (tmp_path / "a" / "b",):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert Journal(tmp_path / "a" / "b" / "j.sqlite").get("k") == {"v": 1}


def test_in_memory_journal_writes_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    j = Journal(":memory:")
    j.put("k", {"v": 1})
    assert j.get("k") == {"v": 1} and j.path is None
    assert repr(j) == "Journal(:memory:)"
    assert list(tmp_path.iterdir()) == []


def test_journal_names_its_file_and_iterates_over_its_keys(tmp_path):
    j = Journal(tmp_path / "j.sqlite")
    for k in ("b", "a"):
        j.put(k, {})
    assert repr(j) == f"Journal({tmp_path / 'j.sqlite'})"
    assert list(j) == j.keys() == ["a", "b"]


def test_journal_of_another_schema_version_is_refused_naming_it(tmp_path):
    import sqlite3

    Journal(tmp_path / "j.sqlite").put("k", {})
    with sqlite3.connect(tmp_path / "j.sqlite") as db:
        db.execute("UPDATE meta SET value='7' WHERE key='schema'")
    with pytest.raises(JournalError, match="has schema version 7, this client reads 1"):
        Journal(tmp_path / "j.sqlite")


@pytest.mark.parametrize("key", ["", 5])
def test_journal_refuses_keys_that_are_not_non_empty_strings(tmp_path, key):
    with pytest.raises(JournalError, match="secret key must be a non-empty str"):
        Journal(tmp_path / "j.sqlite").put(key, {"v": 1})


def test_journal_refuses_values_that_json_cannot_hold_naming_the_type(tmp_path):
    with pytest.raises(JournalError, match="cannot store a set in the journal"):
        Journal(tmp_path / "j.sqlite").put("k", {"v": {1, 2}})
    with pytest.raises(JournalError, match="secret value must be a dict, got list"):
        Journal(tmp_path / "j.sqlite").put("k", [1])


def test_rewriting_an_equal_value_in_another_key_order_adds_no_history(tmp_path):
    j = Journal(tmp_path / "j.sqlite")
    j.put("k", {"a": 1, "b": 2})
    j.put("k", {"b": 2, "a": 1})
    assert j.history("k") == []


def test_journal_refuses_to_prepare_a_confirmed_intent_again_naming_its_state_and_tx(tmp_path):
    j = Journal(tmp_path / "j.sqlite")
    _prepare(j, tx_hash="0x0a")
    j.update_intent("claim/1", status="confirmed", block_number=9)
    with pytest.raises(JournalError, match=r"^intent claim/1 is already confirmed \(tx 0x0a\); refusing"):
        _prepare(j, nonce=1, tx_hash="0x02")


def test_new_attempt_archives_the_old_attempt_as_it_was(tmp_path):
    import sqlite3

    j = Journal(tmp_path / "j.sqlite")
    _prepare(j, nonce=4, tx_hash="0x0a")
    j.update_intent("claim/1", status="reverted", error="AlreadyClaimed")
    _prepare(j, nonce=5, tx_hash="0x0b")
    with sqlite3.connect(tmp_path / "j.sqlite") as db:
        rows = db.execute("SELECT intent_id, attempt, nonce, tx_hash, status, error FROM intent_history").fetchall()
    assert rows == [("claim/1", 1, 4, "0x0a", "reverted", "AlreadyClaimed")]


def test_intents_filter_by_status_chain_and_sender_together(tmp_path):
    j = Journal(tmp_path / "j.sqlite")
    rows = [("a", 1, "0xAb"), ("b", 1, "0xCd"), ("c", 2, "0xAb"), ("d", 1, "0xAb")]
    for n, (intent_id, chain_id, sender) in enumerate(rows):
        j.record_prepared(intent_id=intent_id, chain_id=chain_id, sender=sender, kind="claim", to=None, nonce=n,
                          tx_hash=f"0x{n:02x}", raw_tx="0x00")
    j.update_intent("d", status="confirmed", block_number=3)
    ids = lambda found: [i.intent_id for i in found]  # noqa: E731
    assert ids(j.intents(status=("prepared",))) == ["a", "b", "c"]
    assert ids(j.intents(status=("prepared", "confirmed"), chain_id=1)) == ["a", "b", "d"]
    assert ids(j.intents(chain_id=1, sender="0xab")) == ["a", "d"]
    assert ids(j.open_intents(chain_id=1)) == ["a", "b"]
    assert ids(j.open_intents(sender="0xAB")) == ["a", "c"]
    assert ids(j.open_intents(chain_id=2, sender="0xab")) == ["c"]
