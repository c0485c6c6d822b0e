"""Opening the files a user hands in, so that no file can exhaust memory or be misread.

Every input file of the package (graph edge lists, levels, task, keystore and deployment JSON
files, address and bus-position CSVs, password files, ``submit --data-file``) is opened here:

* **Streamed under a size limit.** A file is read in chunks of :data:`CHUNK` bytes and refused
  with :class:`InputTooLargeError` as soon as it goes past its limit, so ``/dev/zero``, a named
  pipe that never ends or a small gzip file that expands to gigabytes stops with a one-line
  error instead of growing until the system kills the process. The limit counts the bytes
  after decompression, where that is what the reader holds in memory.
* **gzip recognised by content** (its magic bytes, not the file name), decompressed
  incrementally; a corrupt or truncated stream is an error naming the file.
* **A UTF-8 byte order mark is dropped** at the start of a text file (some editors on Windows
  write one): left in, it would become part of the first node id, CSV header or JSON value.

Limits, in bytes after decompression (``CROWDSENSE_MAX_INPUT_BYTES``, read at each call,
replaces every default when set; it takes a number of bytes with an optional binary suffix:
``500000000``, ``512M``, ``4G``):

==================  ===========  ===================================================================
input               default      why
==================  ===========  ===================================================================
graph edge list     512 MiB      a 1,000,000-node social graph with 10-30 million edges is 150-450 MB
                                 of text (about 15 bytes a line); parsing takes about 12 times the
                                 text at its peak (6 GB at the limit), so a real graph fits on a
                                 workstation and an endless input stops long before memory runs out
JSON and CSV files  128 MiB      the largest is a levels file, about 16 bytes per node (16 MB for a
                                 million nodes); parsing takes about ten times the text
password file       64 KiB       a password is one line
submit data file    none         only its keccak256 goes on chain: it is hashed chunk by chunk and
                                 never held in memory
==================  ===========  ===================================================================

An edge list also has a line limit, :data:`MAX_LINE_BYTES` (64 KiB; an edge line is two node
ids), checked while reading: a file without newlines fails at once rather than at the size
limit.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator, TextIO

from crowdsense.errors import CrowdsenseError, InputError

__all__ = [
    "ENV_MAX_INPUT_BYTES",
    "GRAPH_LIMIT",
    "DOCUMENT_LIMIT",
    "PASSWORD_LIMIT",
    "MAX_LINE_BYTES",
    "CHUNK",
    "InputTooLargeError",
    "max_input_bytes",
    "open_input",
    "open_input_text",
    "read_input_bytes",
    "input_chunks",
]

#: Environment variable that replaces every default limit (bytes; suffixes K, M, G, T).
ENV_MAX_INPUT_BYTES = "CROWDSENSE_MAX_INPUT_BYTES"
#: Default limit of a graph edge list (decompressed).
GRAPH_LIMIT = 512 << 20
#: Default limit of a JSON or CSV file (levels, tasks, keystores, deployments, addresses, buses).
DOCUMENT_LIMIT = 128 << 20
#: Default limit of a password file.
PASSWORD_LIMIT = 64 << 10
#: Longest line of an edge list.
MAX_LINE_BYTES = 64 << 10
#: Bytes read at a time.
CHUNK = 1 << 20

_GZIP_MAGIC = b"\x1f\x8b"
_SIZE = re.compile(r"\s*([0-9]+)\s*([kmgt]?)(?:i?b)?\s*", re.IGNORECASE)
_UNITS = {"": 0, "k": 10, "m": 20, "g": 30, "t": 40}


class InputTooLargeError(InputError):
    """An input file larger than its limit (see the module docstring)."""


def _size_text(n: int) -> str:
    for shift, unit in ((30, "GiB"), (20, "MiB"), (10, "KiB")):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    return f"{n} bytes"


def max_input_bytes(default: int) -> int:
    """The limit in force: ``$CROWDSENSE_MAX_INPUT_BYTES`` when set, else ``default``."""
    text = os.environ.get(ENV_MAX_INPUT_BYTES)
    if text is None or not text.strip():
        return default
    match = _SIZE.fullmatch(text)
    if match is None or int(match.group(1)) == 0:
        raise InputError(f"{ENV_MAX_INPUT_BYTES}={text!r} is not a size: expected a positive number of "
                         "bytes, optionally with a suffix K, M, G or T (e.g. 512M)")
    return int(match.group(1)) << _UNITS[match.group(2).lower()]


class _Limited(io.RawIOBase):
    """A read-only stream over ``source`` that refuses to deliver more than ``limit`` bytes."""

    def __init__(self, source: BinaryIO, *, limit: int | None, describe: str, gunzipped: bool,
                 error: type[CrowdsenseError]) -> None:
        self._source = source
        self._limit = limit
        self._describe = describe
        self._gunzipped = gunzipped
        self._error = error
        self.delivered = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        want = len(buffer)
        if self._limit is not None:  # one byte past the limit tells "too large" from "exactly at it"
            want = min(want, self._limit + 1 - self.delivered)
        try:
            data = self._source.read(want)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise self._error(f"{self._describe} looks gzip-compressed but cannot be decompressed: "
                              f"{str(exc) or type(exc).__name__}") from None
        except OSError as exc:
            raise self._error(f"{self._describe} cannot be read: {exc.strerror or exc}") from None
        self.delivered += len(data)
        if self._limit is not None and self.delivered > self._limit:
            grows = "decompresses to" if self._gunzipped else "is"
            raise InputTooLargeError(
                f"{self._describe} {grows} more than {_size_text(self._limit)}: expected a smaller file "
                f"(or set {ENV_MAX_INPUT_BYTES} to a higher limit)")
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self._source.close()
        finally:
            super().close()


@contextmanager
def open_input(path: str | Path, what: str, *, limit: int | None, gunzip: bool = False,
               error: type[CrowdsenseError] = InputError, missing_hint: str = "") -> Iterator[BinaryIO]:
    """A binary stream of the file ``path`` that fails once it has delivered more than the limit.

    Parameters
    ----------
    path : str or Path
        The file (also a device or a pipe: nothing is assumed of its size).
    what : str
        What the file is, for messages (``"graph file"``...); messages never quote content.
    limit : int or None
        Default limit in bytes (replaced by ``$CROWDSENSE_MAX_INPUT_BYTES``); None: no limit.
    gunzip : bool
        Decompress a gzip file (recognised by its first bytes); the limit then counts
        decompressed bytes.
    error : type
        The :class:`~crowdsense.errors.CrowdsenseError` subclass of a missing, unreadable or
        corrupt file (:class:`InputTooLargeError` for one over its limit).
    missing_hint : str
        Appended to the message of a missing file, e.g. the command that makes it.
    """
    path = Path(path)
    limit = None if limit is None else max_input_bytes(limit)
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed by the stream below
    except FileNotFoundError:
        raise error(f"{what} {path} not found{missing_hint}") from None
    except IsADirectoryError:
        raise error(f"{what} {path} is a directory, expected a file") from None
    except OSError as exc:
        raise error(f"{what} {path} cannot be read: {exc.strerror or exc}") from None
    source: BinaryIO = raw
    gunzipped = False
    try:
        if gunzip:
            if raw.peek(2)[:2] == _GZIP_MAGIC:
                source = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
                gunzipped = True
    except OSError as exc:
        raw.close()
        raise error(f"{what} {path} cannot be read: {exc.strerror or exc}") from None
    stream = io.BufferedReader(_Limited(source, limit=limit, describe=f"{what} {path}", gunzipped=gunzipped,
                                        error=error), buffer_size=CHUNK)
    try:
        yield stream  # type: ignore[misc]
    finally:
        stream.close()
        raw.close()


@contextmanager
def open_input_text(path: str | Path, what: str, *, limit: int | None, gunzip: bool = False,
                    error: type[CrowdsenseError] = InputError, missing_hint: str = "") -> Iterator[TextIO]:
    """:func:`open_input` decoded as UTF-8 without a leading byte order mark, newlines kept as
    they are (what :mod:`csv` expects). A file that is not UTF-8 raises ``UnicodeDecodeError``
    while reading: the caller words that error for its kind of file."""
    with open_input(path, what, limit=limit, gunzip=gunzip, error=error, missing_hint=missing_hint) as stream:
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
        try:
            yield text  # type: ignore[misc]
        finally:
            text.detach()


class _LineLengths:
    """Checks, chunk by chunk, that no line is longer than ``limit`` bytes."""

    def __init__(self, limit: int, describe: str, error: type[CrowdsenseError]) -> None:
        self.limit = limit
        self.describe = describe
        self.error = error
        self.lines = 0  # newlines seen so far
        self.run = 0  # bytes of the line not yet ended

    def feed(self, chunk: bytes) -> None:
        import numpy as np  # only readers of line-oriented files pay for it

        ends = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 0x0A)
        if ends.size:
            lengths = np.diff(ends, prepend=-1 - self.run) - 1  # of the lines ending in this chunk
            too_long = np.flatnonzero(lengths > self.limit)
            if too_long.size:
                self._fail(self.lines + 1 + int(too_long[0]))
            self.lines += int(ends.size)
            self.run = len(chunk) - 1 - int(ends[-1])
        else:
            self.run += len(chunk)
        if self.run > self.limit:
            self._fail(self.lines + 1)

    def _fail(self, line: int) -> None:
        raise self.error(f"{self.describe} has a line longer than {_size_text(self.limit)} (line {line}): "
                         "expected text of short lines")


def read_input_bytes(path: str | Path, what: str, *, limit: int | None, gunzip: bool = False,
                     max_line: int | None = None, error: type[CrowdsenseError] = InputError,
                     missing_hint: str = "") -> bytearray:
    """The whole content of ``path`` (decompressed when ``gunzip``), within the limit.

    A ``bytearray`` grown chunk by chunk: no second copy of a large file is made. With
    ``max_line``, a line (counted in bytes, up to ``\\n``) longer than that is refused as soon as
    it is read: a file without newlines fails after ``max_line`` bytes.
    """
    content = bytearray()
    lines = None if max_line is None else _LineLengths(max_line, f"{what} {path}", error)
    with open_input(path, what, limit=limit, gunzip=gunzip, error=error, missing_hint=missing_hint) as stream:
        while chunk := stream.read(CHUNK):
            if lines is not None:
                lines.feed(chunk)
            content += chunk
    return content


def input_chunks(path: str | Path, what: str, *, error: type[CrowdsenseError] = InputError) -> Iterator[bytes]:
    """The bytes of ``path`` in chunks of :data:`CHUNK`, with no size limit: for a file that is
    hashed, never held (memory stays one chunk whatever the size)."""
    with open_input(path, what, limit=None, error=error) as stream:
        while chunk := stream.read(CHUNK):
            yield chunk
