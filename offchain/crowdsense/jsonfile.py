"""Reading the JSON files a user hands in (task files, level files, keystores).

One reader, so that every such file fails the same way: a missing or malformed file is one
readable line naming the file and what was wrong with it (never a traceback, and never the
file's content: a keystore is such a file).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from crowdsense.errors import CrowdsenseError, InputError

__all__ = ["read_json_file"]


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
        The :class:`~crowdsense.errors.CrowdsenseError` subclass raised (default InputError).
    missing_hint : str
        Appended to the message of a missing file, e.g. the command that makes it.
    """
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise error(f"{what} {path} not found{missing_hint}") from None
    except json.JSONDecodeError as exc:
        raise error(f"{what} {path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except (OSError, ValueError) as exc:  # unreadable, or not UTF-8 text
        raise error(f"{what} {path} is not valid JSON: {type(exc).__name__}") from None
