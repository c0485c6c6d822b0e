"""What a service process is configured with: its database, its name in signatures, its limits.

Each setting comes from an argument, else from the environment, else a default, so one
``crowdsense service serve`` line or a container's environment configures a service the same
way. The database URL may carry a password: :func:`~crowdsense.services.db.redacted_url` is
what messages and logs show.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from eth_utils import is_hex_address, to_checksum_address

from crowdsense.errors import InputError

__all__ = [
    "DEFAULT_DATABASE_URL",
    "DEFAULT_MAX_BLOB_BYTES",
    "DEFAULT_TIMESTAMP_WINDOW",
    "ENV_DATABASE_URL",
    "ENV_DOMAIN",
    "ENV_MAX_BLOB_BYTES",
    "ENV_TIMESTAMP_WINDOW",
    "ENV_WRITERS",
    "MAX_BLOB_BYTES_LIMIT",
    "MAX_TIMESTAMP_WINDOW",
    "Settings",
]

ENV_DATABASE_URL = "CROWDSENSE_DATABASE_URL"
ENV_DOMAIN = "CROWDSENSE_SERVICE_DOMAIN"
ENV_MAX_BLOB_BYTES = "CROWDSENSE_MAX_BLOB_BYTES"
ENV_TIMESTAMP_WINDOW = "CROWDSENSE_TIMESTAMP_WINDOW"
ENV_WRITERS = "CROWDSENSE_SERVICE_WRITERS"
#: SQLite in the working directory's ``.crowdsense/`` folder, beside the journal.
DEFAULT_DATABASE_URL = "sqlite:///.crowdsense/service.sqlite"
#: 1 MiB: a subtask ciphertext is a few hundred bytes, an envelope 125.
DEFAULT_MAX_BLOB_BYTES = 1 << 20
#: Seconds a signed request stays valid either side of the server's clock.
DEFAULT_TIMESTAMP_WINDOW = 300
#: The largest accepted limits (a blob in memory; a day of clock skew).
MAX_BLOB_BYTES_LIMIT = 64 << 20
MAX_TIMESTAMP_WINDOW = 86_400


def _checked_int(raw: object, *, lo: int, hi: int, name: str) -> int:
    """``raw`` (an int, or its text from the environment) if it is an integer in ``lo..hi``."""
    number = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        number = raw
    elif isinstance(raw, str):
        try:
            number = int(raw.strip())
        except ValueError:
            number = None
    if number is None or not lo <= number <= hi:
        raise InputError(f"{name} = {raw!r} is not usable: expected an integer in {lo}..{hi}")
    return number


def _checked_writers(value: Iterable[str]) -> frozenset[str]:
    out = set()
    for text in value:
        if not isinstance(text, str) or not is_hex_address(text):
            raise InputError(f"writer {text!r} is not an address: expected 0x and 40 hex digits")
        out.add(to_checksum_address(text))
    return frozenset(out)


@dataclass(frozen=True)
class Settings:
    """A service's configuration (see :meth:`from_env`).

    Attributes
    ----------
    database_url
        ``sqlite:///PATH`` (the default, ``.crowdsense/service.sqlite``) or
        ``postgresql://user:password@host:port/db``.
    domain
        The service's name in every signed request (``host:port`` as clients write it in their
        URL): a signature made for one service is refused by every other.
    max_blob_bytes
        Largest request body accepted (413 beyond).
    timestamp_window
        Seconds a signed request's timestamp may differ from the server's clock.
    writers
        Accounts allowed to write; empty means any account that signs its requests.
    """

    database_url: str = DEFAULT_DATABASE_URL
    domain: str = "127.0.0.1:8600"
    max_blob_bytes: int = DEFAULT_MAX_BLOB_BYTES
    timestamp_window: int = DEFAULT_TIMESTAMP_WINDOW
    writers: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not isinstance(self.database_url, str) or not self.database_url:
            raise InputError(f"database URL {self.database_url!r} is empty: expected sqlite:///PATH or "
                             "postgresql://user@host:port/db")
        if not isinstance(self.domain, str) or not self.domain or any(c.isspace() for c in self.domain):
            raise InputError(f"service domain {self.domain!r} is not usable: expected the host:port clients "
                             "use, without spaces")
        _checked_int(self.max_blob_bytes, lo=1, hi=MAX_BLOB_BYTES_LIMIT, name="max_blob_bytes")
        _checked_int(self.timestamp_window, lo=1, hi=MAX_TIMESTAMP_WINDOW, name="timestamp_window")
        object.__setattr__(self, "writers", _checked_writers(self.writers))

    @classmethod
    def from_env(
        cls,
        *,
        database_url: str | None = None,
        domain: str | None = None,
        max_blob_bytes: int | None = None,
        timestamp_window: int | None = None,
        writers: Iterable[str] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> "Settings":
        """Arguments first, then ``$CROWDSENSE_DATABASE_URL``, ``$CROWDSENSE_SERVICE_DOMAIN``,
        ``$CROWDSENSE_MAX_BLOB_BYTES``, ``$CROWDSENSE_TIMESTAMP_WINDOW`` and
        ``$CROWDSENSE_SERVICE_WRITERS`` (addresses separated by spaces or commas), then defaults."""
        env = os.environ if environ is None else environ

        def number(value: int | None, var: str, default: int, hi: int, name: str) -> int:
            raw = value if value is not None else env.get(var) or default
            return _checked_int(raw, lo=1, hi=hi, name=f"{name} (${var})" if value is None else name)

        return cls(
            database_url=database_url or env.get(ENV_DATABASE_URL) or DEFAULT_DATABASE_URL,
            domain=domain or env.get(ENV_DOMAIN) or cls.domain,
            max_blob_bytes=number(max_blob_bytes, ENV_MAX_BLOB_BYTES, DEFAULT_MAX_BLOB_BYTES,
                                  MAX_BLOB_BYTES_LIMIT, "max_blob_bytes"),
            timestamp_window=number(timestamp_window, ENV_TIMESTAMP_WINDOW, DEFAULT_TIMESTAMP_WINDOW,
                                    MAX_TIMESTAMP_WINDOW, "timestamp_window"),
            writers=_checked_writers(writers if writers is not None
                                     else env.get(ENV_WRITERS, "").replace(",", " ").split()),
        )
