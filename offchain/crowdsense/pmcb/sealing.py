"""The subtask scheme: AES-256-GCM for descriptions, ECIES for their keys, and what binds each.

Scheme (see also :mod:`crowdsense.pmcb.tasks`):

1. **Subtask description.** The releaser draws a fresh 32-byte key ``k`` per subtask (from
   :mod:`secrets`) and encrypts the description with AES-256-GCM::

       blob = 0x01 || nonce(12) || ciphertext || tag(16)
       AAD  = "crowdsense/subtask/v1" || chainId(32) || registry(20) || level(1) || index(32)

   The AAD binds the blob to its chain, registry and place in the task, so a blob cannot be
   passed off as another subtask. The on-chain subtask hash is ``keccak256(blob)``.
2. **Key hand-over.** The claim carries the claimant's *encryption key* ``P``: the
   x-coordinate (32 bytes, even y) of a secp256k1 key that the client derives from the
   account's key (:func:`encryption_secret`), so nothing new has to be stored or can be lost,
   and so a key reaches claimants whose claims are not signed by themselves (contract wallets,
   relayed or delegated accounts), who publish any key they hold. After the claim, the
   releaser encrypts ``k`` to ``P`` with ECIES::

       shared = SHA256(compressed(e * P))            (coincurve ECDH, e ephemeral)
       key    = HKDF-SHA256(shared, salt = E || P, info = "crowdsense/ecies/v1")
       env    = 0x01 || E(33, compressed) || nonce(12) || AES-256-GCM(key, k, AAD) || tag(16)
       AAD    = subtask hash(32) || claimant address(20)

   Only the holder of the encryption secret can derive ``key``; anybody else gets a
   GCM tag failure (:class:`~crowdsense.errors.DecryptionError`).
3. **Data delivery.** The description names the releaser's own encryption key (``replyTo``,
   derived from its account key as above), so the description's on-chain hash vouches for
   it. The claimant encrypts its sensing data to that key with the same ECIES, AAD
   ``"crowdsense/data/v1" || chainId(32) || registry(20) || taskId(32) || index(32) ||
   claimant(20)``, stores the ciphertext, and submits ``keccak256(ciphertext)``: the releaser
   fetches the ciphertext by that hash and only it can open it
   (:mod:`crowdsense.chain.delivery`).

This module holds the scheme's associated data; the AEAD, ECIES and encryption-key functions
are :mod:`crowdsense.ecies`. GCM is not key-committing; the claimant trusts the releaser's key
anyway (the releaser wrote the description), and the on-chain hash fixes the blob it receives.
"""

from __future__ import annotations

from crowdsense.errors import InputError

__all__ = ["subtask_aad", "envelope_aad", "data_aad"]

_SUBTASK_DOMAIN = b"crowdsense/subtask/v1"
_DATA_DOMAIN = b"crowdsense/data/v1"


def subtask_aad(chain_id: int, registry: str, level: int, index: int) -> bytes:
    """Associated data that binds a subtask blob to its chain, registry, level and index."""
    if not 1 <= level <= 255:
        raise InputError(f"level must be in 1..255, got {level}")
    return (
        _SUBTASK_DOMAIN
        + int(chain_id).to_bytes(32, "big")
        + bytes.fromhex(registry.removeprefix("0x"))
        + bytes([level])
        + int(index).to_bytes(32, "big")
    )


def envelope_aad(subtask_hash: bytes, claimant: str) -> bytes:
    """Associated data of a key envelope: the subtask hash and the claimant's address."""
    return bytes(subtask_hash) + bytes.fromhex(claimant.removeprefix("0x"))


def data_aad(chain_id: int, registry: str, task_id: int, index: int, claimant: str) -> bytes:
    """Associated data of delivered sensing data: where it belongs and who sent it, so that a
    ciphertext cannot be passed off as another subtask's or another claimant's data."""
    return (
        _DATA_DOMAIN
        + int(chain_id).to_bytes(32, "big")
        + bytes.fromhex(registry.removeprefix("0x"))
        + int(task_id).to_bytes(32, "big")
        + int(index).to_bytes(32, "big")
        + bytes.fromhex(claimant.removeprefix("0x"))
    )
