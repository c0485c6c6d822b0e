"""The package's AEAD, ECIES and encryption keys (crowdsense.ecies), checked against the curve itself."""

from __future__ import annotations

import hashlib

import coincurve
import pytest

from crowdsense import ecies
from crowdsense.errors import DecryptionError, InputError


def test_ecies_shared_secret_matches_independent_ecdh():
    # ECDH is symmetric: e*P == p*E; coincurve's ecdh hashes the compressed point with SHA-256.
    p, e = coincurve.PrivateKey(b"\x05" * 32), coincurve.PrivateKey(b"\x07" * 32)
    point = coincurve.PublicKey.combine_keys([p.public_key]).multiply(e.secret)
    assert e.ecdh(p.public_key.format()) == hashlib.sha256(point.format(compressed=True)).digest()


#: secp256k1's field prime and group order, for the checks below.
P, N = 2**256 - 2**32 - 977, 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@pytest.mark.parametrize("account", [b"\x01" * 32, b"\x42" * 32, (N - 1).to_bytes(32, "big")])
def test_encryption_key_is_the_even_y_point_of_the_derived_secret(account):
    secret = ecies.encryption_secret(account)
    assert secret == ecies.encryption_secret(account) and secret != account  # deterministic, its own key
    x = ecies.encryption_key_of(secret)
    point = coincurve.PrivateKey(secret).public_key.format(compressed=False)
    assert x == point[1:33] and int.from_bytes(point[33:], "big") % 2 == 0
    # the point above x is on the curve: y^2 = x^3 + 7 (mod p)
    xi, yi = int.from_bytes(x, "big"), int.from_bytes(point[33:], "big")
    assert (yi * yi - xi**3 - 7) % P == 0 and ecies.is_encryption_key(x)


def test_encryption_secrets_of_two_accounts_differ():
    assert ecies.encryption_secret(b"\x01" * 32) != ecies.encryption_secret(b"\x02" * 32)


@pytest.mark.parametrize("key", [(5).to_bytes(32, "big"), P.to_bytes(32, "big"), b"\x00" * 32, b"\x02" * 31, b""],
                         ids=["no-point", "prime", "zero", "short", "empty"])
def test_what_is_not_an_encryption_key(key):
    assert not ecies.is_encryption_key(key)
    if len(key) == 32:
        with pytest.raises(InputError, match="not a secp256k1 public key"):
            ecies.ecies_encrypt(key, b"k", aad=b"")


def test_aead_roundtrip_and_every_binding():
    key, other = ecies.new_key(), ecies.new_key()
    blob = ecies.aead_encrypt(key, b"message", aad=b"context")
    assert ecies.aead_decrypt(key, blob, aad=b"context") == b"message"
    assert blob != ecies.aead_encrypt(key, b"message", aad=b"context")  # a fresh nonce each time
    for wrong_key, aad, changed in ((other, b"context", blob), (key, b"other", blob),
                                    (key, b"context", blob[:-1] + bytes([blob[-1] ^ 1]))):
        with pytest.raises(DecryptionError, match="does not authenticate"):
            ecies.aead_decrypt(wrong_key, changed, aad=aad)


def test_aead_refuses_a_short_key_and_a_malformed_blob():
    with pytest.raises(InputError, match="a key must be 32 bytes, got 16 bytes"):
        ecies.aead_encrypt(b"\x01" * 16, b"m", aad=b"")
    with pytest.raises(DecryptionError, match="is malformed or of an unknown version"):
        ecies.aead_decrypt(ecies.new_key(), b"\x02" + bytes(40), aad=b"")


def test_ecies_opens_only_with_the_recipients_secret_and_aad():
    secret, other = ecies.encryption_secret(b"\x07" * 32), ecies.encryption_secret(b"\x08" * 32)
    blob = ecies.ecies_encrypt(ecies.encryption_key_of(secret), b"payload", aad=b"ctx")
    assert ecies.ecies_decrypt(secret, blob, aad=b"ctx") == b"payload"
    with pytest.raises(DecryptionError, match="^sealed thing does not authenticate"):
        ecies.ecies_decrypt(other, blob, aad=b"ctx", what="sealed thing")
    with pytest.raises(DecryptionError):
        ecies.ecies_decrypt(secret, blob, aad=b"other")


@pytest.mark.parametrize("form", ["x-only", "compressed", "uncompressed", "raw64"])
def test_ecies_accepts_every_public_key_form(form):
    secret = ecies.encryption_secret(b"\x09" * 32)
    point = coincurve.PrivateKey(secret).public_key
    key = {"x-only": ecies.encryption_key_of(secret), "compressed": point.format(compressed=True),
           "uncompressed": point.format(compressed=False), "raw64": point.format(compressed=False)[1:]}[form]
    assert ecies.ecies_decrypt(secret, ecies.ecies_encrypt(key, b"m", aad=b""), aad=b"") == b"m"
