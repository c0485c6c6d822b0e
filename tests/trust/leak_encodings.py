"""Every encoding a secret could leak in, as the byte strings a chain scan searches for.

A leak rarely looks like the value in the audit file: a coordinate in metres may reach the
chain as a micrometre ``int256``, a float32, a ``"x": 1021.61`` in some JSON, or the base64 of
any of these. Each function here turns one secret into :class:`chain_scan.Needle` records, one
per encoding, built from three layers:

* **values**: a number ``x`` is the integers ``f(x * 10**k)`` for every scale k = 0..18 and
  rounding f of round/floor/trunc/ceil (``x * 10**k`` taken in float arithmetic, exactly, and
  from the shortest decimal ``repr(x)``, the three ways code computes it), plus, for a float,
  its IEEE float32 and float64 bytes; bytes are themselves and reversed; text is its UTF-8.
* **forms** of an integer: its minimal two's-complement bytes big- and little-endian (a
  substring of its 4-, 8-, 16- and 32-byte words and of any packed width in between; a
  negative one also as its magnitude), its decimal and hex text (lower and upper case), and
  for a scale k > 0 the decimal text with the point (``1021.61``). A float adds its
  ``repr``, scientific mantissas and ``float.hex()``; bytes add their value as a decimal.
* **wrappers**: every binary form raw, as base64 and as hex text (lower and upper case);
  every text form as UTF-8, UTF-16 (both byte orders) and base64.

Substring search makes more wrappers unnecessary: bare hex digits are found with or without
``0x``, a magnitude's digits inside ``-`` or JSON, a minimal integer inside any wider word.
Base64 depends on where a value starts in the encoded string, so a base64 needle is the part
that depends on the value alone, at each of the three alignments.

A needle too plain to tell apart from ordinary chain data is dropped: a binary one with fewer
than :data:`MIN_BINARY` bytes other than 0x00 and 0xff (ABI offsets, lengths, counters and
sign extensions look like that), a text shorter than :data:`MIN_TEXT` characters or with
fewer than three different ones, a base64 piece shorter than :data:`MIN_BASE64`. Those values
(grid points, distances, metre-rounded coordinates) are left to semantic checks, word by word
(:func:`chain_scan.words`, :func:`plain_words`), where every word is a value.

:func:`fragment_needles` adds every window of at least :data:`FRAGMENT` bytes of a plaintext,
so that part of a subtask leaking (a quoted sentence, one JSON field) is found too.
"""

from __future__ import annotations

import base64
import math
import struct
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

from chain_scan import Blob, Needle

__all__ = [
    "MIN_BINARY",
    "MIN_TEXT",
    "MIN_BASE64",
    "FRAGMENT",
    "SCALES",
    "ROUNDINGS",
    "int_word",
    "distinctive",
    "number_needles",
    "plain_words",
    "int_needles",
    "coordinate_needles",
    "needles_of",
    "bytes_needles",
    "text_needles",
    "fragment_needles",
]

#: A binary needle needs this many bytes other than 0x00 and 0xff.
MIN_BINARY = 4
#: A text needle needs this many characters.
MIN_TEXT = 6
#: A base64 needle needs this many characters (6 bytes of the value).
MIN_BASE64 = 8
#: Plaintexts are also searched for every window of this many bytes.
FRAGMENT = 8
#: A number x is searched as the integers x * 10**k for these k.
SCALES = tuple(range(19))
#: ... under each of these roundings.
ROUNDINGS: dict[str, Callable[[Any], int]] = {"round": round, "floor": math.floor, "trunc": math.trunc,
                                              "ceil": math.ceil}

Allowed = Callable[[Blob], bool] | None
Forms = list[tuple[str, bytes]]


def int_word(value: int) -> bytes:
    """``abi.encode(int256 value)`` (two's complement, 32 bytes); also right for uint256 >= 0."""
    return (value % 2**256).to_bytes(32, "big")


def distinctive(data: bytes, minimum: int = MIN_BINARY) -> bool:
    """Whether ``data`` has at least ``minimum`` bytes other than 0x00 and 0xff."""
    return sum(b not in (0, 255) for b in data) >= minimum


# ----------------------------------------------------------------------------- wrappers


def _plain_text(text: str) -> bool:
    return len(text) < MIN_TEXT or len(set(text)) < 3


def _base64(name: str, data: bytes) -> Forms:
    """The base64 characters that depend on ``data`` alone, for each alignment it may start at.

    In a longer string, ``data`` starts at some offset mod 3; its first whole 3-byte group then
    starts at index 0, 1 or 2, and only whole groups encode to characters of their own.
    """
    out: Forms = []
    for start in range(3):
        whole = data[start : start + (len(data) - start) // 3 * 3]
        piece = base64.b64encode(whole)
        if len(piece) >= MIN_BASE64:
            out.append((f"{name}, base64 (from byte {start})", piece))
    return out


def _text(name: str, text: str) -> Forms:
    """A text form as UTF-8, UTF-16 in both byte orders and base64."""
    if _plain_text(text):
        return []
    raw = text.encode()
    return [(name, raw), (f"{name}, UTF-16LE", text.encode("utf-16-le")),
            (f"{name}, UTF-16BE", text.encode("utf-16-be")), *_base64(name, raw)]


def _binary(name: str, data: bytes) -> Forms:
    """A binary form raw, as base64 and as hex text (lower and upper case, each a text form)."""
    if not distinctive(data):
        return []
    return [(name, data), *_base64(name, data), *_text(f"{name}, hex text", data.hex()),
            *_text(f"{name}, HEX text", data.hex().upper())]


def _needles(label: str, forms: Iterable[tuple[str, bytes]], allowed: Allowed) -> list[Needle]:
    """One needle per distinct byte string (the first encoding that produced it names it)."""
    seen: dict[bytes, str] = {}
    for encoding, data in forms:
        seen.setdefault(data, encoding)
    return [Needle(label, encoding, data, allowed) for data, encoding in seen.items()]


# ------------------------------------------------------------------------------- values


def _signed_bytes(value: int) -> bytes:
    """Minimal two's complement, big-endian (unsigned for value >= 0: a uint's bytes)."""
    if value >= 0:
        return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
    return value.to_bytes((value.bit_length() + 8) // 8, "big", signed=True)


def _int_forms(name: str, value: int) -> Forms:
    """An integer as bytes in both byte orders, and as decimal and hex text."""
    forms: Forms = []
    binary = [("", _signed_bytes(value))]
    if value < 0:  # sign and magnitude kept apart
        binary.append((", magnitude", _signed_bytes(-value)))
    for what, data in binary:
        forms += _binary(f"{name}{what} big-endian", data)
        forms += _binary(f"{name}{what} little-endian", data[::-1])
    magnitude = abs(value)
    forms += _text(f"{name} decimal", str(magnitude))
    forms += _text(f"{name} hex", f"{magnitude:x}") + _text(f"{name} HEX", f"{magnitude:X}")
    if value < 0:
        complement = _signed_bytes(value).hex()
        forms += _text(f"{name} two's complement hex", complement)
        forms += _text(f"{name} two's complement HEX", complement.upper())
    return forms


def _scaled(value: float | int, scale: int, rounding: Callable[[Any], int]) -> set[int]:
    """``rounding(value * 10**scale)`` computed in float arithmetic, exactly, and from repr."""
    if isinstance(value, int):
        return {value * 10**scale}
    return {int(rounding(value * 10**scale)), int(rounding(Fraction(value) * 10**scale)),
            int(rounding(Decimal(repr(value)) * 10**scale))}


def _point_text(value: int, scale: int) -> str:
    """The magnitude of ``value / 10**scale`` as decimal text with ``scale`` decimals."""
    whole, fraction = divmod(abs(value), 10**scale)
    return f"{whole}.{fraction:0{scale}d}"


def _float_forms(value: float) -> Forms:
    forms: Forms = []
    for bits, fmt in ((32, "f"), (64, "d")):
        try:
            big = struct.pack(f">{fmt}", value)
        except OverflowError:  # beyond float32
            continue
        forms += _binary(f"float{bits} big-endian", big) + _binary(f"float{bits} little-endian", big[::-1])
    magnitude = abs(value)
    forms += _text("repr", repr(magnitude)) + _text("float.hex", magnitude.hex())
    digits = len(repr(magnitude).replace(".", "").split("e")[0].lstrip("0"))
    for precision in sorted({6, max(digits - 1, 1)}):
        mantissa = f"{magnitude:.{precision}e}".split("e")[0]
        forms += _text(f"scientific mantissa, {precision} decimals", mantissa)
    return forms


def number_needles(label: str, value: float | int, *, allowed: Allowed = None) -> list[Needle]:
    """A number (a float or an int) in every encoding of the module docstring."""
    if isinstance(value, float) and not math.isfinite(value):
        return []
    forms: Forms = []
    seen: set[int] = set()
    for scale in SCALES:
        for mode, rounding in ROUNDINGS.items():
            for n in sorted(_scaled(value, scale, rounding) - seen):
                seen.add(n)
                name = f"x10^{scale} ({mode})" if scale else "integer"
                forms += _int_forms(name, n)
                if scale:
                    forms += _text(f"{name} decimal with point", _point_text(n, scale))
    if isinstance(value, float):
        forms += _float_forms(value)
    return _needles(label, forms, allowed)


def plain_words(value: float | int) -> dict[int, int]:
    """The scaled integers of a number too plain for a raw needle, by their 32-byte word.

    ``{n mod 2**256: n}`` for every ``n = f(value * 10**k)`` of :func:`number_needles` whose
    bytes are not :func:`distinctive`: a test looks for those words where every word is a
    value (:func:`chain_scan.words`), choosing by ``n`` how small a value it can tell apart
    from ABI offsets, lengths and counters there.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return {}
    ints = {n for k in SCALES for f in ROUNDINGS.values() for n in _scaled(value, k, f)}
    return {n % 2**256: n for n in ints if not distinctive(_signed_bytes(n))}


def int_needles(label: str, value: int, *, allowed: Allowed = None) -> list[Needle]:
    """An integer secret (r, s, a fixed-point value) in every encoding: see :func:`number_needles`."""
    return number_needles(label, int(value), allowed=allowed)


def coordinate_needles(label: str, value: float, *, allowed: Allowed = None) -> list[Needle]:
    """A coordinate (metres) or another real parameter in every encoding: :func:`number_needles`."""
    return number_needles(label, float(value), allowed=allowed)


def needles_of(label: str, values: Sequence[float], *, allowed: Allowed = None) -> list[Needle]:
    """:func:`coordinate_needles` of each value of a point, labelled ``label[x]`` and ``label[y]``."""
    out: list[Needle] = []
    for axis, v in zip("xyz", values):
        out += coordinate_needles(f"{label}[{axis}]", v, allowed=allowed)
    return out


def bytes_needles(label: str, value: bytes, *, allowed: Allowed = None) -> list[Needle]:
    """Bytes (a key, a salt, an opening) raw and reversed, with their wrappers, and as a decimal."""
    value = bytes(value)
    forms = _binary("raw bytes", value) + _binary("reversed bytes", value[::-1])
    forms += _text("big-endian value, decimal", str(int.from_bytes(value, "big")))
    return _needles(label, forms, allowed)


def text_needles(label: str, text: str, *, allowed: Allowed = None) -> list[Needle]:
    """A text as UTF-8 (raw, reversed, hex text, base64) and UTF-16."""
    raw = text.encode()
    forms = _binary("UTF-8", raw) + _text("text", text) + _binary("reversed UTF-8", raw[::-1])
    return _needles(label, forms, allowed)


def fragment_needles(label: str, text: str, *, size: int = FRAGMENT, allowed: Allowed = None) -> list[Needle]:
    """Every ``size``-byte window of a text's UTF-8, in the text encodings and as hex text.

    A longer piece contains a window, so this finds any leaked substring of at least ``size``
    bytes. Windows of whitespace or repeated characters are left out (:data:`MIN_TEXT` rule).
    """
    raw = text.encode()
    forms: Forms = []
    for start in range(len(raw) - size + 1):
        window = raw[start : start + size]
        name = f"bytes {start}..{start + size}"
        try:
            forms += _text(name, window.decode())
        except UnicodeDecodeError:  # cuts a character: raw bytes only
            if not _plain_text(window.decode(errors="replace")):
                forms += [(name, window), *_base64(name, window)]
        forms += _text(f"{name}, hex text", window.hex()) + _text(f"{name}, HEX text", window.hex().upper())
    return _needles(f"{label} (fragment)", forms, allowed)
