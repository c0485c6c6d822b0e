"""The package's public-key encryption: AES-256-GCM, ECIES on secp256k1, and encryption keys.

Two schemes use it: the subtask scheme of PMCB (:mod:`crowdsense.pmcb.sealing`: descriptions
under a per-subtask key, the key sealed to the claimant) and CTBC's sealed uploads
(:mod:`crowdsense.ldpf.ctbc.sealed`: a user's UD sealed to the platform, so that the opening
published on chain shows no location).

* **AEAD.** ``aead_encrypt(key, m, aad) = 0x01 || nonce(12) || AES-256-GCM(key, m, aad) || tag(16)``
  with a random nonce; a wrong key, AAD or a changed byte is a
  :class:`~crowdsense.errors.DecryptionError`.
* **ECIES** to a secp256k1 key ``P``::

      shared = SHA256(compressed(e * P))            (coincurve ECDH, e ephemeral)
      key    = HKDF-SHA256(shared, salt = E || P, info = "crowdsense/ecies/v1")
      blob   = 0x01 || E(33, compressed) || nonce(12) || AES-256-GCM(key, m, AAD) || tag(16)

  The caller's AAD binds the blob to its context (for example the account it belongs to), so a
  copied blob presented in another context fails to decrypt.
* **Encryption keys.** An account's encryption secret is derived from its account key
  (:func:`encryption_secret`, HKDF with an own domain), so nothing new has to be stored or can be
  lost and the signing key is never used to decrypt; its public form is the 32-byte x-coordinate
  of an even-y point (:func:`encryption_key_of`), as in BIP 340.

GCM is not key-committing; each scheme says why that does not matter for it.
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


def ecies_decrypt(private_key: bytes, blob: bytes, *, aad: bytes, what: str = "key envelope") -> bytes:
    """Inverse of :func:`ecies_encrypt`; the wrong private key -> DecryptionError naming ``what``."""
    if len(blob) < 1 + 33 + _NONCE + _TAG or blob[:1] != _VERSION:
        raise DecryptionError(f"{what} is malformed or of an unknown version ({len(blob)} bytes)")
    eph_pub = blob[1:34]
    me = coincurve.PrivateKey(bytes(private_key))
    rec = me.public_key.format(compressed=True)
    try:
        shared = me.ecdh(eph_pub)
    except ValueError:
        raise DecryptionError(f"{what} holds an invalid ephemeral key") from None
    key = _kdf(shared, eph_pub, rec)
    return aead_decrypt(key, _VERSION + blob[34:], aad=aad, what=what)
