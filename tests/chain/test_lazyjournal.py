"""The CLI's journal: no file until the first write, then the ordinary journal."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from crowdsense.chain.journal import Journal
from crowdsense.chain.journal import LazyJournal


def test_reads_of_a_missing_journal_create_nothing(tmp_path: Path) -> None:
    path = tmp_path / "state" / "journal.sqlite"
    journal = LazyJournal(path)
    assert journal.get("k") is None and journal.keys() == [] and journal.open_intents() == []
    assert journal.intent("claim/1") is None
    journal.close()
    assert not path.parent.exists()


def test_first_write_creates_the_file_and_keeps_the_value(tmp_path: Path) -> None:
    path = tmp_path / "state" / "journal.sqlite"
    journal = LazyJournal(path)
    journal.put("secret", {"r": 7})
    journal.close()
    with Journal(path) as reopened:
        assert reopened.get("secret") == {"r": 7}


def test_an_existing_journal_is_read_at_once(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    with Journal(path) as journal:
        journal.put("secret", {"r": 1})
    lazy = LazyJournal(path)
    assert lazy.get("secret") == {"r": 1}
    lazy.close()


def test_threads_racing_to_write_first_share_one_file(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    journal = LazyJournal(path)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: journal.put(f"key-{i}", {"i": i}), range(32)))
    journal.close()
    with Journal(path) as reopened:
        assert reopened.keys() == sorted(f"key-{i}" for i in range(32))


def test_a_missing_journal_leaves_no_file_anywhere_until_written(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "sub" / "j.sqlite"
    j = LazyJournal(target)
    assert j.get("k") is None and j.keys() == []
    assert list(tmp_path.iterdir()) == []
    assert repr(j) == f"Journal({target})"


def test_put_first_on_a_missing_journal_creates_it_with_the_secrets(tmp_path: Path) -> None:
    target = tmp_path / "j.sqlite"
    j = LazyJournal(target)
    assert j.put_first("release/x", {"v": 1}, with_secrets={"key/1": {"k": b"\x01"}}) == ({"v": 1}, True)
    reopened = Journal(target)
    assert reopened.get("release/x") == {"v": 1} and reopened.get("key/1") == {"k": b"\x01"}


def test_intents_of_a_lazy_journal_are_kept_in_its_file(tmp_path: Path) -> None:
    target = tmp_path / "j.sqlite"
    j = LazyJournal(target)
    j.record_prepared(intent_id="claim/1", chain_id=1, sender="0xAb", kind="claim", to=None, nonce=0,
                      tx_hash="0x01", raw_tx="0x00")
    j.update_intent("claim/1", status="confirmed", block_number=7)
    got = Journal(target).intent("claim/1")
    assert got is not None and got.status == "confirmed" and got.block_number == 7
