"""Where a party keeps the openings it will need later: the secret store.

A party that loses the opening of a published commitment can never open it: a CTBC user is
then dropped from the selection, a PDC receiver's distance is never accepted. So the protocol
code writes an opening to a :class:`SecretStore` *before* it sends the commitment, and a party
restarted after a crash resumes from the store. Values are JSON objects (str, int, float, bool,
None, lists, dicts), so a durable implementation can serialise them as they are: on chain that is
the client journal (:class:`crowdsense.chain.boards.JournalSecretStore`);
:class:`MemorySecretStore` is the test and simulation implementation.
"""

from __future__ import annotations

import json
from typing import Any, Protocol, runtime_checkable

from crowdsense.errors import InputError

__all__ = ["SecretStore", "MemorySecretStore"]


@runtime_checkable
class SecretStore(Protocol):
    """Durable key -> JSON-object storage (a later ``put`` replaces an earlier one)."""

    def put(self, key: str, value: dict[str, Any]) -> None:
        """Store ``value`` under ``key``; it must be durable when ``put`` returns."""
        ...

    def get(self, key: str) -> dict[str, Any] | None:
        """The value stored under ``key``, or ``None``."""
        ...


class MemorySecretStore:
    """A :class:`SecretStore` in a dict; values are copied through JSON, as a journal would store them.

    The copy makes a caller's later change to a value it stored invisible here, and refuses
    now (with :class:`~crowdsense.errors.InputError`) what a durable store could not hold.
    """

    def __init__(self) -> None:
        self._data: dict[str, str] = {}

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def put(self, key: str, value: dict[str, Any]) -> None:
        if not isinstance(key, str) or not key:
            raise InputError(f"key must be a non-empty str, got {key!r}")
        if not isinstance(value, dict):
            raise InputError(f"value must be a dict, got {type(value).__name__}")
        try:
            self._data[key] = json.dumps(value, sort_keys=True, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise InputError(f"value under {key!r} is not JSON-serialisable: {exc}") from exc

    def get(self, key: str) -> dict[str, Any] | None:
        text = self._data.get(key)
        return None if text is None else json.loads(text)

    def keys(self) -> list[str]:
        """Every stored key, sorted."""
        return sorted(self._data)
