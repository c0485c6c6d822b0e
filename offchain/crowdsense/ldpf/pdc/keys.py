"""Paillier keys for PDC: generation with ``phe`` and the documented minimum length.

Key length policy
-----------------
* :data:`MIN_KEY_BITS` = 1024: the shortest modulus accepted anywhere in the protocol (the
  platform's key and the key a receiver finds in a task message). 1024-bit factoring keys give
  roughly 80-bit security; they are accepted because LDPF's experiments use them (Figs. 10-13)
  and they are the benchmark's ``--quick`` setting, but they raise :class:`WeakKeyWarning`.
* :data:`RECOMMENDED_KEY_BITS` = 2048 (about 112-bit security, NIST SP 800-57): the default.
* Tests need small keys to stay fast. They get them only by passing ``allow_insecure=True``
  explicitly (here and to :class:`~crowdsense.ldpf.pdc.platform.Platform` /
  :class:`~crowdsense.ldpf.pdc.receiver.Receiver`); the floor then drops to
  :data:`INSECURE_MIN_KEY_BITS`, which still leaves room for the blinded plaintexts.

Generation
----------
Keys are ``phe`` keys (``g = n + 1``; the private key decrypts with the Chinese remainder
theorem: ``raw_decrypt`` works modulo p^2 and q^2 separately), so everything here interoperates
with ``phe``. By default the two primes are drawn in a *structured* form,
``p = 2 k p' + 1`` with ``p'`` a random prime of ``bits - 17`` bits and ``k`` a random integer
below 2^17, until p is prime. Knowing the factorisation of ``p - 1`` lets the key owner find a
generator of ``Z_p^*`` and encrypt with precomputed fixed-base tables
(:class:`~crowdsense.ldpf.pdc.fastpaillier.PrivateEngine`), about 5-7 times faster than a plain
exponentiation, with exactly uniform obfuscators. ``p - 1`` having a large prime factor is the
classic "strong prime" condition; it does not help any known factoring method (it defeats
Pollard's p - 1). ``structured=False`` uses ``phe.paillier.generate_paillier_keypair`` instead;
such keys work everywhere, the key owner's encryption just takes the slower CRT path.
Randomness comes from :mod:`secrets`; primality from GMP (``is_prime`` with 50 rounds).
"""

from __future__ import annotations

import json
import math
import secrets
import warnings
from pathlib import Path

import gmpy2
from gmpy2 import mpz
from phe import paillier

from crowdsense.errors import InputError
from crowdsense.ldpf.pdc.errors import KeyLengthError, WeakKeyWarning

__all__ = [
    "MIN_KEY_BITS",
    "RECOMMENDED_KEY_BITS",
    "INSECURE_MIN_KEY_BITS",
    "MAX_KEY_BITS",
    "check_key_bits",
    "check_key_pair",
    "generate_keypair",
    "STRUCTURE_BITS",
    "KEY_FILE_FORMAT",
    "read_private_key",
    "write_private_key",
]

#: Shortest modulus accepted without ``allow_insecure=True``.
MIN_KEY_BITS = 1024
#: Default and recommended modulus length.
RECOMMENDED_KEY_BITS = 2048
#: Shortest modulus accepted with ``allow_insecure=True`` (tests only).
INSECURE_MIN_KEY_BITS = 128
#: Longest modulus accepted (bounds message sizes and work done on untrusted input).
MAX_KEY_BITS = 8192
#: Structured primes ``p = 2 k p' + 1`` have ``k < 2**STRUCTURE_BITS``.
STRUCTURE_BITS = 17
_PRIME_ROUNDS = 50


def check_key_bits(bits: int, *, allow_insecure: bool = False, what: str = "Paillier key") -> int:
    """Check a modulus length against the policy above and return it.

    Parameters
    ----------
    bits : int
        Bit length of the modulus n.
    allow_insecure : bool, default False
        Accept lengths down to :data:`INSECURE_MIN_KEY_BITS` (tests only).
    what : str
        Name used in messages.

    Raises
    ------
    KeyLengthError
        If ``bits`` is not an int or outside ``[minimum, MAX_KEY_BITS]``.

    Warns
    -----
    WeakKeyWarning
        If ``MIN_KEY_BITS <= bits < RECOMMENDED_KEY_BITS`` (and ``allow_insecure`` is off).
    """
    if isinstance(bits, bool) or not isinstance(bits, int):
        raise KeyLengthError(f"{what} length must be an int number of bits, got {bits!r}")
    minimum = INSECURE_MIN_KEY_BITS if allow_insecure else MIN_KEY_BITS
    if not minimum <= bits <= MAX_KEY_BITS:
        hint = "" if allow_insecure else " (small test keys need allow_insecure=True)"
        raise KeyLengthError(f"{what} must have {minimum}..{MAX_KEY_BITS} bits, got {bits}{hint}")
    if not allow_insecure and bits < RECOMMENDED_KEY_BITS:
        warnings.warn(
            f"{what} has {bits} bits, below the recommended {RECOMMENDED_KEY_BITS}",
            WeakKeyWarning,
            stacklevel=2,
        )
    return bits


def check_key_pair(
    public_key: paillier.PaillierPublicKey,
    private_key: paillier.PaillierPrivateKey,
    *,
    allow_insecure: bool = False,
) -> None:
    """Check that the two keys belong together and satisfy Paillier's conditions.

    ``gcd(n, (p - 1)(q - 1)) = 1`` is what makes encryption a bijection (so a decryption and
    its randomness are unique, which the proof of correct decryption relies on); ``phe``'s
    equal-length primes always satisfy it, but a key from elsewhere might not.
    """
    if not isinstance(public_key, paillier.PaillierPublicKey):
        raise KeyLengthError(f"public_key must be a phe PaillierPublicKey, got {type(public_key).__name__}")
    if not isinstance(private_key, paillier.PaillierPrivateKey):
        raise KeyLengthError(
            f"private_key must be a phe PaillierPrivateKey, got {type(private_key).__name__}"
        )
    n, p, q = public_key.n, private_key.p, private_key.q
    if private_key.public_key.n != n or p * q != n or p == q:
        raise KeyLengthError("private_key does not match public_key (p * q != n or p == q)")
    check_key_bits(n.bit_length(), allow_insecure=allow_insecure)
    if math.gcd(n, (p - 1) * (q - 1)) != 1:
        raise KeyLengthError("invalid Paillier key: gcd(n, (p-1)(q-1)) != 1")


def _structured_prime(bits: int) -> int:
    """A random prime ``p`` of exactly ``bits`` bits with ``p - 1 = 2 k p'``, ``p'`` prime, ``k < 2**17``."""
    small = STRUCTURE_BITS - 1
    while True:
        # p' has bits - small - 1 bits, so k = (p - 1) / (2 p') lies in (2**(small-1), 2**(small+1)).
        low_bits = bits - small - 1
        p_prime = gmpy2.next_prime(mpz(secrets.randbits(low_bits - 1)) | (mpz(1) << (low_bits - 1)))
        if p_prime.bit_length() != low_bits:
            continue
        k_min = ((mpz(1) << (bits - 1)) + 2 * p_prime - 1) // (2 * p_prime)
        k_max = ((mpz(1) << bits) - 2) // (2 * p_prime)
        for _ in range(8 * bits):  # expected ~ln(2**bits)/2 tries; redraw p' if unlucky
            k = k_min + secrets.randbelow(int(k_max - k_min + 1))
            p = 2 * k * p_prime + 1
            if gmpy2.is_prime(p, _PRIME_ROUNDS):
                return int(p)


def generate_keypair(
    key_bits: int = RECOMMENDED_KEY_BITS,
    *,
    allow_insecure: bool = False,
    structured: bool = True,
) -> tuple[paillier.PaillierPublicKey, paillier.PaillierPrivateKey]:
    """Generate a Paillier key pair of exactly ``key_bits`` bits with ``phe``.

    Parameters
    ----------
    key_bits : int, default 2048
        Modulus length; must be even (two primes of ``key_bits / 2`` bits) and respect the
        policy of this module.
    allow_insecure : bool, default False
        Allow lengths below :data:`MIN_KEY_BITS` (tests only).
    structured : bool, default True
        Draw structured primes (fast fixed-base encryption for the key owner, see the module
        notes); ``False`` delegates to ``phe.paillier.generate_paillier_keypair``.

    Returns
    -------
    (PaillierPublicKey, PaillierPrivateKey)

    Notes
    -----
    Generate once and reuse across tasks: the key owner's engine builds its tables per key.
    """
    check_key_bits(key_bits, allow_insecure=allow_insecure)
    if key_bits % 2:
        raise KeyLengthError(f"key_bits must be even (two primes of key_bits/2 bits), got {key_bits}")
    if structured:
        half = key_bits // 2
        while True:
            p, q = _structured_prime(half), _structured_prime(half)
            if p != q and (p * q).bit_length() == key_bits:
                break
        public_key = paillier.PaillierPublicKey(p * q)
        private_key = paillier.PaillierPrivateKey(public_key, p, q)
    else:
        public_key, private_key = paillier.generate_paillier_keypair(n_length=key_bits)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WeakKeyWarning)  # already warned above
        check_key_pair(public_key, private_key, allow_insecure=allow_insecure)
    return public_key, private_key


#: ``format`` of a key file written by :func:`write_private_key`.
KEY_FILE_FORMAT = "crowdsense-paillier-key/1"


def write_private_key(private_key: paillier.PaillierPrivateKey, path: str | Path) -> Path:
    """Write the platform's Paillier key as JSON (``format``, ``n``, ``p``, ``q`` as decimal
    strings), atomically and with mode 0600: the file is the platform's whole secret. An
    existing file is never overwritten (a key in use must not be lost to a second ``keygen``)."""
    from crowdsense.atomicfile import write_atomic

    path = Path(path)
    if path.exists():
        raise InputError(f"key file {path} already exists: expected a new path (the key it holds may be in use)")
    doc = {"format": KEY_FILE_FORMAT, "n": str(private_key.public_key.n), "p": str(private_key.p),
           "q": str(private_key.q)}
    try:
        write_atomic(path, json.dumps(doc, indent=1) + "\n", mode=0o600)
    except OSError as exc:
        raise InputError(f"key file {path}: cannot be written ({exc.strerror or exc}): expected a writable "
                         "path") from None
    return path


def read_private_key(path: str | Path, *, allow_insecure: bool = False) -> paillier.PaillierPrivateKey:
    """The Paillier key in a file written by :func:`write_private_key`, checked as a key pair
    (:func:`check_key_pair`: the primes multiply to n, Paillier's gcd condition, the length policy)."""
    from crowdsense.jsonfile import read_json_file

    doc = read_json_file(path, "Paillier key file", missing_hint=" (crowdsense pdc keygen writes one)")
    fields = ("format", "n", "p", "q")
    if not isinstance(doc, dict) or set(doc) != set(fields) or doc["format"] != KEY_FILE_FORMAT:
        raise InputError(f"Paillier key file {path} is not a key file: expected a JSON object with "
                         f"{', '.join(fields)} and format {KEY_FILE_FORMAT!r}")
    try:
        n, p, q = (int(doc[k]) for k in ("n", "p", "q"))
    except (TypeError, ValueError):
        raise InputError(f"Paillier key file {path}: n, p and q must be decimal integers") from None
    if p * q != n or p <= 1 or q <= 1:
        raise InputError(f"Paillier key file {path}: p * q is not n: expected the file as keygen wrote it")
    public_key = paillier.PaillierPublicKey(n)
    private_key = paillier.PaillierPrivateKey(public_key, p, q)
    try:
        check_key_pair(public_key, private_key, allow_insecure=allow_insecure)
    except KeyLengthError as exc:
        raise InputError(f"Paillier key file {path}: {exc}") from None
    return private_key
