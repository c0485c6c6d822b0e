"""Fixtures for the PDC tests: small Paillier keys made once per session.

Small keys are test-only and need the explicit ``allow_insecure=True`` override everywhere.
"""

import math
import secrets

import gmpy2
import pytest
from phe import paillier

from crowdsense.commitments import MemoryCommitmentBoard, MemorySecretStore
from crowdsense.ldpf.pdc.encoding import Grid
from crowdsense.ldpf.pdc.keys import generate_keypair
from crowdsense.ldpf.pdc.platform import Platform
from crowdsense.ldpf.pdc.receiver import Receiver

TEST_KEY_BITS = 256


@pytest.fixture(scope="session")
def keypair():
    """A structured 256-bit key (fixed-base encryption path)."""
    return generate_keypair(TEST_KEY_BITS, allow_insecure=True)


def _unstructured_prime(bits):
    """A prime p with p - 1 = 2 a b k, a and b random primes far above the 2**17 smoothness bound."""
    while True:
        a = int(gmpy2.next_prime(secrets.randbits(bits // 2 - 4) | 1 << (bits // 2 - 5)))
        b = int(gmpy2.next_prime(secrets.randbits(bits // 2 - 4) | 1 << (bits // 2 - 5)))
        for k in range(1, 2000):
            p = 2 * a * b * k + 1
            if p.bit_length() == bits and gmpy2.is_prime(p, 50):
                return p


@pytest.fixture(scope="session")
def phe_keypair():
    """A 256-bit key whose primes defeat the fixed-base path (CRT encryption path).

    ``phe``'s generator would do, but its small primes are now and then structured by chance,
    which would make the path taken random.
    """
    while True:
        p, q = _unstructured_prime(TEST_KEY_BITS // 2), _unstructured_prime(TEST_KEY_BITS // 2)
        if p != q and (p * q).bit_length() == TEST_KEY_BITS and math.gcd(p * q, (p - 1) * (q - 1)) == 1:
            pk = paillier.PaillierPublicKey(p * q)
            return pk, paillier.PaillierPrivateKey(pk, p, q)


@pytest.fixture(scope="session")
def generated_phe_keypair():
    """A 256-bit key from ``phe``'s own generator (``structured=False``)."""
    return generate_keypair(TEST_KEY_BITS, allow_insecure=True, structured=False)


@pytest.fixture
def grid():
    """A small non-square grid, so width/height mix-ups show."""
    return Grid(9, 7)


@pytest.fixture
def board():
    return MemoryCommitmentBoard("platform")


@pytest.fixture
def platform(keypair, grid, board):
    return Platform(keypair[1], grid, board=board, allow_insecure=True)


@pytest.fixture
def make_receiver(grid, board):
    """``make_receiver(name, location, **kwargs)``: a receiver acting as ``name`` on the shared board."""

    def make(name, location, *, store=None, receiver_board=None, **kwargs):
        return Receiver(
            location,
            grid,
            board=receiver_board if receiver_board is not None else board.as_account(name),
            secret_store=store if store is not None else MemorySecretStore(),
            allow_insecure=True,
            **kwargs,
        )

    return make
