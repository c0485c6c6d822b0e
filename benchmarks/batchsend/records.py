"""What happened to each transaction (:class:`TxRecord`), and the throughput and latency of many."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

from batchsend.errors import BatchFailedError

__all__ = ["Call", "TxRecord", "BatchStats", "summarize", "raise_for_failures", "REJECTED"]

#: Prefix of ``TxRecord.error`` for a transaction the node refused at ``eth_sendRawTransaction``.
REJECTED = "rejected by the node"


@dataclass(frozen=True)
class Call:
    """One transaction to send.

    Parameters
    ----------
    to : str or None
        Target address (``None`` deploys ``data`` as a contract).
    data : bytes or hex str
        Call data.
    value : int
        Wei to transfer.
    gas : int or None
        Gas limit; ``None`` uses the sender's ``gas`` default or, failing that, an estimate.
    sender : int, str or None
        Index into the sender's keys or one of their addresses; ``None`` spreads the calls
        round-robin over all keys.
    """

    to: str | None
    data: bytes | str = b""
    value: int = 0
    gas: int | None = None
    sender: int | str | None = None


@dataclass
class TxRecord:
    """What happened to one transaction. Times are Unix epoch seconds.

    ``status`` is 1 for success, 0 for a revert, ``None`` when the transaction was not
    included (rejected at send: ``error`` says why; or no receipt before the timeout). A call
    never sent (the node stopped including transactions) has ``nonce == -1``,
    ``tx_hash == ""`` and ``error`` set.
    """

    index: int
    sender: str
    nonce: int
    tx_hash: str
    send_time: float | None = None
    block_number: int | None = None
    confirm_time: float | None = None
    status: int | None = None
    gas_used: int | None = None
    error: str | None = None

    @property
    def latency(self) -> float | None:
        """Confirmation time minus send time, in seconds (``None`` if not included)."""
        if self.send_time is None or self.confirm_time is None:
            return None
        return self.confirm_time - self.send_time

    @property
    def succeeded(self) -> bool:
        return self.status == 1 and self.error is None

    def describe_failure(self) -> str:
        if self.error is not None:
            return self.error
        if self.status == 0:
            return f"reverted in block {self.block_number} (tx {self.tx_hash})"
        if self.status is None:
            return f"not included (tx {self.tx_hash})"
        return "succeeded"

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index, "sender": self.sender, "nonce": self.nonce, "txHash": self.tx_hash,
            "sendTime": self.send_time, "blockNumber": self.block_number, "confirmTime": self.confirm_time,
            "status": self.status, "gasUsed": self.gas_used, "error": self.error,
        }


@dataclass(frozen=True)
class BatchStats:
    """Throughput and latency of a list of records (see :func:`summarize`)."""

    sent: int
    confirmed: int
    reverted: int
    rejected: int
    missing: int
    duration: float
    send_duration: float
    send_rate: float
    throughput: float
    latency_mean: float
    latency_p50: float
    latency_p95: float
    latency_max: float
    blocks: int

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolation percentile (numpy's default) of an already sorted list."""
    if not sorted_values:
        return math.nan
    pos = (len(sorted_values) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def _rejected(record: TxRecord) -> bool:
    return record.error is not None and record.error.startswith(REJECTED)


def summarize(records: Sequence[TxRecord]) -> BatchStats:
    """Throughput and latency of ``records``.

    ``throughput = confirmed / (last confirmation - first send)``, where *confirmed* counts
    successful transactions; latency statistics are over successful transactions;
    ``send_rate = (sent - 1) / (last send - first send)`` is the rate actually achieved.
    """
    sends = [r.send_time for r in records if r.send_time is not None]
    ok = [r for r in records if r.succeeded and r.confirm_time is not None]
    latencies = sorted(r.latency for r in ok if r.latency is not None)
    first = min(sends) if sends else math.nan
    last_confirm = max((r.confirm_time for r in ok), default=math.nan)  # type: ignore[type-var]
    duration = last_confirm - first if ok else math.nan
    send_duration = (max(sends) - first) if sends else math.nan
    return BatchStats(
        sent=len(sends),
        confirmed=len(ok),
        reverted=sum(1 for r in records if r.status == 0),
        rejected=sum(1 for r in records if _rejected(r)),
        missing=sum(1 for r in records if r.status is None and not _rejected(r)),
        duration=duration,
        send_duration=send_duration,
        send_rate=(len(sends) - 1) / send_duration if len(sends) > 1 and send_duration > 0 else math.nan,
        throughput=len(ok) / duration if ok and duration > 0 else math.nan,
        latency_mean=sum(latencies) / len(latencies) if latencies else math.nan,
        latency_p50=_percentile(latencies, 0.50),
        latency_p95=_percentile(latencies, 0.95),
        latency_max=latencies[-1] if latencies else math.nan,
        blocks=len({r.block_number for r in records if r.block_number is not None}),
    )


def raise_for_failures(records: Sequence[TxRecord]) -> None:
    """Raise :class:`BatchFailedError` if any record did not succeed."""
    failures = [r for r in records if not r.succeeded]
    if failures:
        raise BatchFailedError(failures, len(records))

