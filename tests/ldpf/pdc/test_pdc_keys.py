"""Key generation, the key-length policy and the platform's key file."""

import json
import stat
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
    read_private_key,
    write_private_key,
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


# ---------------------------------------------------------------------------- key files


def test_a_key_file_gives_the_same_key_back_and_is_private(keypair, tmp_path):
    path = write_private_key(keypair[1], tmp_path / "key.json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    back = read_private_key(path, allow_insecure=True)
    assert (back.p, back.q, back.public_key.n) == (keypair[1].p, keypair[1].q, keypair[0].n)
    assert back.decrypt(keypair[0].encrypt(42)) == 42


def test_a_key_file_is_never_overwritten(keypair, phe_keypair, tmp_path):
    path = write_private_key(keypair[1], tmp_path / "key.json")
    before = path.read_bytes()
    with pytest.raises(InputError, match="already exists: expected a new path"):
        write_private_key(phe_keypair[1], path)
    assert path.read_bytes() == before


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.update(format="other/1"), "is not a key file"),
    (lambda d: d.pop("q"), "is not a key file"),
    (lambda d: d.update(q="12x"), "n, p and q must be decimal integers"),
    (lambda d: d.update(q=str(int(d["q"]) + 2)), "p \\* q is not n"),
])
def test_an_edited_key_file_is_refused_in_one_line(keypair, tmp_path, edit, message):
    path = write_private_key(keypair[1], tmp_path / "key.json")
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match=message) as exc:
        read_private_key(path, allow_insecure=True)
    assert "\n" not in str(exc.value) and str(path) in str(exc.value)


def test_a_short_key_file_needs_the_test_override(keypair, tmp_path):
    path = write_private_key(keypair[1], tmp_path / "key.json")
    with pytest.raises(InputError, match="small test keys need allow_insecure"):
        read_private_key(path)
