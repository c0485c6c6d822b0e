"""A record of the transactions a round sends, and sending without the client's pre-checks.

The LDPF rounds and the main job report what went on chain: which account sent what, in which
block, for how much gas, and whether the chain accepted it. :class:`TxLog` collects those
records (thread-safe: the rounds send from several threads). :func:`send_unchecked` sends a
call exactly as given, with a fixed gas limit and no local check and no gas estimation, so a
call the contract refuses is *mined and reverted on chain*; its typed reason is then decoded
from the chain (replayed at the block), not guessed locally. That is how the main job shows
refusals and how a cheating party's forged opening reaches the chain.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Iterator

from crowdsense.chain.errors import ContractRevertError
from crowdsense.chain.txsend import TxRecord, TxSender
from crowdsense.errors import InputError

# TxRecord is defined with the sender that produces it; it is listed here too as the log's item.
__all__ = ["TxRecord", "TxLog", "UncheckedOutcome", "send_unchecked", "UNCHECKED_GAS"]

#: Gas limit of unchecked sends: well above any single call of the two contracts.
UNCHECKED_GAS = 500_000


class TxLog:
    """An append-only, thread-safe list of :class:`TxRecord`."""

    def __init__(self) -> None:
        self._records: list[TxRecord] = []
        self._lock = threading.Lock()

    def add(self, record: TxRecord) -> TxRecord:
        with self._lock:
            self._records.append(record)
        return record

    def records(self, kind: str | None = None) -> list[TxRecord]:
        with self._lock:
            return [r for r in self._records if kind is None or r.kind == kind]

    def __iter__(self) -> Iterator[TxRecord]:
        return iter(self.records())

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)


@dataclass(frozen=True)
class UncheckedOutcome:
    """The result of :func:`send_unchecked`: the mined transaction and, if it reverted, why."""

    record: TxRecord
    error: ContractRevertError | None

    @property
    def reverted(self) -> bool:
        return self.error is not None


def send_unchecked(
    sender: TxSender,
    to: str,
    data: bytes | str,
    *,
    intent_id: str,
    kind: str,
    subject: str = "",
    gas: int = UNCHECKED_GAS,
) -> UncheckedOutcome:
    """Send ``data`` to ``to`` with a fixed gas limit: no pre-check, no estimation.

    The transaction is journaled under ``intent_id`` like any other (so a rerun resumes it
    instead of sending it twice) and mined even if the contract refuses it; a refusal comes
    back as ``error``, the typed revert decoded from the chain (``pre_check`` is False).

    Raises
    ------
    InputError
        The sender has no journal (unchecked sends are journaled too).
    TransactionError, NodeUnavailableError
        The node refused the transaction itself or cannot be reached.
    """
    if sender.journal is None:
        raise InputError("send_unchecked needs a sender with a journal")
    if isinstance(gas, bool) or not isinstance(gas, int) or gas < 21_000:
        raise InputError(f"gas must be an int >= 21000, got {gas!r}")
    try:
        tx = sender.send({"to": to, "data": data, "gas": gas}, intent_id=intent_id, kind=kind)
    except ContractRevertError as exc:
        intent = sender.journal.intent(intent_id)
        if intent is None or intent.block_number is None:
            raise  # refused before it was mined (cannot happen without estimation, but be exact)
        receipt = sender.w3.eth.get_transaction_receipt(intent.tx_hash)  # type: ignore[arg-type]
        record = TxRecord(intent.tx_hash, receipt, kind, sender.address, intent_id, subject=subject,
                          error=str(exc))
        return UncheckedOutcome(record, exc)
    return UncheckedOutcome(replace(tx, subject=subject), None)
