"""Where a receiver keeps the secrets it will need later: a small pluggable interface.

The receiver must never lose r and the salt of its commitment: without them it cannot open the
commitment it has published, and the platform cannot accept its distance. So the receiver
writes them to a :class:`SecretStore` *before* it sends the commit transaction
(:meth:`crowdsense.ldpf.pdc.protocol.Receiver.respond`), and a receiver restarted after a crash
resumes from the store. Values are plain JSON-compatible dicts (str, int, bool, None, lists,
dicts), so a durable implementation (an SQLite journal, a keystore) can serialise them as they
are; :class:`InMemorySecretStore` is the test and simulation implementation.
"""

from __future__ import annotations

import json
from typing import Any, Protocol, runtime_checkable

from crowdsense.errors import InputError

__all__ = ["SecretStore", "InMemorySecretStore"]


@runtime_checkable
class SecretStore(Protocol):
    """Durable key-value storage of JSON-compatible dicts (later ``put`` replaces earlier)."""

    def put(self, key: str, value: dict[str, Any]) -> None:
        """Store ``value`` under ``key``; must be durable when it returns."""
        ...

    def get(self, key: str) -> dict[str, Any] | None:
        """The value stored under ``key``, or ``None``."""
        ...


class InMemorySecretStore:
    """A :class:`SecretStore` in a dict; values are copied through JSON (as a durable store would)."""

    def __init__(self) -> None:
        self._data: dict[str, str] = {}

    def put(self, key: str, value: dict[str, Any]) -> None:
        if not isinstance(key, str) or not key:
            raise InputError(f"key must be a non-empty str, got {key!r}")
        if not isinstance(value, dict):
            raise InputError(f"value must be a dict, got {type(value).__name__}")
        try:
            text = json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise InputError(f"value under {key!r} is not JSON-serialisable: {exc}") from exc
        self._data[key] = text

    def get(self, key: str) -> dict[str, Any] | None:
        text = self._data.get(key)
        return None if text is None else json.loads(text)

    def keys(self) -> list[str]:
        """Every stored key (for inspection in tests)."""
        return sorted(self._data)
