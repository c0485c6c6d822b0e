"""Reading the JSON files a user hands in (levels, task, keystore and deployment files).

One reader, so that every such file fails the same way: a missing or malformed file is one
readable line naming the file and what was wrong with it (never a traceback, and never the
file's content: a keystore is such a file). The reader also refuses what Python's ``json``
would silently accept or choke on:

* **a file over its size limit** (:data:`crowdsense.inputfile.DOCUMENT_LIMIT`, 128 MiB unless
  ``$CROWDSENSE_MAX_INPUT_BYTES`` says otherwise), before anything is parsed;
* **a key repeated in one object** (``{"levels": {"7": 1, "7": 3}}``): ``json`` keeps the last
  value, so a level or an address given twice would be decided by the order of the lines;
* **nesting too deep** for the parser (``[[[[...``).

A leading UTF-8 byte order mark is dropped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from crowdsense.errors import CrowdsenseError, InputError
from crowdsense.inputfile import DOCUMENT_LIMIT, read_input_bytes

__all__ = ["read_json_file"]


class _DuplicateKey(ValueError):
    """A key seen twice in one JSON object (raised inside the parser, reworded below)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise _DuplicateKey(key)
        obj[key] = value
    return obj


def read_json_file(path: str | Path, what: str, *, error: type[CrowdsenseError] = InputError,
                   missing_hint: str = "") -> Any:
    """The parsed content of the JSON file ``path``.

    Parameters
    ----------
    path : str or Path
        The file.
    what : str
        What the file is, for the message (``"task file"``, ``"keystore file"``...).
    error : type
        The :class:`~crowdsense.errors.CrowdsenseError` subclass raised (default InputError);
        a file over the size limit raises :class:`~crowdsense.inputfile.InputTooLargeError`.
    missing_hint : str
        Appended to the message of a missing file, e.g. the command that makes it.
    """
    path = Path(path)
    raw = read_input_bytes(path, what, limit=DOCUMENT_LIMIT, error=error, missing_hint=missing_hint)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise error(f"{what} {path} is not valid JSON: not UTF-8 text") from None
    del raw
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except _DuplicateKey as exc:
        raise error(f"{what} {path}: key {exc.args[0]!r} appears twice in one object: expected each key "
                    "once (JSON readers would silently keep the last value)") from None
    except json.JSONDecodeError as exc:
        raise error(f"{what} {path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise error(f"{what} {path} is not valid JSON: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise error(f"{what} {path} is not valid JSON: {type(exc).__name__}") from None
