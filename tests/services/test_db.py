"""The service database: one schema on SQLite and PostgreSQL, created idempotently, durable SQLite."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from crowdsense.errors import InputError, ToolchainError
from crowdsense.services.db import engine_url, open_database, redacted_url


def test_tables_are_created_once_and_reopening_keeps_them(database_url):
    engine = open_database(database_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO nonces (account, nonce, expiry) VALUES ('0xa', 'n', 1)")
    engine.dispose()
    again = open_database(database_url)  # create_all on existing tables: no error, nothing lost
    assert set(inspect(again).get_table_names()) >= {"blobs", "envelopes", "nonces"}
    with again.connect() as conn:
        assert conn.exec_driver_sql("SELECT nonce FROM nonces").all() == [("n",)]
    again.dispose()


def test_sqlite_runs_in_wal_mode_with_durable_commits(tmp_path):
    engine = open_database(f"sqlite:///{tmp_path}/nested/folder/s.sqlite")  # folders are created
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()
    assert (tmp_path / "nested" / "folder" / "s.sqlite").exists()


def test_postgresql_urls_use_psycopg_3():
    assert engine_url("postgresql://u@h:5/db").drivername == "postgresql+psycopg"
    assert engine_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert engine_url("sqlite:///x.sqlite").drivername == "sqlite"


@pytest.mark.parametrize("url, fragment", [
    ("mysql://u@h/db", "is not supported"),
    ("sqlite://", "names no file"),
    ("sqlite:///:memory:", "names no file"),
    ("not a url", "is not a URL"),
    ("postgresql+psycopg2://u@h/db", "is not supported"),
])
def test_other_urls_are_refused(url, fragment):
    with pytest.raises(InputError, match=fragment):
        open_database(url)


def test_unreachable_postgresql_is_one_error_without_the_password(unused_port):
    with pytest.raises(ToolchainError, match=r"cannot open the database postgresql://u:\*\*\*@127\.0\.0\.1") as caught:
        open_database(f"postgresql://u:secret@127.0.0.1:{unused_port}/db")
    assert "secret" not in str(caught.value) and "\n" not in str(caught.value)


def test_redacted_url_hides_only_the_password():
    assert redacted_url("postgresql://alice:pw@db:5432/cs") == "postgresql://alice:***@db:5432/cs"
