"""The two ciphers of the subtask scheme: AES-256-GCM for descriptions, ECIES for their keys.

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

GCM is not key-committing; the claimant trusts the releaser's key anyway (the releaser wrote
the description), and the on-chain hash fixes the blob it receives.
"""

from __future__ import annotations

import secrets

import coincurve
from Crypto.Cipher import AES
from Crypto.Hash import SHA256
from Crypto.Protocol.KDF import HKDF

from crowdsense.errors import DecryptionError, InputError

__all__ = [
    "KEY_SIZE",
    "new_key",
    "subtask_aad",
    "envelope_aad",
    "aead_encrypt",
    "aead_decrypt",
    "ecies_encrypt",
    "ecies_decrypt",
    "public_key_of",
    "encryption_secret",
    "encryption_key_of",
    "is_encryption_key",
]

KEY_SIZE = 32
_VERSION = b"\x01"
_NONCE = 12
_TAG = 16
_SUBTASK_DOMAIN = b"crowdsense/subtask/v1"
_ECIES_INFO = b"crowdsense/ecies/v1"
_ENCRYPTION_KEY_DOMAIN = b"crowdsense/encryption-key/v1"
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def new_key() -> bytes:
    """A fresh 32-byte symmetric key from :mod:`secrets`."""
    return secrets.token_bytes(KEY_SIZE)


def _check_key(key: bytes) -> bytes:
    if not isinstance(key, (bytes, bytearray)) or len(key) != KEY_SIZE:
        got = f"{len(key)} bytes" if isinstance(key, (bytes, bytearray)) else type(key).__name__
        raise InputError(f"a key must be {KEY_SIZE} bytes, got {got}")
    return bytes(key)


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


def aead_encrypt(key: bytes, plaintext: bytes, *, aad: bytes) -> bytes:
    """AES-256-GCM: ``0x01 || nonce || ciphertext || tag`` with a random 12-byte nonce."""
    nonce = secrets.token_bytes(_NONCE)
    cipher = AES.new(_check_key(key), AES.MODE_GCM, nonce=nonce, mac_len=_TAG)
    cipher.update(aad)
    ciphertext, tag = cipher.encrypt_and_digest(bytes(plaintext))
    return _VERSION + nonce + ciphertext + tag


def aead_decrypt(key: bytes, blob: bytes, *, aad: bytes, what: str = "ciphertext") -> bytes:
    """Inverse of :func:`aead_encrypt`; a wrong key, AAD or a tampered blob -> DecryptionError."""
    if len(blob) < 1 + _NONCE + _TAG or blob[:1] != _VERSION:
        raise DecryptionError(f"{what} is malformed or of an unknown version ({len(blob)} bytes)")
    nonce, body, tag = blob[1 : 1 + _NONCE], blob[1 + _NONCE : -_TAG], blob[-_TAG:]
    cipher = AES.new(_check_key(key), AES.MODE_GCM, nonce=nonce, mac_len=_TAG)
    cipher.update(aad)
    try:
        return cipher.decrypt_and_verify(body, tag)
    except ValueError:
        raise DecryptionError(f"{what} does not authenticate under this key") from None


def public_key_of(private_key: bytes) -> bytes:
    """Uncompressed (65-byte) secp256k1 public key of a private key."""
    return coincurve.PrivateKey(bytes(private_key)).public_key.format(compressed=False)


def encryption_secret(account_key: bytes) -> bytes:
    """The claimant's encryption secret, derived from its account key (deterministic).

    A key of its own rather than the account key itself: the account key only ever signs,
    and the published encryption key says nothing about it. The secret is negated when its
    point has an odd y, so the 32-byte x-coordinate alone names the point (as in BIP 340).
    """
    d = int.from_bytes(HKDF(bytes(account_key), KEY_SIZE, salt=b"", hashmod=SHA256,
                            context=_ENCRYPTION_KEY_DOMAIN), "big") % _SECP256K1_N or 1
    if coincurve.PrivateKey(d.to_bytes(32, "big")).public_key.format(compressed=True)[0] == 3:
        d = _SECP256K1_N - d
    return d.to_bytes(32, "big")


def encryption_key_of(secret: bytes) -> bytes:
    """The 32-byte x-only encryption key of an :func:`encryption_secret` (what a claim carries)."""
    return coincurve.PrivateKey(bytes(secret)).public_key.format(compressed=True)[1:]


def is_encryption_key(key: bytes) -> bool:
    """True when ``key`` is 32 bytes naming a secp256k1 point (the contract's own check)."""
    if len(key) != 32:
        return False
    try:
        coincurve.PublicKey(b"\x02" + bytes(key))
    except ValueError:
        return False
    return True


def _ephemeral() -> coincurve.PrivateKey:
    while True:  # a uniformly random 32-byte string is a valid scalar except with prob. ~2^-128
        try:
            return coincurve.PrivateKey(secrets.token_bytes(32))
        except ValueError:  # pragma: no cover
            continue


def _kdf(shared: bytes, eph_pub: bytes, recipient: bytes) -> bytes:
    return HKDF(shared, KEY_SIZE, salt=eph_pub + recipient, hashmod=SHA256, context=_ECIES_INFO)


def ecies_encrypt(public_key: bytes, plaintext: bytes, *, aad: bytes) -> bytes:
    """Encrypt ``plaintext`` to a secp256k1 public key (32 x-only, 33, 64 or 65 bytes)."""
    raw = bytes(public_key)
    if len(raw) == 32:  # x-only, even y (an encryption key from a claim)
        raw = b"\x02" + raw
    elif len(raw) == 64:  # eth_keys form, without the 0x04 prefix
        raw = b"\x04" + raw
    try:
        recipient = coincurve.PublicKey(raw)
    except (ValueError, TypeError) as exc:
        raise InputError(f"not a secp256k1 public key ({len(raw)} bytes): {exc}") from None
    eph = _ephemeral()
    eph_pub = eph.public_key.format(compressed=True)
    rec = recipient.format(compressed=True)
    key = _kdf(eph.ecdh(rec), eph_pub, rec)
    return _VERSION + eph_pub + aead_encrypt(key, plaintext, aad=aad)[1:]


def ecies_decrypt(private_key: bytes, blob: bytes, *, aad: bytes) -> bytes:
    """Inverse of :func:`ecies_encrypt`; the wrong private key -> DecryptionError."""
    if len(blob) < 1 + 33 + _NONCE + _TAG or blob[:1] != _VERSION:
        raise DecryptionError(f"key envelope is malformed or of an unknown version ({len(blob)} bytes)")
    eph_pub = blob[1:34]
    me = coincurve.PrivateKey(bytes(private_key))
    rec = me.public_key.format(compressed=True)
    try:
        shared = me.ecdh(eph_pub)
    except ValueError:
        raise DecryptionError("key envelope holds an invalid ephemeral key") from None
    key = _kdf(shared, eph_pub, rec)
    return aead_decrypt(key, _VERSION + blob[34:], aad=aad, what="key envelope")
