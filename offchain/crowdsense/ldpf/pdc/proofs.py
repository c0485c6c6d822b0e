"""Well-formedness proofs of a PDC query: Z comes from the task ciphertexts and one grid point.

Why a proof is needed. Protocol 2 binds the blinding r (a keccak commitment on the board) but
not how ``Z`` was formed: a receiver can send ``Z = Enc(r)`` and be accepted at distance 0, or
send ``Z = Enc(r) * prod c_i^(2^i)`` and read the task centre's bits off the decryption it gets
back. The platform must therefore be convinced *before it decrypts* that Z encrypts
``dist(P, C) + r`` for some grid point P of the receiver's choosing, without learning P.

Why not one proven factor per index. The platform owns the Paillier key: it decrypts every
ciphertext it is shown. A factor ``Enc(b_i)`` or ``Enc(1 - b_i)`` per index would hand it the
receiver's Encode 1 bit by bit (it knows ``b_i``), i.e. the exact location. Everything the
receiver sends must have a plaintext that is uniformly masked, and the masks must be bound
in a commitment the platform *cannot* open. Here that is a Pedersen commitment on secp256k1
(``coincurve``), whose hiding is perfect and whose binding rests on the discrete logarithm of
``H`` to the base ``G`` (``H`` is hashed to the curve, so nobody knows it).

The statement, per axis. With the task ciphertexts ``c_i = Enc(b_i)`` of one axis of ``w``
points, everybody can compute the ``w`` public ciphertexts of the axis distances::

    T(p) = (1 + n)^(w - p) * prod_{i < p} c_i * prod_{i >= p} c_i^(-1)   = Enc(|p - c|)

(Proposition 2 on one axis; ``T(p + 1) = T(p) c_p^2 (1 + n)^(-1)``.) The receiver at
``P = (x, y)`` draws masks ``u, v < 2^(r_bits - 1)``, sets ``r = u + v`` and sends::

    W_x = T_x(x) (1 + n)^u sigma_x^n,   U = u G + t H
    W_y = T_y(y) (1 + n)^v sigma_y^n,   V = v G + t' H

and the platform computes ``Z = W_x W_y = Enc(dist + r)`` itself. For each axis the receiver
proves, non-interactively, *"there is a p with* ``W / T(p) = (1 + n)^m rho^n`` *and*
``U = m G + t H`` *for the same integer m"*: a Cramer-Damgard-Schoenmakers OR over the ``w``
positions of an AND of a proof of knowledge of a Paillier opening (an n-th residuosity proof of
``W T(p)^-1 (1 + n)^-m``) and of a Pedersen opening, with one integer response for m in both
groups. The Fiat-Shamir challenge hashes the task digest, the receiver's account, its
commitment on the board, the axis and every first message. At reveal the receiver opens
``U + V = r G + (t + t') H``: the constant term of Z is the r of the board.

Per branch p the transcript is ``(A_p, D_p, e_p, z_m, z_t, z_rho)`` with::

    (1 + n)^z_m z_rho^n = A_p (W T(p)^-1)^e_p  (mod n^2)
    z_m G + z_t H = D_p + e_p U
    sum_p e_p = H(context, W, U, A, D)  (mod 2^128),   0 <= z_m < 2^(MAX_MASK_BITS + 128 + 80 + 1)

Verification. :func:`verify_axis` checks these equations one by one (anyone holding n can,
~2 exponentiations per branch). The platform, which holds the factorisation, uses
:func:`verify_query_batched`: the Paillier equations hold up to an n-th residue exactly when
their plaintexts satisfy ``z_m = Dec(A_p) + e_p (Dec(W) - |p - c|)``, and the platform knows
``|p - c|``; it checks one random linear combination (64-bit secret weights) of these relations
modulo the prime p of the key - one multi-exponentiation with 64-bit exponents and one CRT
decryption - and one random combination of the curve equations. A proof with a false relation
passes with probability at most ``2^-64``. Receivers cannot factor n, so checking modulo p
loses nothing.

Soundness and zero knowledge (argued in docs/pdc.md). An accepted axis proof means the
receiver knows a position p and a small integer m with ``Dec(W) = |p - c| + m`` and m opened
by U; the reveal's ``U + V = r G + tau H`` then makes ``Dec(Z) = dist(P, C) + r``. Every branch
transcript has the same distribution whether it is the real one or simulated (challenge shares
and ``z_t``, ``z_rho`` uniform, ``z_m`` within 2^-80 of uniform), even for a verifier that
decrypts, so the platform learns neither P nor the masks.

Costs. Everything that does not depend on the task is drawn offline by :func:`precompute_axis`:
the masks, commitments, the real branch's first message and, for each of the ``w - 1``
simulated branches, its challenge, responses, ``z_rho^n`` (one full n-th power each - the
bulk of the work) and its curve point. Online there remain the table ``T`` (``w`` products),
W, and per simulated branch one 128-bit exponentiation ``(T(p) W^-1)^e_p``.

References
----------
R. Cramer, I. Damgard, B. Schoenmakers, "Proofs of partial knowledge and simplified design of
witness hiding protocols", CRYPTO 1994. I. Damgard, M. Jurik, "A generalisation, a
simplification and some applications of Paillier's probabilistic public-key system", PKC 2001
(proofs of n-th residuosity). M. Bellare, J. Garay, T. Rabin, "Fast batch verification for
modular exponentiation and digital signatures", EUROCRYPT 1998 (small-exponent batching).
F. Boudot, "Efficient proofs that a committed number lies in an interval", EUROCRYPT 2000
(integer responses shared between groups).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any, Sequence

import coincurve
import gmpy2
from gmpy2 import mpz
from phe import paillier

from crowdsense.commitments import keccak256
from crowdsense.ldpf.pdc.errors import MessageError

__all__ = [
    "CHALLENGE_BITS",
    "SLACK_BITS",
    "BATCH_BITS",
    "MAX_MASK_BITS",
    "CURVE_ORDER",
    "pedersen_commit",
    "distance_table",
    "AxisPrecomputation",
    "precompute_axis",
    "AxisProof",
    "QueryProof",
    "prove_axis",
    "QueryPrecomputation",
    "precompute_query",
    "task_tables",
    "prove_query",
    "verify_axis",
    "verify_query",
    "verify_query_batched",
    "proof_context",
    "open_masks",
]

#: Bits of the Fiat-Shamir challenge and of each branch's share of it.
CHALLENGE_BITS = 128
#: Statistical hiding of the masks in the integer responses ``z_m = s + e m`` (2^-80).
SLACK_BITS = 80
#: Bits of the verifier's secret weights in the batched check (error 2^-64).
BATCH_BITS = 64
#: Largest mask length: r = u + v < 2^(MAX_MASK_BITS + 1), far below the curve order.
MAX_MASK_BITS = 127
#: Order q of secp256k1 (the Pedersen group).
CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_Z_BOUND = 1 << (MAX_MASK_BITS + CHALLENGE_BITS + SLACK_BITS + 1)
_CHALLENGE_MOD = 1 << CHALLENGE_BITS
_DOMAIN = b"crowdsense/ldpf-pdc/well-formed/v1\x00"
_HEX = re.compile(r"[0-9a-f]+")


# ------------------------------------------------------------------------- Pedersen on secp256k1


def _hash_to_curve(tag: bytes) -> coincurve.PublicKey:
    """A point nobody knows the logarithm of: the first x = keccak(tag, i) on the curve (even y)."""
    for i in range(1000):
        x = int.from_bytes(keccak256(tag + i.to_bytes(4, "big")), "big")
        try:
            return coincurve.PublicKey(b"\x02" + x.to_bytes(32, "big"))
        except ValueError:
            continue
    raise AssertionError("no curve point found")  # pragma: no cover - probability 2^-1000


_G = coincurve.PublicKey.from_secret((1).to_bytes(32, "big"))
_H = _hash_to_curve(b"crowdsense/ldpf-pdc/pedersen-H")


def _scalar(k: int) -> bytes:
    return (int(k) % CURVE_ORDER).to_bytes(32, "big")


def _combine(terms: Sequence[tuple[int, coincurve.PublicKey]]) -> bytes | None:
    """Compressed ``sum k_i P_i`` (``None`` for the point at infinity)."""
    points = [p.multiply(_scalar(k)) for k, p in terms if int(k) % CURVE_ORDER]
    if not points:
        return None
    try:
        return coincurve.PublicKey.combine_keys(points).format(compressed=True)
    except ValueError:  # the sum is the point at infinity
        return None


def _point(data: bytes, name: str) -> coincurve.PublicKey:
    try:
        return coincurve.PublicKey(bytes(data))
    except (ValueError, TypeError) as exc:
        raise MessageError(f"{name} is not a compressed secp256k1 point") from exc


def pedersen_commit(m: int, t: int) -> bytes:
    """``m G + t H`` compressed (33 bytes); perfectly hiding, binding under discrete log."""
    out = _combine([(m, _G), (t, _H)])
    if out is None:  # pragma: no cover - needs m G = -t H
        raise ValueError("degenerate Pedersen commitment")
    return out


# ----------------------------------------------------------------------------- distance tables


def distance_table(n: Any, ciphertexts: Sequence[Any]) -> list[mpz]:
    """``T(p) = Enc(|p - c|)`` for every position p of an axis, from its task ciphertexts.

    ``T(0) = (1 + n)^w prod c_i^-1`` and ``T(p + 1) = T(p) c_p^2 (1 + n)^-1``: w products and
    one inversion. Raises :class:`MessageError` if a ciphertext is not invertible mod n^2.
    """
    n = mpz(n)
    n2 = n * n
    cts = [mpz(c) for c in ciphertexts]
    prod = mpz(1)
    for c in cts:
        prod = prod * c % n2
    if gmpy2.gcd(prod, n) != 1:
        raise MessageError("task ciphertexts are not all invertible modulo n^2 (not valid Paillier ciphertexts)")
    step_down = 1 - n  # (1 + n)^-1 mod n^2
    table = [(1 + len(cts) * n) * gmpy2.invert(prod, n2) % n2]
    for c in cts[:-1]:
        table.append(table[-1] * c % n2 * c % n2 * step_down % n2)
    return table


# --------------------------------------------------------------------------------------- proofs


@dataclass(frozen=True)
class AxisProof:
    """The masked axis ciphertext W, the Pedersen commitment to its mask, and the OR-proof."""

    w: int
    commitment: bytes
    a: tuple[int, ...]
    d: tuple[bytes, ...]
    e: tuple[int, ...]
    z_m: tuple[int, ...]
    z_t: tuple[int, ...]
    z_rho: tuple[int, ...]

    def __post_init__(self) -> None:
        sizes = {len(self.a), len(self.d), len(self.e), len(self.z_m), len(self.z_t), len(self.z_rho)}
        if len(sizes) != 1 or not self.a:
            raise MessageError("an axis proof needs the same non-zero number of a, d, e, z_m, z_t, z_rho")
        for name, value in (("w", self.w), *((f"a[{i}]", v) for i, v in enumerate(self.a))):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise MessageError(f"{name} must be a positive int")
        for i, (e, zm, zt, zr) in enumerate(zip(self.e, self.z_m, self.z_t, self.z_rho)):
            if not 0 <= e < _CHALLENGE_MOD:
                raise MessageError(f"e[{i}] must be in [0, 2^{CHALLENGE_BITS})")
            if not 0 <= zm < _Z_BOUND:
                raise MessageError(f"z_m[{i}] is outside [0, 2^{_Z_BOUND.bit_length() - 1})")
            if not 0 <= zt < CURVE_ORDER:
                raise MessageError(f"z_t[{i}] must be below the curve order")
            if zr <= 0:
                raise MessageError(f"z_rho[{i}] must be positive")
        for i, point in enumerate((self.commitment, *self.d)):
            if not isinstance(point, bytes) or len(point) != 33:
                raise MessageError(f"curve point {i} must be 33 bytes (compressed)")

    def to_dict(self) -> dict[str, Any]:
        return {
            "w": format(self.w, "x"),
            "commitment": self.commitment.hex(),
            "a": [format(v, "x") for v in self.a],
            "d": [v.hex() for v in self.d],
            "e": [format(v, "x") for v in self.e],
            "z_m": [format(v, "x") for v in self.z_m],
            "z_t": [format(v, "x") for v in self.z_t],
            "z_rho": [format(v, "x") for v in self.z_rho],
        }

    @classmethod
    def from_dict(cls, obj: Any, where: str) -> AxisProof:
        if not isinstance(obj, dict) or set(obj) != {"w", "commitment", "a", "d", "e", "z_m", "z_t", "z_rho"}:
            raise MessageError(f"{where} must be an object with w, commitment, a, d, e, z_m, z_t, z_rho")

        def hexint(v: Any, name: str) -> int:
            if not isinstance(v, str) or len(v) > 4100 or not _HEX.fullmatch(v):
                raise MessageError(f"{where}.{name} must be a hex string of lowercase digits (at most 4100)")
            return int(mpz(v, 16))

        def hexbytes(v: Any, name: str) -> bytes:
            try:
                out = bytes.fromhex(v) if isinstance(v, str) else None
            except ValueError:
                out = None
            if out is None or len(out) != 33:
                raise MessageError(f"{where}.{name} must be 66 hex digits (a compressed point)")
            return out

        lists = {}
        for key in ("a", "d", "e", "z_m", "z_t", "z_rho"):
            if not isinstance(obj[key], list):
                raise MessageError(f"{where}.{key} must be a list")
            lists[key] = obj[key]
        return cls(
            w=hexint(obj["w"], "w"),
            commitment=hexbytes(obj["commitment"], "commitment"),
            a=tuple(hexint(v, f"a[{i}]") for i, v in enumerate(lists["a"])),
            d=tuple(hexbytes(v, f"d[{i}]") for i, v in enumerate(lists["d"])),
            e=tuple(hexint(v, f"e[{i}]") for i, v in enumerate(lists["e"])),
            z_m=tuple(hexint(v, f"z_m[{i}]") for i, v in enumerate(lists["z_m"])),
            z_t=tuple(hexint(v, f"z_t[{i}]") for i, v in enumerate(lists["z_t"])),
            z_rho=tuple(hexint(v, f"z_rho[{i}]") for i, v in enumerate(lists["z_rho"])),
        )


@dataclass(frozen=True)
class QueryProof:
    """Both axes' proofs; ``Z = x.w * y.w mod n^2``."""

    x: AxisProof
    y: AxisProof

    def to_dict(self) -> dict[str, Any]:
        return {"x": self.x.to_dict(), "y": self.y.to_dict()}

    @classmethod
    def from_dict(cls, obj: Any) -> QueryProof:
        if not isinstance(obj, dict) or set(obj) != {"x", "y"}:
            raise MessageError("proof must be an object with the axis proofs x and y")
        return cls(AxisProof.from_dict(obj["x"], "proof.x"), AxisProof.from_dict(obj["y"], "proof.y"))


def proof_context(task_digest: bytes, receiver: str, commitment: bytes) -> bytes:
    """What the Fiat-Shamir challenge is bound to: the task, the receiver's account, its commitment."""
    rid = receiver.lower().encode()
    return task_digest + len(rid).to_bytes(2, "big") + rid + commitment


def _challenge(context: bytes, axis: str, n: mpz, w: int, commitment: bytes, a: Sequence[Any],
               d: Sequence[bytes]) -> int:
    width = 2 * ((int(n).bit_length() + 7) // 8)
    parts = [_DOMAIN, context, axis.encode(), int(n).to_bytes(width // 2, "big"), int(w).to_bytes(width, "big"),
             commitment, len(a).to_bytes(4, "big")]
    parts.extend(int(v).to_bytes(width, "big") for v in a)
    parts.extend(d)
    return int.from_bytes(keccak256(b"".join(parts)), "big") % _CHALLENGE_MOD


@dataclass
class AxisPrecomputation:
    """Everything of one axis proof that does not depend on the task (drawn offline, used once)."""

    n: mpz
    size: int
    index: int
    mask: int
    t: int
    commitment: bytes
    sigma: mpz  # randomness of W
    sigma_n: mpz
    s_m: int
    s_t: int
    rho0: mpz
    a_real: mpz  # (1 + s_m n) rho0^n
    d_real: bytes
    e: dict[int, int]  # simulated branches: challenge share, responses, partial first messages
    z_m: dict[int, int]
    z_t: dict[int, int]
    z_rho: dict[int, mpz]
    base: dict[int, mpz]  # (1 + z_m n) z_rho^n
    d: dict[int, bytes]


def _unit(n: mpz) -> mpz:
    while True:
        v = mpz(secrets.randbelow(int(n) - 2) + 2)
        if gmpy2.gcd(v, n) == 1:
            return v


def precompute_axis(n: Any, size: int, index: int, *, mask_bits: int) -> AxisPrecomputation:
    """Offline part of an axis proof for position ``index`` on an axis of ``size`` points.

    Costs ``size + 1`` n-th powers modulo n^2 (random, so computable while idle).
    """
    if not 0 <= index < size:
        raise ValueError(f"index must be in [0, {size}), got {index}")
    if not 1 <= mask_bits <= MAX_MASK_BITS:
        raise ValueError(f"mask_bits must be in [1, {MAX_MASK_BITS}], got {mask_bits}")
    n = mpz(n)
    n2 = n * n
    s_bits = MAX_MASK_BITS + CHALLENGE_BITS + SLACK_BITS
    mask = secrets.randbelow(1 << mask_bits)
    t = secrets.randbelow(CURVE_ORDER - 1) + 1
    sigma, rho0 = _unit(n), _unit(n)
    s_m, s_t = secrets.randbelow(1 << s_bits), secrets.randbelow(CURVE_ORDER - 1) + 1
    commitment = pedersen_commit(mask, t)
    u_point = coincurve.PublicKey(commitment)
    d_real = _combine([(s_m, _G), (s_t, _H)])
    pre = AxisPrecomputation(
        n=n, size=size, index=index, mask=mask, t=t, commitment=commitment, sigma=sigma,
        sigma_n=gmpy2.powmod(sigma, n, n2), s_m=s_m, s_t=s_t, rho0=rho0,
        a_real=(1 + s_m * n) * gmpy2.powmod(rho0, n, n2) % n2, d_real=d_real or b"",
        e={}, z_m={}, z_t={}, z_rho={}, base={}, d={},
    )
    for p in range(size):
        if p == index:
            continue
        e, z_m = secrets.randbelow(_CHALLENGE_MOD), secrets.randbelow(1 << s_bits)
        z_t, z_rho = secrets.randbelow(CURVE_ORDER), _unit(n)
        point = _combine([(z_m, _G), (z_t, _H), (-e, u_point)])
        if point is None or d_real is None:  # pragma: no cover - probability 2^-256
            return precompute_axis(n, size, index, mask_bits=mask_bits)
        pre.e[p], pre.z_m[p], pre.z_t[p], pre.z_rho[p] = e, z_m, z_t, z_rho
        pre.base[p] = (1 + z_m * n) * gmpy2.powmod(z_rho, n, n2) % n2
        pre.d[p] = point
    return pre


def prove_axis(pre: AxisPrecomputation, table: Sequence[Any], context: bytes, axis: str) -> AxisProof:
    """Online part: W from the task's table, one 128-bit power per simulated branch, the challenge."""
    if len(table) != pre.size:
        raise ValueError(f"table has {len(table)} entries, the precomputation is for {pre.size}")
    n = pre.n
    n2 = n * n
    w = mpz(table[pre.index]) * (1 + pre.mask * n) % n2 * pre.sigma_n % n2
    w_inv = gmpy2.invert(w, n2)
    a: list[mpz] = []
    d: list[bytes] = []
    for p in range(pre.size):
        if p == pre.index:
            a.append(pre.a_real)
            d.append(pre.d_real)
        else:
            a.append(pre.base[p] * gmpy2.powmod(mpz(table[p]) * w_inv % n2, pre.e[p], n2) % n2)
            d.append(pre.d[p])
    e_all = _challenge(context, axis, n, int(w), pre.commitment, a, d)
    e_real = (e_all - sum(pre.e.values())) % _CHALLENGE_MOD
    es, zm, zt, zr = [], [], [], []
    for p in range(pre.size):
        if p == pre.index:
            es.append(e_real)
            zm.append(pre.s_m + e_real * pre.mask)
            zt.append((pre.s_t + e_real * pre.t) % CURVE_ORDER)
            zr.append(int(pre.rho0 * gmpy2.powmod(pre.sigma, e_real, n) % n))
        else:
            es.append(pre.e[p])
            zm.append(pre.z_m[p])
            zt.append(pre.z_t[p])
            zr.append(int(pre.z_rho[p]))
    return AxisProof(w=int(w), commitment=pre.commitment, a=tuple(int(v) for v in a), d=tuple(d),
                     e=tuple(es), z_m=tuple(zm), z_t=tuple(zt), z_rho=tuple(zr))


@dataclass
class QueryPrecomputation:
    """The offline part of a query's proofs for one grid point: masks ``u``, ``v`` and both axes."""

    x: AxisPrecomputation
    y: AxisPrecomputation

    @property
    def r(self) -> int:
        """The blinding ``r = u + v``: the plaintext Z carries on top of the distance."""
        return self.x.mask + self.y.mask

    @property
    def tau(self) -> int:
        """The opening of ``U + V = r G + tau H`` revealed with r."""
        return (self.x.t + self.y.t) % CURVE_ORDER


def precompute_query(n: Any, shape: tuple[int, int], location: tuple[int, int], *, r_bits: int) -> QueryPrecomputation:
    """Offline part of both axis proofs (``width + height + 2`` n-th powers); r has ``r_bits`` bits at most."""
    if not 2 <= r_bits <= MAX_MASK_BITS + 1:
        raise ValueError(f"r_bits must be in [2, {MAX_MASK_BITS + 1}] with proofs, got {r_bits}")
    return QueryPrecomputation(
        precompute_axis(n, shape[0], location[0], mask_bits=r_bits - 1),
        precompute_axis(n, shape[1], location[1], mask_bits=r_bits - 1),
    )


def task_tables(n: Any, ciphertexts: Sequence[Any], width: int) -> tuple[list[mpz], list[mpz]]:
    """``(T_x, T_y)``: the distance tables of both axes of a task (x-axis ciphertexts first)."""
    return distance_table(n, ciphertexts[:width]), distance_table(n, ciphertexts[width:])


def prove_query(pre: QueryPrecomputation, tables: tuple[Sequence[Any], Sequence[Any]], context: bytes) -> QueryProof:
    """Online part of both axis proofs; ``Z = proof.x.w * proof.y.w`` encrypts ``dist + pre.r``."""
    return QueryProof(prove_axis(pre.x, tables[0], context, "x"), prove_axis(pre.y, tables[1], context, "y"))


def _common_checks(n: mpz, proof: AxisProof, table: Sequence[Any], context: bytes, axis: str) -> str | None:
    """Sizes, ranges, group membership and the challenge; a reason string when something fails."""
    if len(proof.a) != len(table):
        return f"axis {axis}: {len(proof.a)} branches, the axis has {len(table)} positions"
    n2 = n * n
    if not 0 < proof.w < n2 or gmpy2.gcd(proof.w, n) != 1:
        return f"axis {axis}: W is not a ciphertext under the task key"
    units = mpz(1)  # every A_p must be a unit mod n^2: one gcd of their product mod n
    for i, (a, zr) in enumerate(zip(proof.a, proof.z_rho)):
        if not 0 < a < n2 or not 0 < zr < n:
            return f"axis {axis}: branch {i} holds a value outside the ciphertext space"
        units = units * a % n
    if gmpy2.gcd(units, n) != 1:
        return f"axis {axis}: a branch holds a value outside the ciphertext space (not a unit)"
    if sum(proof.e) % _CHALLENGE_MOD != _challenge(context, axis, n, proof.w, proof.commitment, proof.a, proof.d):
        return f"axis {axis}: the challenge shares do not add up to the Fiat-Shamir challenge"
    return None


def verify_axis(n: Any, proof: AxisProof, table: Sequence[Any], context: bytes, axis: str) -> str | None:
    """Check every branch equation (public: needs only n). ``None`` if valid, else the reason."""
    n = mpz(n)
    n2 = n * n
    reason = _common_checks(n, proof, table, context, axis)
    if reason:
        return reason
    u_point = _point(proof.commitment, "commitment")
    for p, (a, d, e, zm, zt, zr) in enumerate(zip(proof.a, proof.d, proof.e, proof.z_m, proof.z_t, proof.z_rho)):
        lhs = (1 + zm * n) * gmpy2.powmod(mpz(zr), n, n2) % n2
        x_p = mpz(proof.w) * gmpy2.invert(mpz(table[p]), n2) % n2
        if lhs != mpz(a) * gmpy2.powmod(x_p, e, n2) % n2:
            return f"axis {axis}: the Paillier equation of branch {p} fails"
        left = _combine([(zm, _G), (zt, _H)])
        right = _combine([(1, _point(d, f"d[{p}]")), (e, u_point)])
        if left != right:
            return f"axis {axis}: the curve equation of branch {p} fails"
    return None


def _multi_pow(bases: Sequence[mpz], exps: Sequence[int], modulus: mpz, c: int = 6) -> mpz:
    """``prod b_i^e_i mod modulus`` by Pippenger's bucket method (far fewer products than one
    exponentiation per base when the exponents are short and the bases many)."""
    windows = (max(int(e).bit_length() for e in exps) + c - 1) // c
    mask, acc = (1 << c) - 1, mpz(1)
    for j in reversed(range(windows)):
        for _ in range(c):
            acc = acc * acc % modulus
        buckets: list[mpz | None] = [None] * (mask + 1)
        shift = j * c
        for b, e in zip(bases, exps):
            digit = (e >> shift) & mask
            if digit:
                cur = buckets[digit]
                buckets[digit] = b if cur is None else cur * b % modulus
        running, total = mpz(1), mpz(1)
        for digit in range(mask, 0, -1):  # total = prod_d bucket_d^d
            if buckets[digit] is not None:
                running = running * buckets[digit] % modulus
            total = total * running % modulus
        acc = acc * total % modulus
    return acc


def _ec_multi(points: Sequence[coincurve.PublicKey], scalars: Sequence[int], c: int = 5) -> coincurve.PublicKey:
    """``sum k_i P_i`` for short scalars by the same bucket method (additions in libsecp256k1).

    Raises ``ValueError`` if an intermediate sum is the point at infinity (never for honest
    proofs: probability about 2^-256 per sum).
    """
    combine = coincurve.PublicKey.combine_keys
    windows = (max(int(k).bit_length() for k in scalars) + c - 1) // c
    mask, acc = (1 << c) - 1, None
    shift_scalar = (1 << c).to_bytes(32, "big")
    for j in reversed(range(windows)):
        if acc is not None:
            acc = acc.multiply(shift_scalar)
        buckets: list[list[coincurve.PublicKey]] = [[] for _ in range(mask + 1)]
        for point, k in zip(points, scalars):
            digit = (k >> (j * c)) & mask
            if digit:
                buckets[digit].append(point)
        running, sums = None, []
        for digit in range(mask, 0, -1):
            if buckets[digit]:
                running = combine(buckets[digit] + ([running] if running is not None else []))
            if running is not None:
                sums.append(running)
        if sums:
            window = combine(sums)
            acc = window if acc is None else combine([acc, window])
    if acc is None:
        raise ValueError("empty multi-scalar product")
    return acc


def verify_query_batched(
    private_key: paillier.PaillierPrivateKey,
    proof: QueryProof,
    tables: tuple[Sequence[Any], Sequence[Any]],
    distances: tuple[Sequence[int], Sequence[int]],
    context: bytes,
) -> str | None:
    """The key owner's check of both axes: one random linear combination of all branch relations.

    Parameters
    ----------
    tables : (T_x, T_y)
        :func:`distance_table` of each axis of the task.
    distances : (sequence of int, sequence of int)
        ``|p - c|`` for every position p of each axis (the platform knows its task centre).

    Returns
    -------
    None if the proof is valid, else the reason it is not.
    """
    n = mpz(private_key.public_key.n)
    p_, p2 = mpz(private_key.p), mpz(private_key.psquare)
    axes = (("x", proof.x, tables[0], distances[0]), ("y", proof.y, tables[1], distances[1]))
    bases: list[mpz] = []
    weights: list[int] = []
    left_paillier = right_paillier = mpz(0)
    sum_zm = sum_zt = 0
    points: list[coincurve.PublicKey] = []
    commitment_terms: list[tuple[int, coincurve.PublicKey]] = []
    for axis, ax, table, dist in axes:
        reason = _common_checks(n, ax, table, context, axis)
        if reason:
            return reason
        if len(dist) != len(table):
            raise ValueError("one distance per position is needed")
        lam = [secrets.randbits(BATCH_BITS) | 1 for _ in ax.a]
        dec_w = _decrypt_mod_p(private_key, mpz(ax.w) % p2)
        # Paillier relations modulo p: z_m = Dec(A) + e (Dec(W) - |p - c|), weighted by l.
        left_paillier += sum(l * zm for l, zm in zip(lam, ax.z_m))
        right_paillier += sum(l * e * (dec_w - d) for l, e, d in zip(lam, ax.e, dist))
        bases.extend(mpz(a) % p2 for a in ax.a)
        weights.extend(lam)
        # Curve equations: z_m G + z_t H = D + e U, weighted by l.
        sum_zm += sum(l * zm for l, zm in zip(lam, ax.z_m))
        sum_zt += sum(l * zt for l, zt in zip(lam, ax.z_t))
        try:
            points.extend(_point(d, f"{axis}.d[{i}]") for i, d in enumerate(ax.d))
            commitment_terms.append((sum(l * e for l, e in zip(lam, ax.e)), _point(ax.commitment, "commitment")))
        except MessageError as exc:
            return f"axis {axis}: {exc}"
    dec_a = _decrypt_mod_p(private_key, _multi_pow(bases, weights, p2))
    if (left_paillier - right_paillier - dec_a) % p_ != 0:
        return "the Paillier relations of the OR-proofs fail (batched check)"
    try:
        rhs = _ec_multi(points, weights).format(compressed=True)
    except ValueError:
        return "the curve equations of the OR-proofs fail (batched check)"
    lhs = _combine([(sum_zm, _G), (sum_zt, _H), *((-k, pt) for k, pt in commitment_terms)])
    if lhs != rhs:
        return "the curve equations of the OR-proofs fail (batched check)"
    return None


def verify_query(n: Any, proof: QueryProof, tables: tuple[Sequence[Any], Sequence[Any]], context: bytes) -> str | None:
    """Public check of both axes (every branch equation; needs only n). ``None`` if valid."""
    return verify_axis(n, proof.x, tables[0], context, "x") or verify_axis(n, proof.y, tables[1], context, "y")


def _decrypt_mod_p(private_key: paillier.PaillierPrivateKey, c_mod_p2: mpz) -> mpz:
    """Plaintext modulo p of a ciphertext given modulo p^2 (half of phe's CRT decryption)."""
    p, p2 = mpz(private_key.p), mpz(private_key.psquare)
    u = gmpy2.powmod(c_mod_p2, p - 1, p2)
    return (u - 1) // p * mpz(private_key.hp) % p


def open_masks(left: bytes, right: bytes, r: int, tau: int) -> bool:
    """Whether ``left + right = r G + tau H`` (the reveal: Z's constant term is the committed r)."""
    try:
        total = _combine([(1, _point(left, "x commitment")), (1, _point(right, "y commitment"))])
    except MessageError:
        return False
    return total is not None and total == _combine([(r, _G), (tau, _H)])

