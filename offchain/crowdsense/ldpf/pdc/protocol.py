"""Protocol 2 of LDPF (PDC): the platform learns each receiver's Manhattan distance, nothing else.

Roles: the **platform** (sensing platform C, owner of the Paillier key, knows the task centre;
:mod:`crowdsense.ldpf.pdc.platform`) and each **receiver** (user D, knows its own grid position;
:mod:`crowdsense.ldpf.pdc.receiver`). This module holds what both sides compute. Steps, with the message types of
:mod:`crowdsense.ldpf.pdc.messages`:

1. *Task, once per task.* The platform encrypts Encode 1 of the centre, ``Enc(E1(C)_i)`` for the
   ``width + height`` bits, and sends the same :class:`TaskMessage` to every receiver.
2. *Query.* The receiver computes ``Z = Enc(dist + r)`` homomorphically (see below) together
   with a proof that Z was formed from the task ciphertexts and one grid point
   (:mod:`crowdsense.ldpf.pdc.proofs`): it sends the masked axis ciphertexts ``W_x``, ``W_y``
   with ``Z = W_x W_y``, and ``r = u + v`` is the sum of their masks. It stores ``r`` and the
   commitment opening in its :class:`~crowdsense.commitments.SecretStore`, *then* records
   ``c = keccak256(abi.encode(r, salt))`` on the :class:`~crowdsense.commitments.CommitmentBoard`,
   and sends ``(c, Z, proof)``. If the receiver has an answer budget
   (:mod:`crowdsense.ldpf.pdc.budget`), it is charged first.
3. *Decryption.* The platform verifies the proof (batched, with its key), checks that c is on
   the board, recorded by that receiver and not yet opened (so r was fixed before anything was
   decrypted), decrypts ``s = dist + r`` and returns s together with the unique ``rho`` such
   that ``Z = (1 + s n) rho^n mod n^2``.
4. *Reveal.* The receiver verifies that equation, derives ``dist = s - r``, checks
   ``0 <= dist <= max_distance``, opens c on the board and sends ``(r, salt, tau)``.
5. *Acceptance.* The platform checks the opening against the board, that ``U + V = r G + tau H``
   (the masks' Pedersen commitments of the proof: the constant term of Z is this r), and
   ``0 <= s - r <= max_distance``, and accepts ``dist = s - r``.

The homomorphic distance (step 2). With ``a = E1(D)`` and ``b = E1(C)``, Proposition 2 gives
``dist = E1(D).E2(C) + E2(D).E1(C) = sum_i a_i (1 - b_i) + (1 - a_i) b_i
= |A| - sum_{i in A} b_i + sum_{i not in A} b_i`` where ``A = {i : a_i = 1}``. Since the
receiver's bits are 0/1, there is no scalar multiplication at all::

    Z = (1 + (|A| + r) n) * prod_{i not in A} c_i * (prod_{i in A} c_i)^(-1) * h  mod n^2

(:func:`encrypted_distance`, the published protocol). With proofs the same product is taken
per axis: ``W_x = T_x(x) (1 + u n) sigma_x^n`` where ``T_x(p)`` is that product over the x
axis for position p (:func:`crowdsense.ldpf.pdc.proofs.distance_table`), and the same for y.
Encode 2 never travels: it is the complement of Encode 1 and enters through ``|A|`` and the
inverse.

Security argument (location privacy against the key owner, cheats of either side):

* *Receiver's location.* Every ciphertext the receiver sends is re-randomised with a fresh
  uniform n-th residue. Even the key owner learns only the plaintexts: ``dx + u`` for W_x,
  ``dy + v`` for W_y, ``dist + r`` for Z. Each is masked by a uniform value of
  ``r_bits - 1`` bits, so it leaks at most ``max_distance / 2**(r_bits - 1)`` before the reveal.
  After the reveal the platform knows r and so dist, which is the purpose of the protocol. It
  does not learn u: the Pedersen commitments are perfectly hiding, and the proofs are
  statistically zero-knowledge even for the key owner (see :mod:`crowdsense.ldpf.pdc.proofs`).
* *Task centre.* The receiver sees Paillier ciphertexts (semantically secure under DCR), then
  ``s`` and ``rho`` for its own Z. The platform decrypts only a Z proven to be
  ``Enc(dist(P, C) + r)`` for a grid point P and an r the receiver knows, so the decryption
  tells the receiver ``dist(P, C)`` and nothing else. Without the proof it would be a
  decryption oracle: ``Z = Enc(r) prod c_i^(2^i)`` would spell out the centre.
* *Caught: a receiver forming Z any other way* (for example ``Z = Enc(r)``, distance 0): the
  proof fails and Z is never decrypted (:class:`CheatingDetected`, party ``"receiver"``).
* *Caught: a receiver lying about r.* c is on the board before the platform decrypts, and
  the keccak commitment is binding, so any ``r' != r`` fails ``check_blinding``; the Pedersen
  opening ``U + V = r G + tau H`` ties the same r to Z's constant term. The 32-byte salt keeps
  a short r from being found by trying every value against the public c.
* *Caught with certainty: a platform returning a wrong s.* For a valid key, Paillier
  encryption is a bijection ``Z_n x Z_n^* -> Z_{n^2}^*``, so no ``(s', rho')`` with ``s' != s``
  satisfies ``Z = (1 + s' n) rho'^n`` (:class:`CheatingDetected`, party ``"platform"``). The
  receiver then does not reveal r, so the platform never learns dist either.

Not detectable here (documented limits): a receiver computing Z for a grid point where it is not
(the proof shows Z is honest for *some* point it chose; where the receiver really is needs
location attestation); a platform encrypting something other than a valid Encode 1 (the receiver
notices only when its distance falls outside the range; the task digest lets receivers compare
that they all got the same ciphertexts); a platform choosing task centres to locate a receiver
from several answers (limited by the receiver's answer budget). The key is trusted to be a valid
Paillier key (the edge layer issues it in the paper's "Preparation" step).

References
----------
LDPF section 4.3, Protocol 2 and Proposition 2; docs/design.md, section 7; docs/pdc.md.
"""

from __future__ import annotations

from typing import Any, Sequence

import gmpy2
from gmpy2 import mpz

from crowdsense.ldpf.pdc.encoding import Grid, Point, encode_point
from crowdsense.ldpf.pdc.errors import BlindingBitsError, KeyLengthError, MessageError
from crowdsense.ldpf.pdc.fastpaillier import PublicEngine
from crowdsense.ldpf.pdc.messages import TaskMessage
from crowdsense.ldpf.pdc.proofs import MAX_MASK_BITS

__all__ = [
    "MIN_R_BITS",
    "MAX_R_BITS",
    "PROOF_MAX_R_BITS",
    "DEFAULT_R_BITS",
    "check_r_bits",
    "encrypt_task",
    "encrypted_distance",
]

#: Fewest random bits of the blinding r. Below 16 bits ``s = dist + r`` would reveal most of
#: dist to the platform before the reveal (statistical distance up to max_distance / 2**r_bits).
MIN_R_BITS = 16
#: Most bits: r must fit the contract's ``uint256``.
MAX_R_BITS = 256
#: Default: 64 bits keep the pre-reveal leak below 2**-48 on any grid up to 10^4 x 10^4.
DEFAULT_R_BITS = 64
#: Most bits with well-formedness proofs: r = u + v with masks below 2**(r_bits - 1), and the
#: masks must stay far below the order of the Pedersen group (see crowdsense.ldpf.pdc.proofs).
PROOF_MAX_R_BITS = MAX_MASK_BITS + 1


def check_r_bits(r_bits: Any) -> int:
    """Return ``r_bits`` after checking ``MIN_R_BITS <= r_bits <= MAX_R_BITS``."""
    if isinstance(r_bits, bool) or not isinstance(r_bits, int):
        raise BlindingBitsError(f"r_bits must be an int, got {r_bits!r}")
    if not MIN_R_BITS <= r_bits <= MAX_R_BITS:
        raise BlindingBitsError(f"r_bits must be in [{MIN_R_BITS}, {MAX_R_BITS}], got {r_bits}")
    return r_bits


def _check_room(key_bits: int, r_bits: int, grid: Grid) -> None:
    """``dist + r < 2**r_bits + max_distance`` must stay below n, with a bit to spare."""
    need = max(r_bits, grid.max_distance.bit_length()) + 2
    if key_bits < need:
        raise KeyLengthError(
            f"a {key_bits}-bit key cannot hold dist + r with r_bits={r_bits}; need >= {need} bits"
        )


def _product(values: Sequence[mpz], modulus: mpz) -> mpz:
    acc = mpz(1)
    for v in values:
        acc = acc * v % modulus
    return acc


def encrypt_task(engine: PublicEngine, task_id: str, grid: Grid, centre: Any) -> TaskMessage:
    """Step 1: ``Enc(E1(C)_i)`` for every bit of the centre's Encode 1 (uses the engine's pool).

    Raises
    ------
    GridError
        If ``centre`` is not an integer point of ``grid``.
    """
    bits = encode_point(centre, grid, scheme=1)
    one, n2 = 1 + engine.n, engine.nsquare  # Enc(1) = (1 + n) h, Enc(0) = h
    ciphertexts = tuple(int(one * engine.obfuscator() % n2) if b else int(engine.obfuscator()) for b in bits)
    return TaskMessage(task_id=task_id, grid=grid, public_key_n=int(engine.n), ciphertexts=ciphertexts)


def encrypted_distance(engine: PublicEngine, task: TaskMessage, location: Point, *, offset: int = 0) -> mpz:
    """Step 2's homomorphic core: a fresh ``Enc(dist(location, C) + offset)`` from the task ciphertexts.

    Parameters
    ----------
    engine : PublicEngine
        Engine for the task's key (its obfuscator pool is used for the re-randomisation).
    task : TaskMessage
    location : (int, int)
        The receiver's grid point (already checked against ``task.grid``).
    offset : int
        Plaintext added to the distance (the blinding r; 0 in the Encode-1-only variant).

    Raises
    ------
    MessageError
        If a task ciphertext is not invertible modulo n^2 (not a Paillier ciphertext).
    """
    if engine.n != task.public_key_n:
        raise MessageError("engine and task message use different public keys")
    x, y = task.grid.check_point(location, name="location")
    width, height = task.grid.shape
    cts = [mpz(c) for c in task.ciphertexts]
    xs, ys = cts[:width], cts[width:]
    n, n2 = engine.n, engine.nsquare
    # A = {i : E1(D)_i = 1} = indices >= x on the x axis and >= y on the y axis.
    in_a = _product(xs[x:], n2) * _product(ys[y:], n2) % n2
    not_a = _product(xs[:x], n2) * _product(ys[:y], n2) % n2
    if gmpy2.gcd(in_a * not_a, n) != 1:
        raise MessageError(
            "task ciphertexts are not all invertible modulo n^2 (not valid Paillier ciphertexts)"
        )
    size_a = (width - x) + (height - y)
    z = not_a * gmpy2.invert(in_a, n2) % n2
    return z * (1 + (size_a + offset) % n * n) % n2 * engine.obfuscator() % n2
