"""Well-formedness proofs: honest proofs verify (publicly and batched), every tampering fails."""

import dataclasses
import secrets

import coincurve
import gmpy2
import pytest
from gmpy2 import mpz

from crowdsense.ldpf.pdc import proofs
from crowdsense.ldpf.pdc.encoding import Grid, encode_point
from crowdsense.ldpf.pdc.errors import MessageError
from crowdsense.ldpf.pdc.fastpaillier import PrivateEngine

GRID = Grid(9, 7)
CENTRE = (6, 2)
CONTEXT = proofs.proof_context(b"\x11" * 32, "alice", b"\x22" * 32)


@pytest.fixture(scope="module")
def task(keypair):
    engine = PrivateEngine(keypair[1])
    cts = [int(engine.encrypt(int(b))) for b in encode_point(CENTRE, GRID)]
    return keypair, cts, proofs.task_tables(keypair[0].n, cts, GRID.width)


def _distances(centre=CENTRE):
    return ([abs(p - centre[0]) for p in range(GRID.width)], [abs(p - centre[1]) for p in range(GRID.height)])


def _prove(task, location, context=CONTEXT, r_bits=64):
    (pk, _), _, tables = task
    pre = proofs.precompute_query(pk.n, GRID.shape, location, r_bits=r_bits)
    return pre, proofs.prove_query(pre, tables, context)


def _both(task, proof, context=CONTEXT, distances=None):
    (pk, sk), _, tables = task
    return (proofs.verify_query(pk.n, proof, tables, context),
            proofs.verify_query_batched(sk, proof, tables, distances or _distances(), context))


def test_distance_table_encrypts_every_axis_distance(task):
    (_, sk), _, (tx, ty) = task
    assert [sk.raw_decrypt(int(c)) for c in tx] == [abs(p - 6) for p in range(9)]
    assert [sk.raw_decrypt(int(c)) for c in ty] == [abs(p - 2) for p in range(7)]


def test_distance_table_refuses_non_invertible_ciphertexts(keypair):
    n = keypair[0].n
    with pytest.raises(MessageError, match="invertible"):
        proofs.distance_table(n, [1, keypair[1].p, 1])


@pytest.mark.parametrize("location", [(0, 0), (8, 6), (6, 2), (3, 5), (8, 0)])
def test_honest_proof_verifies_and_z_encrypts_distance_plus_r(task, location):
    (pk, sk), _, _ = task
    pre, proof = _prove(task, location)
    assert _both(task, proof) == (None, None)
    z = mpz(proof.x.w) * proof.y.w % (mpz(pk.n) ** 2)
    dist = abs(location[0] - CENTRE[0]) + abs(location[1] - CENTRE[1])
    assert sk.raw_decrypt(int(z)) == dist + pre.r
    assert pre.r < 2**64


def test_axis_ciphertexts_are_masked(task):
    # The key owner decrypts W_x and W_y; each is the axis distance plus a mask of r_bits - 1 bits.
    (_, sk), _, _ = task
    pre, proof = _prove(task, (3, 5))
    assert sk.raw_decrypt(proof.x.w) == 3 + pre.x.mask and sk.raw_decrypt(proof.y.w) == 3 + pre.y.mask
    assert 0 <= pre.x.mask < 2**63 and 0 <= pre.y.mask < 2**63


def test_proof_survives_json_round_trip(task):
    _, proof = _prove(task, (1, 1))
    again = proofs.QueryProof.from_dict(proof.to_dict())
    assert again == proof and _both(task, again) == (None, None)


@pytest.mark.parametrize("context", [
    proofs.proof_context(b"\x12" * 32, "alice", b"\x22" * 32),  # another task
    proofs.proof_context(b"\x11" * 32, "mallory", b"\x22" * 32),  # another account
    proofs.proof_context(b"\x11" * 32, "alice", b"\x23" * 32),  # another commitment
])
def test_proof_is_bound_to_task_account_and_commitment(task, context):
    _, proof = _prove(task, (4, 4))
    public, batched = _both(task, proof, context=context)
    assert "Fiat-Shamir" in public and "Fiat-Shamir" in batched


def _bump(values, i, delta=1):
    return tuple(v + delta if j == i else v for j, v in enumerate(values))


@pytest.mark.parametrize("field", ["a", "e", "z_m", "z_t", "w"])
@pytest.mark.parametrize("branch", [0, 4])  # (4, 4): branch 4 is the real one on the x axis
def test_tampered_proof_fails_both_verifiers(task, field, branch):
    _, proof = _prove(task, (4, 4))
    if field == "w":
        n = mpz(task[0][0].n)
        axis = dataclasses.replace(proof.x, w=int(proof.x.w * (1 + n) % n**2))  # W of u + 1
    else:
        axis = dataclasses.replace(proof.x, **{field: _bump(getattr(proof.x, field), branch)})
    public, batched = _both(task, dataclasses.replace(proof, x=axis))
    assert public is not None and batched is not None


@pytest.mark.parametrize("branch", [0, 4])
def test_tampered_nth_root_fails_the_public_check(task, branch):
    # z_rho only shows the n-th residue part to someone without the key; the key owner checks
    # the plaintext relations, which do not involve it.
    _, proof = _prove(task, (4, 4))
    axis = dataclasses.replace(proof.x, z_rho=_bump(proof.x.z_rho, branch))
    public, batched = _both(task, dataclasses.replace(proof, x=axis))
    assert "Paillier equation" in public and batched is None


def test_tampered_curve_points_fail_both_verifiers(task):
    _, proof = _prove(task, (2, 3))
    other = proofs.pedersen_commit(5, 7)
    for axis in (dataclasses.replace(proof.y, commitment=other),
                 dataclasses.replace(proof.y, d=(other, *proof.y.d[1:]))):
        public, batched = _both(task, dataclasses.replace(proof, y=axis))
        assert public is not None and batched is not None


def test_proof_made_on_forged_table_fails(task):
    # A receiver that ignores the task: W = Enc(u), "proven" against a table of its own making.
    (pk, _), _, (tx, ty) = task
    engine = PrivateEngine(task[0][1])
    fake = [int(engine.encrypt(0)) for _ in tx]
    pre = proofs.precompute_query(pk.n, GRID.shape, (0, 0), r_bits=64)
    forged = proofs.QueryProof(proofs.prove_axis(pre.x, fake, CONTEXT, "x"), proofs.prove_axis(pre.y, ty, CONTEXT, "y"))
    public, batched = _both(task, forged)
    assert public is not None and batched is not None


def test_verifier_with_another_centre_rejects(task):
    # The batched check uses the platform's own centre: distances of another centre do not fit.
    _, proof = _prove(task, (5, 5))
    assert proofs.verify_query_batched(task[0][1], proof, task[2], _distances((0, 0)), CONTEXT) is not None


def test_branch_count_must_match_the_axis(task):
    _, proof = _prove(task, (1, 1))
    short = dataclasses.replace(proof.x, a=proof.x.a[:-1], d=proof.x.d[:-1], e=proof.x.e[:-1],
                                z_m=proof.x.z_m[:-1], z_t=proof.x.z_t[:-1], z_rho=proof.x.z_rho[:-1])
    public, batched = _both(task, dataclasses.replace(proof, x=short))
    assert "branches" in public and "branches" in batched


@pytest.mark.parametrize("bad", [
    {"z_m": (-1,)}, {"z_m": (2**400,)}, {"e": (2**128,)}, {"z_t": (proofs.CURVE_ORDER,)}, {"d": (b"\x02" * 32,)},
])
def test_axis_proof_rejects_out_of_range_values(bad):
    good = dict(w=5, commitment=proofs.pedersen_commit(1, 2), a=(7,), d=(proofs.pedersen_commit(3, 4),), e=(1,),
                z_m=(1,), z_t=(1,), z_rho=(1,))
    with pytest.raises(MessageError):
        proofs.AxisProof(**{**good, **bad})


def test_open_masks_accepts_only_the_committed_sum():
    u, v, t, t2 = 11, 31, 5, 9
    left, right = proofs.pedersen_commit(u, t), proofs.pedersen_commit(v, t2)
    assert proofs.open_masks(left, right, u + v, t + t2)
    assert not proofs.open_masks(left, right, u + v + 1, t + t2)
    assert not proofs.open_masks(left, right, u + v, t + t2 + 1)
    assert not proofs.open_masks(left, right, u + v + proofs.CURVE_ORDER - 2**255, t + t2)


def test_pedersen_second_generator_is_independent_of_g():
    g = coincurve.PublicKey.from_secret((1).to_bytes(32, "big")).format()
    h = proofs._H.format()
    assert h != g and proofs.pedersen_commit(1, 0 + 1) != proofs.pedersen_commit(2, 0 + 1)


def test_multi_exponentiation_matches_one_power_per_base(keypair):
    m = mpz(keypair[1].psquare)
    bases = [mpz(secrets.randbelow(int(m) - 2) + 2) for _ in range(40)]
    exps = [secrets.randbits(64) for _ in bases]
    expected = mpz(1)
    for b, e in zip(bases, exps):
        expected = expected * gmpy2.powmod(b, e, m) % m
    assert proofs._multi_pow(bases, exps, m) == expected


def test_curve_multi_scalar_product_matches_one_product_per_point():
    points = [coincurve.PublicKey.from_secret(secrets.token_bytes(32)) for _ in range(30)]
    scalars = [secrets.randbits(64) | 1 for _ in points]
    expected = coincurve.PublicKey.combine_keys([p.multiply(k.to_bytes(32, "big")) for p, k in zip(points, scalars)])
    assert proofs._ec_multi(points, scalars).format() == expected.format()


def test_precompute_rejects_bad_arguments(keypair):
    with pytest.raises(ValueError, match="index"):
        proofs.precompute_axis(keypair[0].n, 5, 5, mask_bits=10)
    with pytest.raises(ValueError, match="mask_bits"):
        proofs.precompute_axis(keypair[0].n, 5, 0, mask_bits=proofs.MAX_MASK_BITS + 1)
    with pytest.raises(ValueError, match="r_bits"):
        proofs.precompute_query(keypair[0].n, (5, 5), (0, 0), r_bits=proofs.MAX_MASK_BITS + 2)


# ------------------------------------------------------------------ found by mutation testing

_SECP256K1_P = 2**256 - 2**32 - 977


def _reference_hash_to_curve(tag):
    """The first x = keccak256(tag || i), i as 4 big-endian bytes, with x^3 + 7 a square mod p:
    returned as the compressed point of even y (an independent reading of the design)."""
    from Crypto.Hash import keccak

    for i in range(1000):
        x = int.from_bytes(keccak.new(data=tag + i.to_bytes(4, "big"), digest_bits=256).digest(), "big")
        if x < _SECP256K1_P and pow((x**3 + 7) % _SECP256K1_P, (_SECP256K1_P - 1) // 2, _SECP256K1_P) == 1:
            return i, b"\x02" + x.to_bytes(32, "big")
    raise AssertionError("no point in 1000 tries")


def test_hash_to_curve_takes_the_first_counter_whose_x_is_on_the_curve():
    tags = [b"crowdsense/ldpf-pdc/pedersen-H"] + [b"tag %d" % k for k in range(12)]
    counters = set()
    for tag in tags:
        i, expected = _reference_hash_to_curve(tag)
        counters.add(i)
        assert proofs._hash_to_curve(tag).format() == expected
    # some tags need more than one try, so the loop past the first counter is exercised
    assert max(counters) > 0


def test_pedersen_h_is_the_hash_of_the_documented_tag():
    assert proofs._H.format() == _reference_hash_to_curve(b"crowdsense/ldpf-pdc/pedersen-H")[1]


@pytest.mark.parametrize("side", ["left", "right"])
def test_open_masks_refuses_a_commitment_that_is_not_a_curve_point(side):
    good = proofs.pedersen_commit(11, 5)
    junk = b"\x05" + b"\x00" * 32
    left, right = (junk, good) if side == "left" else (good, junk)
    assert proofs.open_masks(left, right, 11, 5) is False


@pytest.mark.parametrize("top_bits", [1, 5, 6, 7, 12, 13, 61, 64, 67])
def test_multi_exponentiation_keeps_the_top_window_of_every_length(keypair, top_bits):
    # the number of windows is ceil(bits / c): a top exponent whose length is 1 above a
    # multiple of the window width has a window of its own, which must not be dropped
    m = mpz(keypair[1].psquare)
    bases = [mpz(secrets.randbelow(int(m) - 2) + 2) for _ in range(5)]
    exps = [1 << (top_bits - 1)] + [secrets.randbits(top_bits) for _ in range(4)]
    expected = mpz(1)
    for b, e in zip(bases, exps):
        expected = expected * gmpy2.powmod(b, e, m) % m
    assert proofs._multi_pow(bases, exps, m) == expected


@pytest.mark.parametrize("top_bits", [1, 5, 6, 11, 64])
def test_curve_multi_scalar_product_keeps_the_top_window_of_every_length(top_bits):
    points = [coincurve.PublicKey.from_secret(secrets.token_bytes(32)) for _ in range(4)]
    scalars = [1 << (top_bits - 1)] + [secrets.randbits(top_bits) | 1 for _ in range(3)]
    expected = coincurve.PublicKey.combine_keys([p.multiply(k.to_bytes(32, "big")) for p, k in zip(points, scalars)])
    assert proofs._ec_multi(points, scalars).format() == expected.format()


def test_curve_multi_scalar_product_of_nothing_is_refused():
    point = coincurve.PublicKey.from_secret((7).to_bytes(32, "big"))
    with pytest.raises(ValueError, match="empty multi-scalar product"):
        proofs._ec_multi([point], [0])


def _axis_dict(task):
    _, proof = _prove(task, (3, 4))
    return proof.x.to_dict()


def test_axis_proof_with_a_missing_field_is_refused_as_a_message_error(task):
    obj = _axis_dict(task)
    del obj["z_t"]
    with pytest.raises(MessageError, match="proof.x must be an object with w, commitment"):
        proofs.AxisProof.from_dict(obj, "proof.x")


@pytest.mark.parametrize("field, value, named", [
    ("w", 5, "proof.x.w "),
    ("w", "f" * 4101, "proof.x.w "),
    ("a", ["0x12"], r"proof.x.a\[0\] "),
    ("e", ["12", "G"], r"proof.x.e\[1\] "),
    ("z_m", [None], r"proof.x.z_m\[0\] "),
    ("z_t", ["A"], r"proof.x.z_t\[0\] "),
    ("z_rho", [""], r"proof.x.z_rho\[0\] "),
    ("commitment", "02" * 32, "proof.x.commitment "),
    ("commitment", 7, "proof.x.commitment "),
    ("d", "not a list", "proof.x.d must be a list"),
])
def test_axis_proof_fields_are_checked_naming_the_field(task, field, value, named):
    obj = _axis_dict(task)
    obj[field] = value
    with pytest.raises(MessageError, match=named):
        proofs.AxisProof.from_dict(obj, "proof.x")


def test_axis_proof_hex_fields_may_be_4100_digits_long(task):
    obj = _axis_dict(task)
    obj["w"] = "f" * 4100
    assert proofs.AxisProof.from_dict(obj, "proof.x").w == int("f" * 4100, 16)


def test_query_proof_names_the_axis_of_a_bad_field(task):
    _, proof = _prove(task, (3, 4))
    obj = proof.to_dict()
    obj["y"]["w"] = "xyz"
    with pytest.raises(MessageError, match=r"^proof.y.w must be a hex string"):
        proofs.QueryProof.from_dict(obj)



def test_malformed_curve_point_is_refused_naming_it():
    with pytest.raises(MessageError, match=r"^x commitment is not a compressed secp256k1 point"):
        proofs._point(b"\x05" + b"\x00" * 32, "x commitment")


def test_batched_check_needs_one_distance_per_position(task):
    (_, sk), _, tables = task
    _, proof = _prove(task, (3, 4))
    with pytest.raises(ValueError, match="one distance per position is needed"):
        proofs.verify_query_batched(sk, proof, tables, ([0], [0]), CONTEXT)


def _axis(task):
    return _prove(task, (3, 4))[1].x


@pytest.mark.parametrize("field, value, message", [
    ("w", 0, "^w must be a positive int$"),
    ("w", True, "^w must be a positive int$"),
    ("w", "5", "^w must be a positive int$"),
    ("a", (0,), r"^a\[0\] must be a positive int$"),
    ("e", (proofs._CHALLENGE_MOD,), r"^e\[0\] must be in \[0, 2\^128\)$"),
    ("z_m", (1 << 336,), r"^z_m\[0\] is outside \[0, 2\^336\)$"),
    ("z_t", (proofs.CURVE_ORDER,), r"^z_t\[0\] must be below the curve order$"),
    ("z_rho", (0,), r"^z_rho\[0\] must be positive$"),
    ("commitment", b"\x02" * 32, "^curve point 0 must be 33 bytes"),
])
def test_axis_proof_values_out_of_range_are_refused(task, field, value, message):
    axis = _axis(task)
    if isinstance(value, tuple):  # replace the first branch's value, keep the others
        value = value + getattr(axis, field)[1:]
    with pytest.raises(MessageError, match=message):
        dataclasses.replace(axis, **{field: value})


def test_axis_proof_values_at_the_edges_of_their_ranges_are_accepted(task):
    axis = _axis(task)
    edge = dataclasses.replace(axis, w=1, a=(1,) + axis.a[1:], e=(0,) + axis.e[1:],
                               z_m=(0, (1 << 336) - 1) + axis.z_m[2:], z_t=(0,) + axis.z_t[1:],
                               z_rho=(1,) + axis.z_rho[1:])
    assert (edge.w, edge.a[0], edge.e[0], edge.z_m[:2], edge.z_t[0], edge.z_rho[0]) == \
        (1, 1, 0, (0, (1 << 336) - 1), 0, 1)


@pytest.mark.parametrize("mask_bits", [1, proofs.MAX_MASK_BITS])
def test_axis_masks_of_the_extreme_widths_are_allowed(keypair, mask_bits):
    pre = proofs.precompute_axis(keypair[0].n, 3, 1, mask_bits=mask_bits)
    assert 0 <= pre.mask < 1 << mask_bits


@pytest.mark.parametrize("r_bits", [2, proofs.MAX_MASK_BITS + 1])
def test_query_r_of_the_extreme_widths_is_allowed(keypair, r_bits):
    pre = proofs.precompute_query(keypair[0].n, (3, 2), (1, 1), r_bits=r_bits)
    assert 0 <= pre.r < 1 << r_bits


@pytest.mark.parametrize("r_bits", [1, proofs.MAX_MASK_BITS + 2])
def test_query_r_width_outside_the_range_is_refused_with_the_range(keypair, r_bits):
    with pytest.raises(ValueError, match=rf"^r_bits must be in \[2, 128\] with proofs, got {r_bits}$"):
        proofs.precompute_query(keypair[0].n, (3, 2), (1, 1), r_bits=r_bits)


def test_each_axis_mask_uses_its_full_share_of_r_bits(keypair):
    # r = u + v with u, v < 2^(r_bits - 1): over 40 draws with r_bits = 3 a mask of 2 or 3 shows
    masks = [m for _ in range(40) for m in (lambda p: (p.x.mask, p.y.mask))(
        proofs.precompute_query(keypair[0].n, (2, 2), (0, 1), r_bits=3))]
    assert max(masks) >= 2 and max(masks) < 4


def test_responses_keep_the_statistical_slack_above_the_masked_value(task):
    # z_m = s_m + e * m with s_m drawn from 2^(127 + 128 + 80) values: the 80 bits of slack hide
    # e * m (< 2^255); a response is then nearly always far above 2^255
    _, proof = _prove(task, (3, 4))
    assert max(int(z).bit_length() for z in proof.x.z_m + proof.y.z_m) > 300


def test_curve_sum_skips_multiples_of_the_curve_order():
    p = coincurve.PublicKey.from_secret((5).to_bytes(32, "big"))
    q = coincurve.PublicKey.from_secret((9).to_bytes(32, "big"))
    assert proofs._combine([(proofs.CURVE_ORDER, p), (1, q)]) == q.format()
    assert proofs._combine([(2 * proofs.CURVE_ORDER, p)]) is None
