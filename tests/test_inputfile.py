"""crowdsense.inputfile: every input file streamed under a size limit, gunzipped by content,
without a byte order mark."""

from __future__ import annotations

import gzip

import pytest

from crowdsense.errors import InputError
from crowdsense.inputfile import (
    ENV_MAX_INPUT_BYTES,
    GRAPH_LIMIT,
    InputTooLargeError,
    input_chunks,
    max_input_bytes,
    open_input_text,
    read_input_bytes,
)


@pytest.mark.parametrize("text, expected", [("1000", 1000), ("2K", 2048), ("3m", 3 << 20), ("1 GiB", 1 << 30),
                                            ("4G", 4 << 30), ("1T", 1 << 40), (" 7 ", 7)])
def test_the_variable_replaces_the_default(monkeypatch, text, expected):
    monkeypatch.setenv(ENV_MAX_INPUT_BYTES, text)
    assert max_input_bytes(GRAPH_LIMIT) == expected


def test_without_the_variable_the_default_holds(monkeypatch):
    monkeypatch.delenv(ENV_MAX_INPUT_BYTES, raising=False)
    assert max_input_bytes(12345) == 12345


@pytest.mark.parametrize("text", ["lots", "0", "-5", "1.5G", "12 apples"])
def test_a_variable_that_is_not_a_size_is_an_error(monkeypatch, text):
    monkeypatch.setenv(ENV_MAX_INPUT_BYTES, text)
    with pytest.raises(InputError, match=rf"{ENV_MAX_INPUT_BYTES}=.* is not a size: expected"):
        max_input_bytes(GRAPH_LIMIT)


def test_a_file_at_the_limit_is_read_and_one_byte_more_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_MAX_INPUT_BYTES, "100")
    path = tmp_path / "f.txt"
    path.write_bytes(b"x" * 100)
    assert read_input_bytes(path, "test file", limit=GRAPH_LIMIT) == b"x" * 100
    path.write_bytes(b"x" * 101)
    with pytest.raises(InputTooLargeError, match=r"test file .*f\.txt is more than 100 bytes: expected a smaller "
                                                 rf"file \(or set {ENV_MAX_INPUT_BYTES}"):
        read_input_bytes(path, "test file", limit=GRAPH_LIMIT)


def test_an_endless_device_stops_at_the_limit(monkeypatch):
    monkeypatch.setenv(ENV_MAX_INPUT_BYTES, "64K")
    with pytest.raises(InputTooLargeError, match="/dev/zero is more than 64 KiB"):
        read_input_bytes("/dev/zero", "test file", limit=GRAPH_LIMIT)


def test_gzip_is_recognised_by_content_and_limited_after_decompression(tmp_path, monkeypatch):
    content = b"0 1\n" * 10_000  # 40,000 bytes, a few hundred compressed
    path = tmp_path / "no-suffix"
    path.write_bytes(gzip.compress(content))
    assert read_input_bytes(path, "test file", limit=GRAPH_LIMIT, gunzip=True) == content
    monkeypatch.setenv(ENV_MAX_INPUT_BYTES, "10000")
    assert path.stat().st_size < 10_000
    with pytest.raises(InputTooLargeError, match="decompresses to more than 10000 bytes"):
        read_input_bytes(path, "test file", limit=GRAPH_LIMIT, gunzip=True)


def test_gzip_is_left_alone_unless_asked(tmp_path):
    packed = gzip.compress(b"0 1\n")
    path = tmp_path / "g.gz"
    path.write_bytes(packed)
    assert read_input_bytes(path, "test file", limit=GRAPH_LIMIT) == packed


def test_truncated_gzip_names_the_file(tmp_path):
    path = tmp_path / "t.gz"
    path.write_bytes(gzip.compress(bytes(range(256)) * 400)[:200])
    with pytest.raises(InputError, match=r"test file .*t\.gz looks gzip-compressed but cannot be decompressed"):
        read_input_bytes(path, "test file", limit=GRAPH_LIMIT, gunzip=True)


def test_missing_file_and_directory_are_named(tmp_path):
    with pytest.raises(InputError, match=r"test file .*none\.txt not found \(make it first\)"):
        read_input_bytes(tmp_path / "none.txt", "test file", limit=GRAPH_LIMIT, missing_hint=" (make it first)")
    with pytest.raises(InputError, match="is a directory, expected a file"):
        read_input_bytes(tmp_path, "test file", limit=GRAPH_LIMIT)


def test_a_line_over_the_line_limit_is_refused_with_its_number(tmp_path):
    path = tmp_path / "lines.txt"
    path.write_bytes(b"short\n" + b"x" * 100 + b"\n" + b"x" * 99 + b"\n")
    with pytest.raises(InputError, match=r"has a line longer than 99 bytes \(line 2\): expected text of short lines"):
        read_input_bytes(path, "test file", limit=GRAPH_LIMIT, max_line=99)
    assert read_input_bytes(path, "test file", limit=GRAPH_LIMIT, max_line=100) == path.read_bytes()


def test_a_line_spanning_chunks_is_measured_whole(tmp_path, monkeypatch):
    import crowdsense.inputfile as inputfile

    monkeypatch.setattr(inputfile, "CHUNK", 16)
    path = tmp_path / "lines.txt"
    path.write_bytes(b"a b\n" + b"y" * 40 + b"\nc d\n")
    with pytest.raises(InputError, match=r"\(line 2\)"):
        read_input_bytes(path, "test file", limit=GRAPH_LIMIT, max_line=39)
    assert read_input_bytes(path, "test file", limit=GRAPH_LIMIT, max_line=40) == path.read_bytes()


def test_a_device_without_newlines_fails_at_the_line_limit_not_the_size_limit(monkeypatch):
    monkeypatch.delenv(ENV_MAX_INPUT_BYTES, raising=False)  # the default size limit, 512 MiB
    with pytest.raises(InputError, match=r"/dev/zero has a line longer than 1 KiB \(line 1\)"):
        read_input_bytes("/dev/zero", "test file", limit=GRAPH_LIMIT, max_line=1024)


def test_text_drops_a_leading_byte_order_mark_only(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"\xef\xbb\xbfnode,address\r\n\xef\xbb\xbfkept\n")
    with open_input_text(path, "test file", limit=GRAPH_LIMIT) as fh:
        assert fh.read() == "node,address\r\n\ufeffkept\n"


def test_chunks_of_a_hashed_file_have_no_limit(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_MAX_INPUT_BYTES, "10")
    path = tmp_path / "data.bin"
    path.write_bytes(bytes(range(256)) * 100)
    assert b"".join(input_chunks(path, "data file")) == path.read_bytes()
