"""Merkle trees as ``TaskRegistry`` checks them (OpenZeppelin ``MerkleProof``), for small sets.

Two things are published as Merkle roots: the receivers' levels (:mod:`crowdsense.pmcb.levels_tree`,
built for a million receivers with batched hashing) and the receivers selected for one task
(:mod:`crowdsense.ldpf.selection`, tens to thousands). Both follow one convention, defined here:

* an inner node is ``keccak256(min(a, b) || max(a, b))`` (the children in ascending order, so a
  proof needs no left/right flags);
* leaves are sorted, paired from the left, and an odd last node is carried up as it is;
* a proof is the list of siblings from the leaf up; a level without a sibling adds nothing;
* leaves are double-hashed and bound to the registry's domain
  ``keccak256(abi.encode(uint256 chainId, address registry))`` by their builders, so a leaf is
  never the 64-byte preimage of an inner node and a proof for one deployment proves nothing in
  another.
"""

from __future__ import annotations

from collections.abc import Sequence

from crowdsense.commitments.hashes import keccak256 as _keccak
from crowdsense.errors import InputError

__all__ = ["MAX_DEPTH", "hash_pair", "fold", "verify_proof", "tree_depth", "registry_domain", "MerkleTree"]

#: Longest proof the registry accepts (``MAX_PROOF_DEPTH``): 2^32 leaves.
MAX_DEPTH = 32


def _hash32(value: object, what: str) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)) or len(value) != 32:
        shown = repr(value)
        shown = shown if len(shown) <= 64 else shown[:60] + "..."
        raise InputError(f"{what}: {shown} is not a hash: expected 32 bytes")
    return bytes(value)


def hash_pair(a: bytes, b: bytes) -> bytes:
    """An inner node: ``keccak256(min(a, b) || max(a, b))`` (OpenZeppelin's ``_hashPair``)."""
    a, b = _hash32(a, "node"), _hash32(b, "node")
    return _keccak(a + b if a <= b else b + a)


def fold(leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root that ``proof`` leads ``leaf`` to (no checks: the caller's hashes are 32 bytes)."""
    node = leaf
    for sibling in proof:
        node = _keccak(node + sibling if node <= sibling else sibling + node)
    return node


def verify_proof(root: bytes, leaf: bytes, proof: Sequence[bytes]) -> bool:
    """Whether ``proof`` folds ``leaf`` up to ``root`` (OpenZeppelin's ``MerkleProof.verify``)."""
    root = _hash32(root, "root")
    leaf = _hash32(leaf, "leaf")
    if isinstance(proof, (bytes, bytearray, str)) or not isinstance(proof, Sequence) or len(proof) > MAX_DEPTH:
        raise InputError(f"proof: {proof!r:.60}: expected a list of at most {MAX_DEPTH} 32-byte hashes")
    return fold(leaf, [_hash32(p, "proof hash") for p in proof]) == root


def tree_depth(count: int) -> int:
    """Levels above the leaves of a tree of ``count`` leaves: ceil(log2(count)) (0 for one leaf)."""
    return (count - 1).bit_length() if count >= 1 else 0


def registry_domain(chain_id: int, registry: bytes) -> bytes:
    """``keccak256(abi.encode(uint256 chainId, address registry))`` for a 20-byte ``registry``."""
    if len(registry) != 20:
        raise InputError(f"registry: {len(registry)} bytes: expected a 20-byte address")
    return _keccak(int(chain_id).to_bytes(32, "big") + bytes(12) + bytes(registry))


class MerkleTree:
    """An in-memory tree over a few leaves (up to some millions: each level is a Python list).

    >>> tree = MerkleTree([b"\\x01" * 32, b"\\x02" * 32, b"\\x03" * 32])
    >>> verify_proof(tree.root, b"\\x03" * 32, tree.proof(b"\\x03" * 32))
    True
    """

    def __init__(self, leaves: Sequence[bytes]) -> None:
        nodes = sorted({_hash32(leaf, "leaf") for leaf in leaves})
        if not nodes:
            raise InputError("leaves: none: expected at least one leaf")
        if len(nodes) != len(leaves):
            raise InputError(f"leaves: {len(leaves) - len(nodes)} repeated: expected distinct leaves")
        if tree_depth(len(nodes)) > MAX_DEPTH:
            raise InputError(f"leaves: {len(nodes)}: expected at most 2^{MAX_DEPTH}")
        self._levels = [nodes]
        while len(nodes) > 1:
            parents = [hash_pair(nodes[i], nodes[i + 1]) for i in range(0, len(nodes) - 1, 2)]
            nodes = parents + nodes[-1:] if len(nodes) % 2 else parents
            self._levels.append(nodes)
        self._position = {leaf: i for i, leaf in enumerate(self._levels[0])}

    @property
    def root(self) -> bytes:
        return self._levels[-1][0]

    def __len__(self) -> int:
        return len(self._levels[0])

    def __contains__(self, leaf: object) -> bool:
        return leaf in self._position

    def proof(self, leaf: bytes) -> list[bytes]:
        """The siblings of ``leaf`` from the bottom up."""
        position = self._position.get(bytes(leaf))
        if position is None:
            raise InputError(f"leaf 0x{bytes(leaf).hex()}: not in the tree: expected one of its leaves")
        siblings = []
        for nodes in self._levels[:-1]:
            if position ^ 1 < len(nodes):
                siblings.append(nodes[position ^ 1])
            position >>= 1
        return siblings
