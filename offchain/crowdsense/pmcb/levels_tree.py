"""Security levels as a Merkle tree: one root on chain, each receiver's level and proof off chain.

Registering a level per receiver in a contract mapping costs about 25,000 gas a receiver and
shows every receiver's level to anyone reading the chain. Instead the registrar publishes, per
epoch, the root of a Merkle tree whose leaves are (receiver, level) pairs; a receiver that
claims a subtask sends its level, its salt and the proof of its leaf, which the contract checks
with OpenZeppelin's ``MerkleProof.verifyCalldata``. A receiver that never claims leaves no
trace of its level on chain. This module builds the tree off chain, stores it, and serves
proofs; the contract computes the same bytes.

Leaf (a 128-byte preimage, hashed twice), under a domain fixed per deployment::

    domain = keccak256(abi.encode(uint256 chainId, address registry))
    leaf   = keccak256(keccak256(abi.encode(bytes32 domain, address account, uint8 level,
                                            bytes32 salt)))
    salt   = keccak256(seed || account)      # seed: 32 secret bytes per tree; account: 20 bytes

* **A secret salt per leaf.** A claim publishes the claimant's proof, and the first hash of
  a proof is the *leaf* of another receiver (its neighbour in the sorted level 0). Without a
  salt that leaf is a function of public values only: anyone who knows or guesses the
  neighbour's address tries the few levels, finds the one whose leaf matches, and so learns
  the level of a receiver that never claimed. With 32 secret bytes in the preimage no
  candidate can be computed; the salt of a leaf leaves the registrar only inside that
  receiver's own proof, and reaches the chain only when that receiver claims, next to the
  level it then reveals anyway. The salts come from one seed
  (``secrets.token_bytes(32)`` unless given to :meth:`LevelsTree.build`), so the file stores
  32 bytes instead of one salt per receiver, and each is one hash away.
* **A fresh seed per published root.** A claim reveals its receiver's salt for good. Built
  again with the same seed, the next epoch's tree would give that receiver the same salt,
  and its leaf there, once published as someone else's sibling, would name its new level even
  if it never claims again; a fresh seed gives every receiver a new salt in every tree. (A
  fresh seed also changes the root: the same levels give another root, so a caller that
  wants to republish nothing when nothing changed compares :meth:`LevelsTree.levels` with
  its input and keeps the tree it has.)
* **The tree file is private to the registrar.** It holds every receiver's level (the
  account index) and the seed, i.e. everything the tree hides: keep it where only the
  registrar reads it (it is written with mode 0600). A receiver's proof file holds that
  receiver's level and salt: it is that receiver's to keep or to spend in a claim.
* **chainId and registry in the domain**: a proof is bound to one deployment, so a root
  published for one registry (or one chain) cannot be replayed against another. The domain
  is hashed once (64 bytes) so that the leaf preimage stays at four words, 128 bytes, within
  one keccak block.
* **Double hashing** (as OpenZeppelin recommends): an inner node is the hash of 64 bytes; a
  leaf is the hash of a 32-byte hash, never of a 64-byte preimage, so no pair of inner nodes
  can be presented as a leaf (second-preimage attack on the tree).
* **level in 1..255**: a uint8, and 0 is the contract's "no level".

Inner nodes, the OpenZeppelin way (sorted pairs, so a proof needs no left/right flags)::

    node(a, b) = keccak256(min(a, b) || max(a, b))     # compared as 32-byte big-endian integers

Tree: level 0 is the leaf hashes **sorted ascending**, so the tree depends only on the set of
(account, level) pairs and the seed, never on the order of the input file: the same mapping
and seed rebuild the same root. Level k + 1 at position i is node(level k [2i], level k
[2i+1]); an odd last node is carried up unchanged (no hashing, no duplication: a duplicated
node would let a proof be built for a position that does not exist). A one-leaf tree has root
= leaf and an empty proof. A proof lists the siblings bottom-up, skipping levels where the
node has none: 1,000,000 leaves give depth 20 and proofs of 20 hashes.

File (``LevelsTree.save`` / ``LevelsTree.open``; all integers big-endian), written atomically
(temporary file, fsync, rename) with mode 0600, read through ``mmap`` so that serving one
proof reads the header, about 20 index records (binary search) and about 20 nodes, never the
whole file::

    header, 208 bytes:
        magic "CSLVTREE" (8) | format version u16 = 2 | header size u16 = 208 | 4 zero bytes
        | chainId (32) | registry (20) | count u64 | depth u32 | root (32) | seed (32)
        | sha256 of the body (32) | sha256 of the 176 header bytes before it (32)
    body:
        the tree levels, bottom-up: count leaves (32 bytes each, ascending), then
        ceil(count / 2) nodes, ..., then the root: every node once, level after level
        the account index, sorted by account: count records of 25 bytes
        account (20) | level u8 | leaf position u32

Salts are not stored: a proof served recomputes its receiver's salt from the seed (one
hash). Version 1 (leaves without salt) is refused with a request to rebuild: its proofs
reveal the levels of unclaimed neighbours, and its root cannot be checked by a contract
that expects salted leaves. Sizes follow from ``count``: a file whose length differs is
truncated (or has trailing bytes) and is refused on opening, as are a wrong magic, an unknown
version, a header whose own checksum fails, a depth that does not match the count, and a
stored root that is not the top node. Opening checks the body's sha256 only when asked
(``verify=True``: it reads the whole file); every proof served is checked anyway: its leaf is
recomputed from the index record and the seed and the proof must fold to the root of the
header, so a corrupt node or record on the path is refused, never handed out. 1,000,000
receivers take 89 MB (64 MB of nodes, 25 MB of index).

One receiver's proof travels as JSON (:meth:`LevelsTree.proof_json`, :func:`write_proof_json`;
:func:`read_proof_json` and :func:`level_proof_from_json` check it on the way back)::

    {"chainId": 31337, "registry": "0x...", "root": "0x<64 hex>", "account": "0x...",
     "level": 2, "salt": "0x<64 hex>", "proof": ["0x<64 hex>", ...]}

Hashing. Single hashes (a leaf, a pair, a proof check) use pycryptodome's keccak. A tree of a
million leaves needs 5 million: 1 million salts, 2 million for the double-hashed leaves, 1
million inner nodes, and up to 1 million to check the EIP-55 checksums of mixed-case
addresses. A pycryptodome call costs about 7 microseconds of CPU, nearly all of it interpreter
and ctypes overhead around the permutation itself, so the build hashes in batches instead
(:mod:`crowdsense.keccak_rows`; checksums in bulk: :mod:`crowdsense.address_rows`):
Keccak-f[1600] (FIPS 202) written over numpy arrays, one uint64 array per lane, each operation
applied to thousands of messages at once, for about 2.3 microseconds of CPU per hash; one core
then builds the million-leaf tree well within its time budget, and no worker processes are
needed (``benchmarks/merkle.py`` measures both). The tests check the batches against
pycryptodome for every message length used, and every proof served is checked again with
pycryptodome, so a fault in the batch code cannot go unseen. Everything else (hex decoding,
sorting, pairing) runs on numpy arrays too, with no Python object per node.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import mmap
import os
import re
import secrets
import struct
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from crowdsense.address_rows import checksum_spellings as _spellings
from crowdsense.address_rows import checksummed as _checksummed
from crowdsense.address_rows import parse_address_bytes as _address
from crowdsense.address_rows import parse_addresses as _addresses
from crowdsense.address_rows import shown as _shown
from crowdsense.atomicfile import write_atomic
from crowdsense.errors import InputError
from crowdsense.jsonfile import read_json_file
from crowdsense.keccak_rows import keccak_one as _keccak, keccak_rows as _keccak_rows
from crowdsense.merkle import MAX_DEPTH, hash_pair, tree_depth, verify_proof
from crowdsense.merkle import fold as _fold
from crowdsense.merkle import registry_domain as _domain

__all__ = [
    "FORMAT_VERSION",
    "HEADER_SIZE",
    "INDEX_RECORD_SIZE",
    "MAGIC",
    "MAX_COUNT",
    "MAX_DEPTH",
    "SEED_SIZE",
    "LevelProof",
    "LevelsTree",
    "hash_pair",
    "level_leaf",
    "level_proof_from_json",
    "levels_domain",
    "read_proof_json",
    "tree_depth",
    "verify_proof",
    "write_proof_json",
]

#: First bytes of a levels tree file.
MAGIC = b"CSLVTREE"
#: Version of the file layout written by this module (the only one it reads; 1 had no salts).
FORMAT_VERSION = 2
#: magic, version, header size, 4 zero bytes, chainId, registry, count, depth, root, seed,
#: body sha256.
_HEADER = struct.Struct(">8sHH4x32s20sQI32s32s32s")
#: Bytes of the header: the fields above and the sha256 of them.
HEADER_SIZE = _HEADER.size + 32
#: One record of the account index: account (20), level (u8), leaf position (u32).
_RECORD = struct.Struct(">20sBI")
INDEX_RECORD_SIZE = _RECORD.size
#: Most leaves a file can index (positions are u32).
MAX_COUNT = 2**32 - 1
#: Bytes of the secret seed the salts are derived from.
SEED_SIZE = 32
#: Levels are uint8 on chain, and 0 means "no level".
MIN_LEVEL, MAX_LEVEL = 1, 255

_HEX32 = re.compile(r"0x[0-9a-fA-F]{64}")
_JSON_KEYS = ("chainId", "registry", "root", "account", "level", "salt", "proof")


# -------------------------------------------------------------------------------- checks


def _chain_id(value: object, what: str = "chain id") -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= int(value) < 2**256:
        raise InputError(f"{what}: {_shown(value)} is not a chain id: expected an integer in 1..2**256 - 1")
    return int(value)


def _level(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
            or not MIN_LEVEL <= value <= MAX_LEVEL:
        raise InputError(f"{what} has level {_shown(value)}: expected an integer in {MIN_LEVEL}..{MAX_LEVEL}")
    return int(value)


def _hash32(value: object, what: str) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)) or len(value) != 32:
        raise InputError(f"{what}: {_shown(value)} is not a hash: expected 32 bytes")
    return bytes(value)


# ----------------------------------------------------------------------------- leaves, nodes


def _seed(value: object) -> bytes:
    if not isinstance(value, (bytes, bytearray)) or len(value) != SEED_SIZE:
        given = f"{len(value)} bytes" if isinstance(value, (bytes, bytearray)) else type(value).__name__
        raise InputError(f"seed: {given} (not shown: it is secret): expected {SEED_SIZE} random bytes, "
                         "or none for a fresh seed")
    return bytes(value)


def levels_domain(chain_id: int, registry: str | bytes) -> bytes:
    """The domain of the leaves of ``registry`` on chain ``chain_id``:
    ``keccak256(abi.encode(uint256 chainId, address registry))``."""
    return _domain(_chain_id(chain_id), _address(registry, "registry"))


def _salts(seed: bytes, accounts: np.ndarray) -> np.ndarray:
    """(n, 32) uint8: keccak256(seed || account) of each row of the (n, 20) ``accounts``."""
    messages = np.empty((accounts.shape[0], SEED_SIZE + 20), dtype=np.uint8)
    messages[:, :SEED_SIZE] = np.frombuffer(seed, dtype=np.uint8)
    messages[:, SEED_SIZE:] = accounts
    return _keccak_rows(messages)


def _preimages(domain: bytes, accounts: np.ndarray, levels: np.ndarray, salts: np.ndarray) -> np.ndarray:
    """(n, 128) uint8: abi.encode(bytes32 domain, address account, uint8 level, bytes32 salt)."""
    n = accounts.shape[0]
    out = np.zeros((n, 128), dtype=np.uint8)
    out[:, 0:32] = np.frombuffer(domain, dtype=np.uint8)
    out[:, 44:64] = accounts
    out[:, 95] = levels
    out[:, 96:128] = salts
    return out


def _leaf(domain: bytes, account: bytes, level: int, salt: bytes) -> bytes:
    return _keccak(_keccak(domain + bytes(12) + account + bytes(31) + bytes([level]) + salt))


def level_leaf(chain_id: int, registry: str | bytes, account: str | bytes, level: int, salt: bytes) -> bytes:
    """The leaf of ``account`` at ``level`` with ``salt`` in a tree for ``registry`` on chain
    ``chain_id``: ``keccak256(keccak256(abi.encode(bytes32 domain, address account, uint8 level,
    bytes32 salt)))``, ``domain`` as :func:`levels_domain`; addresses as hex (any case, EIP-55
    checked when mixed) or 20 bytes, the salt as 32 bytes.
    """
    domain = levels_domain(chain_id, registry)
    acc = _address(account, "account")
    lvl = _level(level, f"account {_shown(account)}")
    return _leaf(domain, acc, lvl, _hash32(salt, "salt"))


def _level_sizes(count: int) -> list[int]:
    sizes = [count]
    while sizes[-1] > 1:
        sizes.append((sizes[-1] + 1) // 2)
    return sizes


def _greater(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise a > b for (n, 32) uint8 arrays read as 32-byte big-endian integers."""
    wa = np.ascontiguousarray(a).view(">u8")
    wb = np.ascontiguousarray(b).view(">u8")
    differ = wa != wb
    first = differ.argmax(axis=1)
    rows = np.arange(a.shape[0])
    return differ[rows, first] & (wa[rows, first] > wb[rows, first])


def _parent_level(nodes: np.ndarray) -> np.ndarray:
    """Level k + 1 from level k: sorted pairs hashed, an odd last node carried up as it is."""
    pairs = nodes.shape[0] // 2
    left, right = nodes[0:2 * pairs:2], nodes[1:2 * pairs:2]
    swap = _greater(left, right)[:, None]
    message = np.empty((pairs, 64), dtype=np.uint8)
    message[:, :32] = np.where(swap, right, left)
    message[:, 32:] = np.where(swap, left, right)
    parents = _keccak_rows(message)
    return np.concatenate([parents, nodes[-1:]]) if nodes.shape[0] % 2 else parents


def _sort_rows(rows: np.ndarray) -> np.ndarray:
    """Indices that sort the (n, w) uint8 rows as big-endian integers (bytewise order)."""
    n, width = rows.shape
    padded = np.zeros((n, -(-width // 8) * 8), dtype=np.uint8)
    padded[:, :width] = rows
    words = padded.view(">u8")
    return np.lexsort(words.T[::-1])


# ------------------------------------------------------------------------------------ proofs


@dataclass(frozen=True)
class LevelProof:
    """One receiver's level, salt and the proof of its leaf under ``root`` (what a claim carries).

    The salt is secret until the receiver claims: with it and the account, anyone can test
    which level the leaf holds.
    """

    chain_id: int
    registry: str  #: checksummed
    root: bytes
    account: str  #: checksummed
    level: int
    salt: bytes  #: 32 bytes
    proof: tuple[bytes, ...]

    @property
    def leaf(self) -> bytes:
        return level_leaf(self.chain_id, self.registry, self.account, self.level, self.salt)

    def verify(self) -> bool:
        """Whether the proof leads from this receiver's leaf to ``root``."""
        return _fold(self.leaf, self.proof) == self.root

    def to_json(self) -> dict[str, Any]:
        """The JSON document of the module docstring."""
        return {"chainId": self.chain_id, "registry": self.registry, "root": "0x" + self.root.hex(),
                "account": self.account, "level": self.level, "salt": "0x" + self.salt.hex(),
                "proof": ["0x" + p.hex() for p in self.proof]}


def _atomic_write(path: Path, chunks: Iterable[bytes], what: str) -> None:
    """:func:`~crowdsense.atomicfile.write_atomic` with mode 0600 (a tree holds every level and
    the seed, a proof its receiver's level and salt), a failure told in one line."""
    try:
        write_atomic(path, chunks, mode=0o600)
    except OSError as exc:
        raise InputError(f"{what} {path}: cannot be written ({exc.strerror or exc}): "
                         "expected a writable path with free space") from None


def write_proof_json(proof: LevelProof, path: str | Path) -> Path:
    """Write one receiver's proof as JSON (atomically, mode 0600); returns the path."""
    path = Path(path)
    _atomic_write(path, [(json.dumps(proof.to_json(), indent=1) + "\n").encode()], "proof file")
    return path


def read_proof_json(path: str | Path) -> LevelProof:
    """A proof file written by :func:`write_proof_json`, checked as :func:`level_proof_from_json`
    checks a document (a file edited by hand is refused here, not by a reverted transaction)."""
    return level_proof_from_json(read_json_file(path, "proof file"), what=f"proof file {path}")


def level_proof_from_json(doc: Any, *, what: str = "level proof") -> LevelProof:
    """The :class:`LevelProof` of a parsed JSON document (:meth:`LevelProof.to_json`), checked
    field by field and checked to lead from the receiver's leaf to its root; ``what`` names
    where the document comes from, for the messages."""
    if isinstance(doc, dict) and set(doc) == set(_JSON_KEYS) - {"salt"}:
        raise InputError(f"{what}: has no salt (a proof from a tree of format version 1): expected a proof "
                         "from a tree rebuilt with salted leaves")
    if not isinstance(doc, dict) or set(doc) != set(_JSON_KEYS):
        keys = sorted(doc) if isinstance(doc, dict) else type(doc).__name__
        raise InputError(f"{what}: has {keys}: expected an object with exactly the keys "
                         f"{', '.join(_JSON_KEYS)}")
    chain_id = _chain_id(doc["chainId"], f"{what}: chainId")
    registry = _address(doc["registry"], f"{what}: registry")
    account = _address(doc["account"], f"{what}: account")
    level = _level(doc["level"], f"{what}: account")
    hashes = doc["proof"]
    if not isinstance(hashes, list) or len(hashes) > MAX_DEPTH:
        raise InputError(f"{what}: proof {_shown(hashes)}: expected a list of at most {MAX_DEPTH} hashes")
    for item in [doc["root"], doc["salt"], *hashes]:
        if not isinstance(item, str) or not _HEX32.fullmatch(item):
            raise InputError(f"{what}: {_shown(item)} is not a hash: expected 0x and 64 hex digits")
    proof = LevelProof(chain_id=chain_id, registry=_checksummed(registry),
                       root=bytes.fromhex(doc["root"][2:]), account=_checksummed(account), level=level,
                       salt=bytes.fromhex(doc["salt"][2:]), proof=tuple(bytes.fromhex(h[2:]) for h in hashes))
    if not proof.verify():
        raise InputError(f"{what}: the proof does not lead from the leaf of {proof.account} at level {level} "
                         f"with its salt to root {doc['root']}: expected the proof as the registrar wrote it")
    return proof


# -------------------------------------------------------------------------------------- tree


class _IndexKeys(Sequence[bytes]):
    """The accounts of the index as a sequence for :mod:`bisect`: each access reads one record."""

    def __init__(self, buffer: Any, offset: int, count: int) -> None:
        self._buffer, self._offset, self._count = buffer, offset, count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, i: int) -> bytes:  # type: ignore[override]
        start = self._offset + i * INDEX_RECORD_SIZE
        return bytes(self._buffer[start:start + 20])


class LevelsTree:
    """The Merkle tree of (account, level) leaves of one registry, in the file layout of the
    module docstring, held in memory (:meth:`build`) or mapped from a file (:meth:`open`).

    Example::

        tree = LevelsTree.build({"0xAb5801a7D398351b8bE11C439e05C5B3259aeC9B": 2, ...},
                                chain_id=31337, registry=registry_address)   # a fresh secret seed
        tree.save("levels.tree")                                              # private, mode 0600
        with LevelsTree.open("levels.tree") as tree:
            level, salt, proof = tree.proof(account)
            write_proof_json(tree.proof_of(account), "proof.json")            # for that receiver only
            unchanged = tree.levels() == new_levels   # same levels: keep this tree and its root

    ``seed`` is the secret the salts come from (see the module docstring); it is stored in
    the file and never shown by ``repr``.
    """

    def __init__(self, buffer: Any, *, source: str, path: Path | None = None, closer: Any = None) -> None:
        """Use :meth:`build` or :meth:`open`; ``buffer`` holds a whole file image."""
        self._buffer = buffer
        self._source = source
        self.path = path
        self._closer = closer
        size = len(buffer)
        start = bytes(buffer[:10])
        if size >= 8 and start[:8] != MAGIC:
            raise self._bad(f"not a levels tree file (starts with {start[:8]!r})",
                            expected=f"a file starting with {MAGIC!r}")
        if size >= 10:
            self._check_version(int.from_bytes(start[8:10], "big"))
        if size < HEADER_SIZE:
            raise self._bad(f"truncated: {size} bytes, shorter than the {HEADER_SIZE}-byte header")
        fields = bytes(buffer[:_HEADER.size])
        (_, _, header_size, chain_id, registry, count, depth, root, seed,
         body_digest) = _HEADER.unpack(fields)
        seal = bytes(buffer[_HEADER.size:HEADER_SIZE])
        if header_size != HEADER_SIZE or hashlib.sha256(fields).digest() != seal:
            raise self._bad("corrupt header (its checksum does not match)")
        if not 1 <= count <= MAX_COUNT or depth != tree_depth(count) or int.from_bytes(chain_id, "big") == 0:
            raise self._bad(f"corrupt header (count {count}, depth {depth})")
        self._sizes = _level_sizes(count)
        self._level_offsets = [HEADER_SIZE]
        for s in self._sizes:
            self._level_offsets.append(self._level_offsets[-1] + 32 * s)
        self._index_offset = self._level_offsets.pop()
        expected = self._index_offset + INDEX_RECORD_SIZE * count
        if size != expected:
            state = "truncated" if size < expected else "has trailing bytes"
            raise self._bad(f"{state}: {size} bytes where {count} leaves take {expected}")
        self.chain_id = int.from_bytes(chain_id, "big")
        self.registry = _checksummed(registry)
        self.count = count
        self.depth = depth
        self.root = root
        self.seed = seed
        self._domain = _domain(self.chain_id, registry)
        self._body_digest = body_digest
        if self._node(len(self._sizes) - 1, 0) != root:
            raise self._bad("corrupt: the root of the header is not the top node of the tree")
        self._keys = _IndexKeys(buffer, self._index_offset, count)

    # ----------------------------------------------------------------------- construction

    def _check_version(self, version: int) -> None:
        if version == 1:
            raise self._bad("format version 1, whose leaves have no salt (the proofs it serves reveal "
                            "the levels of receivers that never claimed)",
                            expected=f"a version {FORMAT_VERSION} file: rebuild the tree from the levels "
                            "file (crowdsense levels publish) and publish its root")
        if version != FORMAT_VERSION:
            raise self._bad(f"format version {version}",
                            expected=f"version {FORMAT_VERSION} (rebuild the tree)")

    @classmethod
    def build(cls, levels: Mapping[Any, Any], *, chain_id: int, registry: str | bytes,
              seed: bytes | None = None) -> LevelsTree:
        """The tree of ``levels`` (account -> level) for ``registry`` on chain ``chain_id``.

        Accounts are hex addresses in any case (mixed case must carry a valid EIP-55
        checksum) or 20 bytes, each once; levels are integers in 1..255. ``seed`` (32 bytes)
        gives the salts; leave it out for a fresh random one, as every tree whose root is
        published should have (a seed is for rebuilding a tree exactly, e.g. in tests).
        """
        if not isinstance(levels, Mapping):
            raise InputError(f"levels: {type(levels).__name__}: expected a mapping of account to level")
        if not levels:
            raise InputError("levels: no account: expected at least one account and its level")
        if len(levels) > MAX_COUNT:
            raise InputError(f"levels: {len(levels)} accounts: expected at most {MAX_COUNT}")
        chain = _chain_id(chain_id)
        reg = _address(registry, "registry")
        secret = secrets.token_bytes(SEED_SIZE) if seed is None else _seed(seed)
        keys = list(levels)
        values = list(levels.values())
        if not all(type(v) is int and MIN_LEVEL <= v <= MAX_LEVEL for v in values):
            for key, value in zip(keys, values):  # the first bad one, for the message
                _level(value, f"levels: account {_shown(key)}")
        lv = np.array(values, dtype=np.uint8)
        accounts = _addresses(keys, "levels: account")
        by_account = _sort_rows(accounts)
        sorted_accounts = accounts[by_account]
        same = np.flatnonzero((sorted_accounts[1:] == sorted_accounts[:-1]).all(axis=1))
        if same.size:
            a, b = by_account[same[0]], by_account[same[0] + 1]
            twice = _checksummed(sorted_accounts[same[0]].tobytes())
            raise InputError(f"levels: account {twice} appears twice (as {_shown(keys[a])} and "
                             f"{_shown(keys[b])}): expected each account once")
        salts = _salts(secret, accounts)
        leaves = _keccak_rows(_preimages(_domain(chain, reg), accounts, lv, salts), twice=True)
        by_leaf = _sort_rows(leaves)
        position = np.empty(len(keys), dtype=np.int64)
        position[by_leaf] = np.arange(len(keys))
        tree = [leaves[by_leaf]]
        while tree[-1].shape[0] > 1:
            tree.append(_parent_level(tree[-1]))
        index = np.empty((len(keys), INDEX_RECORD_SIZE), dtype=np.uint8)
        index[:, :20] = sorted_accounts
        index[:, 20] = lv[by_account]
        index[:, 21:] = position[by_account].astype(">u4").view(np.uint8).reshape(-1, 4)
        body = [memoryview(np.ascontiguousarray(level)).cast("B") for level in tree]
        body.append(memoryview(index).cast("B"))
        digest = hashlib.sha256()
        for chunk in body:
            digest.update(chunk)
        fields = _HEADER.pack(MAGIC, FORMAT_VERSION, HEADER_SIZE, chain.to_bytes(32, "big"), reg, len(keys),
                              len(tree) - 1, tree[-1][0].tobytes(), secret, digest.digest())
        image = b"".join([fields, hashlib.sha256(fields).digest(), *body])
        return cls(image, source="levels tree (built)")

    @classmethod
    def open(cls, path: str | Path, *, verify: bool = False) -> LevelsTree:
        """The tree stored in ``path``, mapped (not read) into memory; close it when done.

        The header and the file's size are checked at once; ``verify=True`` also checks the
        sha256 of the whole body (reading all of it). Every proof served is checked either way.
        """
        path = Path(path)
        what = f"levels tree file {path}"
        try:
            with open(path, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                if size == 0:
                    raise InputError(f"{what}: truncated: empty file: "
                                     "expected a file written by LevelsTree.save")
                mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except InputError:  # the empty file's own message (an InputError is a ValueError too)
            raise
        except FileNotFoundError:
            raise InputError(f"{what}: not found: expected a file written by LevelsTree.save") from None
        except IsADirectoryError:
            raise InputError(f"{what}: is a directory: expected a file written by LevelsTree.save") from None
        except (OSError, ValueError) as exc:
            detail = getattr(exc, "strerror", None) or exc
            raise InputError(f"{what}: cannot be read ({detail}): expected a readable file") from None
        try:
            tree = cls(mapped, source=what, path=path, closer=mapped.close)
            if verify:
                tree.verify()
        except BaseException:
            mapped.close()
            raise
        return tree

    def save(self, path: str | Path) -> Path:
        """Write the tree to ``path`` atomically, readable by its owner only (see
        :func:`_atomic_write`); returns the path."""
        path = Path(path)
        buffer, step = self._buffer, 1 << 24
        _atomic_write(path, (buffer[o:o + step] for o in range(0, len(buffer), step)), "levels tree file")
        return path

    def verify(self) -> None:
        """Check the sha256 of the whole body against the header (reads the whole file)."""
        digest = hashlib.sha256()
        buffer, step = self._buffer, 1 << 24
        for start in range(HEADER_SIZE, len(buffer), step):
            digest.update(buffer[start:start + step])
        if digest.digest() != self._body_digest:
            raise self._bad("corrupt: the body does not match the checksum of its header")

    # -------------------------------------------------------------------------- lookups

    def __len__(self) -> int:
        return self.count

    def __contains__(self, account: object) -> bool:
        return self._record(_address(account, "account")) is not None

    def level_of(self, account: str | bytes) -> int | None:
        """The level of ``account``, or None if it is not in the tree."""
        record = self._record(_address(account, "account"))
        return None if record is None else record[1]

    def proof(self, account: str | bytes) -> tuple[int, bytes, list[bytes]]:
        """``(level, salt, proof)`` of ``account``: the proof is the siblings of its leaf, bottom-up."""
        found = self.proof_of(account)
        return found.level, found.salt, list(found.proof)

    def proof_of(self, account: str | bytes) -> LevelProof:
        """The :class:`LevelProof` of ``account`` (its level, its salt, its proof, this tree's
        root), checked to lead from the account's leaf to the root before it is returned."""
        address = _address(account, "account")
        record = self._record(address)
        if record is None:
            raise InputError(f"account {_checksummed(address)}: not in the levels tree of root "
                             f"0x{self.root.hex()}: expected a registered receiver")
        _, level, position = record
        if position >= self.count:
            raise self._bad(f"corrupt: the index gives leaf position {position} of {self.count}")
        salt = _keccak(self.seed + address)
        leaf = _leaf(self._domain, address, level, salt) if MIN_LEVEL <= level else b""
        if leaf != self._node(0, position):
            raise self._bad(f"corrupt: the leaf of {_checksummed(address)} does not match its index record")
        siblings = []
        for k, size in enumerate(self._sizes[:-1]):
            if position ^ 1 < size:
                siblings.append(self._node(k, position ^ 1))
            position >>= 1
        if _fold(leaf, siblings) != self.root:
            raise self._bad(f"corrupt: the proof of {_checksummed(address)} does not lead to the root")
        return LevelProof(chain_id=self.chain_id, registry=self.registry, root=self.root,
                          account=_checksummed(address), level=level, salt=salt, proof=tuple(siblings))

    def proof_json(self, account: str | bytes) -> dict[str, Any]:
        """The JSON document of ``account``'s proof (see the module docstring)."""
        return self.proof_of(account).to_json()

    def levels(self) -> dict[str, int]:
        """Every checksummed account and its level, in the order of the index (by address):
        the mapping the tree was built from, spelled as :meth:`build` would take it back.

        Compare it with new levels to know whether a new tree is needed: a rebuild draws a
        fresh seed, hence another root, even from the same levels.
        """
        start = self._index_offset
        index = np.frombuffer(self._buffer[start:start + INDEX_RECORD_SIZE * self.count], dtype=np.uint8)
        index = index.reshape(self.count, INDEX_RECORD_SIZE)
        return dict(zip(_spellings(index[:, :20]), index[:, 20].tolist()))

    def accounts(self) -> Iterator[tuple[str, int]]:
        """Every (checksummed account, level), in the order of the index (by address)."""
        yield from self.levels().items()

    # ------------------------------------------------------------------------- plumbing

    def close(self) -> None:
        """Unmap the file (a built tree has nothing to release)."""
        if self._closer is not None:
            self._closer()
            self._closer = None

    def __enter__(self) -> LevelsTree:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"LevelsTree(count={self.count}, depth={self.depth}, root=0x{self.root.hex()}, "
                f"source={self._source!r})")

    def _bad(self, problem: str, *, expected: str = "a file written by LevelsTree.save") -> InputError:
        return InputError(f"{self._source}: {problem}: expected {expected}")

    def _node(self, level: int, position: int) -> bytes:
        start = self._level_offsets[level] + 32 * position
        return bytes(self._buffer[start:start + 32])

    def _read_record(self, i: int) -> tuple[bytes, int, int]:
        start = self._index_offset + i * INDEX_RECORD_SIZE
        return _RECORD.unpack(self._buffer[start:start + INDEX_RECORD_SIZE])

    def _record(self, address: bytes) -> tuple[bytes, int, int] | None:
        i = bisect.bisect_left(self._keys, address)
        if i < self.count:
            record = self._read_record(i)
            if record[0] == address:
                return record
        return None
