"""Minimal JSON-RPC over HTTP with batches: many calls, one request."""

from __future__ import annotations

import json
from typing import Any, Sequence

import requests

from batchsend.errors import NodeConnectionError, RpcError
from crowdsense.errors import InputError

__all__ = ["RpcClient"]


class RpcClient:
    """Minimal JSON-RPC over HTTP with batches, on a keep-alive ``requests`` session.

    Not thread-safe: give each thread its own client (they are cheap).

    Parameters
    ----------
    url : str
        The node's HTTP endpoint.
    timeout : float
        Seconds to wait for one HTTP response.
    """

    def __init__(self, url: str, *, timeout: float = 60.0) -> None:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise InputError(f"rpc_url must be an http(s) URL; got {url!r}")
        self.url = url
        self.timeout = timeout
        self._session = requests.Session()
        self._session.headers["Content-Type"] = "application/json"
        self._next_id = 1

    def close(self) -> None:
        self._session.close()

    def _post(self, body: str) -> Any:
        try:
            response = self._session.post(self.url, data=body.encode(), timeout=self.timeout)
        except requests.RequestException as exc:
            raise NodeConnectionError(self.url, f"{type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise NodeConnectionError(self.url, f"HTTP {response.status_code}: {response.text[:200]}")
        try:
            return json.loads(response.content)
        except ValueError as exc:
            raise NodeConnectionError(self.url, f"answer is not JSON: {response.text[:200]!r}") from exc

    def call(self, method: str, params: list[Any] | None = None) -> Any:
        """One call; raises :class:`RpcError` on an error answer."""
        result = self.batch([(method, params or [])])[0]
        if isinstance(result, RpcError):
            raise result
        return result

    def batch(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        """Several calls in one HTTP request; each answer is its result or an :class:`RpcError`.

        Answers come back in call order whatever order the node used.
        """
        if not calls:
            return []
        first = self._next_id
        self._next_id += len(calls)
        body = "[" + ",".join(
            json.dumps({"jsonrpc": "2.0", "id": first + i, "method": m, "params": p})
            for i, (m, p) in enumerate(calls)
        ) + "]"
        return self._collect(self._post(body), calls, first)

    def send_raw_batch(self, raws: Sequence[bytes]) -> list[Any]:
        """``eth_sendRawTransaction`` for each raw transaction, in one request (fast path)."""
        if not raws:
            return []
        first = self._next_id
        self._next_id += len(raws)
        body = "[" + ",".join(
            f'{{"jsonrpc":"2.0","id":{first + i},"method":"eth_sendRawTransaction",'
            f'"params":["0x{raw.hex()}"]}}'
            for i, raw in enumerate(raws)
        ) + "]"
        return self._collect(self._post(body), [("eth_sendRawTransaction", [])] * len(raws), first)

    def _collect(self, answer: Any, calls: Sequence[tuple[str, list[Any]]], first: int) -> list[Any]:
        if isinstance(answer, dict):
            # Some nodes answer a whole batch with one error object (e.g. batch too large).
            error = answer.get("error") or {}
            raise NodeConnectionError(self.url, f"batch refused: {error.get('message', answer)}")
        if not isinstance(answer, list):
            raise NodeConnectionError(self.url, f"batch answer is not a list: {str(answer)[:200]}")
        out: list[Any] = [None] * len(calls)
        seen = [False] * len(calls)
        for item in answer:
            try:
                pos = int(item["id"]) - first
            except (KeyError, TypeError, ValueError):
                raise NodeConnectionError(
                    self.url, f"batch answer item without a valid id: {item!r}") from None
            if not 0 <= pos < len(calls):
                raise NodeConnectionError(self.url, f"batch answer with an unknown id {item.get('id')!r}")
            seen[pos] = True
            if item.get("error") is not None:
                error = item["error"]
                out[pos] = RpcError(calls[pos][0], error.get("code"), str(error.get("message", error)))
            else:
                out[pos] = item.get("result")
        if not all(seen):
            raise NodeConnectionError(
                self.url, f"batch answer misses {seen.count(False)} of {len(calls)} items")
        return out

