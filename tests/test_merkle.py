"""The one Merkle convention of the package, against a tree folded by hand."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from crowdsense.errors import InputError
from crowdsense.merkle import MAX_DEPTH, MerkleTree, fold, hash_pair, registry_domain, tree_depth, verify_proof

LEAVES = [bytes([i]) * 32 for i in (5, 1, 4, 2, 3)]


def _node(a: bytes, b: bytes) -> bytes:
    return keccak(min(a, b) + max(a, b))


def test_five_leaves_fold_as_documented():
    one, two, three, four, five = sorted(LEAVES)
    # sorted, paired from the left, the odd last node carried up as it is
    expected = _node(_node(_node(one, two), _node(three, four)), five)
    tree = MerkleTree(LEAVES)
    assert tree.root == expected and len(tree) == 5
    assert tree.proof(five) == [_node(_node(one, two), _node(three, four))]  # no sibling below: nothing added
    assert tree.proof(three) == [four, _node(one, two), five]


@pytest.mark.parametrize("count", [1, 2, 3, 7, 8, 33])
def test_every_proof_leads_to_the_root(count):
    leaves = [keccak(i.to_bytes(4, "big")) for i in range(count)]
    tree = MerkleTree(leaves)
    for leaf in leaves:
        proof = tree.proof(leaf)
        assert len(proof) <= tree_depth(count) and verify_proof(tree.root, leaf, proof)
        assert fold(leaf, proof) == tree.root
    assert not verify_proof(tree.root, keccak(b"outsider"), tree.proof(leaves[0]))


def test_a_single_leaf_is_its_own_root():
    assert MerkleTree([LEAVES[0]]).root == LEAVES[0] and MerkleTree([LEAVES[0]]).proof(LEAVES[0]) == []


def test_hash_pair_is_order_free():
    assert hash_pair(LEAVES[0], LEAVES[1]) == hash_pair(LEAVES[1], LEAVES[0]) == _node(LEAVES[0], LEAVES[1])


def test_registry_domain_is_abi_encoded_chain_and_registry():
    registry = bytes.fromhex("5FbDB2315678afecb367f032d93F642f64180aa3")
    assert registry_domain(31337, registry) == keccak((31337).to_bytes(32, "big") + bytes(12) + registry)


@pytest.mark.parametrize("leaves, message", [([], "none"), ([LEAVES[0], LEAVES[0]], "1 repeated"),
                                             ([b"\x01" * 31], "not a hash")])
def test_bad_leaves_are_refused(leaves, message):
    with pytest.raises(InputError, match=message):
        MerkleTree(leaves)


def test_bad_proofs_are_refused():
    tree = MerkleTree(LEAVES)
    with pytest.raises(InputError, match="not in the tree"):
        tree.proof(b"\x09" * 32)
    with pytest.raises(InputError, match=f"at most {MAX_DEPTH}"):
        verify_proof(tree.root, LEAVES[0], [LEAVES[1]] * (MAX_DEPTH + 1))
    with pytest.raises(InputError, match="expected a list"):
        verify_proof(tree.root, LEAVES[0], b"\x01" * 32)
    with pytest.raises(InputError, match="20-byte address"):
        registry_domain(1, b"\x01" * 19)
