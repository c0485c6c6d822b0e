"""JSON messages of Protocol 2, so the platform and each receiver can run in separate processes.

Every message is a JSON object with a ``type``, a ``version`` and exactly the fields listed
below; parsing is strict (unknown, missing or duplicate fields, floats, NaN, wrong types,
numbers out of range: :class:`~crowdsense.ldpf.pdc.errors.MessageError` naming the field). Big
integers are decimal strings; ciphertexts are ``{"ciphertext": "<decimal>", "exponent": 0}``,
the layout of ``phe``'s own JSON examples, so a ``phe`` user can load them as
``EncryptedNumber(public_key, int(ciphertext), exponent)`` (PDC plaintexts are integers, so the
exponent is always 0). Nothing is ever pickled.

Flow (``->`` platform to receiver, ``<-`` receiver to platform)::

    -> task        task_id, grid, public key n, Enc(E1(C)) (width + height ciphertexts)
    <- query       task_id, task_digest, receiver, commitment to r, Z = Enc(dist + r),
                   proof (the masked axis ciphertexts W_x, W_y with Z = W_x W_y, the Pedersen
                   commitments to their masks and the OR-proofs of crowdsense.ldpf.pdc.proofs;
                   null only for a platform that does not ask for proofs)
    -> decryption  task_id, receiver, commitment, s = dist + r, rho (proof: Z = (1 + s n) rho^n)
    <- reveal      task_id, receiver, commitment, r, salt, mask_opening (tau with
                   U + V = r G + tau H; null when the query carried no proof)
    <- encrypted-distance   (the Encode-1-only variant) task_id, task_digest, receiver, Enc(dist)

``task_digest`` is a keccak-256 hash of the task message's content (see
:meth:`TaskMessage.digest`); the platform checks it so a query computed on another version of
the task is refused, and it can be published (e.g. on chain) so receivers can check they all
got the same task ciphertexts.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any, Callable, ClassVar

from gmpy2 import mpz
from phe import paillier

from crowdsense.commitments import keccak256
from crowdsense.ldpf.pdc.encoding import Grid
from crowdsense.ldpf.pdc.errors import GridError, MessageError
from crowdsense.ldpf.pdc.proofs import QueryProof

__all__ = [
    "MESSAGE_VERSION",
    "MAX_MESSAGE_CHARS",
    "TaskMessage",
    "QueryMessage",
    "DecryptionMessage",
    "RevealMessage",
    "EncryptedDistanceMessage",
    "Message",
    "parse_message",
]

MESSAGE_VERSION = 2
#: Longest JSON text accepted (a 3072-bit key and a 1000 x 1000 grid need about 4 MB).
MAX_MESSAGE_CHARS = 64 * 1024 * 1024
#: Longest decimal accepted: an 8192-bit key's ciphertexts are below 2**16384 (4933 digits).
_MAX_DIGITS = 5000
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_HEX32 = re.compile(r"0x[0-9a-fA-F]{64}")
_IDENT = re.compile(r"[A-Za-z0-9._:/-]{1,128}")


# --------------------------------------------------------------------------- parsing helpers


def _reject_constant(name: str) -> Any:
    raise MessageError(f"JSON constant {name} is not allowed in a message")


def _reject_float(text: str) -> Any:
    raise MessageError(f"JSON number {text} is not allowed: integers are decimal strings or ints")


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise MessageError(f"duplicate field {key!r} in message")
        out[key] = value
    return out


def _loads(text: str | bytes) -> Any:
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MessageError(f"message is not UTF-8: {exc}") from exc
    if not isinstance(text, str):
        raise MessageError(f"message must be JSON text (str or bytes), got {type(text).__name__}")
    if len(text) > MAX_MESSAGE_CHARS:
        raise MessageError(f"message has {len(text)} characters, more than the limit {MAX_MESSAGE_CHARS}")
    try:
        return json.loads(
            text,
            object_pairs_hook=_unique_pairs,
            parse_constant=_reject_constant,
            parse_float=_reject_float,
        )
    except json.JSONDecodeError as exc:
        raise MessageError(f"message is not valid JSON: {exc}") from exc


def _fields(obj: Any, expected: tuple[str, ...], where: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise MessageError(f"{where} must be a JSON object, got {type(obj).__name__}")
    missing = [k for k in expected if k not in obj]
    extra = sorted(set(obj) - set(expected))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing field(s) {', '.join(missing)}")
        if extra:
            parts.append(f"unexpected field(s) {', '.join(extra)}")
        raise MessageError(f"{where}: {'; '.join(parts)}")
    return obj


def _ident(value: Any, name: str) -> str:
    if not isinstance(value, str) or not _IDENT.fullmatch(value):
        raise MessageError(f"{name} must be 1..128 characters of [A-Za-z0-9._:/-], got {value!r}")
    return value


def _plain_int(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise MessageError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    return value


def _decimal(value: Any, name: str) -> int:
    if not isinstance(value, str) or len(value) > _MAX_DIGITS or not _DECIMAL.fullmatch(value):
        shown = value if not isinstance(value, str) or len(value) < 40 else value[:37] + "..."
        raise MessageError(
            f"{name} must be a non-negative decimal string without leading zeros "
            f"(at most {_MAX_DIGITS} digits), got {shown!r}"
        )
    return int(mpz(value))


def _hex32(value: Any, name: str) -> bytes:
    if not isinstance(value, str) or not _HEX32.fullmatch(value):
        raise MessageError(f"{name} must be 0x followed by 64 hex digits (32 bytes), got {value!r}")
    return bytes.fromhex(value[2:])


def _ciphertext(value: Any, name: str) -> int:
    obj = _fields(value, ("ciphertext", "exponent"), name)
    _plain_int(obj["exponent"], f"{name}.exponent", 0, 0)  # integer plaintexts only
    return _decimal(obj["ciphertext"], f"{name}.ciphertext")


def _ciphertexts(items: list[Any]) -> tuple[int, ...]:
    """Parse a list of ciphertext objects: one fast check per well-formed item (the common case,
    thousands per task message), the field-by-field path with its precise error otherwise."""
    out: list[int] = []
    match = _DECIMAL.fullmatch
    for i, item in enumerate(items):
        exponent = item.get("exponent") if type(item) is dict else None
        if type(exponent) is int and exponent == 0 and len(item) == 2:
            text = item.get("ciphertext")
            if type(text) is str and len(text) <= _MAX_DIGITS and match(text):
                out.append(int(mpz(text)))
                continue
        out.append(_ciphertext(item, f"ciphertexts[{i}]"))
    return tuple(out)


def _dump_ciphertext(c: int) -> dict[str, Any]:
    return {"ciphertext": mpz(c).digits(10), "exponent": 0}


def _header(obj: Any, cls: type[_Message]) -> dict[str, Any]:
    if isinstance(obj, dict) and obj.get("type") != cls.TYPE:
        raise MessageError(f"expected a {cls.TYPE!r} message, got type {obj.get('type')!r}")
    obj = _fields(obj, ("type", "version", *cls._FIELDS), f"{cls.TYPE} message")
    if obj["version"] != MESSAGE_VERSION or isinstance(obj["version"], bool):
        raise MessageError(
            f"unsupported {cls.TYPE} message version {obj['version']!r}; expected {MESSAGE_VERSION}"
        )
    return obj


def _check_bytes32(value: Any, name: str) -> None:
    if not isinstance(value, bytes) or len(value) != 32:
        raise MessageError(f"{name} must be 32 bytes")


def _check_nonneg(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MessageError(f"{name} must be a non-negative int, got {value!r}")


def _check_uint256(value: Any, name: str) -> None:
    _check_nonneg(value, name)
    if value >= 2**256:
        raise MessageError(f"{name} must fit in a uint256, got {value.bit_length()} bits")


@dataclass(frozen=True)
class _Field:
    """How one message field is checked on construction, written to JSON and read back."""

    check: Callable[[Any, str], Any]
    dump: Callable[[Any], Any]
    load: Callable[[Any, str], Any]


_IDENT_FIELD = _Field(_ident, lambda v: v, _ident)
_HASH_FIELD = _Field(_check_bytes32, lambda v: "0x" + v.hex(), _hex32)
_CIPHERTEXT_FIELD = _Field(_check_nonneg, _dump_ciphertext, _ciphertext)
_DECIMAL_FIELD = _Field(_check_nonneg, str, _decimal)
_UINT256_FIELD = _Field(_check_uint256, str, _decimal)


def _check_optional_uint256(value: Any, name: str) -> None:
    if value is not None:
        _check_uint256(value, name)


def _check_proof(value: Any, name: str) -> None:
    if value is not None and not isinstance(value, QueryProof):
        raise MessageError(f"{name} must be a QueryProof or None, got {type(value).__name__}")


_OPTIONAL_UINT256_FIELD = _Field(
    _check_optional_uint256,
    lambda v: None if v is None else str(v),
    lambda v, name: None if v is None else _decimal(v, name),
)
_PROOF_FIELD = _Field(
    _check_proof,
    lambda v: None if v is None else v.to_dict(),
    lambda v, name: None if v is None else QueryProof.from_dict(v),
)


# --------------------------------------------------------------------------------- messages


class _Message:
    """A message whose fields are each checked, written and read by a :class:`_Field`.

    A subclass lists its fields in ``_SCHEMA`` (JSON order); a message with structured
    fields (:class:`TaskMessage`) overrides the three steps instead.
    """

    TYPE: ClassVar[str]
    _SCHEMA: ClassVar[dict[str, _Field]] = {}
    _FIELDS: ClassVar[tuple[str, ...]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls._SCHEMA:
            cls._FIELDS = tuple(cls._SCHEMA)

    def __post_init__(self) -> None:
        for name, spec in self._SCHEMA.items():
            spec.check(getattr(self, name), name)

    def _body(self) -> dict[str, Any]:
        return {name: spec.dump(getattr(self, name)) for name, spec in self._SCHEMA.items()}

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of this message (``type`` and ``version`` first)."""
        return {"type": self.TYPE, "version": MESSAGE_VERSION, **self._body()}

    def to_json(self) -> str:
        """Compact JSON text of :meth:`to_dict`."""
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> Any:
        """Parse and validate a message of this type from JSON text."""
        return cls.from_dict(_loads(text))

    @classmethod
    def from_dict(cls, obj: Any) -> Any:
        """Validate a parsed JSON object of this type and build the message."""
        obj = _header(obj, cls)
        return cls(**{name: spec.load(obj[name], name) for name, spec in cls._SCHEMA.items()})


@dataclass(frozen=True)
class TaskMessage(_Message):
    """Platform -> receivers, once per task: the encrypted Encode 1 of the task centre C.

    ``ciphertexts[i] = Enc(E1(C)_i)``: first the ``width`` x-axis bits, then the ``height``
    y-axis bits. Encode 2 is not sent: receivers derive it as ``Enc(1) / Enc(E1(C)_i)``.
    """

    task_id: str
    grid: Grid
    public_key_n: int
    ciphertexts: tuple[int, ...]

    TYPE: ClassVar[str] = "ldpf-pdc/task"
    _FIELDS: ClassVar[tuple[str, ...]] = ("task_id", "grid", "public_key", "encoding", "ciphertexts")

    def __post_init__(self) -> None:
        _ident(self.task_id, "task_id")
        if not isinstance(self.grid, Grid):
            raise MessageError(f"grid must be a Grid, got {type(self.grid).__name__}")
        n = self.public_key_n
        if isinstance(n, bool) or not isinstance(n, int) or n < 15 or n % 2 == 0:
            raise MessageError(f"public_key.n must be an odd integer > 15, got {n!r}")
        if len(self.ciphertexts) != self.grid.code_length:
            raise MessageError(
                f"expected {self.grid.code_length} ciphertexts "
                f"(grid {self.grid.width} x {self.grid.height}), got {len(self.ciphertexts)}"
            )
        n2 = n * n
        for i, c in enumerate(self.ciphertexts):
            if isinstance(c, bool) or not isinstance(c, int) or not 0 < c < n2:
                raise MessageError(f"ciphertexts[{i}] must be an integer in (0, n^2)")

    def _body(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "grid": {"width": self.grid.width, "height": self.grid.height},
            "public_key": {"n": str(self.public_key_n)},
            "encoding": "encode1",
            "ciphertexts": [_dump_ciphertext(c) for c in self.ciphertexts],
        }

    @classmethod
    def from_dict(cls, obj: Any) -> TaskMessage:
        obj = _header(obj, cls)
        grid_obj = _fields(obj["grid"], ("width", "height"), "grid")
        try:
            grid = Grid(
                _plain_int(grid_obj["width"], "grid.width", 1, 10**9),
                _plain_int(grid_obj["height"], "grid.height", 1, 10**9),
            )
        except GridError as exc:
            raise MessageError(f"grid: {exc}") from exc
        key = _fields(obj["public_key"], ("n",), "public_key")
        if obj["encoding"] != "encode1":
            raise MessageError(f"encoding must be 'encode1', got {obj['encoding']!r}")
        items = obj["ciphertexts"]
        if not isinstance(items, list):
            raise MessageError(f"ciphertexts must be a list, got {type(items).__name__}")
        if len(items) != grid.code_length:
            raise MessageError(
                f"expected {grid.code_length} ciphertexts (grid {grid.width} x {grid.height}), "
                f"got {len(items)}"
            )
        return cls(
            task_id=_ident(obj["task_id"], "task_id"),
            grid=grid,
            public_key_n=_decimal(key["n"], "public_key.n"),
            ciphertexts=_ciphertexts(items),
        )

    @property
    def public_key(self) -> paillier.PaillierPublicKey:
        """The ``phe`` public key the ciphertexts are under."""
        return paillier.PaillierPublicKey(self.public_key_n)

    def encrypted_numbers(self) -> list[paillier.EncryptedNumber]:
        """The ciphertexts as ``phe`` EncryptedNumbers (exponent 0)."""
        pk = self.public_key
        return [paillier.EncryptedNumber(pk, c, 0) for c in self.ciphertexts]

    @functools.cached_property
    def digest(self) -> bytes:
        """keccak-256 of the content: a domain tag, task_id, grid, n and every ciphertext.

        Fixed-width big-endian integers (``len(n)`` bytes for n, twice that for ciphertexts)
        make the encoding injective without going through decimal text.
        """
        width = (self.public_key_n.bit_length() + 7) // 8
        tid = self.task_id.encode()
        parts = [
            b"ldpf-pdc/task/v1\x00",
            len(tid).to_bytes(2, "big"),
            tid,
            self.grid.width.to_bytes(4, "big"),  # type: ignore[union-attr]
            self.grid.height.to_bytes(4, "big"),  # type: ignore[union-attr]
            width.to_bytes(4, "big"),
            self.public_key_n.to_bytes(width, "big"),
        ]
        parts.extend(c.to_bytes(2 * width, "big") for c in self.ciphertexts)
        return keccak256(b"".join(parts))


@dataclass(frozen=True)
class QueryMessage(_Message):
    """Receiver -> platform: ``Z = Enc(dist + r)``, the on-chain commitment to r and the proof
    that Z was formed from the task ciphertexts (see :mod:`crowdsense.ldpf.pdc.proofs`)."""

    task_id: str
    task_digest: bytes
    receiver: str
    commitment: bytes
    z: int
    proof: QueryProof | None = None

    TYPE: ClassVar[str] = "ldpf-pdc/query"
    _SCHEMA: ClassVar[dict[str, _Field]] = {
        "task_id": _IDENT_FIELD, "task_digest": _HASH_FIELD, "receiver": _IDENT_FIELD,
        "commitment": _HASH_FIELD, "z": _CIPHERTEXT_FIELD, "proof": _PROOF_FIELD,
    }


@dataclass(frozen=True)
class DecryptionMessage(_Message):
    """Platform -> receiver: ``s = Dec(Z)`` and ``rho`` with ``Z = (1 + s n) rho^n mod n^2``."""

    task_id: str
    receiver: str
    commitment: bytes
    plaintext: int
    randomness: int

    TYPE: ClassVar[str] = "ldpf-pdc/decryption"
    _SCHEMA: ClassVar[dict[str, _Field]] = {
        "task_id": _IDENT_FIELD, "receiver": _IDENT_FIELD, "commitment": _HASH_FIELD,
        "plaintext": _DECIMAL_FIELD, "randomness": _DECIMAL_FIELD,
    }


@dataclass(frozen=True)
class RevealMessage(_Message):
    """Receiver -> platform: the opening ``(r, salt)`` of the commitment, sent after learning dist,
    and ``mask_opening`` (tau), which shows r is the constant term of the proven Z."""

    task_id: str
    receiver: str
    commitment: bytes
    r: int
    salt: bytes
    mask_opening: int | None = None

    TYPE: ClassVar[str] = "ldpf-pdc/reveal"
    _SCHEMA: ClassVar[dict[str, _Field]] = {
        "task_id": _IDENT_FIELD, "receiver": _IDENT_FIELD, "commitment": _HASH_FIELD,
        "r": _UINT256_FIELD, "salt": _HASH_FIELD, "mask_opening": _OPTIONAL_UINT256_FIELD,
    }


@dataclass(frozen=True)
class EncryptedDistanceMessage(_Message):
    """Receiver -> platform in the Encode-1-only variant: ``Enc(dist)``, no blinding, no commitment."""

    task_id: str
    task_digest: bytes
    receiver: str
    z: int

    TYPE: ClassVar[str] = "ldpf-pdc/encrypted-distance"
    _SCHEMA: ClassVar[dict[str, _Field]] = {
        "task_id": _IDENT_FIELD, "task_digest": _HASH_FIELD, "receiver": _IDENT_FIELD, "z": _CIPHERTEXT_FIELD,
    }


Message = TaskMessage | QueryMessage | DecryptionMessage | RevealMessage | EncryptedDistanceMessage
_BY_TYPE: dict[str, type[_Message]] = {
    cls.TYPE: cls
    for cls in (TaskMessage, QueryMessage, DecryptionMessage, RevealMessage, EncryptedDistanceMessage)
}


def parse_message(text: str | bytes) -> Message:
    """Parse any PDC message, dispatching on its ``type`` field."""
    obj = _loads(text)
    if not isinstance(obj, dict):
        raise MessageError(f"a message must be a JSON object, got {type(obj).__name__}")
    kind = obj.get("type")
    if not isinstance(kind, str) or kind not in _BY_TYPE:
        raise MessageError(f"unknown message type {kind!r}; expected one of {', '.join(sorted(_BY_TYPE))}")
    return _BY_TYPE[kind].from_dict(obj)  # type: ignore[return-value]
