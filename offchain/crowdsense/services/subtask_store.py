"""The subtask store of the release, hand-over and fetch steps, kept by a service over HTTP.

:class:`ServiceSubtaskStore` has the methods of the folder store
(:class:`~crowdsense.chain.store.SubtaskStore`) that
:class:`~crowdsense.chain.registry.TaskRegistryClient` uses, with the same errors, so a releaser
and its receivers on different machines share ciphertexts and key envelopes through a
service instead of a folder: ``--store http://host:port`` (or ``$CROWDSENSE_STORE`` set to a
URL) selects it in the CLI. Nothing is trusted that can be checked: blobs are verified against
their hash by the client, envelopes by authenticated decryption in the fetch step, as with the
folder.
"""

from __future__ import annotations

from typing import Any

from crowdsense.chain.errors import KeyNotHandedOverError, StoreError
from crowdsense.services.client import ServiceClient, ServiceIntegrityError, ServiceNotFoundError, hash_hex

__all__ = ["ServiceSubtaskStore", "is_service_url"]


def is_service_url(location: object) -> bool:
    """Whether a ``--store`` value names a service (``http://`` or ``https://``) rather than a folder."""
    return isinstance(location, str) and location.strip().lower().startswith(("http://", "https://"))


class ServiceSubtaskStore:
    """A subtask store on the service at ``base_url``; writes are signed by ``signer``.

    ``options`` go to :class:`~crowdsense.services.client.ServiceClient` (``timeout``,
    ``retries``, ``backoff``, ``domain``).
    """

    def __init__(self, base_url: str, signer: Any = None, **options: Any) -> None:
        self.client = ServiceClient(base_url, signer, **options)

    def __repr__(self) -> str:
        return f"ServiceSubtaskStore({self.client.base_url})"

    def put_blob(self, blob: bytes) -> bytes:
        """Store a ciphertext under its keccak256 and return the hash."""
        return self.client.put_blob(bytes(blob))

    def get_blob(self, subtask_hash: bytes) -> bytes:
        """The ciphertext stored under ``subtask_hash``, verified against it."""
        try:
            return self.client.get_blob(subtask_hash)
        except ServiceNotFoundError:
            raise StoreError(
                f"ciphertext of subtask {hash_hex(subtask_hash, 'subtask hash')} is not in the service at "
                f"{self.client.base_url}: expected the service the releaser writes to (--store)") from None
        except ServiceIntegrityError as exc:
            raise StoreError(str(exc)) from None

    def has_blob(self, subtask_hash: bytes) -> bool:
        return self.client.has_blob(subtask_hash)

    def put_envelope(self, subtask_hash: bytes, claimant: str, envelope: bytes) -> None:
        self.client.put_envelope(subtask_hash, claimant, bytes(envelope))

    def get_envelope(self, subtask_hash: bytes, claimant: str, *, writer: str | None = None) -> bytes:
        """The envelope ``writer`` (the subtask's releaser; default: this store's signer) wrote."""
        try:
            return self.client.get_envelope(subtask_hash, claimant, writer)
        except ServiceNotFoundError:
            by = f" by {writer}" if writer else ""
            raise KeyNotHandedOverError(
                f"no key for subtask {hash_hex(subtask_hash, 'subtask hash')} has been handed over{by} to "
                f"{claimant} yet: the releaser must run `crowdsense handover` after the claim") from None

    def has_envelope(self, subtask_hash: bytes, claimant: str, *, writer: str | None = None) -> bool:
        return self.client.has_envelope(subtask_hash, claimant, writer)
