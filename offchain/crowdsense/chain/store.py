"""Content-addressed storage of subtask ciphertexts and key envelopes, off chain.

The chain carries only ``keccak256(ciphertext)`` per subtask; the ciphertext itself lives
here, under that hash, so anybody can fetch it and check it against the chain, and only the
claimant can read it. Layout of a store folder (default ``.crowdsense/store``, or
``$CROWDSENSE_STORE``)::

    subtasks/<hash hex>.bin                 the AES-GCM blob whose keccak256 is <hash>
    keys/<hash hex>/<claimant address>.bin  the subtask key, ECIES-encrypted to the claimant

A folder is the simplest shared medium (a network share, a synced directory, or one machine
in a simulation); an IPFS node or an HTTP bucket keyed the same way is a drop-in
replacement, because every reader verifies what it gets: blobs against their hash, envelopes
by authenticated decryption. Writes are atomic (temporary file + rename) and safe to race.
"""

from __future__ import annotations

from pathlib import Path

from eth_utils import keccak

from crowdsense.atomicfile import write_atomic
from crowdsense.chain.errors import KeyNotHandedOverError, StoreError
from crowdsense.errors import InputError

__all__ = ["DEFAULT_STORE", "ENV_STORE", "SubtaskStore"]

DEFAULT_STORE = Path(".crowdsense/store")
ENV_STORE = "CROWDSENSE_STORE"


def _hash_hex(subtask_hash: bytes) -> str:
    if not isinstance(subtask_hash, (bytes, bytearray)) or len(subtask_hash) != 32:
        raise InputError(f"a subtask hash must be 32 bytes, got {subtask_hash!r}")
    return bytes(subtask_hash).hex()


def _address_name(address: str) -> str:
    text = address.lower().removeprefix("0x")
    if len(text) != 40 or any(c not in "0123456789abcdef" for c in text):
        raise InputError(f"not an address: {address!r}")
    return "0x" + text


class SubtaskStore:
    """A store folder (created on first write)."""

    def __init__(self, root: str | Path = DEFAULT_STORE) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"SubtaskStore({self.root})"

    def _write(self, path: Path, data: bytes) -> None:
        """Write ``path`` atomically and durably (:func:`~crowdsense.atomicfile.write_atomic`):
        concurrent writers of one object - threads or processes releasing or handing over at
        once - never write into one another's file; the last rename wins with complete content."""
        write_atomic(path, data)

    def blob_path(self, subtask_hash: bytes) -> Path:
        return self.root / "subtasks" / f"{_hash_hex(subtask_hash)}.bin"

    def envelope_path(self, subtask_hash: bytes, claimant: str) -> Path:
        return self.root / "keys" / _hash_hex(subtask_hash) / f"{_address_name(claimant)}.bin"

    def put_blob(self, blob: bytes) -> bytes:
        """Store a ciphertext under its keccak256 and return the hash."""
        digest = keccak(bytes(blob))
        path = self.blob_path(digest)
        if not path.exists():
            self._write(path, bytes(blob))
        return digest

    def get_blob(self, subtask_hash: bytes) -> bytes:
        """The ciphertext stored under ``subtask_hash``, verified against it."""
        path = self.blob_path(subtask_hash)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            raise StoreError(
                f"ciphertext of subtask 0x{_hash_hex(subtask_hash)} is not in the store {self.root} "
                "(is --store the folder the releaser writes to?)"
            ) from None
        if keccak(blob) != bytes(subtask_hash):
            raise StoreError(f"store object {path} does not hash to 0x{_hash_hex(subtask_hash)}: it was altered")
        return blob

    def has_blob(self, subtask_hash: bytes) -> bool:
        return self.blob_path(subtask_hash).exists()

    def put_envelope(self, subtask_hash: bytes, claimant: str, envelope: bytes) -> None:
        self._write(self.envelope_path(subtask_hash, claimant), bytes(envelope))

    def get_envelope(self, subtask_hash: bytes, claimant: str, *, writer: str | None = None) -> bytes:
        """The envelope handed over to ``claimant``. ``writer`` (the releaser) names the envelope
        in a service's store, where any account may write; a folder has one writer, so it is
        not used here."""
        path = self.envelope_path(subtask_hash, claimant)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise KeyNotHandedOverError(
                f"no key for subtask 0x{_hash_hex(subtask_hash)} has been handed over to {claimant} yet: "
                "the releaser must run `crowdsense handover` after the claim"
            ) from None

    def has_envelope(self, subtask_hash: bytes, claimant: str, *, writer: str | None = None) -> bool:
        return self.envelope_path(subtask_hash, claimant).exists()
