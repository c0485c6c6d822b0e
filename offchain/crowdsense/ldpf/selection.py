"""The receivers selected for one task, fixed on chain as a Merkle root.

The sensing platform selects receivers near a task (CTBC in a popular region, PDC in a remote
one); the selection must then decide who may claim the task's subtasks, or LDPF and PMCB would
be two separate demonstrations. The platform (``SELECTOR_ROLE``) publishes one root per task
released for selection (``TaskRegistry.setSelection``), and each selected receiver claims with
its salt and proof (``claimSelectedSubtask``). Leaves are those the contract computes::

    leaf = keccak256(keccak256(abi.encode(bytes32 domain, uint256 taskId, address receiver, bytes32 salt)))
    domain = keccak256(abi.encode(uint256 chainId, address registry))

The tree shape is :mod:`crowdsense.merkle`'s. Salts are ``keccak256(seed || taskId || receiver)``
from a secret seed the platform keeps, so it can serve a receiver's proof again at any time,
while a claim (whose proof shows other leaves) does not let anyone test whether some address
was selected too.

What the chain learns: the root (how many receivers, nothing about who), then, per claim, that
this claimant was selected. What a selected receiver learns: its own salt and proof (sibling
hashes, which name nobody).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_utils import is_address, to_checksum_address

from crowdsense.commitments.hashes import keccak256
from crowdsense.errors import InputError
from crowdsense.merkle import MAX_DEPTH, MerkleTree, fold, registry_domain

__all__ = ["SEED_SIZE", "SelectionProof", "Selection", "selection_leaf"]

#: Bytes of the platform's secret seed.
SEED_SIZE = 32


def _account(value: object, what: str) -> bytes:
    if not isinstance(value, str) or not is_address(value):
        raise InputError(f"{what}: {value!r:.60} is not an address: expected 0x and 40 hex digits "
                         "(mixed case only with a valid EIP-55 checksum)")
    return bytes.fromhex(value[2:])


def _task_id(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**256:
        raise InputError(f"task id: {value!r:.60}: expected an integer in [0, 2**256)")
    return value


def _bytes32(value: object, what: str) -> bytes:
    if not isinstance(value, (bytes, bytearray)) or len(value) != 32:
        got = f"{len(value)} bytes" if isinstance(value, (bytes, bytearray)) else type(value).__name__
        raise InputError(f"{what}: {got}: expected 32 bytes")
    return bytes(value)


def _leaf(domain: bytes, task_id: int, account: bytes, salt: bytes) -> bytes:
    return keccak256(keccak256(domain + task_id.to_bytes(32, "big") + bytes(12) + account + salt))


def selection_leaf(chain_id: int, registry: str, task_id: int, account: str, salt: bytes) -> bytes:
    """The leaf of ``account`` with ``salt`` for ``task_id`` (``TaskRegistry.selectionLeaf``)."""
    domain = registry_domain(int(chain_id), _account(registry, "registry"))
    return _leaf(domain, _task_id(task_id), _account(account, "account"), _bytes32(salt, "salt"))


@dataclass(frozen=True)
class SelectionProof:
    """What a selected receiver needs to claim: its salt and its proof under the task's root."""

    chain_id: int
    registry: str
    task_id: int
    root: bytes
    account: str
    salt: bytes
    proof: tuple[bytes, ...]

    @property
    def leaf(self) -> bytes:
        return selection_leaf(self.chain_id, self.registry, self.task_id, self.account, self.salt)

    def verify(self) -> bool:
        """Whether the proof leads from the account's leaf to :attr:`root`."""
        return len(self.proof) <= MAX_DEPTH and fold(self.leaf, self.proof) == self.root

    def to_json(self) -> dict[str, Any]:
        return {"chainId": self.chain_id, "registry": self.registry, "taskId": self.task_id,
                "root": "0x" + self.root.hex(), "account": self.account, "salt": "0x" + self.salt.hex(),
                "proof": ["0x" + p.hex() for p in self.proof]}

    @classmethod
    def from_json(cls, doc: Any, *, what: str = "selection proof") -> SelectionProof:
        """A proof from its JSON document, checked to lead to its root."""
        keys = ("chainId", "registry", "taskId", "root", "account", "salt", "proof")
        if not isinstance(doc, Mapping) or set(doc) != set(keys):
            raise InputError(f"{what}: not a selection proof: expected a JSON object with exactly "
                             f"the keys {', '.join(keys)}")
        try:
            proof = cls(chain_id=int(doc["chainId"]), registry=to_checksum_address(_hex_address(doc["registry"])),
                        task_id=_task_id(doc["taskId"]), root=_hex32(doc["root"], "root"),
                        account=to_checksum_address(_hex_address(doc["account"])),
                        salt=_hex32(doc["salt"], "salt"),
                        proof=tuple(_hex32(p, "proof hash") for p in _list(doc["proof"])))
        except (TypeError, ValueError) as exc:
            raise InputError(f"{what}: {exc}: expected hex strings and integers as written by the platform") from None
        if not proof.verify():
            raise InputError(f"{what}: the proof of {proof.account} does not lead to root 0x{proof.root.hex()}: "
                             "expected the proof the platform gave for this task")
        return proof


def _hex_address(value: object) -> str:
    _account(value, "address")
    return str(value)


def _hex32(value: object, what: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x") or len(value) != 66:
        raise ValueError(f"{what} {value!r:.70} is not 0x and 64 hex digits")
    return bytes.fromhex(value[2:])


def _list(value: object) -> list[Any]:
    if not isinstance(value, list) or len(value) > MAX_DEPTH:
        raise ValueError(f"proof must be a list of at most {MAX_DEPTH} hashes")
    return value


class Selection:
    """The platform's selection for one task: its root, and every selected receiver's proof.

    Build it with :meth:`build`; keep :meth:`to_json` (it holds the secret seed) to serve
    proofs again, e.g. in the platform's journal.
    """

    def __init__(self, *, chain_id: int, registry: str, task_id: int, accounts: Iterable[str], seed: bytes) -> None:
        self.chain_id = int(chain_id)
        self.registry = to_checksum_address(_hex_address(registry))
        self.task_id = _task_id(task_id)
        self.seed = _bytes32(seed, "seed")
        raw = [_account(a, "selected account") for a in accounts]
        if not raw:
            raise InputError("selected accounts: none: expected at least one receiver")
        if len(set(raw)) != len(raw):
            raise InputError("selected accounts: an account appears twice: expected each receiver once")
        self.accounts = tuple(to_checksum_address(a) for a in raw)
        domain = registry_domain(self.chain_id, bytes.fromhex(self.registry[2:]))
        self._salts = {a: self._salt(r) for a, r in zip(self.accounts, raw)}
        self._leaves = {a: _leaf(domain, self.task_id, r, self._salts[a]) for a, r in zip(self.accounts, raw)}
        self._tree = MerkleTree(list(self._leaves.values()))

    @classmethod
    def build(cls, accounts: Iterable[str], *, chain_id: int, registry: str, task_id: int,
              seed: bytes | None = None) -> Selection:
        """The selection of ``accounts`` for ``task_id``; a fresh random seed unless one is given."""
        return cls(chain_id=chain_id, registry=registry, task_id=task_id, accounts=accounts,
                   seed=secrets.token_bytes(SEED_SIZE) if seed is None else seed)

    def _salt(self, account: bytes) -> bytes:
        return keccak256(self.seed + self.task_id.to_bytes(32, "big") + account)

    @property
    def root(self) -> bytes:
        return self._tree.root

    def __len__(self) -> int:
        return len(self.accounts)

    def __contains__(self, account: object) -> bool:
        return isinstance(account, str) and is_address(account) and to_checksum_address(account) in self._leaves

    def proof_of(self, account: str) -> SelectionProof:
        """``account``'s salt and proof (checked to lead to the root)."""
        key = to_checksum_address(_hex_address(account))
        if key not in self._leaves:
            raise InputError(f"account {key}: not selected for task {self.task_id}: expected one of the "
                             f"{len(self)} selected receivers")
        proof = SelectionProof(self.chain_id, self.registry, self.task_id, self.root, key, self._salts[key],
                               tuple(self._tree.proof(self._leaves[key])))
        assert proof.verify()
        return proof

    def to_json(self) -> dict[str, Any]:
        """SECRET (the seed): what the platform keeps to serve the proofs again."""
        return {"chainId": self.chain_id, "registry": self.registry, "taskId": self.task_id,
                "root": "0x" + self.root.hex(), "seed": "0x" + self.seed.hex(), "accounts": list(self.accounts)}

    @classmethod
    def from_json(cls, doc: Any) -> Selection:
        """The selection :meth:`to_json` wrote, checked to give the same root."""
        try:
            selection = cls(chain_id=doc["chainId"], registry=doc["registry"], task_id=doc["taskId"],
                            accounts=doc["accounts"], seed=bytes.fromhex(str(doc["seed"]).removeprefix("0x")))
            root = bytes.fromhex(str(doc["root"]).removeprefix("0x"))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"selection record: {exc!r:.80}: expected what Selection.to_json wrote") from None
        if selection.root != root:
            raise InputError("selection record: its accounts and seed give another root: expected an unchanged record")
        return selection
