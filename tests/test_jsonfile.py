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


@pytest.mark.parametrize("text, key", [
    ('{"levels": {"7": 1, "8": 2, "7": 3}}', "7"),  # a level given twice: the last would win
    ('{"title": "a", "parts": [], "title": "b"}', "title"),
    ('[{"node": 1, "node": 2}]', "node"),
])
def test_a_key_twice_in_one_object_is_refused_naming_it(tmp_path, text, key):
    path = tmp_path / "f.json"
    path.write_text(text)
    with pytest.raises(InputError, match=rf"levels file .*f\.json: key '{key}' appears twice in one object: "
                                         "expected each key once"):
        read_json_file(path, "levels file")


def test_the_same_key_in_different_objects_is_fine(tmp_path):
    path = tmp_path / "f.json"
    path.write_text('{"a": {"x": 1}, "b": {"x": 2}}')
    assert read_json_file(path, "levels file") == {"a": {"x": 1}, "b": {"x": 2}}


def test_a_leading_byte_order_mark_is_dropped(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + b'{"levels": {"0": 1}}')
    assert read_json_file(path, "levels file") == {"levels": {"0": 1}}


def test_a_file_over_the_limit_is_refused_before_parsing(tmp_path, monkeypatch):
    from crowdsense.inputfile import ENV_MAX_INPUT_BYTES, InputTooLargeError

    path = tmp_path / "big.json"
    path.write_text('{"levels": {' + ", ".join(f'"{i}": 1' for i in range(1000)) + "}}")
    monkeypatch.setenv(ENV_MAX_INPUT_BYTES, "1K")
    with pytest.raises(InputTooLargeError, match=r"levels file .*big\.json is more than 1 KiB"):
        read_json_file(path, "levels file")
    with pytest.raises(InputTooLargeError, match=r"/dev/zero is more than 1 KiB"):
        read_json_file("/dev/zero", "task file")


def test_nesting_too_deep_is_an_error_not_a_crash(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(InputError, match=r"deep\.json is not valid JSON: nested too deeply"):
        read_json_file(path, "task file")
