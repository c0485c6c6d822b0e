"""read_json_file: the one reader of user-supplied JSON files."""

from __future__ import annotations

import pytest

from crowdsense.chain.errors import AccountError
from crowdsense.errors import InputError
from crowdsense.jsonfile import read_json_file


def test_reads_the_parsed_content(tmp_path):
    path = tmp_path / "levels.json"
    path.write_text('{"levels": {"a": 1}}')
    assert read_json_file(path, "levels file") == {"levels": {"a": 1}}


def test_missing_file_names_the_file_and_the_hint(tmp_path):
    missing = tmp_path / "none.json"
    with pytest.raises(InputError, match=r"levels file .*none\.json not found \(run it first\)"):
        read_json_file(missing, "levels file", missing_hint=" (run it first)")


def test_malformed_file_says_where_without_echoing_the_content(tmp_path):
    path = tmp_path / "key.json"
    path.write_text('{"crypto": "SECRET-MATERIAL"')
    with pytest.raises(AccountError, match=r"keystore file .*key\.json is not valid JSON: .* line 1") as caught:
        read_json_file(path, "keystore file", error=AccountError)
    assert "SECRET" not in str(caught.value) and "\n" not in str(caught.value)


def test_binary_file_is_reported_as_not_json(tmp_path):
    path = tmp_path / "task.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InputError, match=r"task file .*task\.json is not valid JSON"):
        read_json_file(path, "task file")
