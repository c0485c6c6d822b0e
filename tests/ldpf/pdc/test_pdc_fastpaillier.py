"""Raw-integer Paillier: correctness against phe, obfuscator distribution support, proofs."""

import math
import secrets

import gmpy2
import pytest
from phe import paillier

from crowdsense.ldpf.pdc.errors import KeyLengthError, MessageError
from crowdsense.ldpf.pdc.fastpaillier import FixedBaseTable, PrivateEngine, PublicEngine, find_generator


@pytest.fixture(params=["structured", "phe"])
def keys(request, keypair, phe_keypair):
    return keypair if request.param == "structured" else phe_keypair


def _phi(sk):
    return (sk.p - 1) * (sk.q - 1)


def test_engine_picks_fixed_base_for_structured_key_and_crt_otherwise(keypair, phe_keypair):
    assert PrivateEngine(keypair[1]).obfuscator_method == "fixed-base"
    assert PrivateEngine(phe_keypair[1]).obfuscator_method == "crt"


def test_fixed_base_true_fails_on_unstructured_key(phe_keypair):
    with pytest.raises(KeyLengthError, match="fixed_base"):
        PrivateEngine(phe_keypair[1], fixed_base=True).fresh_obfuscator()


@pytest.mark.parametrize("engine_kind", ["private", "public"])
def test_obfuscators_are_nth_residues(keys, engine_kind):
    # The n-th residues mod n^2 are exactly the elements whose order divides phi(n).
    pk, sk = keys
    engine = PrivateEngine(sk) if engine_kind == "private" else PublicEngine(pk)
    for _ in range(20):
        h = engine.fresh_obfuscator()
        assert gmpy2.powmod(h, _phi(sk), pk.n**2) == 1
        assert math.gcd(int(h), pk.n) == 1


def test_obfuscators_are_not_repeated(keys):
    engine = PrivateEngine(keys[1])
    values = {int(engine.fresh_obfuscator()) for _ in range(50)}
    assert len(values) == 50


def test_obfuscators_reduce_to_all_residue_classes_on_tiny_key():
    # With p = 23 (p - 1 = 2 * 11), the lifts must reach every class of Z_p^* (uniform target).
    p, q = 23, 59  # 58 = 2 * 29: both structured, gcd(n, phi) = 1
    pk = paillier.PaillierPublicKey(p * q)
    engine = PrivateEngine(paillier.PaillierPrivateKey(pk, p, q))
    assert engine.obfuscator_method == "fixed-base"
    seen = {int(engine.fresh_obfuscator()) % p for _ in range(600)}
    assert seen == set(range(1, p))


@pytest.mark.parametrize("m", [0, 1, 2, 12345, 2**100])
def test_encrypt_decrypts_with_phe(keys, m):
    pk, sk = keys
    engine = PrivateEngine(sk)
    c = engine.encrypt(m)
    assert sk.decrypt(paillier.EncryptedNumber(pk, int(c), 0)) == m


def test_public_engine_encrypt_decrypts_with_phe(keys):
    pk, sk = keys
    c = PublicEngine(pk).encrypt(77)
    assert sk.raw_decrypt(int(c)) == 77


def test_add_plain_adds_to_plaintext(keys):
    pk, sk = keys
    engine = PrivateEngine(sk)
    assert engine.decrypt(engine.add_plain(engine.encrypt(10), 32)) == 42


def test_randomness_recovers_the_encryption_randomness(keys):
    pk, sk = keys
    engine = PrivateEngine(sk)
    rho = secrets.randbelow(pk.n - 2) + 2
    c = pk.raw_encrypt(99, r_value=rho)  # phe: (1 + 99 n) rho^n mod n^2
    assert engine.decrypt_with_proof(c) == (99, rho)


def test_verify_decryption_accepts_the_true_plaintext(keys):
    pk, sk = keys
    engine = PrivateEngine(sk)
    c = engine.encrypt(500)
    m, rho = engine.decrypt_with_proof(c)
    assert PublicEngine(pk).verify_decryption(c, m, rho)


@pytest.mark.parametrize("delta", [1, -1, 1000])
def test_verify_decryption_rejects_a_shifted_plaintext_even_with_matching_root(keys, delta):
    # A cheating key owner computes the n-th root for the shifted claim; none exists.
    pk, sk = keys
    engine = PrivateEngine(sk)
    c = engine.encrypt(500)
    n, n2 = pk.n, pk.n**2
    forged_rho = int(engine.randomness(int(c) * (1 - delta * n) % n2))
    assert not PublicEngine(pk).verify_decryption(c, 500 + delta, forged_rho)
    assert not PublicEngine(pk).verify_decryption(c, 500 + delta, int(engine.randomness(c)))


def test_verify_decryption_rejects_out_of_range_values(keys):
    pk, sk = keys
    engine = PublicEngine(pk)
    c = engine.encrypt(1)
    assert not engine.verify_decryption(c, pk.n + 1, 1)
    assert not engine.verify_decryption(c, 1, 0)


def test_precomputed_pool_is_consumed_once_each(keys):
    engine = PrivateEngine(keys[1])
    engine.precompute(3)
    pool = list(engine._pool)
    taken = [engine.obfuscator() for _ in range(3)]
    assert sorted(map(int, taken)) == sorted(map(int, pool))
    assert engine.pool_size == 0


def test_fixed_base_table_matches_powmod():
    modulus = 2**521 - 1
    table = FixedBaseTable(3, modulus, 300)
    for e in [0, 1, 255, 256, 2**299 + 12345, secrets.randbits(300)]:
        assert table.pow(e) == pow(3, e, modulus)


def test_find_generator_returns_a_primitive_root_for_small_prime():
    g = find_generator(23)
    order = next(k for k in range(1, 23) if pow(g, k, 23) == 1)
    assert order == 22


def test_find_generator_gives_up_on_unfactorable_p_minus_1():
    a, b = int(gmpy2.next_prime(2**40)), int(gmpy2.next_prime(2**41))
    k = 1
    while not gmpy2.is_prime(2 * a * b * k + 1):
        k += 1
    assert find_generator(2 * a * b * k + 1) is None


def test_encrypted_number_round_trip_keeps_the_ciphertext(keys):
    pk, sk = keys
    engine = PublicEngine(pk)
    c = engine.encrypt(31)
    value = engine.encrypted_number(c)
    assert sk.decrypt(value) == 31
    assert value.ciphertext() == c  # not re-obfuscated by phe
    assert engine.from_encrypted_number(value) == c


def test_from_encrypted_number_rejects_non_integer_exponent(keys):
    pk, _ = keys
    with pytest.raises(MessageError, match="exponent"):
        PublicEngine(pk).from_encrypted_number(pk.encrypt(0.5))


def test_from_encrypted_number_rejects_other_key(keypair, phe_keypair):
    with pytest.raises(MessageError, match="different public key"):
        PublicEngine(keypair[0]).from_encrypted_number(phe_keypair[0].encrypt(1))


@pytest.mark.parametrize("n", [14, 9.0, True])
def test_public_engine_rejects_invalid_modulus(n):
    with pytest.raises(KeyLengthError):
        PublicEngine(n)
