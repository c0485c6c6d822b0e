"""write_atomic: all or nothing, durable, unique temporary files, permissions."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from crowdsense.atomicfile import write_atomic


@pytest.mark.parametrize("data, expected", [(b"\x00\x01", b"\x00\x01"), ("né\n", "né\n".encode()),
                                            ([b"ab", b"", b"cd"], b"abcd")], ids=["bytes", "text", "chunks"])
def test_writes_bytes_text_and_chunks(tmp_path, data, expected):
    path = write_atomic(tmp_path / "sub" / "f.bin", data)
    assert path.read_bytes() == expected and os.listdir(tmp_path / "sub") == ["f.bin"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = write_atomic(tmp_path / "f", b"old")

    def chunks():
        yield b"half"
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(path, chunks())
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["f"]


def test_mode_is_applied_whatever_the_umask(tmp_path):
    old = os.umask(0o077)
    try:
        secret = write_atomic(tmp_path / "secret", b"s", mode=0o600)
        plain = write_atomic(tmp_path / "plain", b"p")
    finally:
        os.umask(old)
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert stat.S_IMODE(plain.stat().st_mode) == 0o600  # 0o666 less the umask 0o077


def test_concurrent_writers_of_one_path_leave_one_complete_content(tmp_path):
    path = tmp_path / "shared"
    contents = [bytes([i]) * 100_000 for i in range(8)]
    threads = [threading.Thread(target=write_atomic, args=(path, c)) for c in contents]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert path.read_bytes() in contents and os.listdir(tmp_path) == ["shared"]
