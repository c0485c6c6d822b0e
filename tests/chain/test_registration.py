"""The registrar's inputs (crowdsense.chain.registration): levels files, address files and
their join, each refusing what would otherwise be decided by the order of the lines."""

from __future__ import annotations

import json

import pytest
from eth_utils import to_checksum_address

from crowdsense.chain.registration import levels_by_address, read_address_csv, read_levels, write_address_csv
from crowdsense.errors import InputError

CHECKSUMMED = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
OTHER = "0x" + "ab" * 20
OTHER_CHECKSUMMED = to_checksum_address(OTHER)


def _levels(tmp_path, content) -> object:
    path = tmp_path / "levels.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


# ----------------------------------------------------------------------------- levels file


@pytest.mark.parametrize("content", [
    {"levels": {"a": 1, "7": 2}},
    {"nodes": ["a", 7], "levels": [1, 2]},
    {"levels": [{"node": "a", "level": 1}, {"node": 7, "level": 2}]},
])
def test_every_layout_gives_the_same_levels(tmp_path, content):
    assert read_levels(_levels(tmp_path, content)) == {"a": 1, "7": 2}


@pytest.mark.parametrize("content, node", [
    ('{"levels": {"a": 1, "b": 2, "a": 3}}', "a"),
    ({"nodes": ["a", "b", "a"], "levels": [1, 2, 3]}, "'a'"),
    ({"nodes": [7, "7"], "levels": [1, 2]}, "'7'"),
    ({"levels": [{"node": "b", "level": 1}, {"node": "b", "level": 1}]}, "'b'"),
])
def test_a_node_given_twice_is_refused_naming_it(tmp_path, content, node):
    with pytest.raises(InputError, match=rf"levels\.json: (node|key) '?{node}'? appears twice"):
        read_levels(_levels(tmp_path, content))


def test_a_byte_order_mark_does_not_change_the_first_node(tmp_path):
    path = tmp_path / "levels.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"levels": {"0": 2, "1": 1}}).encode())
    assert read_levels(path) == {"0": 2, "1": 1}


def test_a_node_id_that_is_no_string_or_integer_is_refused(tmp_path):
    with pytest.raises(InputError, match=r"node id \[1\] is not a string or an integer"):
        read_levels(_levels(tmp_path, {"nodes": [[1]], "levels": [1]}))


# ---------------------------------------------------------------------------- address file


def _csv(tmp_path, text: str, raw: bytes = b""):
    path = tmp_path / "addresses.csv"
    path.write_bytes(raw + text.encode())
    return path


def test_addresses_are_checksummed_and_a_byte_order_mark_is_dropped(tmp_path):
    path = _csv(tmp_path, f"node,address\r\na,{CHECKSUMMED.lower()}\r\nb, {OTHER} \r\n", raw=b"\xef\xbb\xbf")
    assert read_address_csv(path) == {"a": CHECKSUMMED, "b": OTHER_CHECKSUMMED}


def test_an_address_with_a_wrong_checksum_is_refused(tmp_path):
    typo = CHECKSUMMED[:-1] + "D"  # last letter's case flipped
    path = _csv(tmp_path, f"node,address\na,{CHECKSUMMED}\nb,{typo}\n")
    with pytest.raises(InputError, match=rf"addresses\.csv, line 3, node 'b': '{typo}' has an invalid EIP-55 "
                                         "checksum"):
        read_address_csv(path)


def test_an_address_file_over_the_limit_is_refused(tmp_path, monkeypatch):
    from crowdsense.inputfile import ENV_MAX_INPUT_BYTES, InputTooLargeError

    path = _csv(tmp_path, "node,address\n" + "".join(f"{i},{OTHER}\n" for i in range(100)))
    monkeypatch.setenv(ENV_MAX_INPUT_BYTES, "1K")
    with pytest.raises(InputTooLargeError, match=r"address file .*addresses\.csv is more than 1 KiB"):
        read_address_csv(path)


def test_an_address_file_that_is_not_csv_text_is_one_error(tmp_path):
    with pytest.raises(InputError, match=r"addresses\.csv is not UTF-8 text"):
        read_address_csv(_csv(tmp_path, "", raw=b"node,address\n\xff\xfe,0x\n"))
    with pytest.raises(InputError, match=r"addresses\.csv, line 2: field larger than field limit"):
        read_address_csv(_csv(tmp_path, f"node,address\n{'a' * 200_000},{OTHER}\n"))


def test_written_addresses_read_back(tmp_path):
    path = write_address_csv(tmp_path / "out.csv", {"a": CHECKSUMMED.lower(), "7": OTHER})
    assert read_address_csv(path) == {"a": CHECKSUMMED, "7": OTHER_CHECKSUMMED}


# ----------------------------------------------------------------------------------- join


def test_levels_by_address_keeps_mapped_nodes_only():
    assert levels_by_address({"a": 1, "b": 2, "c": 3}, {"a": CHECKSUMMED, "c": OTHER, "z": OTHER.upper()}) == {
        CHECKSUMMED: 1, OTHER_CHECKSUMMED: 3}


def test_two_nodes_of_one_address_with_different_levels_are_refused():
    with pytest.raises(InputError, match=rf"nodes 'a' and 'b' both map to {CHECKSUMMED}, with levels 1 and 3: "
                                         "expected one level per account"):
        levels_by_address({"a": 1, "b": 3}, {"a": CHECKSUMMED, "b": CHECKSUMMED.lower()})


def test_two_nodes_of_one_address_with_the_same_level_register_it_once():
    assert levels_by_address({"a": 2, "b": 2}, {"a": CHECKSUMMED, "b": CHECKSUMMED}) == {CHECKSUMMED: 2}
