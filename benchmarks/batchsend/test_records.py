"""Statistics and failure reports of :mod:`batchsend.records`, on records made by hand."""

from __future__ import annotations

import numpy as np
import pytest

from batchsend.errors import BatchFailedError
from batchsend.records import TxRecord, raise_for_failures, summarize
from crowdsense.errors import CrowdsenseError


def _record(i, send, confirm, status=1, error=None, block=None):
    return TxRecord(index=i, sender="0x" + "00" * 20, nonce=i, tx_hash=f"0x{i:064x}", send_time=send,
                    confirm_time=confirm, status=status, error=error,
                    block_number=block if block is not None else i)


def test_summarize_matches_hand_calculation():
    records = [_record(0, 10.0, 10.5), _record(1, 10.25, 11.0), _record(2, 10.5, 12.0),
               _record(3, 10.75, 11.5)]
    stats = summarize(records)
    latencies = [0.5, 0.75, 1.5, 0.75]
    assert stats.confirmed == 4
    assert stats.throughput == pytest.approx(4 / (12.0 - 10.0))
    assert stats.send_rate == pytest.approx(3 / 0.75)
    assert stats.latency_mean == pytest.approx(np.mean(latencies))
    assert stats.latency_p50 == pytest.approx(np.percentile(latencies, 50))
    assert stats.latency_p95 == pytest.approx(np.percentile(latencies, 95))
    assert stats.latency_max == pytest.approx(1.5)


def test_summarize_excludes_failures_from_confirmed_and_latency():
    records = [_record(0, 1.0, 2.0), _record(1, 1.0, 9.0, status=0),
               _record(2, 1.0, None, status=None, error="rejected by the node: nonce too low")]
    stats = summarize(records)
    assert (stats.confirmed, stats.reverted, stats.rejected, stats.missing) == (1, 1, 1, 0)
    assert stats.latency_max == pytest.approx(1.0)
    assert stats.throughput == pytest.approx(1 / (2.0 - 1.0))


def test_raise_for_failures_names_the_failing_call():
    records = [_record(0, 1.0, 2.0), _record(1, 1.0, 2.0, status=0)]
    with pytest.raises(BatchFailedError) as info:
        raise_for_failures(records)
    assert [r.index for r in info.value.failures] == [1]
    assert isinstance(info.value, CrowdsenseError)
