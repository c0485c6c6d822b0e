"""Writing a file so that a reader sees the old content or the whole new one, never half.

One implementation for every file the package writes in place (levels files, levels trees,
stored ciphertexts, budgets, audit reports): a temporary file unique to this call in the same
folder, written and fsynced, renamed over the target (atomic on POSIX), then the folder fsynced
so that the new name survives a power cut. The temporary name is unique to the call, not only
to the process, so concurrent writers of one path (threads or processes) never write into each
other's file: the last rename wins, with complete content.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from pathlib import Path

__all__ = ["write_atomic"]


def write_atomic(path: str | Path, data: bytes | str | Iterable[bytes], *, mode: int | None = None) -> Path:
    """Write ``data`` (bytes, UTF-8 text, or chunks of bytes) to ``path`` atomically and durably.

    ``mode`` sets the new file's permissions (0o600 for secrets); by default they are what
    ``open()`` would give (0o666 less the umask). The folder is created if missing. An
    ``OSError`` leaves ``path`` as it was and no temporary file behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}.tmp")
    chunks = [data.encode()] if isinstance(data, str) else [data] if isinstance(data, (bytes, bytearray)) else data
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if mode is None else mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)  # the umask may have narrowed it
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
    return path
