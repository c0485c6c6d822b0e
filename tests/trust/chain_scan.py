"""Scan everything a chain stores for secret values: call data, deployed code, event topics and data.

A privacy audit asks one question of the chain: does any byte string it holds contain a value
that must stay off chain (or must not appear *yet*)? This module answers it without trusting
the code under test:

* :func:`collect_chain` reads, from block ``from_block`` to the head, the input of every
  transaction (creation code and constructor arguments included), the runtime code of every
  contract created, and every log's topics and data, as :class:`Blob` records that know where
  they come from (block, transaction, sender, recipient, selector or event topic, status).
* :class:`Needle` is one secret in one encoding; the ``*_needles`` helpers produce the
  encodings a value could plausibly leak in: UTF-8 and hex text for descriptions; for
  coordinates the CTBC fixed-point integer (micrometres) as an ABI ``int256`` word and as a
  packed ``int64``, the IEEE float64 bytes in both byte orders, and decimal strings; for
  integers their 32-byte word, minimal big-endian bytes and decimal string.
* :func:`scan` finds every occurrence of every needle in every blob; a needle's ``allowed``
  predicate exempts the places where the protocol publishes it on purpose (an r value in its
  own ``revealBlinding`` call at or after its reveal block, for example).

Short values (small integers: grid points, distances, metre-rounded coordinates) cannot be
searched for in raw bytes without false alarms (ABI offsets, lengths, task ids and levels are
small integers too); :func:`words` exposes the 32-byte words of a blob so that a test can
check them where every word is a value (the call data of ``commitBlinding`` /
``revealBlinding`` and the blinding events have no offset or length words).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils import event_abi_to_log_topic, function_abi_to_4byte_selector

from crowdsense.chain.deployment import load_abi

__all__ = [
    "Blob",
    "Needle",
    "Hit",
    "collect_chain",
    "scan",
    "words",
    "function_selectors",
    "event_topics",
    "int_word",
    "distinctive",
    "text_needles",
    "bytes_needles",
    "int_needles",
    "coordinate_needles",
    "needles_of",
]


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
    (runtime code of a created contract), ``"topic"`` or ``"logdata"`` (of one log).
    ``selector`` is the 4-byte selector of call data (hex) or a log's topic0 (hex); ``ok`` is
    the transaction's receipt status.
    """

    kind: str
    block: int
    tx_hash: str
    sender: str
    to: str | None
    selector: str
    ok: bool
    data: bytes
    position: int = 0  # log index or topic number

    @property
    def where(self) -> str:
        what = {"calldata": "input", "code": "runtime code", "topic": f"topic {self.position}",
                "logdata": f"log {self.position} data"}[self.kind]
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


def _hex(value: Any) -> str:
    return bytes(value).hex() if not isinstance(value, str) else value.removeprefix("0x")


def collect_chain(w3: Any, *, from_block: int = 0, to_block: int | None = None) -> list[Blob]:
    """Every transaction input, created contract's code, log topic and log data in the range."""
    head = int(w3.eth.block_number) if to_block is None else to_block
    blobs: list[Blob] = []
    for number in range(from_block, head + 1):
        block = w3.eth.get_block(number, full_transactions=True)
        if not block["transactions"]:
            continue
        receipts = {_hex(r["transactionHash"]): r for r in w3.eth.get_block_receipts(number)}
        for tx in block["transactions"]:
            h = _hex(tx["hash"])
            receipt = receipts[h]
            data = bytes(tx["input"])
            sender = str(tx["from"])
            to = str(tx["to"]) if tx.get("to") else None
            ok = int(receipt["status"]) == 1
            blobs.append(Blob("calldata", number, "0x" + h, sender, to, data[:4].hex(), ok, data))
            created = receipt.get("contractAddress")
            if created:
                code = bytes(w3.eth.get_code(created, number))
                blobs.append(Blob("code", number, "0x" + h, sender, str(created), "", ok, code))
            for log in receipt["logs"]:
                topics = [bytes(t) for t in log["topics"]]
                topic0 = topics[0].hex() if topics else ""
                for i, t in enumerate(topics):
                    blobs.append(Blob("topic", number, "0x" + h, sender, str(log["address"]), topic0, ok, t, i))
                blobs.append(Blob("logdata", number, "0x" + h, sender, str(log["address"]), topic0, ok,
                                  bytes(log["data"]), int(log["logIndex"])))
    return blobs


def scan(blobs: Iterable[Blob], needles: Iterable[Needle]) -> list[Hit]:
    """Every occurrence of every needle in every blob, except where the needle is allowed."""
    needles = [n for n in needles if n.data]
    hits: list[Hit] = []
    for blob in blobs:
        for needle in needles:
            start = blob.data.find(needle.data)
            while start >= 0:
                if needle.allowed is None or not needle.allowed(blob):
                    hits.append(Hit(needle, blob, start))
                start = blob.data.find(needle.data, start + 1)
    return hits


def words(blob: Blob) -> Iterator[int]:
    """The blob's 32-byte words as unsigned ints (call data: after the selector)."""
    data = blob.data[4:] if blob.kind == "calldata" else blob.data
    for i in range(0, len(data) - len(data) % 32, 32):
        yield int.from_bytes(data[i : i + 32], "big")


# ------------------------------------------------------------------------------- encodings


def int_word(value: int) -> bytes:
    """``abi.encode(int256 value)`` (two's complement, 32 bytes); also right for uint256 >= 0."""
    return (value % 2**256).to_bytes(32, "big")


def distinctive(data: bytes, minimum: int = 4) -> bool:
    """Whether ``data`` has at least ``minimum`` bytes other than 0x00 and 0xff.

    A needle below that (a small integer's word) would match ABI offsets, lengths, counters
    and sign extensions: it is left to a semantic check instead of a raw search.
    """
    return sum(b not in (0, 255) for b in data) >= minimum


def _strings(*texts: str) -> list[str]:
    out: list[str] = []
    for t in texts:
        if len(t) >= 6 and t not in out:  # shorter digit strings collide with ordinary data
            out.append(t)
    return out


def text_needles(label: str, text: str, *, allowed: Callable[[Blob], bool] | None = None) -> list[Needle]:
    """A text as UTF-8 bytes and as the ASCII of its hex (lower and upper case)."""
    raw = text.encode()
    return [Needle(label, "utf-8", raw, allowed), Needle(label, "hex text", raw.hex().encode(), allowed),
            Needle(label, "HEX text", raw.hex().upper().encode(), allowed)]


def bytes_needles(label: str, value: bytes, *, allowed: Callable[[Blob], bool] | None = None) -> list[Needle]:
    """Raw bytes and their ASCII hex."""
    return [Needle(label, "raw bytes", bytes(value), allowed),
            Needle(label, "hex text", bytes(value).hex().encode(), allowed)]


def int_needles(label: str, value: int, *, allowed: Callable[[Blob], bool] | None = None,
                raw_only_if_distinctive: bool = True) -> list[Needle]:
    """An integer as an ABI word, as minimal big-endian bytes and as a decimal string.

    Encodings that are not :func:`distinctive` are dropped (see :func:`words` for those).
    """
    value = int(value)
    out = [Needle(label, "abi word", int_word(value), allowed)]
    if value >= 0:
        minimal = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
        out.append(Needle(label, "packed big-endian", minimal, allowed))
    out += [Needle(label, "decimal", s.encode(), allowed) for s in _strings(str(value))]
    if raw_only_if_distinctive:
        out = [n for n in out if n.encoding == "decimal" or distinctive(n.data)]
    return out


def coordinate_needles(label: str, value: float, *, scales: Sequence[int] = (10**6, 10**3, 10**2),
                       allowed: Callable[[Blob], bool] | None = None) -> list[Needle]:
    """A coordinate in every encoding it could plausibly leak in.

    * fixed-point integers ``round(value * scale)`` - micrometres (the CTBC UD encoding, first
      scale), millimetres and centimetres for metres - as an ABI ``int256`` word and as a
      packed ``int64``;
    * the IEEE-754 float64 bytes, big- and little-endian;
    * decimal strings: Python's shortest repr, 1, 3 and 6 decimals, and the micrometre integer.

    Encodings that are not :func:`distinctive` (a metre-rounded word, say) are dropped; a test
    checks those with :func:`words` where every word is a value.
    """
    value = float(value)
    if not math.isfinite(value):
        return []
    out = []
    for scale in scales:
        fixed = int(round(value * scale))
        out += [Needle(label, f"fixed-point x{scale} int256 word", int_word(fixed), allowed),
                Needle(label, f"fixed-point x{scale} packed int64", (fixed % 2**64).to_bytes(8, "big"), allowed)]
    out += [
        Needle(label, "float64 big-endian", struct.pack(">d", value), allowed),
        Needle(label, "float64 little-endian", struct.pack("<d", value), allowed),
    ]
    micro = int(round(value * scales[0]))
    out += [Needle(label, "decimal", s.encode(), allowed)
            for s in _strings(repr(value), f"{value:.1f}", f"{value:.3f}", f"{value:.6f}", str(micro))]
    return [n for n in out if n.encoding == "decimal" or distinctive(n.data)]


def needles_of(label: str, values: Sequence[float], **kwargs: Any) -> list[Needle]:
    """:func:`coordinate_needles` of each value of a point, labelled ``label[x]`` and ``label[y]``."""
    out: list[Needle] = []
    for axis, v in zip("xyz", values):
        out += coordinate_needles(f"{label}[{axis}]", v, **kwargs)
    return out
