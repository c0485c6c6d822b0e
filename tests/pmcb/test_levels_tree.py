"""Tests of the Merkle tree of (account, level) leaves (crowdsense.pmcb.levels_tree).

Expected leaves, nodes and roots are computed here from keccak256 and ``eth_abi.encode``
(what Solidity's ``abi.encode`` produces), following the specification by hand, never with the
module's own helpers: the domain is keccak256(abi.encode(uint256 chainId, address registry)),
the salt keccak256(seed || account), the leaf keccak256(keccak256(abi.encode(bytes32 domain,
address account, uint8 level, bytes32 salt))), a node is keccak256 of the sorted pair, level 0
is the sorted leaves, and an odd last node is carried up unchanged.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import stat
import struct

import numpy as np
import pytest
from eth_abi import encode
from eth_utils import keccak, to_checksum_address
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crowdsense.chain.addresses import parse_address
from crowdsense.errors import InputError
from crowdsense import keccak_rows
from crowdsense.pmcb import levels_tree as lt
from crowdsense.pmcb.levels_tree import (
    HEADER_SIZE,
    INDEX_RECORD_SIZE,
    LevelProof,
    LevelsTree,
    hash_pair,
    level_leaf,
    level_proof_from_json,
    levels_domain,
    read_proof_json,
    tree_depth,
    verify_proof,
    write_proof_json,
)

CHAIN_ID = 31337
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
OTHER_REGISTRY = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
SEED = keccak(b"test seed")
OTHER_SEED = keccak(b"another test seed")


def account(i: int) -> str:
    return to_checksum_address(keccak(f"receiver {i}".encode())[:20])


# ----------------------------------------------------------------- reference, by hand


ABI_TYPES = ["bytes32", "address", "uint8", "bytes32"]


def ref_domain(chain_id: int, registry: str) -> bytes:
    return keccak(encode(["uint256", "address"], [chain_id, registry]))


def ref_salt(seed: bytes, acct: str) -> bytes:
    return keccak(seed + bytes.fromhex(acct[2:]))


def ref_leaf(chain_id: int, registry: str, acct: str, level: int, seed: bytes = SEED) -> bytes:
    salt = ref_salt(seed, acct)
    return keccak(keccak(encode(ABI_TYPES, [ref_domain(chain_id, registry), acct, level, salt])))


def unsalted_leaf(acct: str, level: int) -> bytes:
    """The leaf before salts (format version 1): a function of public values only."""
    preimage = encode(["uint256", "address", "address", "uint8"], [CHAIN_ID, REGISTRY, acct, level])
    return keccak(keccak(preimage))


def ref_node(a: bytes, b: bytes) -> bytes:
    return keccak(min(a, b) + max(a, b))


def ref_fold(leaf: bytes, proof: list[bytes]) -> bytes:
    node = leaf
    for sibling in proof:
        node = ref_node(node, sibling)
    return node


def ref_root(leaves: list[bytes]) -> bytes:
    level = sorted(leaves)
    while len(level) > 1:
        nxt = [ref_node(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def small_tree(n: int) -> tuple[dict[str, int], list[bytes], LevelsTree]:
    levels = {account(i): 1 + i % 3 for i in range(n)}
    leaves = sorted(ref_leaf(CHAIN_ID, REGISTRY, a, lvl) for a, lvl in levels.items())
    return levels, leaves, LevelsTree.build(levels, chain_id=CHAIN_ID, registry=REGISTRY, seed=SEED)


def one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert "\n" not in message and ": expected " in message, message
    return message


# ------------------------------------------------------------------------ leaves, pairs


def test_domain_is_the_hash_of_the_64_byte_abi_encoding_of_chain_and_registry():
    preimage = (CHAIN_ID).to_bytes(32, "big") + bytes(12) + bytes.fromhex(REGISTRY[2:])
    assert preimage == encode(["uint256", "address"], [CHAIN_ID, REGISTRY])
    assert levels_domain(CHAIN_ID, REGISTRY) == keccak(preimage) == levels_domain(CHAIN_ID, REGISTRY.lower())


def test_leaf_is_the_double_hash_of_the_128_byte_abi_encoding():
    acct, salt = account(1), keccak(b"a salt")
    domain = keccak((CHAIN_ID).to_bytes(32, "big") + bytes(12) + bytes.fromhex(REGISTRY[2:]))
    preimage = domain + bytes(12) + bytes.fromhex(acct[2:]) + bytes(31) + b"\x02" + salt
    assert preimage == encode(ABI_TYPES, [domain, acct, 2, salt]) and len(preimage) == 128
    assert level_leaf(CHAIN_ID, REGISTRY, acct, 2, salt) == keccak(keccak(preimage))


def test_salt_is_the_hash_of_the_seed_and_the_20_byte_account():
    acct = account(1)
    tree = LevelsTree.build({acct: 3}, chain_id=CHAIN_ID, registry=REGISTRY, seed=SEED)
    message = SEED + bytes.fromhex(acct[2:])
    assert len(message) == 52
    assert tree.proof(acct) == (3, keccak(message), [])
    domain = ref_domain(CHAIN_ID, REGISTRY)
    assert tree.root == keccak(keccak(encode(ABI_TYPES, [domain, acct, 3, keccak(message)])))


def test_leaf_accepts_addresses_in_any_case_and_as_bytes():
    acct = account(2)
    salt = ref_salt(SEED, acct)
    expected = ref_leaf(CHAIN_ID, REGISTRY, acct, 7)
    assert level_leaf(CHAIN_ID, REGISTRY.lower(), acct.lower(), 7, salt) == expected
    assert level_leaf(CHAIN_ID, REGISTRY.upper().replace("0X", "0x"), acct[2:].upper(), 7, salt) == expected
    assert level_leaf(CHAIN_ID, bytes.fromhex(REGISTRY[2:]), bytes.fromhex(acct[2:]), 7, salt) == expected


def test_leaf_changes_with_every_field():
    acct, salt = account(3), keccak(b"a salt")
    base = level_leaf(CHAIN_ID, REGISTRY, acct, 1, salt)
    others = {level_leaf(CHAIN_ID, REGISTRY, acct, 2, salt), level_leaf(1, REGISTRY, acct, 1, salt),
              level_leaf(CHAIN_ID, OTHER_REGISTRY, acct, 1, salt),
              level_leaf(CHAIN_ID, REGISTRY, account(4), 1, salt),
              level_leaf(CHAIN_ID, REGISTRY, acct, 1, keccak(b"another salt"))}
    assert len(others | {base}) == 6


@pytest.mark.parametrize("salt", [b"short", bytes(33), "0x" + "00" * 32, None])
def test_a_salt_that_is_not_32_bytes_is_refused(salt):
    with pytest.raises(InputError, match="salt: .* is not a hash: expected 32 bytes") as exc:
        level_leaf(CHAIN_ID, REGISTRY, account(1), 1, salt)
    one_line(exc)


def test_hash_pair_sorts_the_pair_as_big_endian_integers():
    low, high = bytes(31) + b"\x02", b"\x01" + bytes(31)
    assert hash_pair(low, high) == hash_pair(high, low) == keccak(low + high)
    # the order is the integers', not the first byte's alone
    a, b = b"\x07" * 16 + b"\x01" + bytes(15), b"\x07" * 16 + b"\x00" + b"\xff" * 15
    assert hash_pair(a, b) == keccak(b + a)


def test_row_comparison_is_big_endian_over_all_32_bytes():
    rng = np.random.default_rng(6)
    base = rng.integers(0, 256, size=(200, 32), dtype=np.uint8)
    other = base.copy()
    # differ only at a random byte (beyond the first 8-byte word for most rows), or not at all
    where = rng.integers(0, 32, size=200)
    other[np.arange(200), where] = rng.integers(0, 256, size=200, dtype=np.uint8)
    other[:10] = base[:10]
    got = lt._greater(base, other)
    assert got.tolist() == [base[i].tobytes() > other[i].tobytes() for i in range(200)]


# ---------------------------------------------------------------- small trees by hand


def test_one_leaf_tree_root_is_the_leaf_and_its_proof_is_empty():
    levels, (leaf,), tree = small_tree(1)
    assert tree.root == leaf and tree.depth == 0 and tree.count == 1
    acct = next(iter(levels))
    assert tree.proof(acct) == (1, ref_salt(SEED, acct), [])


def test_two_leaf_tree():
    levels, (l0, l1), tree = small_tree(2)
    assert tree.root == ref_node(l0, l1) and tree.depth == 1
    for acct, lvl in levels.items():
        mine = ref_leaf(CHAIN_ID, REGISTRY, acct, lvl)
        assert tree.proof(acct) == (lvl, ref_salt(SEED, acct), [l1 if mine == l0 else l0])


def test_three_leaf_tree_carries_the_odd_leaf_up_unchanged():
    levels, (l0, l1, l2), tree = small_tree(3)
    n01 = ref_node(l0, l1)
    assert tree.root == ref_node(n01, l2) and tree.depth == 2
    by_leaf = {ref_leaf(CHAIN_ID, REGISTRY, a, v): a for a, v in levels.items()}
    assert tree.proof(by_leaf[l2])[2] == [n01]  # no sibling at level 0: skipped
    assert tree.proof(by_leaf[l0])[2] == [l1, l2]


def test_five_leaf_tree():
    levels, (l0, l1, l2, l3, l4), tree = small_tree(5)
    n01, n23 = ref_node(l0, l1), ref_node(l2, l3)
    n0123 = ref_node(n01, n23)
    assert tree.root == ref_node(n0123, l4) and tree.depth == 3
    by_leaf = {ref_leaf(CHAIN_ID, REGISTRY, a, v): a for a, v in levels.items()}
    assert tree.proof(by_leaf[l4])[2] == [n0123]
    assert tree.proof(by_leaf[l3])[2] == [l2, n01, l4]


def test_eight_leaf_tree():
    _, ls, tree = small_tree(8)
    n = [ref_node(ls[2 * i], ls[2 * i + 1]) for i in range(4)]
    assert tree.root == ref_node(ref_node(n[0], n[1]), ref_node(n[2], n[3])) and tree.depth == 3


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8])
def test_every_proof_verifies_and_tampered_ones_do_not(size):
    levels, leaves, tree = small_tree(size)
    assert tree.root == ref_root(leaves)
    for acct, lvl in levels.items():
        level, salt, proof = tree.proof(acct)
        assert level == lvl == tree.level_of(acct) and acct in tree and salt == ref_salt(SEED, acct)
        leaf = ref_leaf(CHAIN_ID, REGISTRY, acct, lvl)
        assert ref_fold(leaf, proof) == tree.root
        assert verify_proof(tree.root, leaf, proof)
        # wrong level, registry, chain id or seed (so salt): other leaves, which do not verify
        for wrong in (ref_leaf(CHAIN_ID, REGISTRY, acct, lvl % 255 + 1),
                      ref_leaf(CHAIN_ID, OTHER_REGISTRY, acct, lvl),
                      ref_leaf(CHAIN_ID + 1, REGISTRY, acct, lvl),
                      ref_leaf(CHAIN_ID, REGISTRY, acct, lvl, OTHER_SEED)):
            assert not verify_proof(tree.root, wrong, proof)
        for i in range(len(proof)):
            tampered = list(proof)
            tampered[i] = bytes([proof[i][0] ^ 1]) + proof[i][1:]
            assert not verify_proof(tree.root, leaf, tampered)
        if proof:
            assert not verify_proof(tree.root, leaf, proof[:-1])  # truncated
            assert not verify_proof(tree.root, leaf, [*proof, proof[-1]])  # extended


def test_a_proof_for_one_account_does_not_serve_another():
    levels, _, tree = small_tree(5)
    a, b = list(levels)[:2]
    _, _, proof_a = tree.proof(a)
    assert not verify_proof(tree.root, ref_leaf(CHAIN_ID, REGISTRY, b, levels[b]), proof_a)


def test_input_order_does_not_change_the_tree():
    levels = {account(i): 1 + i % 4 for i in range(37)}
    items = list(levels.items())
    random.Random(3).shuffle(items)
    first = LevelsTree.build(levels, chain_id=CHAIN_ID, registry=REGISTRY, seed=SEED)
    second = LevelsTree.build(dict(items), chain_id=CHAIN_ID, registry=REGISTRY.lower(), seed=SEED)
    assert first.root == second.root
    assert bytes(first._buffer) == bytes(second._buffer)


# ------------------------------------------------------------------------------- salts


def test_the_seed_decides_the_root_and_a_fresh_one_is_drawn_per_build():
    levels = {account(i): 1 + i % 3 for i in range(40)}
    same = [LevelsTree.build(levels, chain_id=CHAIN_ID, registry=REGISTRY, seed=SEED) for _ in range(2)]
    other = LevelsTree.build(levels, chain_id=CHAIN_ID, registry=REGISTRY, seed=OTHER_SEED)
    fresh = [LevelsTree.build(levels, chain_id=CHAIN_ID, registry=REGISTRY) for _ in range(2)]
    expected = ref_root([ref_leaf(CHAIN_ID, REGISTRY, a, v) for a, v in levels.items()])
    assert same[0].root == same[1].root == expected
    assert other.root == ref_root([ref_leaf(CHAIN_ID, REGISTRY, a, v, OTHER_SEED) for a, v in levels.items()])
    assert other.root != same[0].root
    assert len({fresh[0].seed, fresh[1].seed, SEED}) == 3 and all(len(t.seed) == 32 for t in fresh)
    assert len({fresh[0].root, fresh[1].root, same[0].root}) == 3
    # every tree holds the same levels, whatever its seed
    assert all(t.levels() == same[0].levels() for t in (*fresh, other))


def test_a_published_sibling_leaf_does_not_reveal_its_receivers_level():
    """The attack salts prevent: a claim publishes the claimant's proof, whose first hash is the
    leaf of another receiver; an observer who knows that receiver's address tries every level.
    Without the salt no candidate matches; with it (what only the registrar and that receiver
    hold) the true level does, so the check below can fail."""
    levels = {account(i): 1 + i % 3 for i in range(16)}
    tree = LevelsTree.build(levels, chain_id=CHAIN_ID, registry=REGISTRY)
    claimant = account(0)
    _, _, proof = tree.proof(claimant)
    sibling = proof[0]  # 16 leaves: every leaf has a sibling at level 0
    neighbour = next(a for a, v in levels.items() if ref_leaf(CHAIN_ID, REGISTRY, a, v, tree.seed) == sibling)
    assert neighbour != claimant
    domain = ref_domain(CHAIN_ID, REGISTRY)
    guesses = {level: [unsalted_leaf(neighbour, level),  # the leaf of format version 1
                       keccak(keccak(encode(ABI_TYPES, [domain, neighbour, level, bytes(32)]))),  # zero salt
                       keccak(keccak(encode(["bytes32", "address", "uint8"], [domain, neighbour, level])))]
               for level in range(1, 256)}
    assert not any(sibling in candidates for candidates in guesses.values())
    salt = ref_salt(tree.seed, neighbour)
    matches = [level for level in range(1, 256)
               if keccak(keccak(encode(ABI_TYPES, [domain, neighbour, level, salt]))) == sibling]
    assert matches == [levels[neighbour]]


@pytest.mark.parametrize("seed", [b"short", bytes(33), "00" * 32, 7])
def test_a_seed_that_is_not_32_bytes_is_refused_without_showing_it(seed):
    with pytest.raises(InputError, match="seed: .*expected 32 random bytes") as exc:
        LevelsTree.build({account(1): 1}, chain_id=CHAIN_ID, registry=REGISTRY, seed=seed)
    message = one_line(exc)
    assert "short" not in message and "00" * 8 not in message


def test_levels_gives_back_the_mapping_in_checksummed_spelling():
    levels = {account(i): 1 + i % 255 for i in range(keccak_rows.BATCH_MIN + 40)}  # spelled in one batch
    given = {a.lower() if i % 2 else bytes.fromhex(a[2:]): v for i, (a, v) in enumerate(levels.items())}
    tree = LevelsTree.build(given, chain_id=CHAIN_ID, registry=REGISTRY)
    got = tree.levels()
    assert got == levels
    assert list(got) == sorted(levels, key=lambda a: bytes.fromhex(a[2:]))  # the index's order
    assert dict(tree.accounts()) == levels
    assert all(to_checksum_address(a) == a for a in got)
    few = LevelsTree.build({CHECKSUMMED.lower(): 4, "0x" + "00" * 20: 1},
                           chain_id=CHAIN_ID, registry=REGISTRY)
    assert few.levels() == {"0x" + "00" * 20: 1, CHECKSUMMED: 4}
    assert tree.levels() != {**levels, account(0): levels[account(0)] % 255 + 1}


def test_depth_of_a_million_leaves_is_20():
    sizes = (1, 2, 3, 4, 5, 8, 9, 1_000_000, 2**20, 2**20 + 1)
    assert [tree_depth(n) for n in sizes] == [0, 1, 2, 2, 3, 3, 4, 20, 20, 21]
    assert [len(lt._level_sizes(n)) - 1 for n in sizes] == [0, 1, 2, 2, 3, 3, 4, 20, 20, 21]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(size=st.integers(1, 700), seed=st.integers(0, 2**32 - 1))
def test_random_trees_match_the_reference(size, seed):
    rng = random.Random(seed)
    levels = {to_checksum_address(rng.randbytes(20)): rng.randint(1, 255) for _ in range(size)}
    tree = LevelsTree.build(levels, chain_id=CHAIN_ID, registry=REGISTRY)  # a fresh random seed
    leaves = [ref_leaf(CHAIN_ID, REGISTRY, a, v, tree.seed) for a, v in levels.items()]
    assert tree.root == ref_root(leaves)
    assert tree.count == len(levels) and tree.depth == tree_depth(len(levels))
    for acct in rng.sample(list(levels), min(5, len(levels))):
        level, salt, proof = tree.proof(acct)
        assert level == levels[acct] and salt == ref_salt(tree.seed, acct)
        assert len(proof) <= tree.depth
        assert ref_fold(ref_leaf(CHAIN_ID, REGISTRY, acct, level, tree.seed), proof) == tree.root


# ---------------------------------------------------------------------------- storage


@pytest.fixture
def saved(tmp_path):
    levels = {account(i): 1 + i % 5 for i in range(300)}
    tree = LevelsTree.build(levels, chain_id=CHAIN_ID, registry=REGISTRY)
    path = tree.save(tmp_path / "levels.tree")
    return levels, tree, path


def test_save_and_open_round_trip(saved):
    levels, built, path = saved
    assert path.stat().st_size == len(built._buffer)
    nodes = sum(lt._level_sizes(300))
    assert path.stat().st_size == HEADER_SIZE + 32 * nodes + INDEX_RECORD_SIZE * 300
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # every level and the seed: the registrar's only
    with LevelsTree.open(path, verify=True) as tree:
        assert (tree.root, tree.count, tree.depth, tree.chain_id, tree.registry, tree.seed) == \
            (built.root, 300, 9, CHAIN_ID, REGISTRY, built.seed)
        assert built.seed not in repr(tree).encode() and built.seed.hex() not in repr(tree)
        for acct, lvl in levels.items():
            assert tree.proof(acct) == built.proof(acct)
            assert tree.level_of(acct.lower()) == lvl
        assert tree.levels() == levels
        assert tree.level_of(account(10_000)) is None and account(10_000) not in tree
        copy = tree.save(path.with_name("copy.tree"))
    assert copy.read_bytes() == path.read_bytes()


def test_save_replaces_a_file_atomically_and_leaves_no_temporary(saved, tmp_path):
    _, _, path = saved
    small = LevelsTree.build({account(1): 1}, chain_id=CHAIN_ID, registry=REGISTRY)
    small.save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["levels.tree"]
    with LevelsTree.open(path) as tree:
        assert tree.count == 1


def test_an_opened_tree_is_mapped_not_read(saved):
    _, _, path = saved
    with LevelsTree.open(path) as tree:
        assert isinstance(tree._buffer, lt.mmap.mmap)


def _rewrite(path, edit):
    data = bytearray(path.read_bytes())
    edit(data)
    path.write_bytes(bytes(data))


def _reseal_header(data: bytearray) -> None:
    size = lt._HEADER.size
    data[size:HEADER_SIZE] = lt.hashlib.sha256(bytes(data[:size])).digest()


@pytest.mark.parametrize("keep", [0, 10, HEADER_SIZE - 1, HEADER_SIZE, HEADER_SIZE + 32, -1,
                                  -INDEX_RECORD_SIZE])
def test_truncated_files_are_refused(saved, keep):
    _, _, path = saved
    data = path.read_bytes()
    path.write_bytes(data[:keep] if keep >= 0 else data[:len(data) + keep])
    with pytest.raises(InputError, match="truncated") as exc:
        LevelsTree.open(path)
    one_line(exc)


def test_trailing_bytes_are_refused(saved):
    _, _, path = saved
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(InputError, match="trailing bytes") as exc:
        LevelsTree.open(path)
    one_line(exc)


@pytest.mark.parametrize("content", [b"{\"levels\": {}}" + bytes(400), bytes(1000), b"CSLVTREX" + bytes(500)])
def test_foreign_files_are_refused(tmp_path, content):
    path = tmp_path / "other.bin"
    path.write_bytes(content)
    with pytest.raises(InputError, match="not a levels tree file") as exc:
        LevelsTree.open(path)
    one_line(exc)


def test_another_format_version_is_refused(saved):
    _, _, path = saved

    def bump(data):
        data[8:10] = (3).to_bytes(2, "big")
        _reseal_header(data)

    _rewrite(path, bump)
    with pytest.raises(InputError, match="format version 3") as exc:
        LevelsTree.open(path)
    one_line(exc)


def _version_1_file(levels: dict[str, int]) -> bytes:
    """A file as format version 1 wrote it: unsalted leaves, a 176-byte header without seed."""
    leaf_of = {a: unsalted_leaf(a, v) for a, v in levels.items()}
    leaves = sorted(leaf_of.values())
    tree = [leaves]
    while len(tree[-1]) > 1:
        nodes = tree[-1]
        tree.append([ref_node(nodes[i], nodes[i + 1]) for i in range(0, len(nodes) - 1, 2)]
                    + nodes[len(nodes) - len(nodes) % 2:])
    index = b"".join(bytes.fromhex(a[2:]) + bytes([levels[a]]) + leaves.index(leaf_of[a]).to_bytes(4, "big")
                     for a in sorted(levels, key=lambda a: bytes.fromhex(a[2:])))
    body = b"".join(b"".join(level) for level in tree) + index
    fields = struct.pack(">8sHH4x32s20sQI32s32s", b"CSLVTREE", 1, 176, CHAIN_ID.to_bytes(32, "big"),
                         bytes.fromhex(REGISTRY[2:]), len(levels), len(tree) - 1, tree[-1][0],
                         hashlib.sha256(body).digest())
    return fields + hashlib.sha256(fields).digest() + body


@pytest.mark.parametrize("size", [1, 3, 300])
def test_a_version_1_file_is_refused_with_a_request_to_rebuild(tmp_path, size):
    path = tmp_path / "old.tree"
    path.write_bytes(_version_1_file({account(i): 1 + i % 5 for i in range(size)}))
    with pytest.raises(InputError, match="format version 1, whose leaves have no salt") as exc:
        LevelsTree.open(path)
    message = one_line(exc)
    assert "expected a version 2 file: rebuild the tree" in message and str(path) in message


# reserved bytes, chainId, registry, count, depth, root, seed, body digest, header digest
@pytest.mark.parametrize("offset", [12, 20, 60, 70, 76, 90, 120, 150, 190])
def test_a_corrupt_header_is_refused(saved, offset):
    _, _, path = saved
    _rewrite(path, lambda data: data.__setitem__(offset, data[offset] ^ 0x40))
    with pytest.raises(InputError, match="corrupt header") as exc:
        LevelsTree.open(path)
    one_line(exc)


def test_a_header_that_lies_consistently_about_its_root_is_refused(saved):
    _, _, path = saved

    def other_root(data):
        start = 8 + 2 + 2 + 4 + 32 + 20 + 8 + 4
        data[start:start + 32] = bytes(32)
        _reseal_header(data)

    _rewrite(path, other_root)
    with pytest.raises(InputError, match="root of the header is not the top node") as exc:
        LevelsTree.open(path)
    one_line(exc)


def test_a_header_with_another_seed_serves_no_proof(saved):
    """The seed is covered by the header checksum; resealed with another seed, every proof's
    recomputed leaf differs from the stored one and nothing is served."""
    levels, _, path = saved

    def other_seed(data):
        data[112:144] = OTHER_SEED
        _reseal_header(data)

    _rewrite(path, other_seed)
    with LevelsTree.open(path) as tree:
        assert tree.seed == OTHER_SEED
        with pytest.raises(InputError, match="does not match its index record") as exc:
            tree.proof(next(iter(levels)))
    one_line(exc)


def test_a_corrupt_node_is_refused_by_verify_and_never_served(saved):
    levels, built, path = saved
    victim = next(iter(levels))
    _, _, proof = built.proof(victim)
    where = bytes(built._buffer).index(proof[0])  # a sibling on the victim's path
    _rewrite(path, lambda data: data.__setitem__(where, data[where] ^ 1))
    with pytest.raises(InputError, match="body does not match") as exc:
        LevelsTree.open(path, verify=True)
    one_line(exc)
    with LevelsTree.open(path) as tree:  # the header is intact: opening is cheap and succeeds
        with pytest.raises(InputError, match="does not lead to the root") as exc:
            tree.proof(victim)
        one_line(exc)


def test_a_corrupt_index_record_is_never_served(saved):
    levels, built, path = saved
    victim = sorted(levels, key=lambda a: bytes.fromhex(a[2:]))[0]  # first record of the index
    index_start = len(built._buffer) - INDEX_RECORD_SIZE * built.count
    level_at = index_start + 20  # the level of the first record
    _rewrite(path, lambda data: data.__setitem__(level_at, data[level_at] % 5 + 1))
    with LevelsTree.open(path) as tree:
        with pytest.raises(InputError, match="does not match its index record") as exc:
            tree.proof(victim)
    one_line(exc)


def test_missing_files_and_folders_are_refused(tmp_path):
    for path, pattern in ((tmp_path / "absent.tree", "not found"), (tmp_path, "is a directory")):
        with pytest.raises(InputError, match=pattern) as exc:
            LevelsTree.open(path)
        one_line(exc)


def test_save_under_a_file_is_refused_and_a_missing_folder_is_made(tmp_path):
    tree = LevelsTree.build({account(1): 1}, chain_id=CHAIN_ID, registry=REGISTRY)
    (tmp_path / "plain").write_text("a file, not a folder")
    with pytest.raises(InputError, match="cannot be written") as exc:
        tree.save(tmp_path / "plain" / "levels.tree")
    one_line(exc)
    assert LevelsTree.open(tree.save(tmp_path / "new" / "folder" / "levels.tree")).root == tree.root


def test_header_layout_is_as_documented(saved):
    _, built, path = saved
    data = path.read_bytes()
    head = data[:HEADER_SIZE]
    assert HEADER_SIZE == 208
    magic, version, size, zeros = struct.unpack(">8sHH4s", head[:16])
    assert (magic, version, size, zeros) == (b"CSLVTREE", 2, 208, bytes(4))
    assert int.from_bytes(head[16:48], "big") == CHAIN_ID
    assert head[48:68] == bytes.fromhex(REGISTRY[2:])
    assert struct.unpack(">QI", head[68:80]) == (300, 9)
    assert head[80:112] == built.root
    assert head[112:144] == built.seed
    assert head[144:176] == hashlib.sha256(data[HEADER_SIZE:]).digest()
    assert head[176:208] == hashlib.sha256(head[:176]).digest()


# ------------------------------------------------------------------------- proof JSON


def test_proof_json_round_trip(saved, tmp_path):
    levels, built, path = saved
    acct = list(levels)[7]
    with LevelsTree.open(path) as tree:
        doc = tree.proof_json(acct.lower())
    assert list(doc) == ["chainId", "registry", "root", "account", "level", "salt", "proof"]
    assert doc["account"] == acct and doc["registry"] == REGISTRY and doc["chainId"] == CHAIN_ID
    assert doc["root"] == "0x" + built.root.hex() and doc["level"] == levels[acct]
    assert doc["salt"] == "0x" + ref_salt(built.seed, acct).hex()
    assert [bytes.fromhex(h[2:]) for h in doc["proof"]] == built.proof(acct)[2]
    out = write_proof_json(built.proof_of(acct), tmp_path / "proof.json")
    assert json.loads(out.read_text()) == doc
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    back = read_proof_json(out)
    assert back == LevelProof(chain_id=CHAIN_ID, registry=REGISTRY, root=built.root, account=acct,
                              level=levels[acct], salt=ref_salt(built.seed, acct),
                              proof=tuple(built.proof(acct)[2]))
    assert back.leaf == ref_leaf(CHAIN_ID, REGISTRY, acct, levels[acct], built.seed) and back.verify()


def _edited(tmp_path, doc, **changes):
    edited = {**doc, **changes}
    for key in [k for k, v in changes.items() if v is None]:
        del edited[key]
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(edited))
    return path


@pytest.mark.parametrize("changes, pattern", [
    ({"level": 3}, "does not lead"),
    ({"chainId": 1}, "does not lead"),
    ({"registry": OTHER_REGISTRY}, "does not lead"),
    ({"account": account(99)}, "does not lead"),
    ({"root": "0x" + "00" * 32}, "does not lead"),
    ({"salt": "0x" + "00" * 32}, "does not lead"),
    ({"salt": "0x1234"}, "is not a hash"),
    ({"salt": None}, "has no salt"),
    ({"level": 0}, "has level 0"),
    ({"level": "2"}, "has level '2'"),
    ({"chainId": "31337"}, "is not a chain id"),
    ({"account": "0x1234"}, "is not an address"),
    ({"registry": REGISTRY.lower().replace("f", "F", 1)}, "invalid EIP-55 checksum"),
    ({"root": "0x1234"}, "is not a hash"),
    ({"proof": "0x" + "00" * 32}, "expected a list"),
    ({"proof": ["0x" + "00" * 32] * 33}, "at most 32"),
    ({"proof": ["00" * 32]}, "is not a hash"),
    ({"proof": None}, "exactly the keys"),
    ({"extra": 1}, "exactly the keys"),
])
def test_read_proof_json_refuses_bad_files(saved, tmp_path, changes, pattern):
    levels, built, _ = saved
    acct = list(levels)[3]
    doc = built.proof_json(acct)
    if levels[acct] == 3 and changes.get("level") == 3:
        changes = {"level": 2}
    with pytest.raises(InputError, match=pattern) as exc:
        read_proof_json(_edited(tmp_path, doc, **changes))
    one_line(exc)


def test_a_parsed_document_is_checked_as_a_file_is(saved):
    levels, built, _ = saved
    acct = list(levels)[4]
    doc = built.proof_json(acct)
    assert level_proof_from_json(doc) == built.proof_of(acct)
    with pytest.raises(InputError, match=r"^journal j: the proof does not lead") as exc:
        level_proof_from_json({**doc, "proof": doc["proof"][1:]}, what="journal j")
    one_line(exc)


def test_read_proof_json_refuses_what_is_not_a_proof_object(tmp_path):
    for content, pattern in (("[1, 2]", "exactly the keys"), ("{", "not valid JSON")):
        path = tmp_path / "p.json"
        path.write_text(content)
        with pytest.raises(InputError, match=pattern):
            read_proof_json(path)


# ------------------------------------------------------------------------ input errors


def test_an_empty_mapping_is_refused():
    with pytest.raises(InputError, match="no account") as exc:
        LevelsTree.build({}, chain_id=CHAIN_ID, registry=REGISTRY)
    one_line(exc)


def test_what_is_not_a_mapping_is_refused():
    with pytest.raises(InputError, match="expected a mapping") as exc:
        LevelsTree.build([(account(1), 1)], chain_id=CHAIN_ID, registry=REGISTRY)  # type: ignore[arg-type]
    one_line(exc)


def test_an_account_given_twice_in_two_spellings_is_refused():
    acct = account(5)
    with pytest.raises(InputError, match="appears twice") as exc:
        LevelsTree.build({account(1): 1, acct: 1, acct.lower(): 2}, chain_id=CHAIN_ID, registry=REGISTRY)
    assert acct in one_line(exc)


@pytest.mark.parametrize("level", [0, 256, -1, True, 1.0, "2", None])
def test_levels_outside_1_to_255_are_refused(level):
    with pytest.raises(InputError, match="expected an integer in 1..255") as exc:
        LevelsTree.build({account(1): 1, account(2): level}, chain_id=CHAIN_ID, registry=REGISTRY)
    assert "has level" in one_line(exc)
    with pytest.raises(InputError, match="expected an integer in 1..255"):
        level_leaf(CHAIN_ID, REGISTRY, account(2), level, bytes(32))


def test_numpy_levels_and_the_extremes_are_accepted():
    tree = LevelsTree.build({account(1): np.uint8(1), account(2): 255}, chain_id=CHAIN_ID, registry=REGISTRY)
    assert tree.level_of(account(1)) == 1 and tree.level_of(account(2)) == 255


#: The EIP-55 test vector, and the same address with the case of one letter flipped.
CHECKSUMMED = "0x52908400098527886E0F7030069857D2E4169EE7"
MISTYPED = "0x52908400098527886e0F7030069857D2E4169EE7"

BAD_ADDRESSES = ["0x1234", CHECKSUMMED + "00", "0x" + "g" * 40, "0y" + CHECKSUMMED[2:], MISTYPED, 7, None,
                 b"\x01" * 19]


@pytest.mark.parametrize("bad", BAD_ADDRESSES)
def test_malformed_addresses_are_refused_everywhere(bad):
    with pytest.raises(InputError, match="expected 0x and 40 hex digits") as exc:
        LevelsTree.build({account(2): 1, bad: 1}, chain_id=CHAIN_ID, registry=REGISTRY)
    assert "levels: account" in one_line(exc)
    with pytest.raises(InputError, match="registry: .*expected 0x and 40 hex digits"):
        LevelsTree.build({account(2): 1}, chain_id=CHAIN_ID, registry=bad)
    with pytest.raises(InputError, match="expected 0x and 40 hex digits"):
        level_leaf(CHAIN_ID, REGISTRY, bad, 1, bytes(32))
    tree = LevelsTree.build({account(2): 1}, chain_id=CHAIN_ID, registry=REGISTRY)
    with pytest.raises(InputError, match="expected 0x and 40 hex digits"):
        tree.proof(bad)


@pytest.mark.parametrize("chain_id", [0, -1, True, 2**256, "31337", 1.5])
def test_bad_chain_ids_are_refused(chain_id):
    with pytest.raises(InputError, match="is not a chain id") as exc:
        LevelsTree.build({account(1): 1}, chain_id=chain_id, registry=REGISTRY)
    one_line(exc)


def test_an_account_outside_the_tree_has_no_proof():
    _, _, tree = small_tree(3)
    with pytest.raises(InputError, match="not in the levels tree") as exc:
        tree.proof(account(1000))
    one_line(exc)


def test_verify_proof_refuses_malformed_hashes():
    leaf = ref_leaf(CHAIN_ID, REGISTRY, account(1), 1)
    for root, proof in ((b"short", []), (leaf, [b"short"]), (leaf, leaf), (leaf, [leaf] * 33)):
        with pytest.raises(InputError) as exc:
            verify_proof(root, leaf, proof)
        one_line(exc)


ADDRESS_CASES = [
    account(1), account(1).lower(), account(1).upper().replace("0X", "0x"), account(1)[2:],
    "0X" + account(1)[2:], "0x" + "00" * 20, "0x" + "AB" * 20, "0x" + "aB" * 20, CHECKSUMMED, MISTYPED,
    "0x1234", " " + account(1), account(1) + " ", "", 5, None,
]


@pytest.mark.parametrize("value", ADDRESS_CASES)
def test_addresses_follow_the_rule_of_the_chain_layer(value):
    """The tree parses addresses itself (this layer may not import the chain layer): both agree."""
    try:
        expected = bytes.fromhex(parse_address(value, "x")[2:])
    except InputError:
        expected = None
    try:
        got = lt._address(value, "x")
    except InputError:
        got = None
    assert got == expected


def test_many_mixed_case_addresses_are_checked_in_one_batch():
    good = [account(i) for i in range(keccak_rows.BATCH_MIN + 10)]
    assert LevelsTree.build(dict.fromkeys(good, 1), chain_id=CHAIN_ID, registry=REGISTRY).count == len(good)
    # the last one whose hex has both cases: with every letter's case swapped it stays mixed, and wrong
    victim = max(i for i, a in enumerate(good) if a[2:] not in (a[2:].lower(), a[2:].upper()))
    bad = list(good)
    bad[victim] = "0x" + good[victim][2:].swapcase()
    with pytest.raises(InputError, match="invalid EIP-55 checksum") as exc:
        LevelsTree.build(dict.fromkeys(bad, 1), chain_id=CHAIN_ID, registry=REGISTRY)
    assert bad[victim] in one_line(exc)


# ------------------------------------------------------------------ found by mutation testing


def _message(call, *args, **kwargs) -> str:
    """The one-line InputError message of ``call(*args, **kwargs)``."""
    with pytest.raises(InputError) as exc:
        call(*args, **kwargs)
    return one_line(exc)


def test_messages_name_the_argument_and_show_the_bad_value() -> None:
    """Every refusal starts with what was refused (the argument's name) and shows the value."""
    acct = account(1)
    assert _message(level_leaf, CHAIN_ID, REGISTRY, "0x1234", 1, bytes(32)).startswith(
        "account: '0x1234' is not an address: ")
    assert _message(level_leaf, CHAIN_ID, REGISTRY, acct, 0, bytes(32)).startswith(
        f"account '{acct}' has level 0: expected an integer in 1..255")
    assert _message(level_leaf, CHAIN_ID, REGISTRY, acct, 1, b"short").startswith(
        "salt: b'short' is not a hash: expected 32 bytes")
    assert _message(levels_domain, CHAIN_ID, "0x1234").startswith("registry: '0x1234' is not an address: ")
    tree = LevelsTree.build({acct: 1}, chain_id=CHAIN_ID, registry=REGISTRY, seed=SEED)
    assert _message(lambda: "0x1234" in tree).startswith("account: '0x1234' is not an address: ")
    assert _message(tree.level_of, "0x1234").startswith("account: '0x1234' is not an address: ")


@pytest.mark.parametrize("seed, given", [(b"short", "5 bytes"), (bytes(33), "33 bytes"), ("00" * 32, "str"), (7, "int")])
def test_a_bad_seed_is_described_by_its_length_or_type(seed: object, given: str) -> None:
    """The seed is secret, so a bad one is described, not shown: its length or its type."""
    message = _message(LevelsTree.build, {account(1): 1}, chain_id=CHAIN_ID, registry=REGISTRY, seed=seed)
    assert message.startswith(f"seed: {given} (not shown: it is secret): expected 32 random bytes")


def test_proof_document_messages_name_the_field_and_show_the_value(saved) -> None:
    """level_proof_from_json names where the document comes from ("level proof" unless told),
    the field, and the value refused."""
    levels, built, _ = saved
    doc = built.proof_json(list(levels)[3])
    keys = "chainId, registry, root, account, level, salt, proof"
    assert _message(level_proof_from_json, [1, 2]) == (
        f"level proof: has list: expected an object with exactly the keys {keys}")
    assert _message(level_proof_from_json, {**doc, "extra": 1}) == (
        f"level proof: has {sorted([*doc, 'extra'])}: expected an object with exactly the keys {keys}")
    assert _message(level_proof_from_json, {**doc, "chainId": "31337"}).startswith(
        "level proof: chainId: '31337' is not a chain id")
    assert _message(level_proof_from_json, {**doc, "registry": "0x1234"}).startswith(
        "level proof: registry: '0x1234' is not an address")
    assert _message(level_proof_from_json, {**doc, "account": "0x1234"}).startswith(
        "level proof: account: '0x1234' is not an address")
    assert _message(level_proof_from_json, {**doc, "level": 0}).startswith("level proof: account has level 0")
    assert _message(level_proof_from_json, {**doc, "proof": "0x12"}).startswith(
        "level proof: proof '0x12': expected a list of at most 32 hashes")
    assert _message(level_proof_from_json, {**doc, "proof": ["0x12"]}).startswith(
        "level proof: '0x12' is not a hash")


def test_a_proof_of_exactly_the_largest_depth_passes_the_length_check(saved) -> None:
    """MAX_DEPTH (32) hashes is allowed by the length check: such a document is refused only
    because it does not lead to the root, 33 hashes because of the length."""
    levels, built, _ = saved
    doc = built.proof_json(list(levels)[3])
    assert "does not lead" in _message(level_proof_from_json, {**doc, "proof": ["0x" + "11" * 32] * 32})
    assert "at most 32" in _message(level_proof_from_json, {**doc, "proof": ["0x" + "11" * 32] * 33})


def test_proof_file_messages_name_the_file(saved, tmp_path) -> None:
    """read_proof_json and write_proof_json name the proof file in every refusal."""
    levels, built, _ = saved
    path = tmp_path / "p.json"
    path.write_text(json.dumps({**built.proof_json(list(levels)[3]), "level": 0}))
    assert _message(read_proof_json, path).startswith(f"proof file {path}: account has level 0")
    path.write_text("{")
    with pytest.raises(InputError) as exc:
        read_proof_json(path)
    assert str(exc.value).startswith(f"proof file {path} is not valid JSON")
    (tmp_path / "plain").write_text("a file, not a folder")
    target = tmp_path / "plain" / "p.json"
    assert re.fullmatch(rf"proof file {re.escape(str(target))}: cannot be written \([^\[\]]+\): expected a "
                        "writable path with free space",
                        _message(write_proof_json, built.proof_of(list(levels)[3]), target))


def test_a_proof_file_is_json_indented_by_one_space_with_a_final_newline(saved, tmp_path) -> None:
    """The written text: one field per line, one space of indentation, a newline at the end."""
    levels, built, _ = saved
    acct = list(levels)[5]
    out = write_proof_json(built.proof_of(acct), tmp_path / "proof.json")
    doc = built.proof_json(acct)
    lines = out.read_text().split("\n")
    assert lines[0] == "{" and lines[1] == f' "chainId": {CHAIN_ID},' and lines[-2:] == ["}", ""]
    assert lines[2] == f' "registry": "{REGISTRY}",' and lines[8] == f'  "{doc["proof"][0]}",'


def test_tree_file_messages_say_what_failed(tmp_path) -> None:
    """Saving under a file, opening an empty file or a path under a file: the message names the
    levels tree file, and an OS error by its description alone (not its errno repr)."""
    tree = LevelsTree.build({account(1): 1}, chain_id=CHAIN_ID, registry=REGISTRY, seed=SEED)
    (tmp_path / "plain").write_text("a file, not a folder")
    under = tmp_path / "plain" / "levels.tree"
    # the OS error's description ("File exists", ...), not its repr with the errno and the path
    assert re.fullmatch(rf"levels tree file {re.escape(str(under))}: cannot be written \([^\[\]]+\): expected a "
                        "writable path with free space", _message(tree.save, under))
    assert _message(LevelsTree.open, under) == (f"levels tree file {under}: cannot be read (Not a directory): "
                                                "expected a readable file")
    empty = tmp_path / "empty.tree"
    empty.write_bytes(b"")
    assert _message(LevelsTree.open, empty) == (f"levels tree file {empty}: truncated: empty file: "
                                                "expected a file written by LevelsTree.save")


def test_an_opened_tree_knows_its_path_and_close_unmaps_it(saved) -> None:
    """open() records the path; close() releases the mapping (a lookup then fails) and may be
    called again; a built tree has nothing to release and closes without error."""
    levels, _, path = saved
    tree = LevelsTree.open(path)
    assert tree.path == path
    acct = list(levels)[0]
    assert tree.level_of(acct) == levels[acct]
    tree.close()
    with pytest.raises(ValueError):
        tree.level_of(acct)
    tree.close()
    built = LevelsTree.build({account(1): 1}, chain_id=CHAIN_ID, registry=REGISTRY, seed=SEED)
    built.close()
    built.close()
    assert built.level_of(account(1)) == 1 and built.path is None


def test_build_messages_name_the_bad_input() -> None:
    """build's refusals say what the levels are (a list) and which account has the bad level."""
    assert _message(LevelsTree.build, [(account(1), 1)], chain_id=CHAIN_ID, registry=REGISTRY).startswith(
        "levels: list: expected a mapping of account to level")
    assert _message(LevelsTree.build, {account(1): 1, account(2): 0}, chain_id=CHAIN_ID, registry=REGISTRY) \
        .startswith(f"levels: account '{account(2)}' has level 0: expected an integer in 1..255")
    tree = LevelsTree.build({account(1): 1}, chain_id=CHAIN_ID, registry=REGISTRY, seed=SEED)
    assert _message(tree.proof, "0x1234").startswith("account: '0x1234' is not an address: ")


def test_an_account_given_twice_is_refused_wherever_it_sorts() -> None:
    """The duplicate is found among all the accounts, not only next to the smallest one."""
    accounts = sorted((account(i) for i in range(4)), key=lambda a: bytes.fromhex(a[2:]))
    largest = accounts[-1]
    levels = {a: 1 for a in accounts} | {largest.lower(): 2}
    assert _message(LevelsTree.build, levels, chain_id=CHAIN_ID, registry=REGISTRY).startswith(
        f"levels: account {largest} appears twice (as '{largest}' and '{largest.lower()}'): expected each account once")


class _CountedLevels(dict):
    """A mapping whose first two len() calls (build's emptiness and size checks) report
    ``count`` entries: the size check without building billions of leaves; later calls (the
    copy of the keys) see what it holds."""

    def __init__(self, items: dict[str, int], count: int) -> None:
        super().__init__(items)
        self.count, self.calls = count, 0

    def __len__(self) -> int:
        self.calls += 1
        return self.count if self.calls <= 2 else super().__len__()


def test_as_many_accounts_as_an_index_position_can_count_pass_the_size_check() -> None:
    """MAX_COUNT (2**32 - 1) accounts are allowed (positions are u32), one more is refused."""
    assert LevelsTree.build(_CountedLevels({account(1): 1}, lt.MAX_COUNT), chain_id=CHAIN_ID,
                            registry=REGISTRY).level_of(account(1)) == 1
    assert "expected at most 4294967295" in _message(
        LevelsTree.build, _CountedLevels({account(1): 1}, lt.MAX_COUNT + 1), chain_id=CHAIN_ID, registry=REGISTRY)


def test_an_index_record_pointing_one_past_the_last_leaf_is_refused_as_such(saved) -> None:
    """A record's leaf position equal to the leaf count is out of range (positions are 0..count-1)."""
    levels, built, path = saved
    victim = sorted(levels, key=lambda a: bytes.fromhex(a[2:]))[0]  # first record of the index
    index_start = len(built._buffer) - INDEX_RECORD_SIZE * built.count
    _rewrite(path, lambda data: data.__setitem__(slice(index_start + 21, index_start + 25),
                                                 built.count.to_bytes(4, "big")))
    with LevelsTree.open(path) as tree:
        assert f"the index gives leaf position {built.count} of {built.count}" in _message(tree.proof, victim)


def test_another_format_version_is_refused_with_a_request_to_rebuild(saved) -> None:
    """The refusal of an unknown version ends by saying what is expected: version 2, rebuilt."""
    _, _, path = saved

    def bump(data: bytearray) -> None:
        data[8:10] = (3).to_bytes(2, "big")
        _reseal_header(data)

    _rewrite(path, bump)
    assert _message(LevelsTree.open, path) == (f"levels tree file {path}: format version 3: expected version 2 "
                                               "(rebuild the tree)")


def test_a_built_tree_says_where_it_comes_from() -> None:
    """repr names the tree's source ("levels tree (built)" for a tree not read from a file)."""
    tree = LevelsTree.build({account(1): 1}, chain_id=CHAIN_ID, registry=REGISTRY, seed=SEED)
    assert repr(tree) == (f"LevelsTree(count=1, depth=0, root=0x{tree.root.hex()}, "
                          "source='levels tree (built)')")


def test_a_path_the_system_refuses_is_refused_as_unreadable(tmp_path) -> None:
    """A path with a NUL byte (a ValueError from the system call, not an OSError) is refused
    like any unreadable file."""
    bad = str(tmp_path / "levels") + "\0.tree"
    assert _message(LevelsTree.open, bad) == (f"levels tree file {bad}: cannot be read (embedded null byte): "
                                              "expected a readable file")


def _file_size(count: int) -> int:
    """Bytes of a tree file of ``count`` leaves, from the documented layout: the header, every
    node once (count, ceil(count / 2), ..., 1 nodes of 32 bytes), 25 bytes of index per leaf."""
    nodes, level = 0, count
    while True:
        nodes += level
        if level == 1:
            break
        level = (level + 1) // 2
    return HEADER_SIZE + 32 * nodes + INDEX_RECORD_SIZE * count


def test_header_refusals_say_exactly_what_is_wrong(saved, tmp_path) -> None:
    """Each check of the header, at its boundary, with the message it gives (the saved tree has
    300 leaves and depth 9; a header edited consistently is resealed with its checksum)."""
    _, _, path = saved
    data = path.read_bytes()
    full = _file_size(300)
    assert len(data) == full

    def refusal(content: bytes) -> str:
        other = tmp_path / "other.tree"
        other.write_bytes(content)
        return _message(LevelsTree.open, other).removeprefix(f"levels tree file {other}: ")

    def resealed(offset: int, value: bytes) -> bytes:
        edited = bytearray(data)
        edited[offset:offset + len(value)] = value
        _reseal_header(edited)
        return bytes(edited)

    foreign = "not a levels tree file (starts with b'CSLVTREX'): expected a file starting with b'CSLVTREE'"
    assert refusal(b"CSLVTREX") == foreign  # 8 bytes: enough to see the magic
    assert refusal(b"CSLVTREX" + bytes(12)) == foreign  # the message shows the 8 bytes of the magic
    assert refusal(b"CSLVTREE" + (3).to_bytes(2, "big")) == "format version 3: expected version 2 (rebuild the tree)"
    assert refusal(resealed(8, (258).to_bytes(2, "big"))) == (
        "format version 258: expected version 2 (rebuild the tree)")
    assert refusal(data[:HEADER_SIZE]) == (f"truncated: {HEADER_SIZE} bytes where 300 leaves take {full}: "
                                           "expected a file written by LevelsTree.save")
    assert refusal(data[:-INDEX_RECORD_SIZE]) == (f"truncated: {full - INDEX_RECORD_SIZE} bytes where 300 leaves "
                                                  f"take {full}: expected a file written by LevelsTree.save")
    corrupt = "corrupt header (count 300, depth {}): expected a file written by LevelsTree.save"
    assert refusal(resealed(76, (8).to_bytes(4, "big"))) == corrupt.format(8)
    assert refusal(resealed(16, bytes(32))) == corrupt.format(9)  # chain id 0
    most = lt.MAX_COUNT
    huge = resealed(68, most.to_bytes(8, "big") + (32).to_bytes(4, "big"))
    assert refusal(huge) == (f"truncated: {full} bytes where {most} leaves take {_file_size(most)}: "
                             "expected a file written by LevelsTree.save")


def test_a_tree_of_chain_id_1_opens(tmp_path) -> None:
    """Chain id 1 (Ethereum mainnet) is a chain id like any other; only 0 is refused."""
    tree = LevelsTree.build({account(1): 1}, chain_id=1, registry=REGISTRY, seed=SEED)
    with LevelsTree.open(tree.save(tmp_path / "t.tree")) as opened:
        assert opened.chain_id == 1 and opened.root == tree.root


@pytest.mark.parametrize("level", [1.0, "2", None, np.float64(3.0)])
def test_a_lone_level_that_is_not_an_integer_is_refused(level: object) -> None:
    """Refused however the mapping starts: a float level is not taken as an integer, and a
    string or None is refused as a level (InputError), not by a failed comparison."""
    message = _message(LevelsTree.build, {account(1): level}, chain_id=CHAIN_ID, registry=REGISTRY)
    assert message.startswith(f"levels: account '{account(1)}' has level {level!r}: expected an integer in 1..255")
