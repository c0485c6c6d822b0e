"""A reference Merkle tree of (account, level) leaves, built by hand from keccak.

Independent of the library's tree (``crowdsense.pmcb.levels_tree``): the contract tests build
their trees with it, so a proof they make and the contract accepts shows that the contract and
this documented encoding agree byte for byte.

* domain = keccak256(abi.encode(chainId, registry))
* leaf = keccak256(keccak256(abi.encode(domain, account, level, salt)))
* node = keccak256(min(a, b) || max(a, b))
* leaves sorted ascending; an odd last node is carried up unchanged.

The same shape serves the selection of a task's receivers, with
leaf = keccak256(keccak256(abi.encode(domain, taskId, account, salt))).
"""

import secrets

from eth_abi import encode
from eth_utils import keccak


def leaf(chain_id: int, registry: str, account: str, level: int, salt: bytes) -> bytes:
    domain = keccak(encode(["uint256", "address"], [chain_id, registry]))
    return keccak(keccak(encode(["bytes32", "address", "uint8", "bytes32"], [domain, account, level, salt])))


def node(a: bytes, b: bytes) -> bytes:
    return keccak(min(a, b) + max(a, b))


def selection_leaf(chain_id: int, registry: str, task_id: int, account: str, salt: bytes) -> bytes:
    domain = keccak(encode(["uint256", "address"], [chain_id, registry]))
    return keccak(keccak(encode(["bytes32", "uint256", "address", "bytes32"], [domain, task_id, account, salt])))


def tree(chain_id: int, registry: str, levels: dict) -> tuple[bytes, dict[str, list[bytes]], dict[str, bytes]]:
    """Root, the proof of each account and its salt (both keyed by ``str(account)``); the salts
    are fresh random ones."""
    salts = {str(a): secrets.token_bytes(32) for a in levels}
    leaves = {str(a): leaf(chain_id, registry, str(a), lvl, salts[str(a)]) for a, lvl in levels.items()}
    root, proofs = _fold_tree(leaves)
    return root, proofs, salts


def selection_tree(chain_id: int, registry: str, task_id: int, accounts) -> tuple[bytes, dict[str, tuple]]:
    """Root, and each account's (salt, proof) under it (keyed by ``str(account)``)."""
    salts = {str(a): secrets.token_bytes(32) for a in accounts}
    leaves = {a: selection_leaf(chain_id, registry, task_id, a, salts[a]) for a in salts}
    root, proofs = _fold_tree(leaves)
    return root, {a: (salts[a], proofs[a]) for a in salts}


def _fold_tree(leaves: dict) -> tuple[bytes, dict[str, list[bytes]]]:
    layer = sorted(leaves.values())
    proofs: dict[bytes, list[bytes]] = {x: [] for x in layer}
    members = {x: [x] for x in layer}  # the leaves under each node of the current layer
    while len(layer) > 1:
        up, up_members = [], {}
        for i in range(0, len(layer), 2):
            if i + 1 == len(layer):
                up.append(layer[i])
                up_members[layer[i]] = members[layer[i]]
                continue
            a, b = layer[i], layer[i + 1]
            for x in members[a]:
                proofs[x].append(b)
            for x in members[b]:
                proofs[x].append(a)
            parent = node(a, b)
            up.append(parent)
            up_members[parent] = members[a] + members[b]
        layer, members = up, up_members
    return layer[0], {a: proofs[x] for a, x in leaves.items()}
