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
