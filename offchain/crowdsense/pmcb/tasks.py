"""Task decomposition (PMCB) and the encryption of subtask descriptions.

Decomposition
-------------
A releaser describes a task by a title and its *parts*, each with a sensitivity. PMCB sorts
the parts by sensitivity and gives more sensitive parts higher levels, because higher levels
hold the more influential, better-trusted receivers (docs/design.md, section 4: "higher influence
= higher security level"). With ``m`` distinct sensitivity values ranked ``r = 0..m-1``
(dense ranking: equal sensitivities share a rank and so a level) and ``T`` levels:

.. math::

    \\mathrm{level}(r) = 1 + \\left\\lfloor \\frac{r (T-1)}{m-1} + \\frac12 \\right\\rfloor
    \\quad (m > 1), \\qquad \\mathrm{level} = T \\quad (m = 1).

So the least sensitive part always gets level 1 and the most sensitive level T, and the
ranks in between are spread evenly over the levels (``m = T`` gives levels 1..T, ``m = 2T``
gives two parts per level). A single-part task cannot be split, so it gets the most
protective level. A part may also carry an explicit ``level``, which wins.

Encryption scheme (see :mod:`crowdsense.pmcb.sealing` for the byte formats)
--------------------------------------------------------------------------
* Each subtask's plaintext is the canonical JSON ``{"v": 1, "title", "part", "level",
  "index", "count", "replyTo"}`` (``replyTo``: the releaser's encryption key, to which the
  claimant delivers its data); the title goes to every claimant, so sensitive content belongs
  in the parts.
* It is encrypted under a fresh random 32-byte key with AES-256-GCM, the associated data
  binding it to chain id, registry address, level and index.
* **The on-chain subtask hash is keccak256 of the ciphertext**, not of the plaintext: a hash
  of a plaintext would let anyone confirm a guessed description (descriptions are short and
  guessable), whereas the ciphertext hash reveals nothing, is unique per release (random key
  and nonce), and lets the claimant check that the blob it fetched is the one on chain.
* The ciphertext lives off chain in a content-addressed store keyed by that hash
  (:class:`~crowdsense.chain.store.SubtaskStore`).
* The subtask key is written (fsynced) to the releaser's journal before the release
  transaction is sent; after a claim, the releaser encrypts it to the encryption key the
  claim carries (ECIES over secp256k1, :mod:`crowdsense.ecies`), and puts the envelope
  in the store. A receiver that did not claim has no envelope, and the claimant's
  envelope does not open with any other key.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from eth_utils import keccak

from crowdsense import ecies
from crowdsense.pmcb.sealing import envelope_aad, subtask_aad
from crowdsense.errors import InputError
from crowdsense.jsonfile import read_json_file

__all__ = [
    "MAX_SUBTASKS",
    "TaskPart",
    "SubtaskPlan",
    "TaskPlan",
    "EncryptedSubtask",
    "sensitivity_levels",
    "decompose",
    "load_task_file",
    "subtask_plaintext",
    "encrypt_plan",
    "decrypt_subtask",
    "seal_key",
    "open_key",
]

#: ``TaskRegistry.MAX_SUBTASKS``.
MAX_SUBTASKS = 32
_PLAINTEXT_VERSION = 1


@dataclass(frozen=True)
class TaskPart:
    """One part of a task: its text, its sensitivity (larger = more sensitive), optional level."""

    text: str
    sensitivity: float
    level: int | None = None


@dataclass(frozen=True)
class SubtaskPlan:
    """A part with its level and its index in the task (the on-chain order)."""

    index: int
    level: int
    text: str
    sensitivity: float


@dataclass(frozen=True)
class TaskPlan:
    """A decomposed task, ready to encrypt and release."""

    title: str
    num_levels: int
    subtasks: tuple[SubtaskPlan, ...]

    @property
    def levels(self) -> list[int]:
        return [s.level for s in self.subtasks]

    @property
    def digest(self) -> str:
        """Hex keccak256 of the canonical JSON of the plan: the same plan, the same digest."""
        canonical = json.dumps(
            {"title": self.title, "T": self.num_levels,
             "subtasks": [[s.index, s.level, s.text, s.sensitivity] for s in self.subtasks]},
            sort_keys=True, separators=(",", ":"), ensure_ascii=False,
        )
        return keccak(text=canonical).hex()


@dataclass(frozen=True)
class EncryptedSubtask:
    """A subtask ready for release: its blob, the blob's hash, and the key (never shown)."""

    index: int
    level: int
    blob: bytes = field(repr=False)
    key: bytes = field(repr=False)

    @property
    def subtask_hash(self) -> bytes:
        return keccak(self.blob)


def sensitivity_levels(sensitivities: Sequence[float], *, num_levels: int) -> list[int]:
    """Levels 1..T for parts with the given sensitivities (formula in the module docstring).

    Examples
    --------
    >>> sensitivity_levels([0.1, 0.5, 0.9], num_levels=3)
    [1, 2, 3]
    >>> sensitivity_levels([3, 1, 2, 2], num_levels=3)   # dense ranks 2, 0, 1, 1
    [3, 1, 2, 2]
    """
    if isinstance(num_levels, bool) or not isinstance(num_levels, int) or not 2 <= num_levels <= 255:
        raise InputError(f"num_levels must be an int in [2, 255], got {num_levels!r}")
    values = [float(s) for s in sensitivities]
    if not values:
        raise InputError("a task needs at least one part, got none")
    if any(math.isnan(v) or math.isinf(v) for v in values):
        raise InputError(f"sensitivities must be finite numbers, got {list(sensitivities)!r}")
    distinct = sorted(set(values))
    m = len(distinct)
    if m == 1:
        return [num_levels] * len(values)
    rank = {v: r for r, v in enumerate(distinct)}
    return [1 + math.floor(rank[v] * (num_levels - 1) / (m - 1) + 0.5) for v in values]


def _as_part(item: Any, position: int) -> TaskPart:
    if isinstance(item, TaskPart):
        return item
    if isinstance(item, str):
        return TaskPart(text=item, sensitivity=float(position))
    if isinstance(item, Mapping):
        if "text" not in item:
            raise InputError(f"part {position} has no 'text'; got keys {sorted(item)}")
        level = item.get("level")
        if level is not None and (isinstance(level, bool) or not isinstance(level, int)):
            raise InputError(f"part {position}: level must be an int, got {level!r}")
        sensitivity = item.get("sensitivity", position)
        if isinstance(sensitivity, bool) or not isinstance(sensitivity, (int, float)) or not math.isfinite(sensitivity):
            raise InputError(f"part {position}: sensitivity must be a finite number, got {sensitivity!r}")
        return TaskPart(text=item["text"], sensitivity=float(sensitivity), level=level)
    raise InputError(f"part {position} must be a string or an object with 'text', got {type(item).__name__}")


def decompose(title: str, parts: Sequence[str | Mapping[str, Any] | TaskPart], *, num_levels: int) -> TaskPlan:
    """Split a task into subtasks with levels 1..T.

    Parameters
    ----------
    title : str
        Shown to every claimant (keep it non-sensitive).
    parts : sequence
        Strings (in order of increasing sensitivity), or objects ``{"text", "sensitivity",
        "level"?}``, or :class:`TaskPart`. 1..32 parts; the on-chain index is the position
        in this sequence.
    num_levels : int
        T of the registry.
    """
    if not isinstance(title, str) or not title.strip():
        raise InputError(f"a task needs a non-empty title, got {title!r}")
    if isinstance(parts, (str, bytes)) or not isinstance(parts, Sequence):
        raise InputError(f"parts must be a list, got {type(parts).__name__}")
    if not 1 <= len(parts) <= MAX_SUBTASKS:
        raise InputError(f"a task has 1..{MAX_SUBTASKS} parts, got {len(parts)}")
    items = [_as_part(p, i) for i, p in enumerate(parts)]
    for i, part in enumerate(items):
        if not isinstance(part.text, str) or not part.text.strip():
            raise InputError(f"part {i} has an empty text")
        if part.level is not None and not 1 <= part.level <= num_levels:
            raise InputError(f"part {i}: level {part.level} is outside 1..{num_levels}")
    derived = sensitivity_levels([p.sensitivity for p in items], num_levels=num_levels)
    subtasks = tuple(
        SubtaskPlan(index=i, level=p.level if p.level is not None else derived[i], text=p.text,
                    sensitivity=p.sensitivity)
        for i, p in enumerate(items)
    )
    return TaskPlan(title=title, num_levels=num_levels, subtasks=subtasks)


def load_task_file(path: str | Path) -> tuple[str, list[Any]]:
    """Read ``{"title" (or "description"): str, "parts": [...]}`` from a JSON file."""
    path = Path(path)
    raw = read_json_file(path, "task file")
    if not isinstance(raw, dict):
        raise InputError(f"task file {path} must hold a JSON object, got {type(raw).__name__}")
    title = raw.get("title", raw.get("description"))
    if title is None or "parts" not in raw:
        raise InputError(f"task file {path} needs 'title' (or 'description') and 'parts'; got keys {sorted(raw)}")
    if not isinstance(raw["parts"], list):
        raise InputError(f"task file {path}: 'parts' must be a list")
    return title, raw["parts"]


def subtask_plaintext(plan: TaskPlan, sub: SubtaskPlan, *, reply_to: bytes | None = None) -> bytes:
    """Canonical JSON bytes of one subtask's description; ``reply_to``: the releaser's
    encryption key, to which the claimant encrypts its data (``replyTo``, 0x-hex)."""
    fields: dict[str, Any] = {"v": _PLAINTEXT_VERSION, "title": plan.title, "part": sub.text, "level": sub.level,
                              "index": sub.index, "count": len(plan.subtasks)}
    if reply_to is not None:
        fields["replyTo"] = "0x" + bytes(reply_to).hex()
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def encrypt_plan(plan: TaskPlan, *, chain_id: int, registry: str,
                 reply_to: bytes | None = None) -> list[EncryptedSubtask]:
    """Encrypt every subtask under its own fresh key (keys from :mod:`secrets`); each names
    ``reply_to`` (the releaser's encryption key), if given."""
    if reply_to is not None and not ecies.is_encryption_key(bytes(reply_to)):
        raise InputError(f"reply_to must be a 32-byte encryption key, got {bytes(reply_to)!r}")
    out = []
    for sub in plan.subtasks:
        key = ecies.new_key()
        aad = subtask_aad(chain_id, registry, sub.level, sub.index)
        plaintext = subtask_plaintext(plan, sub, reply_to=reply_to)
        out.append(EncryptedSubtask(sub.index, sub.level, ecies.aead_encrypt(key, plaintext, aad=aad), key))
    return out


def decrypt_subtask(blob: bytes, key: bytes, *, chain_id: int, registry: str, level: int, index: int) -> dict[str, Any]:
    """Decrypt and parse a subtask blob; a wrong key or context is a DecryptionError."""
    plaintext = ecies.aead_decrypt(key, blob, aad=subtask_aad(chain_id, registry, level, index),
                                    what="subtask ciphertext")
    return json.loads(plaintext)


def seal_key(public_key: bytes, key: bytes, *, subtask_hash: bytes, claimant: str) -> bytes:
    """The key envelope: ``key`` encrypted to the claimant's encryption key (ECIES; 32-byte x-only or a full key)."""
    return ecies.ecies_encrypt(public_key, key, aad=envelope_aad(subtask_hash, claimant))


def open_key(signer: Any, envelope: bytes, *, subtask_hash: bytes, claimant: str) -> bytes:
    """Open a key envelope with the signer's private key (see :meth:`Signer.ecies_decrypt`)."""
    return signer.ecies_decrypt(envelope, aad=envelope_aad(subtask_hash, claimant))
