"""Sending transactions that are never lost and never duplicated.

:class:`TxSender` signs locally (the node never sees a key) and adds four things to a plain
``send_raw_transaction``:

* **Pre-flight decoding.** Gas is estimated first; a call that would revert raises its typed
  error (:mod:`crowdsense.chain.errors`) before anything is signed, journaled or paid for.
* **Nonces** from one :class:`NonceManager` per account and node in the process (shared by
  every sender of that account): the node's pending count, raised under a lock past the
  nonces of this process's broadcasts still in flight, so concurrent sends from threads of
  one process never collide, transactions sent by other processes are taken into account,
  and a restarted node is never handed a nonce beyond its own count.
* **Receipts** awaited with a timeout (polling with exponential back-off); a transaction
  that fails on chain is replayed with ``eth_call`` to recover its typed revert.
* **Idempotent intents.** With a :class:`~crowdsense.chain.journal.Journal` and an
  ``intent_id``, the signed raw transaction is journaled (fsynced) *before* it is broadcast.
  Sending the same intent again - after a crash, a timeout, a lost connection - first looks at
  the journal and the chain:

  ===========================  ==============================================================
  journal / chain              action
  ===========================  ==============================================================
  no intent                    build, sign, journal, broadcast, wait
  receipt on chain             nothing is sent; the recorded result is returned (``resumed``)
  not mined, nonce still free  the *same signed bytes* are re-broadcast (same hash, so the
                               node cannot include it twice)
  not mined, nonce used        the signed transaction can never be mined: marked ``dropped``,
                               then built again under a fresh nonce
  reverted / failed earlier    a new attempt is made (the earlier one had no effect)
  ===========================  ==============================================================

  Hence a restarted client never sends a claim twice, whatever the point of the crash. Two
  sends of one intent at once (threads, or processes sharing the journal) are settled by the
  journal: it admits one signed transaction per intent
  (:meth:`~crowdsense.chain.journal.Journal.record_prepared`), and the other sender resumes
  that one instead of broadcasting its own.

Transient RPC failures (connection refused or reset, timeouts, HTTP 429/5xx) are retried with
exponential back-off by the provider (:class:`crowdsense.chain.connection.RetryingHTTPProvider`);
when they persist the caller gets :class:`~crowdsense.chain.errors.NodeUnavailableError`, and
a journaled intent stays ``prepared`` or ``sent`` for the next run to resume.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from eth_account._utils.legacy_transactions import Transaction
from eth_account.typed_transactions import TypedTransaction
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TransactionNotFound, Web3RPCError

from crowdsense.chain.accounts import Signer
from crowdsense.chain.errors import (
    ContractRevertError,
    JournalError,
    NodeUnavailableError,
    ReceiptTimeoutError,
    TransactionError,
)
from crowdsense.chain.reverts import call_decoded
from crowdsense.chain.journal import OPEN_STATUSES, Intent, Journal
from crowdsense.errors import InputError

__all__ = [
    "TxRecord",
    "ResumeOutcome",
    "NonceManager",
    "shared_nonce_manager",
    "standing_intent",
    "TxSender",
    "decode_raw_transaction",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TxRecord:
    """A mined transaction: what it was, who sent it, and what the chain made of it.

    :meth:`TxSender.send` returns one for each successful transaction; a
    :class:`~crowdsense.chain.txlog.TxLog` collects them for a round's report, together with
    the reverted ones that :func:`~crowdsense.chain.txlog.send_unchecked` lets reach the chain
    (``ok`` False, the typed reason in ``error``).

    Attributes
    ----------
    tx_hash : str
        0x-prefixed hash.
    receipt : Mapping
        The node's receipt (web3 ``AttributeDict``), for event decoding.
    kind : str
        What the transaction does (``"claim"``, ``"commitBit"``...).
    sender : str
        The sending account.
    intent_id : str or None
        The journaled intent, if any.
    resumed : bool
        True when nothing new was sent: the transaction comes from an earlier run (or
        attempt) found in the journal.
    subject : str
        What the transaction is about, e.g. a commitment hash (empty when the kind says all).
    error : str or None
        Why the chain refused it, for a reverted transaction.
    """

    tx_hash: str
    receipt: Mapping[str, Any] = field(repr=False, compare=False)
    kind: str = "call"
    sender: str = ""
    intent_id: str | None = None
    resumed: bool = False
    subject: str = ""
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the transaction succeeded (receipt status 1)."""
        return int(self.receipt["status"]) == 1

    @property
    def block_number(self) -> int:
        return int(self.receipt["blockNumber"])

    @property
    def gas_used(self) -> int:
        return int(self.receipt["gasUsed"])

    @property
    def contract_address(self) -> str | None:
        return self.receipt.get("contractAddress")

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "sender": self.sender, "txHash": self.tx_hash, "block": self.block_number,
                "gasUsed": self.gas_used, "ok": self.ok, "subject": self.subject, "error": self.error,
                "resumed": self.resumed}


@dataclass(frozen=True)
class ResumeOutcome:
    """What :meth:`TxSender.resume_pending` did with one open intent."""

    intent_id: str
    kind: str
    result: TxRecord | None
    error: Exception | None


class _Rejected(Exception):
    """The node refused a raw transaction (it was not accepted into its pool)."""

    def __init__(self, message: str, *, nonce_too_low: bool) -> None:
        super().__init__(message)
        self.nonce_too_low = nonce_too_low


class NonceManager:
    """Hands out nonces for one account: safe for concurrent threads, aware of other senders.

    The node's pending transaction count is the truth; the local counter only covers nonces
    this process has handed out whose broadcast has not finished yet (the node cannot count
    them). So ``allocate`` returns the pending count when nothing is in flight, and
    ``max(next local nonce, pending count)`` otherwise. A counter kept past that point would
    outlive the node's view: a node restarted with fresh state (or a new node on the same
    URL) would be handed a nonce far above its own count, and the transaction would wait in
    its pool behind a gap forever.

    Every ``allocate`` is paired with one :meth:`settle` once the broadcast is over.
    """

    def __init__(self, w3: Web3, address: str) -> None:
        self._w3 = w3
        self._address = address
        self._lock = threading.Lock()
        self._next = 0
        self._in_flight = 0

    def allocate(self) -> int:
        with self._lock:
            pending = self._w3.eth.get_transaction_count(self._address, "pending")
            nonce = pending if self._in_flight == 0 else max(self._next, pending)
            self._next = nonce + 1
            self._in_flight += 1
            return nonce

    def settle(self, nonce: int, *, unused: bool = False) -> None:
        """The broadcast of ``nonce`` is over; ``unused``: the node certainly never took it.

        An unused nonce that was the last one handed out is handed out again next, so no gap
        blocks the transactions after it. Every other case resynchronises from the node once
        nothing is in flight.
        """
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)
            if unused and self._next == nonce + 1:
                self._next = nonce


_SHARED_NONCES: dict[tuple[str, str], NonceManager] = {}
_SHARED_NONCES_LOCK = threading.Lock()


def shared_nonce_manager(w3: Web3, address: str) -> NonceManager:
    """The one :class:`NonceManager` of ``address`` on this node in this process.

    Every :class:`TxSender` of an account shares it, so several client objects of one account
    (or threads each making their own) never hand out the same nonce.
    """
    endpoint = str(getattr(w3.provider, "endpoint_uri", None) or id(w3.provider))
    key = (endpoint, Web3.to_checksum_address(address))
    with _SHARED_NONCES_LOCK:
        manager = _SHARED_NONCES.get(key)
        if manager is None:
            manager = _SHARED_NONCES[key] = NonceManager(w3, address)
        return manager


def standing_intent(journal: Journal, intent_id: str) -> Intent | None:
    """The journaled intent ``intent_id`` if it stands: sent, about to be, or mined successfully.

    Such an intent is resumed, never repeated; a reverted, dropped or failed one had no effect
    and may be attempted again.
    """
    intent = journal.intent(intent_id)
    return intent if intent is not None and intent.status in (*OPEN_STATUSES, "confirmed") else None


def decode_raw_transaction(raw_tx: str | bytes) -> dict[str, Any]:
    """Fields of a signed raw transaction (legacy or typed): ``to``, ``data``, ``value``, ``nonce``..."""
    raw = HexBytes(raw_tx)
    if raw and raw[0] <= 0x7F:
        fields = dict(TypedTransaction.from_bytes(raw).as_dict())
    else:
        fields = Transaction.from_bytes(raw).as_dict()
    to = fields.get("to")
    fields["to"] = Web3.to_checksum_address(to) if to else None
    fields["data"] = HexBytes(fields.get("data", b""))
    return fields


def _rpc_message(exc: Exception) -> str:
    rpc = getattr(exc, "rpc_response", None)
    if isinstance(rpc, dict) and isinstance(rpc.get("error"), dict):
        return str(rpc["error"].get("message", exc))
    return str(getattr(exc, "message", None) or exc)


class TxSender:
    """Signs, journals, broadcasts and awaits transactions of one account.

    Parameters
    ----------
    w3 : Web3
        A connected instance (see :func:`crowdsense.chain.connection.connect`).
    signer : Signer
        The sending account.
    journal : Journal, optional
        Without it, ``intent_id`` is refused: idempotence needs durable state.
    receipt_timeout : float
        Seconds to wait for a receipt before :class:`ReceiptTimeoutError`.
    poll_interval, max_poll_interval : float
        Receipt polling starts at ``poll_interval`` and doubles up to ``max_poll_interval``.
    gas_margin : float
        Multiplier on the gas estimate (state may change between estimate and inclusion).
    chain_id : int, optional
        Skips one RPC call when known.
    """

    def __init__(
        self,
        w3: Web3,
        signer: Signer,
        *,
        journal: Journal | None = None,
        receipt_timeout: float = 120.0,
        poll_interval: float = 0.05,
        max_poll_interval: float = 1.0,
        gas_margin: float = 1.2,
        chain_id: int | None = None,
    ) -> None:
        if receipt_timeout <= 0:
            raise ValueError(f"receipt_timeout must be > 0 seconds, got {receipt_timeout!r}")
        if gas_margin < 1.0:
            raise ValueError(f"gas_margin must be >= 1, got {gas_margin!r}")
        self.w3 = w3
        self.signer = signer
        self.journal = journal
        self.receipt_timeout = receipt_timeout
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        self.gas_margin = gas_margin
        self.chain_id = int(chain_id if chain_id is not None else w3.eth.chain_id)
        self.nonces = shared_nonce_manager(w3, signer.address)
        self._sleep: Callable[[float], None] = time.sleep
        if journal is not None:
            self._check_chain_identity()

    @property
    def address(self) -> str:
        return self.signer.address

    def __repr__(self) -> str:
        return f"TxSender({self.address}, chain {self.chain_id}, journal={self.journal!r})"

    def _check_chain_identity(self) -> None:
        """Refuse a journal that was used with another chain under the same chain id.

        A local node restarted from scratch keeps its chain id (and, with deterministic
        deployment addresses, even the contract addresses), so journaled intents would
        silently refer to transactions of a chain that no longer exists. The genesis block
        hash tells the two apart.
        """
        assert self.journal is not None
        genesis = Web3.to_hex(self.w3.eth.get_block(0)["hash"])
        key = f"chain/{self.chain_id}"
        known = self.journal.get(key)
        if known is None:
            self.journal.put(key, {"genesis": genesis})
        elif known.get("genesis") != genesis:
            raise JournalError(
                f"journal {self.journal.path} belongs to another chain with id {self.chain_id} (genesis "
                f"{known.get('genesis')}, the node's is {genesis}): the node was reset; use a fresh --journal"
            )

    # ------------------------------------------------------------------ public

    def send(
        self,
        tx: Mapping[str, Any],
        *,
        intent_id: str | None = None,
        kind: str = "call",
    ) -> TxRecord:
        """Send ``tx`` (``to``, ``data``, optional ``value``/``gas``) and wait for its receipt.

        Returns
        -------
        TxRecord
            On success; ``resumed`` tells whether it was found from an earlier attempt.

        Raises
        ------
        ContractRevertError
            The call reverts (at estimation, or on chain).
        NodeUnavailableError
            The node cannot be reached; a journaled intent stays open for a later resume.
        ReceiptTimeoutError
            No receipt in time; the intent stays ``sent``.
        TransactionError
            The node refused the transaction (e.g. insufficient funds).
        """
        if intent_id is not None and self.journal is None:
            raise ValueError("an intent_id needs a journal: idempotent sends require durable state")
        try:
            for _ in range(3):  # at most two rebuilds after a nonce taken by someone else
                if intent_id is not None:
                    assert self.journal is not None
                    existing = standing_intent(self.journal, intent_id)
                    if existing is not None:
                        resumed = self._resume(existing)
                        if resumed is not None:
                            return resumed
                try:
                    return self._send_new(tx, intent_id=intent_id, kind=kind)
                except _Rejected as exc:
                    if not exc.nonce_too_low:
                        raise TransactionError(f"the node refused the transaction: {exc}") from None
                    log.info("nonce taken by another transaction; rebuilding %s", intent_id or kind)
        except Web3RPCError as exc:
            # A read the send depends on (block, nonce, receipt) got a JSON-RPC error answer, not
            # a revert (those are decoded above): the node misbehaves. A journaled intent stays
            # open, so the same call resumes once the node answers again.
            url = str(getattr(self.w3.provider, "endpoint_uri", None) or "the node")
            raise NodeUnavailableError(url, f"JSON-RPC error: {_rpc_message(exc)}") from None
        raise TransactionError("the node kept reporting 'nonce too low'; is another client using this account?")

    def call(self, tx: Mapping[str, Any], block: int | str = "latest") -> bytes:
        """``eth_call`` from this account, reverts decoded into typed errors."""
        return bytes(call_decoded(self.w3.eth.call, {"from": self.address, **tx}, block))

    def resume(self, intent_id: str) -> TxRecord | None:
        """Drive one journaled intent to completion; None if it had to be dropped."""
        if self.journal is None:
            raise ValueError("resume needs a journal")
        intent = self.journal.intent(intent_id)
        if intent is None:
            raise JournalError(f"no intent {intent_id} in the journal {self.journal.path}")
        return self._resume(intent)

    def resume_pending(self) -> list[ResumeOutcome]:
        """Resume every open intent of this account on this chain (oldest first).

        Intents whose signed transaction can no longer be mined (nonce used) are sent again
        with the same call data under a fresh nonce, as a new attempt of the same intent.
        """
        if self.journal is None:
            raise ValueError("resume needs a journal")
        outcomes = []
        for intent in self.journal.open_intents(chain_id=self.chain_id, sender=self.address):
            try:
                result = self._resume(intent)
                if result is None:
                    fields = decode_raw_transaction(intent.raw_tx)
                    call = {"to": fields["to"], "data": fields["data"], "value": fields.get("value", 0)}
                    result = self.send(call, intent_id=intent.intent_id, kind=intent.kind)
                outcomes.append(ResumeOutcome(intent.intent_id, intent.kind, result, None))
            except (ContractRevertError, TransactionError, JournalError) as exc:
                outcomes.append(ResumeOutcome(intent.intent_id, intent.kind, None, exc))
        return outcomes

    def wait_for_receipt(self, tx_hash: str, *, timeout: float | None = None,
                         journaled: bool = True) -> Mapping[str, Any]:
        """Poll for the receipt of ``tx_hash`` with exponential back-off.

        ``journaled`` only words the :class:`ReceiptTimeoutError` (whether a resume can find it).
        """
        timeout = self.receipt_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        delay = self.poll_interval
        while True:
            receipt = self._receipt_or_none(tx_hash)
            if receipt is not None:
                return receipt
            if time.monotonic() >= deadline:
                raise ReceiptTimeoutError(tx_hash, timeout, journaled=journaled)
            self._sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, self.max_poll_interval)

    # ------------------------------------------------------------------ steps

    def _send_new(self, tx: Mapping[str, Any], *, intent_id: str | None, kind: str) -> TxRecord:
        built = self._build(tx)
        nonce = self.nonces.allocate()
        unused = True  # until the signed bytes may have reached the node
        try:
            built["nonce"] = nonce
            signed = self.signer.sign_transaction(built)
            tx_hash = Web3.to_hex(signed.hash)
            raw_tx = Web3.to_hex(signed.raw_transaction)
            if intent_id is not None:
                assert self.journal is not None
                try:
                    self.journal.record_prepared(
                        intent_id=intent_id, chain_id=self.chain_id, sender=self.address, kind=kind,
                        to=built.get("to"), nonce=nonce, tx_hash=tx_hash, raw_tx=raw_tx,
                    )
                except JournalError:
                    existing = self.journal.intent(intent_id)
                    if existing is None:
                        raise
                    # Another thread or process journaled this intent first: resume theirs.
                    self.nonces.settle(nonce, unused=True)
                    nonce = -1
                    resumed = self._resume(existing)
                    if resumed is None:
                        raise _Rejected("concurrent attempt was dropped", nonce_too_low=True) from None
                    return resumed
            unused = False
            try:
                self._broadcast(raw_tx, tx_hash)
            except _Rejected as exc:
                # Refused outright: the nonce is free again, unless it was refused as used.
                unused = not exc.nonce_too_low
                if intent_id is not None:
                    assert self.journal is not None
                    self.journal.update_intent(intent_id, status="dropped" if exc.nonce_too_low else "failed",
                                               error=str(exc))
                raise
            # Any other exception (node down, interrupted...): unknown whether the node got
            # it. A journaled intent stays open for a resume; the next nonce comes from the
            # node again.
        finally:
            if nonce >= 0:
                self.nonces.settle(nonce, unused=unused)
        if intent_id is not None:
            assert self.journal is not None
            self.journal.update_intent(intent_id, status="sent")
        receipt = self.wait_for_receipt(tx_hash, journaled=intent_id is not None)
        return self._finish(intent_id, tx_hash, receipt, kind=kind, resumed=False)

    def _resume(self, intent: Intent) -> TxRecord | None:
        assert self.journal is not None
        receipt = self._receipt_or_none(intent.tx_hash)
        if receipt is not None:
            return self._finish(intent.intent_id, intent.tx_hash, receipt, kind=intent.kind, resumed=True)
        mined_nonce = self.w3.eth.get_transaction_count(intent.sender, "latest")
        if mined_nonce > intent.nonce:
            # Its nonce is used by a mined transaction that is not this one (no receipt for
            # our hash), so these signed bytes can never be included.
            self.journal.update_intent(intent.intent_id, status="dropped",
                                       error=f"nonce {intent.nonce} used by another transaction")
            return None
        try:
            self._broadcast(intent.raw_tx, intent.tx_hash)
        except _Rejected as exc:
            receipt = self._receipt_or_none(intent.tx_hash)
            if receipt is not None:
                return self._finish(intent.intent_id, intent.tx_hash, receipt, kind=intent.kind, resumed=True)
            if exc.nonce_too_low:
                self.journal.update_intent(intent.intent_id, status="dropped", error=str(exc))
                return None
            self.journal.update_intent(intent.intent_id, status="failed", error=str(exc))
            raise TransactionError(f"the node refused journaled transaction {intent.tx_hash}: {exc}") from None
        if intent.status != "sent":
            self.journal.update_intent(intent.intent_id, status="sent")
        receipt = self.wait_for_receipt(intent.tx_hash)
        return self._finish(intent.intent_id, intent.tx_hash, receipt, kind=intent.kind, resumed=True)

    def _finish(self, intent_id: str | None, tx_hash: str, receipt: Mapping[str, Any], *, kind: str,
                resumed: bool) -> TxRecord:
        block = int(receipt["blockNumber"])
        if int(receipt["status"]) == 1:
            if intent_id is not None and self.journal is not None:
                current = self.journal.intent(intent_id)
                if current is not None and (current.status != "confirmed" or current.block_number != block):
                    self.journal.update_intent(intent_id, status="confirmed", block_number=block)
            return TxRecord(tx_hash, receipt, kind, self.address, intent_id, resumed)
        error = self._replay(tx_hash, receipt)
        if intent_id is not None and self.journal is not None:
            self.journal.update_intent(intent_id, status="reverted", block_number=block, error=str(error))
        raise error

    def _build(self, tx: Mapping[str, Any]) -> dict[str, Any]:
        try:
            data = HexBytes(tx.get("data", b""))
        except (TypeError, ValueError):
            raise InputError(f"transaction data must be bytes or a 0x-prefixed hex string, got {tx.get('data')!r:.60}") \
                from None
        if tx.get("to") and not Web3.is_address(tx["to"]):
            raise InputError(f"transaction recipient must be a 0x-prefixed 20-byte address, got {tx['to']!r}")
        built: dict[str, Any] = {
            "from": self.address,
            "data": data,
            "value": int(tx.get("value", 0)),
            "chainId": self.chain_id,
        }
        if tx.get("to"):
            built["to"] = Web3.to_checksum_address(tx["to"])
        latest = self.w3.eth.get_block("latest")
        if "gas" in tx:
            built["gas"] = int(tx["gas"])
        else:
            estimate_params = {k: v for k, v in built.items() if k != "chainId"}
            try:
                estimate = call_decoded(self.w3.eth.estimate_gas, estimate_params)
            except (ContractRevertError, NodeUnavailableError):
                raise
            except Exception as exc:
                raise TransactionError(f"gas estimation failed: {_rpc_message(exc)}") from None
            built["gas"] = min(int(estimate * self.gas_margin) + 1, int(latest["gasLimit"]))
        base_fee = latest.get("baseFeePerGas")
        if base_fee is not None:
            try:
                priority = int(self.w3.eth.max_priority_fee)
            except (Web3RPCError, ValueError):
                priority = 10**9
            built["maxPriorityFeePerGas"] = priority
            built["maxFeePerGas"] = 2 * int(base_fee) + priority
            built["type"] = 2
        else:
            built["gasPrice"] = int(self.w3.eth.gas_price)
        built.pop("from")
        return built

    def _broadcast(self, raw_tx: str, tx_hash: str) -> None:
        """Hand the signed bytes to the node; 'already known' counts as accepted."""
        try:
            self.w3.eth.send_raw_transaction(raw_tx)
        except NodeUnavailableError:
            raise
        except (Web3RPCError, ValueError) as exc:
            message = _rpc_message(exc)
            lowered = message.lower()
            if "already known" in lowered or "known transaction" in lowered or "already imported" in lowered:
                return
            if "nonce too low" in lowered or "nonce is too low" in lowered or "oldnonce" in lowered:
                if self._receipt_or_none(tx_hash) is not None:
                    return  # it was our own transaction, mined after a lost response
                raise _Rejected(message, nonce_too_low=True) from None
            raise _Rejected(message, nonce_too_low=False) from None

    def _receipt_or_none(self, tx_hash: str) -> Mapping[str, Any] | None:
        try:
            return self.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        except TransactionNotFound:
            return None

    def _replay(self, tx_hash: str, receipt: Mapping[str, Any]) -> ContractRevertError | TransactionError:
        """Recover the typed reason of a transaction that failed on chain.

        The call is replayed with ``eth_call`` on the state after its block (right for races
        such as two claims of one subtask in the same block), then before it.
        """
        tx = self.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
        call = {"from": tx["from"], "to": tx["to"], "data": tx["input"], "value": tx["value"], "gas": tx["gas"]}
        block = int(receipt["blockNumber"])
        for at in (block, block - 1):
            try:
                call_decoded(self.w3.eth.call, call, at)
            except ContractRevertError as revert:
                return revert
            except NodeUnavailableError:
                raise
            except Exception:  # noqa: BLE001 - only a decodable revert is of interest
                continue
        return TransactionError(
            f"transaction {tx_hash} failed on chain (gas used {receipt['gasUsed']} of {tx['gas']}) "
            "and replaying it gives no reason"
        )
