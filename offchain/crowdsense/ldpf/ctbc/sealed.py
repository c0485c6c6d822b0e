"""CTBC uploads sealed to the platform: the opening on chain shows no location.

A CTBC user commits to its UD (its k-anonymity group centre, transformed) and, when selected,
opens the commitment on chain. The epoch's transform parameters are known to every user of the
epoch and to the platform, so a UD published in the clear would be inverted to the real group
centre by any of them, and linked to the opener's address, forever. So the user commits to
its UD *sealed to the platform*::

    sealed = ECIES(platform's encryption key, UD, AAD)        (crowdsense.ecies)
    AAD    = "crowdsense/ctbc-ud/v1" || len(committer) (2) || committer (lower-case) || epoch (8)
    c      = keccak256(r1 || r2 || sealed)                     (the bit commitment, unchanged)

The chain verifies the opening of ``sealed`` (bytes it cannot read); only the platform decrypts
it, and checks that it is the UD it matched on. A chain observer, other users and the edge see
an ECIES ciphertext: 190 bytes of a fresh ephemeral key, nonce, ciphertext and tag.

The AAD binds the sealed UD to its committer and epoch: a copier who records someone else's
commitment under its own address (the verifier keys records by committer, so it can) and
replays the opening after the victim's reveal presents a blob that does not decrypt under the
copier's address, so it cannot pass off the victim's location as its own; an old sealed UD does
not decrypt in another epoch.

The platform's key is any object with ``encryption_key`` (32-byte x-only secp256k1 key) and
``ecies_decrypt(blob, *, aad)``: an account's :class:`~crowdsense.chain.accounts.Signer`, or a
:class:`PlatformKey` held in memory.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol, runtime_checkable

from crowdsense.ecies import (
    ecies_decrypt,
    ecies_encrypt,
    encryption_key_of,
    encryption_secret,
    is_encryption_key,
    new_key,
)
from crowdsense.errors import DecryptionError, InputError
from crowdsense.ldpf.ctbc.payload import PAYLOAD_SIZE, decode_ud

__all__ = ["SEALED_SIZE", "PlatformKey", "UDOpener", "ud_aad", "seal_ud", "open_ud", "write_platform_key",
           "read_platform_key"]

#: Bytes of a sealed UD: version, ephemeral key, nonce, the 128-byte UD and the GCM tag.
SEALED_SIZE = 1 + 33 + 12 + PAYLOAD_SIZE + 16

_DOMAIN = b"crowdsense/ctbc-ud/v1"


@runtime_checkable
class UDOpener(Protocol):
    """The platform's side of the sealing: its public key and its decryption."""

    @property
    def encryption_key(self) -> bytes: ...

    def ecies_decrypt(self, envelope: bytes, *, aad: bytes) -> bytes: ...


class PlatformKey:
    """A platform encryption key held in memory (a simulated round's own key, or a test's).

    ``PlatformKey(seed)`` derives the key from a 32-byte seed exactly as an account's
    :class:`~crowdsense.chain.accounts.Signer` derives its encryption key from the account key
    (:func:`crowdsense.ecies.encryption_secret`), so the platform's Signer and
    ``PlatformKey(account_key)`` are the same key. :meth:`generate` draws a fresh seed.
    """

    def __init__(self, seed: bytes) -> None:
        if not isinstance(seed, (bytes, bytearray)) or len(seed) != 32:
            raise InputError("a platform key seed must be 32 bytes: an account key or random bytes")
        self._secret = encryption_secret(bytes(seed))
        self._key = encryption_key_of(self._secret)

    @classmethod
    def generate(cls) -> PlatformKey:
        """A fresh key from :mod:`secrets`."""
        return cls(new_key())

    def __repr__(self) -> str:
        return f"PlatformKey(0x{self._key.hex()[:16]}...)"

    @property
    def encryption_key(self) -> bytes:
        return self._key

    def ecies_decrypt(self, envelope: bytes, *, aad: bytes) -> bytes:
        return ecies_decrypt(self._secret, envelope, aad=aad, what="sealed UD")


def ud_aad(committer: str, epoch: int) -> bytes:
    """Associated data of a sealed UD: the domain, the committer and the epoch (module docstring)."""
    if not isinstance(committer, str) or not committer:
        raise InputError(f"committer must be a non-empty str, got {committer!r}")
    name = (committer.lower() if committer.startswith("0x") else committer).encode()
    if len(name) > 0xFFFF:
        raise InputError(f"committer must be at most {0xFFFF} bytes, got {len(name)}")
    if isinstance(epoch, bool) or not isinstance(epoch, int) or not 0 <= epoch < 2**64:
        raise InputError(f"epoch must be an integer in [0, 2**64), got {epoch!r}")
    return _DOMAIN + len(name).to_bytes(2, "big") + name + epoch.to_bytes(8, "big")


def seal_ud(platform_key: bytes, payload: bytes, *, committer: str) -> bytes:
    """Seal the UD ``payload`` (a canonical encoding) of ``committer`` to the platform's key."""
    key = bytes(platform_key) if isinstance(platform_key, (bytes, bytearray)) else b""
    if not is_encryption_key(key):
        raise InputError("the platform's encryption key must be 32 bytes naming a secp256k1 point (x-only)")
    record = decode_ud(payload)
    return ecies_encrypt(key, bytes(payload), aad=ud_aad(committer, record.epoch))


def open_ud(opener: UDOpener, sealed: bytes, *, committer: str, epoch: int) -> bytes:
    """The UD inside ``sealed``, as the platform decrypts it for ``committer`` and ``epoch``.

    Raises
    ------
    DecryptionError
        ``sealed`` was not sealed to this platform for this committer and epoch, or was changed.
    """
    if not isinstance(sealed, (bytes, bytearray)) or len(sealed) != SEALED_SIZE:
        got = len(sealed) if isinstance(sealed, (bytes, bytearray)) else type(sealed).__name__
        raise DecryptionError(f"a sealed UD is {SEALED_SIZE} bytes, got {got}")
    payload = opener.ecies_decrypt(bytes(sealed), aad=ud_aad(committer, epoch))
    if decode_ud(payload).epoch != epoch:  # the AAD makes this impossible; decode checks the form
        raise DecryptionError(f"sealed UD of epoch {decode_ud(payload).epoch} presented for epoch {epoch}")
    return payload


#: The format name in a platform key file (``crowdsense ctbc keygen``).
KEY_FILE_FORMAT = "crowdsense-ctbc-platform-key-1"


def write_platform_key(path: str | Path) -> PlatformKey:
    """Write a fresh platform key (a 32-byte seed) to a new file, mode 0600; never overwrites."""
    from crowdsense.atomicfile import write_atomic

    path = Path(path)
    if path.exists():
        raise InputError(f"key file {path} already exists: expected a new path (the key it holds may be in use)")
    seed = new_key()
    try:
        write_atomic(path, json.dumps({"format": KEY_FILE_FORMAT, "seed": "0x" + seed.hex()}) + "\n", mode=0o600)
    except OSError as exc:
        raise InputError(f"key file {path}: cannot be written ({exc.strerror or exc}): expected a writable path") \
            from None
    return PlatformKey(seed)


def read_platform_key(path: str | Path) -> PlatformKey:
    """The platform key in a file of :func:`write_platform_key`."""
    from crowdsense.jsonfile import read_json_file

    doc = read_json_file(path, "CTBC platform key file", missing_hint=" (crowdsense ctbc keygen writes one)")
    try:
        if not isinstance(doc, dict) or doc.get("format") != KEY_FILE_FORMAT or set(doc) != {"format", "seed"}:
            raise ValueError
        return PlatformKey(bytes.fromhex(str(doc["seed"]).removeprefix("0x")))
    except (ValueError, InputError):
        raise InputError(f"CTBC platform key file {path} is not a key file: expected the JSON of "
                         "`crowdsense ctbc keygen`") from None
