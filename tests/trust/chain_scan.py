"""Scan everything a chain stores for secret values: call data, code, events and contract storage.

A privacy audit asks one question of the chain: does any byte string it holds contain a value
that must stay off chain (or must not appear *yet*)? This module answers it without trusting
the code under test:

* :func:`collect_chain` reads, from block ``from_block`` to the head, the input of every
  transaction (creation code and constructor arguments included), every log's topics and data,
  and from each transaction's state diff (``debug_traceBlockByNumber`` with the
  ``prestateTracer`` in diff mode) the code of every contract it created and every storage slot
  it wrote, so that a value stored and later overwritten is seen too; then the storage of every
  account at the head (``anvil_dumpState``), which also holds what no transaction of the range
  wrote (system contracts, an earlier state). Each is a :class:`Blob` that knows where it comes
  from (block, transaction, sender, contract, selector or event topic, status). Storage slots
  with consecutive numbers are one blob, so that a long string or array written over several
  slots is searched as one.
* :class:`Needle` is one secret in one encoding (:mod:`leak_encodings` makes them);
  :class:`Scanner` finds every occurrence of many needles in one pass over each blob; a
  needle's ``allowed`` predicate exempts the places where the protocol publishes it on purpose
  (an r value in its own ``revealBlinding`` call at or after its reveal block, for example).

Short values (small integers: grid points, distances, metre-rounded coordinates) cannot be
searched for in raw bytes without false alarms (ABI offsets, lengths, task ids and levels are
small integers too); :func:`words` exposes the 32-byte words of a blob so that a test can
check them where every word is a value (the call data of ``commitBlinding`` /
``revealBlinding`` and the blinding events have no offset or length words).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from eth_utils import event_abi_to_log_topic, function_abi_to_4byte_selector, to_checksum_address

from crowdsense.chain.deployment import load_abi

__all__ = [
    "Blob",
    "Needle",
    "Hit",
    "Scanner",
    "collect_chain",
    "scan",
    "words",
    "function_selectors",
    "event_topics",
]

#: Bytes of the window a :class:`Scanner` indexes needles by (the shortest needle it takes).
ANCHOR = 4


def function_selectors(*contracts: str) -> dict[str, str]:
    """4-byte selector (8 hex digits) of every function of the contracts, by function name.

    Read from the compiled ABIs, so that a test names a function without restating its
    signature (the contracts overload no function name).
    """
    return {item["name"]: function_abi_to_4byte_selector(item).hex()
            for contract in contracts for item in load_abi(contract) if item.get("type") == "function"}


def event_topics(*contracts: str) -> dict[str, str]:
    """topic0 (64 hex digits) of every event of the contracts, by event name."""
    return {item["name"]: event_abi_to_log_topic(item).hex()
            for contract in contracts for item in load_abi(contract) if item.get("type") == "event"}


@dataclass(frozen=True)
class Blob:
    """One byte string stored on chain and where it is.

    ``kind`` is ``"calldata"`` (a transaction's input; ``to`` None for a creation), ``"code"``
    (runtime code of a created contract), ``"topic"`` or ``"logdata"`` (of one log),
    ``"storage"`` (slots a transaction wrote, their new values) or ``"state"`` (slots at the
    head, ``tx_hash`` empty). ``selector`` is the 4-byte selector of call data (hex; for code
    and storage, of the transaction's call) or a log's topic0 (hex); ``ok`` is the transaction's
    receipt status. ``position`` is the log index, the topic number or the first slot.
    """

    kind: str
    block: int
    tx_hash: str
    sender: str
    to: str | None
    selector: str
    ok: bool
    data: bytes
    position: int = 0

    @property
    def where(self) -> str:
        if self.kind == "state":
            return f"storage from slot {self.position:#x} of {self.to} at block {self.block}"
        what = {"calldata": "input", "code": "runtime code", "topic": f"topic {self.position}",
                "logdata": f"log {self.position} data",
                "storage": f"storage write from slot {self.position:#x}"}[self.kind]
        return f"{what} of tx {self.tx_hash} (block {self.block}, to {self.to}, selector 0x{self.selector})"


@dataclass(frozen=True)
class Needle:
    """One secret value in one encoding; ``allowed(blob)`` exempts places it may appear."""

    label: str
    encoding: str
    data: bytes
    allowed: Callable[[Blob], bool] | None = None


@dataclass(frozen=True)
class Hit:
    """An occurrence of a needle in a blob where it is not allowed."""

    needle: Needle
    blob: Blob
    offset: int

    def __str__(self) -> str:
        return f"{self.needle.label} ({self.needle.encoding}) at byte {self.offset} of {self.blob.where}"


# ------------------------------------------------------------------------------ collecting


def _hex(value: Any) -> str:
    return bytes(value).hex() if not isinstance(value, str) else value.removeprefix("0x")


def _rpc(w3: Any, method: str, params: list[Any]) -> Any:
    """A raw JSON-RPC call; a node without the method fails the scan rather than skip a place."""
    answer = w3.provider.make_request(method, params)
    if "result" not in answer:
        raise RuntimeError(f"{method} failed; the chain scan needs it (Anvil has it): "
                           f"{answer.get('error')!r}")
    return answer["result"]


def _slot_runs(slots: dict[str, str]) -> Iterator[tuple[int, bytes]]:
    """``(first slot, values)`` of each run of consecutive slot numbers, values concatenated."""
    ordered = sorted((int(k, 16), int(v, 16).to_bytes(32, "big")) for k, v in slots.items())
    run: list[bytes] = []
    first = previous = -2
    for slot, value in ordered:
        if slot != previous + 1 and run:
            yield first, b"".join(run)
            run = []
        if not run:
            first = slot
        run.append(value)
        previous = slot
    if run:
        yield first, b"".join(run)


def _state_diff_blobs(w3: Any, number: int, txs: dict[str, Any], receipts: dict[str, Any]) -> list[Blob]:
    """Code created and storage written by each transaction of a block (its state diff)."""
    blobs: list[Blob] = []
    traces = _rpc(w3, "debug_traceBlockByNumber",
                  [hex(number), {"tracer": "prestateTracer", "tracerConfig": {"diffMode": True}}])
    for trace in traces:
        h = _hex(trace["txHash"])
        tx, ok = txs[h], int(receipts[h]["status"]) == 1
        sender, selector = str(tx["from"]), bytes(tx["input"])[:4].hex()
        for address, account in trace["result"].get("post", {}).items():
            contract = to_checksum_address(address)
            code = bytes.fromhex(_hex(account.get("code", "")))
            if code:
                blobs.append(Blob("code", number, "0x" + h, sender, contract, selector, ok, code))
            for first, values in _slot_runs(account.get("storage", {})):
                blobs.append(Blob("storage", number, "0x" + h, sender, contract, selector, ok, values, first))
    return blobs


def _head_state_blobs(w3: Any, head: int) -> list[Blob]:
    """The storage of every account at the head (``anvil_dumpState``: gzip'd JSON, as hex)."""
    dump = bytes.fromhex(_hex(_rpc(w3, "anvil_dumpState", [])))
    state = json.loads(gzip.decompress(dump) if dump[:2] == b"\x1f\x8b" else dump)
    return [Blob("state", head, "", "", to_checksum_address(address), "", True, values, first)
            for address, account in state["accounts"].items()
            for first, values in _slot_runs(account.get("storage") or {})]


def collect_chain(w3: Any, *, from_block: int = 0, to_block: int | None = None) -> list[Blob]:
    """Every transaction input, log topic and data, created code and storage write in the range,
    then the storage at the head (see the module docstring)."""
    head = int(w3.eth.block_number) if to_block is None else to_block
    blobs: list[Blob] = []
    for number in range(from_block, head + 1):
        block = w3.eth.get_block(number, full_transactions=True)
        if not block["transactions"]:
            continue
        receipts = {_hex(r["transactionHash"]): r for r in w3.eth.get_block_receipts(number)}
        txs = {_hex(tx["hash"]): tx for tx in block["transactions"]}
        for h, tx in txs.items():
            receipt = receipts[h]
            data = bytes(tx["input"])
            sender = str(tx["from"])
            to = str(tx["to"]) if tx.get("to") else None
            ok = int(receipt["status"]) == 1
            blobs.append(Blob("calldata", number, "0x" + h, sender, to, data[:4].hex(), ok, data))
            for log in receipt["logs"]:
                topics = [bytes(t) for t in log["topics"]]
                topic0 = topics[0].hex() if topics else ""
                for i, t in enumerate(topics):
                    blobs.append(Blob("topic", number, "0x" + h, sender, str(log["address"]), topic0, ok,
                                      t, i))
                blobs.append(Blob("logdata", number, "0x" + h, sender, str(log["address"]), topic0, ok,
                                  bytes(log["data"]), int(log["logIndex"])))
        blobs += _state_diff_blobs(w3, number, txs, receipts)
    return blobs + _head_state_blobs(w3, head)


# -------------------------------------------------------------------------------- scanning


def _anchor(data: bytes) -> int:
    """Offset of the window the needle is indexed by: the first with four different bytes, none
    0x00 or 0xff (rare in chain data), else the most varied of the first eight (UTF-16 text has
    a zero byte in every window)."""
    best, best_score = 0, (-1, -1)
    for i in range(min(len(data) - ANCHOR + 1, 8)):
        window = data[i : i + ANCHOR]
        score = (len(window.translate(None, b"\x00\xff")), len(set(window)))
        if score == (ANCHOR, ANCHOR):
            return i
        best, best_score = (i, score) if score > best_score else (best, best_score)
    return best


class Scanner:
    """Many needles, indexed once by a window of :data:`ANCHOR` bytes, searched in one pass.

    Each position of a blob costs one dictionary look-up, whatever the number of needles, so
    hundreds of thousands of encodings scan a chain in seconds.
    """

    def __init__(self, needles: Iterable[Needle]) -> None:
        self.needles = [n for n in needles if n.data]
        short = [n for n in self.needles if len(n.data) < ANCHOR]
        if short:
            raise ValueError(f"needles must be at least {ANCHOR} bytes long, got {short[0]}")
        self._index: dict[bytes, list[tuple[int, Needle]]] = {}
        for needle in self.needles:
            at = _anchor(needle.data)
            self._index.setdefault(needle.data[at : at + ANCHOR], []).append((at, needle))

    def scan(self, blobs: Iterable[Blob]) -> list[Hit]:
        """Every occurrence of every needle in every blob, except where the needle is allowed."""
        index, hits = self._index, []
        for blob in blobs:
            data = blob.data
            for i in range(len(data) - ANCHOR + 1):
                candidates = index.get(data[i : i + ANCHOR])
                if candidates is None:
                    continue
                for at, needle in candidates:
                    start = i - at
                    if start >= 0 and data.startswith(needle.data, start) and (
                            needle.allowed is None or not needle.allowed(blob)):
                        hits.append(Hit(needle, blob, start))
        return hits


def scan(blobs: Iterable[Blob], needles: Iterable[Needle]) -> list[Hit]:
    """:meth:`Scanner.scan` of the needles, for a single use."""
    return Scanner(needles).scan(blobs)


def words(blob: Blob) -> Iterator[int]:
    """The blob's 32-byte words as unsigned ints (call data: after the selector)."""
    data = blob.data[4:] if blob.kind == "calldata" else blob.data
    for i in range(0, len(data) - len(data) % 32, 32):
        yield int.from_bytes(data[i : i + 32], "big")
