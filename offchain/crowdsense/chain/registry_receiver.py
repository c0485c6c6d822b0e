"""The receiver's side of :class:`~crowdsense.chain.registry.TaskRegistryClient`: find open
subtasks of its level, check and send a claim (plain, with a level proof, or with a selection
proof), fetch and decrypt a claimed subtask, submit its data hash.

A mixin of the client, kept in its own module because the receiver is a party of its own (the
one most users are); it uses the client's reads (``task``, ``subtask``, ``level_of``...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from eth_utils import keccak
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.exceptions import Web3RPCError

from crowdsense.chain.addresses import parse_address
from crowdsense.chain.errors import (
    AlreadyClaimedError,
    AlreadyHoldsSubtaskError,
    ClientError,
    DataAlreadySubmittedError,
    InvalidLevelProofError,
    LevelMismatchError,
    NoLevelsRootError,
    NotClaimantError,
    NotForSelectionError,
    NotRegisteredError,
    NotSelectedError,
    SelectionPendingError,
    SelectionRequiredError,
    TaskClosedError,
    TransactionError,
)
from crowdsense.chain.registry_records import ClaimResult, FetchedSubtask, SubtaskInfo, TaskInfo
from crowdsense.chain.txsend import TxRecord
from crowdsense.errors import InputError
from crowdsense.ldpf.selection import SelectionProof
from crowdsense.pmcb.levels_tree import LevelProof, level_proof_from_json
from crowdsense.pmcb.tasks import decrypt_subtask, open_key

if TYPE_CHECKING:
    from crowdsense.chain.registry import TaskRegistryClient

__all__ = ["NoSubtaskForLevelError", "ReceiverSide"]

_ZERO_HASH = b"\x00" * 32


class NoSubtaskForLevelError(ClientError, LookupError):
    """A task has no unclaimed subtask of the receiver's level."""


class ReceiverSide:
    """What a receiver does with ``TaskRegistry`` (mixed into :class:`TaskRegistryClient`)."""

    def open_subtasks(
        self: TaskRegistryClient,
        level: int | None = None,
        *,
        from_block: int | None = None,
        to_block: int | None = None,
        page_size: int = 5000,
        claimable_only: bool = True,
        progress: Callable[[int, int], None] | None = None,
        proof: LevelProof | None = None,
    ) -> list[SubtaskInfo]:
        """Subtasks of ``level`` (default: this account's level) from ``SubtaskReleased`` events.

        The log filter is on the indexed ``level`` topic, over block ranges of ``page_size``
        blocks (halved automatically when the node refuses a range as too large). Each hit is
        then checked against the current state: with ``claimable_only`` (default) only
        unclaimed subtasks of open tasks in which this account holds nothing are returned.
        With ``proof``, the level is the proven one and, with ``claimable_only``, only tasks
        released under the proof's root (the ones it can claim) are kept.

        ``progress(blocks_done, blocks_total)`` is called after each page.
        """
        if level is None and proof is not None:
            level = proof.level
        if level is None:
            level = self.level_of(self.me)
            if level == 0:
                raise NotRegisteredError(self.me, pre_check=True)
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= self.num_levels:
            raise InputError(f"level must be in 1..{self.num_levels}, got {level!r}")
        _check_uint(page_size, "page_size", bits=64, minimum=1)
        for name, block in (("from_block", from_block), ("to_block", to_block)):
            if block is not None:
                _check_uint(block, name, bits=64)
        start = self.conn.deployment.block_number if from_block is None else from_block
        latest = int(self.w3.eth.block_number)  # a later to_block scans what exists
        end = latest if to_block is None else min(to_block, latest)
        event = self.contract.events.SubtaskReleased()
        found: list[tuple[int, int, bytes, int]] = []
        lo, size = start, page_size
        while lo <= end:
            hi = min(end, lo + size - 1)
            try:
                logs = event.get_logs(from_block=lo, to_block=hi, argument_filters={"level": level})
            except Web3RPCError as exc:
                if size == 1:
                    raise TransactionError(f"the node refuses to return logs of block {lo}: {exc}") from None
                size = max(1, size // 2)
                continue
            found.extend((int(e["args"]["taskId"]), int(e["args"]["index"]), bytes(e["args"]["subtaskHash"]),
                          int(e["blockNumber"])) for e in logs)
            if progress:
                progress(hi - start + 1, end - start + 1)
            lo = hi + 1
        tasks: dict[int, TaskInfo] = {}
        held: dict[int, bool] = {}
        roots: dict[int, bytes | None] = {}
        out = []
        for task_id, index, h, block in found:
            task = tasks.get(task_id) or tasks.setdefault(task_id, self.task(task_id))
            if claimable_only and task.closed:
                continue
            if claimable_only and self.signer is not None:
                if task_id not in held:
                    held[task_id] = self.held_subtask(task_id, self.me) is not None
                if held[task_id]:
                    continue
            if claimable_only and proof is not None and not self._under_root(task_id, proof.root, roots):
                continue
            sub = self.subtask(task_id, index, task=task)
            if claimable_only and not sub.claimable:
                continue
            out.append(SubtaskInfo(sub.task_id, sub.index, sub.level, sub.subtask_hash, sub.claimant,
                                   sub.data_hash, sub.task_closed, block))
        return out

    def _under_root(self: TaskRegistryClient, task_id: int, root: bytes, cache: dict[int, bytes | None]) -> bool:
        """Whether ``task_id`` was released under the levels root ``root``."""
        if task_id not in cache:
            epoch = self.task_levels_epoch(task_id)
            cache[task_id] = self.levels_root(epoch) if epoch else None
        return cache[task_id] == bytes(root)

    def remember_proof(self: TaskRegistryClient, proof: LevelProof) -> None:
        """Keep ``proof`` in the journal: later claims of tasks under its root find it there."""
        if not isinstance(proof, LevelProof):
            raise InputError(f"{proof!r} is not a level proof: expected a LevelProof (crowdsense.pmcb.levels_tree)")
        self._journal().put(f"level-proof/{self.prefix}/0x{bytes(proof.root).hex()}/{self.me}", proof.to_json())

    def remembered_proof(self: TaskRegistryClient, task_id: int) -> LevelProof | None:
        """The journaled proof of this account under the levels root of ``task_id``'s epoch, if any."""
        if self.journal is None:
            return None
        epoch = self.task_levels_epoch(task_id)
        root = self.levels_root(epoch) if epoch else None
        if root is None:
            return None
        record = self.journal.get(f"level-proof/{self.prefix}/0x{root.hex()}/{self.me}")
        return None if record is None else level_proof_from_json(record, what=f"journal {self.journal.path}")

    def check_claim(self: TaskRegistryClient, task_id: int, index: int, *, proof: LevelProof | None = None,
                    selection: SelectionProof | None = None) -> SubtaskInfo:
        """Run the contract's claim checks against the current state, in the contract's order.

        With ``proof``, the level is the proven one (checked against the levels root of the
        task's epoch); without, the level registered by ``setLevels``. A task released for
        selection needs ``selection``, this account's proof under the task's selection root.
        Returns the subtask when a claim would succeed (or when this account already holds it:
        ``claimant == me``); raises the typed error the contract would revert with.
        """
        me = self.me
        task = self.task(task_id)
        if task.closed:
            raise TaskClosedError(task_id, pre_check=True)
        for_selection, root = self.task_selection(task_id)
        if for_selection and selection is None:
            raise SelectionRequiredError(task_id, pre_check=True)
        if selection is not None and not for_selection:
            raise NotForSelectionError(task_id, pre_check=True)
        self._check_index(task, index)
        if selection is not None:
            self._check_selection(task_id, root, selection)
        if proof is None:
            level = self.level_of(me)
            if level == 0:
                raise NotRegisteredError(me, pre_check=True)
        else:
            level = self._check_proof(task_id, proof)
        sub = self.subtask(task_id, index, task=task)
        if level != sub.level:
            raise LevelMismatchError(me, sub.level, level, pre_check=True)
        if sub.claimant is not None:
            if sub.claimant == me:
                return sub
            raise AlreadyClaimedError(task_id, index, sub.claimant, pre_check=True)
        held = self.held_subtask(task_id, me)
        if held is not None:
            raise AlreadyHoldsSubtaskError(task_id, me, held, pre_check=True)
        return sub

    def _check_selection(self: TaskRegistryClient, task_id: int, root: bytes | None,
                         selection: SelectionProof) -> None:
        """The contract's checks of a selection proof for ``task_id`` (whose root is ``root``)."""
        me = self.me
        if selection.account != me or selection.task_id != task_id:
            raise InputError(f"the selection proof is for {selection.account} in task {selection.task_id}: expected "
                             f"the proof of this account {me} in task {task_id}")
        if selection.chain_id != self.conn.chain_id or selection.registry != self.address:
            raise InputError(f"the selection proof is for registry {selection.registry} on chain "
                             f"{selection.chain_id}: expected registry {self.address} on chain {self.conn.chain_id}")
        if root is None:
            raise SelectionPendingError(task_id, pre_check=True)
        if not self._read(self.contract.functions.verifySelection(task_id, me, selection.salt, list(selection.proof))):
            raise NotSelectedError(task_id, me, pre_check=True)

    def _check_proof(self: TaskRegistryClient, task_id: int, proof: LevelProof) -> int:
        """The proven level, after the contract's checks of ``proof`` for ``task_id``."""
        me = self.me
        if parse_address(proof.account, "level proof account") != me:
            raise InputError(f"the level proof is for {proof.account}, not for this account {me}: "
                             "expected the proof of the claiming account")
        if proof.chain_id != self.conn.chain_id or parse_address(proof.registry, "level proof registry") != self.address:
            raise InputError(f"the level proof is for registry {proof.registry} on chain {proof.chain_id}: expected "
                             f"a proof for registry {self.address} on chain {self.conn.chain_id}")
        epoch = self.task_levels_epoch(task_id)
        if epoch == 0:
            raise NoLevelsRootError(task_id, pre_check=True)
        valid = bool(self._read(self.contract.functions.verifyLevel(epoch, me, proof.level, proof.salt,
                                                                    list(proof.proof))))
        if not valid:
            root = self.levels_root(epoch)
            if root is not None and root != bytes(proof.root):
                raise InputError(f"the level proof is for root 0x{bytes(proof.root).hex()}, but task {task_id} was "
                                 f"released in levels epoch {epoch} (root 0x{root.hex()}): expected the proof "
                                 "of that epoch from the registrar")
            raise InvalidLevelProofError(task_id, epoch, me, proof.level, pre_check=True)
        return proof.level

    def pick_subtask(self: TaskRegistryClient, task_id: int, *, proof: LevelProof | None = None) -> int:
        """Index of the first unclaimed subtask of this account's level in ``task_id``
        (the level of ``proof`` when given)."""
        if proof is not None:
            level = proof.level
        else:
            level = self.level_of(self.me)
            if level == 0:
                raise NotRegisteredError(self.me, pre_check=True)
        subs = self.subtasks(task_id)
        if subs and subs[0].task_closed:
            raise TaskClosedError(task_id, pre_check=True)
        held = self.held_subtask(task_id, self.me)
        if held is not None:
            return held
        for sub in subs:
            if sub.level == level and sub.claimant is None:
                return sub.index
        mine = [s.index for s in subs if s.level == level]
        raise NoSubtaskForLevelError(
            f"task {task_id} has no unclaimed subtask of level {level} "
            + (f"(subtasks {mine} of that level are claimed)" if mine else
               f"(its levels are {sorted({s.level for s in subs})})")
        )

    def claim_proof(self: TaskRegistryClient, task_id: int, proof: LevelProof | None = None) -> LevelProof | None:
        """The proof a claim of ``task_id`` carries: ``proof`` if given; else none for an account
        with a stored level; else the proof an earlier claim journaled for the task's root."""
        if proof is None and self.level_of(self.me) == 0:
            return self.remembered_proof(task_id)
        return proof

    def claim_function(self: TaskRegistryClient, task_id: int, index: int, proof: LevelProof | None,
                       selection: SelectionProof | None = None) -> ContractFunction:
        """The contract call claiming subtask ``index`` of ``task_id``: by stored level, or
        with ``proof``; with ``selection`` in a task released for selection; always carrying this
        account's encryption key."""
        if self.signer is None:
            raise InputError("claiming needs the claimant's account: expected a client with a signer")
        key = self.signer.encryption_key
        if selection is not None:
            level, salt, path = (0, _ZERO_HASH, []) if proof is None else (proof.level, proof.salt, list(proof.proof))
            return self.contract.functions.claimSelectedSubtask(task_id, index, key, level, salt, path,
                                                                selection.salt, list(selection.proof))
        if proof is None:
            return self.contract.functions.claimSubtask(task_id, index, key)
        return self.contract.functions.claimSubtaskWithProof(task_id, index, key, proof.level, proof.salt,
                                                             list(proof.proof))

    def claim(self: TaskRegistryClient, task_id: int, index: int | None = None, *, proof: LevelProof | None = None,
              selection: SelectionProof | None = None) -> ClaimResult:
        """Claim subtask ``index`` (default: :meth:`pick_subtask`) of ``task_id``.

        With ``proof`` the claim proves the account's level against the levels root of the
        task's epoch (``claimSubtaskWithProof``); without, it uses the level registered by
        ``setLevels``, or, for an account with none, the proof an earlier claim journaled for that
        root (a proof that passes the checks is journaled). A task released for selection is
        claimed with ``selection``, the account's proof from the platform
        (``claimSelectedSubtask``). Checks first (:meth:`check_claim`), then sends a journaled
        intent.
        Calling it again for a claim already sent or mined sends nothing: it resumes
        (``tx.resumed``) or, when this account already holds the subtask, returns ``tx=None``.
        """
        _check_task_id(task_id)
        proof = self.claim_proof(task_id, proof)
        if index is not None:
            _check_uint(index, "subtask index")
        else:
            index = self.pick_subtask(task_id, proof=proof)
        if selection is not None and not isinstance(selection, SelectionProof):
            raise InputError(f"{selection!r:.60} is not a selection proof: expected a SelectionProof")
        intent_id = self._intent_id("claim", task_id, index)
        fn = self.claim_function(task_id, index, proof, selection)
        if self._intent_stands(intent_id):
            tx = self._send(fn, intent_id=intent_id, kind="claim")
            return ClaimResult(task_id, index, self.subtask(task_id, index).level, tx)
        sub = self.check_claim(task_id, index, proof=proof, selection=selection)
        if proof is not None:
            self.remember_proof(proof)  # checked against the chain: later claims under its root find it
        if sub.claimant == self.me:
            return ClaimResult(task_id, index, sub.level, None)
        tx = self._send(fn, intent_id=intent_id, kind="claim")
        return ClaimResult(task_id, index, sub.level, tx)

    def fetch_subtask(self: TaskRegistryClient, task_id: int, index: int) -> FetchedSubtask:
        """Fetch, verify and decrypt a subtask this account claimed.

        Raises
        ------
        NotClaimantError
            This account is not the subtask's claimant (``pre_check=True``).
        KeyNotHandedOverError
            The releaser has not run the hand-over since the claim.
        DecryptionError
            The envelope or blob does not authenticate (tampering, or a foreign envelope).
        """
        store = self._store()
        if self.signer is None:
            raise InputError("fetching needs the claimant's account")
        me = self.me
        task = self.task(task_id)
        sub = self.subtask(task_id, index, task=task)
        if sub.claimant != me:
            raise NotClaimantError(task_id, index, me, pre_check=True)
        envelope = store.get_envelope(sub.subtask_hash, me, writer=task.releaser)  # only its releaser's counts
        key = open_key(self.signer, envelope, subtask_hash=sub.subtask_hash, claimant=me)
        if self.journal is not None:
            self.journal.put(f"received-key/{self.prefix}/{Web3.to_hex(sub.subtask_hash)}",
                             {"key": key, "taskId": task_id, "index": index})
        blob = store.get_blob(sub.subtask_hash)
        content = decrypt_subtask(blob, key, chain_id=self.conn.chain_id, registry=self.address,
                                  level=sub.level, index=index)
        reply_to = content.get("replyTo")
        return FetchedSubtask(task_id, index, sub.level, str(content["title"]), str(content["part"]),
                              int(content["count"]), bytes.fromhex(reply_to[2:]) if reply_to else None)

    def submit_data(self: TaskRegistryClient, task_id: int, index: int, *, data: bytes | None = None,
                    data_hash: bytes | None = None) -> TxRecord | None:
        """Record ``keccak256(data)`` (or a given 32-byte ``data_hash``) for a claimed subtask.

        Returns None when exactly this hash is already recorded (a rerun).
        """
        _check_task_id(task_id)
        _check_uint(index, "subtask index")
        if (data is None) == (data_hash is None):
            raise InputError("give exactly one of data or data_hash")
        if data is not None:
            data_hash = keccak(bytes(data))
        assert data_hash is not None
        if len(data_hash) != 32 or bytes(data_hash) == _ZERO_HASH:
            raise InputError(f"data_hash must be 32 non-zero bytes, got {data_hash!r}")
        intent_id = self._intent_id("submit", task_id, index, f"0x{bytes(data_hash).hex()}")
        if not self._intent_stands(intent_id):
            task = self.task(task_id)
            if task.closed:
                raise TaskClosedError(task_id, pre_check=True)
            self._check_index(task, index)
            sub = self.subtask(task_id, index, task=task)
            if sub.claimant != self.me:
                raise NotClaimantError(task_id, index, self.me, pre_check=True)
            if sub.data_hash is not None:
                if sub.data_hash == bytes(data_hash):
                    return None
                raise DataAlreadySubmittedError(task_id, index, pre_check=True)
        return self._send(self.contract.functions.submitData(task_id, index, bytes(data_hash)),
                          intent_id=intent_id, kind="submitData")


def _check_uint(value: object, what: str, *, bits: int = 256, minimum: int = 0) -> int:
    """``value``, checked to be an int from ``minimum`` that a ``uint<bits>`` argument carries.

    Checked before anything is sent or read: web3's encoder would refuse a value out of the
    ABI type's range with a dump of the ABI rather than a message about the argument.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{what} {value!r} is not an integer: expected an integer in {minimum}..2**{bits}-1")
    if not minimum <= value < 2**bits:
        raise InputError(f"{what} {value} is out of range: expected an integer in {minimum}..2**{bits}-1")
    return value


def _check_task_id(task_id: int) -> int:
    return _check_uint(task_id, "task id")
