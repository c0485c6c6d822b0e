"""Negative controls of the privacy scan: a secret planted on a chain in any encoding is found.

Each case plants one encoding of a sample secret, made by an encoder independent of
:mod:`leak_encodings` (``eth_abi``, ``struct``, numpy, ``decimal``, ``base64``, ``json``,
web3's ``to_wei``), between other bytes at an odd offset, on a private Anvil: a fresh contract
whose runtime code carries the payload after its STOP is deployed, then called with the
payload; the call emits its input as an event and stores it word by word from slot 0. So the
secret is in the creation input, the code, the call's input, an event's data, the storage the
call wrote and the state at the head, and the scan must find it in every one of these places.
A chain that holds other values of the same shapes, but not the sample's, gives no finding.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import Any

import numpy as np
import pytest
from eth_abi import encode as abi_encode
from eth_abi.packed import encode_packed
from eth_utils import keccak
from web3 import Web3

from chain_scan import ANCHOR, Blob, Hit, Needle, Scanner, collect_chain, scan, words
from leak_encodings import (
    bytes_needles,
    fragment_needles,
    int_needles,
    needles_of,
    number_needles,
    plain_words,
    text_needles,
)

# ------------------------------------------------------------------------------ the sample

#: A position (metres): x positive, y negative (two's complement, ceil = trunc).
POINT = (1021.606378590209, -3981.5612138958677)
#: A number distinctive at every scale from 10^0 (a position in micrometres, say).
BIG = -98765432.10987654
#: A blinding value, a key, a plaintext.
R = 7223490175851364950
KEY = keccak(b"sample subtask key")
PLAINTEXT = json.dumps({"count": 3, "index": 1, "level": 2, "part": "noise inside your flat during the day",
                        "title": "Urban noise map #1"}, sort_keys=True, separators=(",", ":"))


def _sample_needles() -> list[Needle]:
    return (needles_of("point", POINT) + number_needles("big", BIG) + int_needles("r", R)
            + bytes_needles("key", KEY) + text_needles("plaintext", PLAINTEXT)
            + fragment_needles("plaintext", PLAINTEXT))


# ----------------------------------------------------------------- the encodings, planted

_DECIMAL_ROUNDING = {"round": ROUND_HALF_EVEN, "floor": ROUND_FLOOR, "trunc": ROUND_DOWN,
                     "ceil": ROUND_CEILING}
_x, _y = POINT


def _scaled(value: float, scale: int, mode: str) -> int:
    """value * 10**scale rounded, in decimal arithmetic from the shortest repr."""
    return int((Decimal(repr(value)) * 10**scale).quantize(Decimal(1), rounding=_DECIMAL_ROUNDING[mode]))


def _int256(value: int) -> bytes:
    return abi_encode(["int256"], [value])


def _b64(data: bytes, offset: int) -> bytes:
    """base64 of data starting ``offset`` bytes into the encoded string."""
    return base64.b64encode(b"\x7f" * offset + data + b"\x7f")


#: (case id, secret label, payload): one encoding each.
PLANTS: list[tuple[str, str, Callable[[], bytes]]] = []
PLANTS += [(f"x10^{k} {mode} int256", "big", lambda k=k, mode=mode: _int256(_scaled(BIG, k, mode)))
           for k in range(19) for mode in _DECIMAL_ROUNDING]
PLANTS += [(f"x10^{k} floor in float arithmetic", "point[y]",
            lambda k=k: _int256(int(np.floor(np.float64(_y) * 10.0**k)))) for k in (6, 9, 12, 15, 18)]
PLANTS += [
    ("int32 big-endian", "point[y]", lambda: struct.pack(">i", round(_y * 10**5))),
    ("int32 little-endian", "point[y]", lambda: struct.pack("<i", round(_y * 10**5))),
    ("uint32 little-endian", "point[x]", lambda: struct.pack("<I", round(_x * 10**6))),
    ("int64 big-endian (packed)", "point[y]", lambda: encode_packed(["int64"], [round(_y * 10**6)])),
    ("int64 little-endian", "point[y]", lambda: struct.pack("<q", round(_y * 10**6))),
    ("int128 big-endian", "point[y]", lambda: round(_y * 10**9).to_bytes(16, "big", signed=True)),
    ("int128 little-endian", "point[y]", lambda: round(_y * 10**9).to_bytes(16, "little", signed=True)),
    ("int256 little-endian", "point[y]", lambda: _int256(round(_y * 10**6))[::-1]),
    ("float32 big-endian", "point[x]", lambda: np.array([_x], ">f4").tobytes()),
    ("float32 little-endian", "point[y]", lambda: np.array([_y], "<f4").tobytes()),
    ("float64 big-endian", "point[y]", lambda: struct.pack(">d", _y)),
    ("float64 little-endian", "point[x]", lambda: np.array([_x], "<f8").tobytes()),
    ("float64 base64", "point[y]", lambda: _b64(struct.pack(">d", _y), 2)),
    ("decimal repr in JSON", "point[y]", lambda: json.dumps({"lat": _y}).encode()),
    ("decimal 2 places in JSON string", "point[x]", lambda: json.dumps({"x": f"{_x:.2f}"}).encode()),
    ("decimal 4 places truncated", "point[y]",
     lambda: str(Decimal(repr(_y)).quantize(Decimal("0.0001"), rounding=ROUND_DOWN)).encode()),
    ("decimal micrometres", "point[y]", lambda: str(round(_y * 1e6)).encode()),
    ("decimal wei (web3 to_wei)", "point[x]", lambda: str(Web3.to_wei(Decimal(repr(_x)), "ether")).encode()),
    ("decimal scientific", "point[x]", lambda: f"{_x:e}".encode()),
    ("decimal UTF-16 with BOM", "point[x]", lambda: json.dumps([_x]).encode("utf-16")),
    ("decimal UTF-16BE", "point[y]", lambda: repr(_y).encode("utf-16-be")),
    ("decimal base64", "point[x]", lambda: _b64(json.dumps({"x": _x}).encode(), 1)),
    ("float.hex", "point[y]", lambda: _y.hex().encode()),
    ("hex 0x lower", "point[x]", lambda: hex(round(_x * 10**6)).encode()),
    ("hex upper", "point[x]", lambda: f"{round(_x * 10**6):X}".encode()),
    ("hex 0X upper of a word", "point[y]",
     lambda: ("0X" + _int256(round(_y * 10**6)).hex().upper()).encode()),
    ("hex two's complement int64", "point[y]", lambda: f"{round(_y * 10**6) % 2**64:016x}".encode()),
    ("hex of -value", "point[y]", lambda: hex(round(_y * 10**6)).encode()),
    ("r uint256", "r", lambda: abi_encode(["uint256"], [R])),
    ("r uint64 little-endian", "r", lambda: struct.pack("<Q", R)),
    ("r decimal in JSON string", "r", lambda: json.dumps({"r": str(R)}).encode()),
    ("r hex (web3)", "r", lambda: Web3.to_hex(R).encode()),
    ("r x10^18", "r", lambda: abi_encode(["uint256"], [R * 10**18])),
    ("key raw", "key", lambda: KEY),
    ("key reversed", "key", lambda: KEY[::-1]),
    ("key hex 0x lower", "key", lambda: Web3.to_hex(KEY).encode()),
    ("key HEX", "key", lambda: KEY.hex().upper().encode()),
    ("key hex UTF-16 with BOM", "key", lambda: Web3.to_hex(KEY).encode("utf-16")),
    ("key decimal", "key", lambda: str(int.from_bytes(KEY, "big")).encode()),
    *[(f"key base64 at offset {i}", "key", lambda i=i: _b64(KEY, i)) for i in range(3)],
    ("plaintext UTF-8", "plaintext", lambda: PLAINTEXT.encode()),
    ("plaintext UTF-16 with BOM", "plaintext", lambda: PLAINTEXT.encode("utf-16")),
    ("plaintext UTF-16BE", "plaintext", lambda: PLAINTEXT.encode("utf-16-be")),
    ("plaintext hex", "plaintext", lambda: PLAINTEXT.encode().hex().encode()),
    ("plaintext base64", "plaintext", lambda: _b64(PLAINTEXT.encode(), 2)),
    ("plaintext reversed", "plaintext", lambda: PLAINTEXT.encode()[::-1]),
    ("plaintext 8-byte piece", "plaintext (fragment)", lambda: PLAINTEXT.encode()[41:49]),
    ("plaintext field in other JSON", "plaintext (fragment)",
     lambda: json.dumps({"note": json.loads(PLAINTEXT)["part"]}).encode()),
    ("plaintext piece UTF-16LE", "plaintext (fragment)", lambda: PLAINTEXT[20:30].encode("utf-16-le")),
    ("plaintext piece hex", "plaintext (fragment)", lambda: PLAINTEXT.encode()[50:60].hex().encode()),
    ("plaintext piece base64", "plaintext (fragment)", lambda: _b64(PLAINTEXT.encode()[33:45], 1)),
]

# Runtime code: LOG0 of the call data (CALLDATASIZE PUSH1 0 PUSH1 0 CALLDATACOPY CALLDATASIZE
# PUSH1 0 LOG0), then for i = 0, 32, ... < CALLDATASIZE: SSTORE(i / 32, CALLDATALOAD(i)); STOP.
_PLANT_RUNTIME = bytes.fromhex("366000600037366000a0" "60005b3681101560215780358160051c55602001600c565b00")
#: Filler around a payload: an odd offset, so that nothing is word-aligned.
_BEFORE, _AFTER = b"\xa5\x5a\xc3", b"\x3c\x99"


def _init_code(runtime: bytes) -> bytes:
    """Creation code returning ``runtime``: PUSH2 len PUSH1 14 PUSH1 0 CODECOPY PUSH2 len PUSH1 0 RETURN."""
    n = len(runtime).to_bytes(2, "big")
    return b"\x61" + n + bytes.fromhex("600e600039") + b"\x61" + n + bytes.fromhex("6000f3") + runtime


class _Chain:
    """A private Anvil and the sample's needles, indexed once."""

    def __init__(self, url: str) -> None:
        from crowdsense.chain.connection import connect

        self.w3 = connect(url, retries=1, backoff=0.05)
        self.sender = self.w3.eth.accounts[0]
        self.scanner = Scanner(_sample_needles())

    def send(self, tx: dict[str, Any]) -> Any:
        tx_hash = self.w3.eth.send_transaction({"from": self.sender, **tx})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        assert receipt["status"] == 1
        return receipt

    def plant(self, payload: bytes, *, filler: bool = True) -> tuple[str, list[Blob]]:
        """Deploy a plant contract carrying ``payload`` (between filler bytes) and call it with it:
        its address, and the blobs from the deployment on (the head state of that contract only)."""
        data = _BEFORE + payload + _AFTER if filler else payload
        first = int(self.w3.eth.block_number) + 1
        contract = self.send({"data": _init_code(_PLANT_RUNTIME + data)})["contractAddress"]
        self.send({"to": contract, "data": data})
        blobs = collect_chain(self.w3, from_block=first)
        return contract, [b for b in blobs if b.kind != "state" or b.to == contract]


@pytest.fixture(scope="module")
def chain(start_anvil: Any) -> Any:
    node = start_anvil()
    try:
        yield _Chain(node.url)
    finally:
        node.stop()


def _places(hits: list[Hit], label: str) -> set[str]:
    return {h.blob.kind for h in hits if h.needle.label == label}


@pytest.mark.parametrize("label, payload",
                         [pytest.param(label, make, id=case) for case, label, make in PLANTS])
def test_planted_encoding_is_found_everywhere_it_is(chain: _Chain, label: str,
                                                    payload: Callable[[], bytes]) -> None:
    contract, blobs = chain.plant(payload())
    hits = chain.scanner.scan(blobs)
    everywhere = {"calldata", "code", "logdata", "storage", "state"}
    assert _places(hits, label) == everywhere, [str(h) for h in hits[:5]]
    assert all(h.blob.to in (contract, None) for h in hits)


def _plain_hits(blobs: list[Blob]) -> set[tuple[str, int]]:
    """(place kind, value) of each word that is a plain scaled integer of the sample point."""
    plain = {w: n for v in POINT for w, n in plain_words(v).items() if abs(n) >= 2**16}
    return {(b.kind, plain[w]) for b in blobs if b.kind != "code" for w in words(b) if w in plain}


def test_plain_value_planted_as_a_word_is_found_word_by_word(chain: _Chain) -> None:
    """A centimetre coordinate as an ABI word has no raw needle; the word check finds it.

    The word is planted twice, 4 bytes apart, so that it is word-aligned both in the call's
    arguments (after the selector) and in the event and the storage (from byte 0)."""
    centimetres = round(_y * 100)
    word = abi_encode(["int64"], [centimetres])
    assert not any(n.data in word for n in needles_of("p", POINT))
    _, blobs = chain.plant(word + b"\x7f" * 4 + word, filler=False)
    found = {kind for kind, n in _plain_hits(blobs) if n == centimetres}
    assert found == {"calldata", "logdata", "storage", "state"}


def test_chain_without_the_plant_gives_no_finding(start_anvil: Any) -> None:
    """No false alarm: a chain holding other values of the same shapes, in the same places,
    gives no finding for the sample, and finds those other values with their own needles."""
    node = start_anvil()
    try:
        chain = _Chain(node.url)
        other_point, other_key = (1520.4031, -2875.1177), keccak(b"another key")
        other_text = "PM2.5 at the entrance of a workplace"
        decoy = (b"".join(_int256(round(v * 10**6)) for v in other_point) + struct.pack("<d", other_point[0])
                 + json.dumps({"x": other_point[0], "r": R + 1}).encode() + other_key
                 + base64.b64encode(other_key) + other_text.encode("utf-16-le"))
        chain.plant(decoy)
        blobs = collect_chain(chain.w3, from_block=0)
        assert {b.kind for b in blobs} == {"calldata", "code", "logdata", "storage", "state"}
        hits = chain.scanner.scan(blobs)
        assert hits == [] and _plain_hits(blobs) == set(), [str(h) for h in hits[:5]]
        decoy_needles = needles_of("other", other_point) + bytes_needles("other key", other_key)
        assert {h.needle.label for h in scan(blobs, decoy_needles)} == {"other[x]", "other[y]", "other key"}
    finally:
        node.stop()


# --------------------------------------------------------------------------- the scanner alone


def _blob(data: bytes, kind: str = "calldata") -> Blob:
    return Blob(kind, 1, "0x01", "0xSender", "0xTo", data[:4].hex(), True, data)


def test_scanner_finds_every_occurrence_and_honours_the_allow_rule() -> None:
    secret = b"\x12\x34\x56\x78\x9a"
    data = b"\x00" * 5 + secret + secret[:3] + secret + b"\xff"
    free = Needle("s", "raw", secret)
    allowed = Needle("s", "raw", secret, allowed=lambda b: b.kind == "logdata")
    assert [h.offset for h in scan([_blob(data)], [free])] == [5, 13]
    assert scan([_blob(data, "logdata")], [allowed]) == [] and len(scan([_blob(data)], [allowed])) == 2


def test_scanner_finds_a_needle_whose_only_distinctive_bytes_are_late() -> None:
    """The index window is the needle's most distinctive one, not its first bytes."""
    needle = Needle("w", "word", bytes(28) + b"\x0a\x0b\x0c\x0d")
    assert [h.offset for h in scan([_blob(b"\x01" * 3 + needle.data)], [needle])] == [3]


def test_scanner_refuses_needles_shorter_than_its_window() -> None:
    with pytest.raises(ValueError, match=f"at least {ANCHOR} bytes"):
        Scanner([Needle("n", "short", b"\x01\x02")])


def test_plain_values_are_left_to_semantic_checks() -> None:
    """A metre-rounded coordinate or a grid point has no raw needle (its bytes would match ABI
    offsets, lengths and counters): tests check those word by word. Finer scales have."""
    for needles in (needles_of("p", POINT), int_needles("grid point", 17)):
        assert needles and not any(n.encoding.startswith("integer") for n in needles)
    assert any(n.encoding.startswith("x10^6 (round) big-endian") for n in needles_of("p", POINT))
