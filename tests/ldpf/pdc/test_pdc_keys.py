"""Key generation and the key-length policy."""

import warnings

import pytest
from phe import paillier

from crowdsense.errors import InputError
from crowdsense.ldpf.pdc.errors import KeyLengthError, WeakKeyWarning
from crowdsense.ldpf.pdc.fastpaillier import find_generator
from crowdsense.ldpf.pdc.keys import (
    INSECURE_MIN_KEY_BITS,
    MIN_KEY_BITS,
    RECOMMENDED_KEY_BITS,
    check_key_bits,
    check_key_pair,
    generate_keypair,
)


def test_generate_keypair_has_exact_length_and_decrypts(keypair):
    pk, sk = keypair
    assert pk.n.bit_length() == 256
    assert sk.p * sk.q == pk.n
    assert sk.decrypt(pk.encrypt(4242)) == 4242


def test_structured_primes_have_known_factorisation(keypair):
    _, sk = keypair
    for prime in (sk.p, sk.q):
        g = find_generator(prime)
        assert g is not None
        # A generator's powers (p - 1)/l are never 1; spot-check with l = 2.
        assert pow(g, (prime - 1) // 2, prime) == prime - 1


def test_generate_keypair_unstructured_uses_phe_and_decrypts(generated_phe_keypair):
    pk, sk = generated_phe_keypair
    assert pk.n.bit_length() == 256
    assert sk.decrypt(pk.encrypt(-17)) == -17


def test_generate_keypair_rejects_short_key_without_override():
    with pytest.raises(KeyLengthError, match=f"{MIN_KEY_BITS}"):
        generate_keypair(512)


def test_generate_keypair_short_key_needs_explicit_override():
    pk, _ = generate_keypair(192, allow_insecure=True)
    assert pk.n.bit_length() == 192


def test_generate_keypair_rejects_key_below_insecure_floor():
    with pytest.raises(KeyLengthError):
        generate_keypair(INSECURE_MIN_KEY_BITS - 2, allow_insecure=True)


def test_generate_keypair_rejects_odd_length():
    with pytest.raises(KeyLengthError, match="even"):
        generate_keypair(255, allow_insecure=True)


@pytest.mark.parametrize("bits", ["2048", 2048.0, True, None])
def test_check_key_bits_rejects_non_int(bits):
    with pytest.raises(KeyLengthError):
        check_key_bits(bits)


def test_check_key_bits_warns_below_recommended_length():
    with pytest.warns(WeakKeyWarning, match=str(RECOMMENDED_KEY_BITS)):
        assert check_key_bits(MIN_KEY_BITS) == MIN_KEY_BITS


def test_check_key_bits_is_silent_at_recommended_length():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_key_bits(RECOMMENDED_KEY_BITS) == RECOMMENDED_KEY_BITS


def test_key_length_error_is_input_error():
    with pytest.raises(InputError):
        check_key_bits(64)


def test_check_key_pair_rejects_mismatched_keys(keypair, phe_keypair):
    with pytest.raises(KeyLengthError, match="does not match"):
        check_key_pair(keypair[0], phe_keypair[1], allow_insecure=True)


def test_check_key_pair_rejects_gcd_violation():
    # p = 7, q = 43: q - 1 = 42 is a multiple of p, so gcd(n, phi(n)) = 7.
    pk = paillier.PaillierPublicKey(7 * 43)
    sk = paillier.PaillierPrivateKey(pk, 7, 43)
    with pytest.raises(KeyLengthError):
        check_key_pair(pk, sk, allow_insecure=True)
