"""Errors of the load generator, all :class:`~crowdsense.errors.CrowdsenseError` subclasses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crowdsense.errors import CrowdsenseError

if TYPE_CHECKING:
    from batchsend.records import TxRecord

__all__ = ["BatchError", "RpcError", "NodeConnectionError", "BatchFailedError"]


class BatchError(CrowdsenseError, RuntimeError):
    """Root of this package's errors (a :class:`~crowdsense.errors.CrowdsenseError`)."""


class RpcError(BatchError):
    """The node answered a JSON-RPC call with an error object.

    Attributes
    ----------
    method : str
        The JSON-RPC method called.
    code : int | None
        The JSON-RPC error code.
    rpc_message : str
        The node's error message, verbatim.
    """

    def __init__(self, method: str, code: int | None, rpc_message: str) -> None:
        self.method = method
        self.code = code
        self.rpc_message = rpc_message
        super().__init__(f"{method} failed: {rpc_message} (JSON-RPC code {code})")


class NodeConnectionError(BatchError, ConnectionError):
    """The node cannot be reached, timed out, or answered something that is not JSON-RPC."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"node at {url} is unavailable: {reason}")


class BatchFailedError(BatchError):
    """Some transactions of a batch were rejected, reverted or never included.

    Attributes
    ----------
    failures : list[TxRecord]
        The records that did not succeed, in call order.
    total : int
        Number of transactions in the batch.
    """

    def __init__(self, failures: list[TxRecord], total: int) -> None:
        self.failures = failures
        self.total = total
        first = failures[0]
        super().__init__(
            f"{len(failures)} of {total} transactions failed; first: call #{first.index} from "
            f"{first.sender} nonce {first.nonce}: {first.describe_failure()}"
        )

