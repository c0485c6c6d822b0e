"""TaskRegistryClient: everything registrars, releasers, selectors and receivers do with ``TaskRegistry``.

One class, four roles (an account may hold several):

=============  =================================================================================
registrar      :meth:`~TaskRegistryClient.register_levels` - levels from the classifier, in
               batches sized to the block gas limit (at most ``MAX_LEVEL_BATCH`` = 500);
               or privately, :meth:`~TaskRegistryClient.publish_levels_root` - one Merkle
               root per epoch, each receiver claiming with its :class:`LevelProof`
releaser       :meth:`~TaskRegistryClient.release_task` (``for_selection`` for a task that only
               selected receivers claim), :meth:`~TaskRegistryClient.hand_over_keys`,
               :meth:`~TaskRegistryClient.close_task`
selector       :meth:`~TaskRegistryClient.set_selection` - the platform fixes the receivers
               selected for a task as a Merkle root (:mod:`crowdsense.ldpf.selection`)
receiver       :meth:`~TaskRegistryClient.open_subtasks` (from ``SubtaskReleased`` events, paged),
               :meth:`~TaskRegistryClient.claim`, :meth:`~TaskRegistryClient.fetch_subtask`,
               :meth:`~TaskRegistryClient.submit_data`
admin          :meth:`~TaskRegistryClient.grant_role`
=============  =================================================================================

Every state-changing method first reads the chain and refuses with the *same typed error the
contract would raise* (``pre_check=True``), so no gas is spent on a doomed transaction; a race
lost between the check and the block still comes back typed, decoded from the revert. Each
transaction is a journaled *intent* (:mod:`crowdsense.chain.txsend`), so repeating a command
after a crash resumes it instead of sending it twice; secrets (subtask keys) are journaled
before the transaction that depends on them.

Intent ids (stable across runs)::

    claim/<chainId>/<registry>/<taskId>/<index>/<receiver>
    submit/<chainId>/<registry>/<taskId>/<index>/<data hash>/<receiver>
    close/<chainId>/<registry>/<taskId>/<releaser>
    release/<chainId>/<registry>/<release id>/<releaser>
    levels/<chainId>/<registry>/<batch digest>/<registrar>
    levels-root/<chainId>/<registry>/<epoch>/<root>/<registrar>
    selection/<chainId>/<registry>/<taskId>/<root>/<selector>
    grant/<chainId>/<registry>/<role>/<account>/<admin>

Journal secret keys::

    release/<chainId>/<registry>/<releaser>/<release id>   hashes, levels, task id once known
    subtask-key/<chainId>/<registry>/<subtask hash>        key, blob, level, index  (releaser)
    task/<chainId>/<registry>/<taskId>                     release id, hashes, levels (releaser)
    selection/<chainId>/<registry>/<taskId>                the selection and its seed (selector)
    received-key/<chainId>/<registry>/<subtask hash>       key (receiver, after fetch)
    level-proof/<chainId>/<registry>/<root>/<receiver>     level and Merkle proof (receiver)
"""

from __future__ import annotations

import math
from typing import Callable, Iterable, Mapping, Sequence, Unpack

from eth_utils import keccak
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD

from crowdsense.chain import registry_records
from crowdsense.chain.accounts import Signer
from crowdsense.chain.addresses import parse_address
from crowdsense.chain.connection import Connection
from crowdsense.chain.contract import ClientOptions, ContractClient, optional_account
from crowdsense.chain.errors import (
    ClientError,
    IndexOutOfRangeError,
    NotForSelectionError,
    NotReleaserError,
    SelectionAlreadySetError,
    StoreError,
    TaskClosedError,
    TransactionError,
    UnauthorizedAccountError,
)
from crowdsense.chain.registry_receiver import (
    _ZERO_HASH,
    NoSubtaskForLevelError,
    ReceiverSide,
    _check_task_id,
    _check_uint,
)
from crowdsense.chain.reverts import call_decoded
from crowdsense.chain.registry_records import Handover, RegistrationReport, ReleasedTask, SubtaskInfo, TaskInfo
from crowdsense.chain.store import SubtaskStore
from crowdsense.chain.txsend import TxRecord
from crowdsense.ecies import is_encryption_key
from crowdsense.errors import InputError
from crowdsense.ldpf.selection import Selection
from crowdsense.pmcb.tasks import TaskPlan, encrypt_plan, seal_key

# The records the client returns are defined in crowdsense.chain.registry_records and
# offered here too, with the client.
__all__ = ["ROLES", "NoSubtaskForLevelError", "TaskRegistryClient", *registry_records.__all__]

#: CLI role names -> role ids of the contract.
ROLES: dict[str, bytes] = {
    "admin": b"\x00" * 32,
    "registrar": keccak(text="REGISTRAR_ROLE"),
    "releaser": keccak(text="RELEASER_ROLE"),
    "selector": keccak(text="SELECTOR_ROLE"),
}
#: Share of the block gas limit one level batch may use (room for other transactions).
BLOCK_GAS_SHARE = 0.5


# ---------------------------------------------------------------------------- client


class TaskRegistryClient(ReceiverSide, ContractClient):
    """Typed access to ``TaskRegistry`` for one account.

    Parameters
    ----------
    conn, signer
        As for :class:`~crowdsense.chain.contract.ContractClient`.
    store : SubtaskStore, optional
        Needed to release, hand over and fetch.
    **options
        ``journal`` (needed to send and to release: subtask keys), ``sender`` (shared, e.g.
        with a CommitmentVerifierClient of the same account) and ``receipt_timeout``, as for
        :class:`~crowdsense.chain.contract.ContractClient`.
    """

    def __init__(self, conn: Connection, signer: Signer | None = None, *, store: SubtaskStore | None = None,
                 **options: Unpack[ClientOptions]) -> None:
        super().__init__(conn, signer, **options)
        self.store = store
        self._num_levels: int | None = None
        self._max_batch: int | None = None

    @staticmethod
    def _deployed(conn: Connection) -> Contract:
        return conn.registry

    # ------------------------------------------------------------------ helpers

    def _store(self) -> SubtaskStore:
        if self.store is None:
            raise InputError("this operation needs a ciphertext store (--store)")
        return self.store

    @staticmethod
    def _check_index(task: TaskInfo, index: int) -> None:
        _check_uint(index, "subtask index")
        if index >= task.subtask_count:
            raise IndexOutOfRangeError(task.task_id, index, task.subtask_count, pre_check=True)

    # ------------------------------------------------------------------ reads

    @property
    def num_levels(self) -> int:
        """T, the number of security levels (cached)."""
        if self._num_levels is None:
            self._num_levels = int(self._read(self.contract.functions.numLevels()))
        return self._num_levels

    @property
    def max_level_batch(self) -> int:
        if self._max_batch is None:
            self._max_batch = int(self._read(self.contract.functions.MAX_LEVEL_BATCH()))
        return self._max_batch

    def level_of(self, account: str | None = None) -> int:
        """Level of ``account`` (default: this client's account); 0 = unregistered."""
        return int(self._read(self.contract.functions.levelOf(parse_address(account or self.me, "account"))))

    def levels_epoch(self) -> int:
        """The current levels epoch (0 before the first root was published)."""
        return int(self._read(self.contract.functions.levelsEpoch()))

    def levels_root(self, epoch: int) -> bytes | None:
        """The levels root of ``epoch``, or None for an epoch that does not exist."""
        _check_uint(epoch, "levels epoch", bits=32)
        root = bytes(self._read(self.contract.functions.levelsRoot(epoch)))
        return None if root == _ZERO_HASH else root

    def task_levels_epoch(self, task_id: int) -> int:
        """The levels epoch ``task_id`` was released in (its claims by proof use that root)."""
        return int(self._read(self.contract.functions.taskLevelsEpoch(_check_task_id(task_id))))

    def has_role(self, role: str, account: str | None = None) -> bool:
        role_id = _role_id(role)
        return bool(self._read(self.contract.functions.hasRole(role_id, parse_address(account or self.me, "account"))))

    def task_count(self) -> int:
        return int(self._read(self.contract.functions.taskCount()))

    def task(self, task_id: int) -> TaskInfo:
        """Releaser, subtask count, closed flag; :class:`UnknownTaskError` if never released."""
        _check_task_id(task_id)
        releaser, count, closed = self._read(self.contract.functions.getTask(task_id))
        return TaskInfo(task_id, Web3.to_checksum_address(releaser), int(count), bool(closed))

    def subtask(self, task_id: int, index: int, *, task: TaskInfo | None = None) -> SubtaskInfo:
        task = task or self.task(task_id)
        self._check_index(task, index)
        h, level, claimant, data_hash = self._read(self.contract.functions.getSubtask(task_id, index))
        return SubtaskInfo(
            task_id, index, int(level), bytes(h),
            optional_account(claimant),
            None if bytes(data_hash) == _ZERO_HASH else bytes(data_hash),
            task_closed=task.closed,
        )

    def subtasks(self, task_id: int) -> list[SubtaskInfo]:
        task = self.task(task_id)
        return [self.subtask(task_id, i, task=task) for i in range(task.subtask_count)]

    def held_subtask(self, task_id: int, account: str | None = None) -> int | None:
        """Index of the subtask ``account`` holds in ``task_id``, or None."""
        _check_task_id(task_id)
        account = parse_address(account or self.me, "account")
        holds, index = self._read(self.contract.functions.heldSubtask(task_id, account))
        return int(index) if holds else None

    # ------------------------------------------------------------------ admin

    def grant_role(self, role: str, account: str) -> TxRecord | None:
        """Grant ``role`` ("registrar", "releaser", "selector" or "admin") to ``account``; None if it has it."""
        role_id = _role_id(role)
        account = parse_address(account, "account")
        if self.has_role(role, account):
            return None
        if not self.has_role("admin", self.me):
            raise UnauthorizedAccountError(self.me, ROLES["admin"], pre_check=True)
        return self._send(
            self.contract.functions.grantRole(role_id, account),
            intent_id=self._intent_id("grant", role, account), kind="grantRole",
        )

    # ------------------------------------------------------------------ registrar

    def require_role(self, role: str) -> None:
        """Refuse (``UnauthorizedAccountError``, ``pre_check=True``) unless this account has ``role``."""
        if not self.has_role(role, self.me):
            raise UnauthorizedAccountError(self.me, ROLES[role], pre_check=True)

    def current_levels(self, accounts: Sequence[str], *, chunk: int = 500) -> list[int]:
        """``levelOf`` of many accounts, in JSON-RPC batches of ``chunk`` calls."""
        out: list[int] = []
        fn = self.contract.functions.levelOf
        accounts = [parse_address(a, "account") for a in accounts]
        for start in range(0, len(accounts), chunk):
            part = accounts[start : start + chunk]
            try:
                with self.w3.batch_requests() as batch:
                    for a in part:
                        batch.add(fn(a))
                    out.extend(int(v) for v in batch.execute())
            except ClientError:  # the node is down, or a typed revert
                raise
            except Exception:  # a node without batch support: one call each
                out.extend(self.level_of(a) for a in part)
        return out

    def plan_level_batch_size(self, accounts: Sequence[str], levels: Sequence[int]) -> int:
        """Largest batch whose ``setLevels`` fits in half a block, capped at MAX_LEVEL_BATCH.

        Gas is estimated for the first account alone and for the first ``k <= 8`` together;
        the slope is the per-account cost ``g`` and the rest the fixed cost ``g0``, so a batch
        of ``n`` costs about ``g0 + n g``. The batch size is ``(share * gasLimit - g0) /
        (1.25 g)``, the 1.25 covering accounts costlier than the sampled ones.
        """
        n = len(accounts)
        if len(levels) != n:
            raise InputError(f"need one level per account, got {n} accounts and {len(levels)} levels")
        cap = self.max_level_batch
        if n <= 1:
            return 1
        k = min(n, 8)
        me = self.me

        def estimate(m: int) -> int:
            fn = self.contract.functions.setLevels(list(accounts[:m]), list(levels[:m]))
            return int(call_decoded(fn.estimate_gas, {"from": me}))

        g1, gk = estimate(1), estimate(k)
        per_account = max((gk - g1) / (k - 1), 1.0)
        fixed = max(g1 - per_account, 0.0)
        gas_limit = int(self.w3.eth.get_block("latest")["gasLimit"])
        size = math.floor((BLOCK_GAS_SHARE * gas_limit - fixed) / (1.25 * per_account))
        return max(1, min(cap, size))

    def register_levels(
        self,
        levels: Mapping[str, int],
        *,
        batch_size: int | None = None,
        skip_unchanged: bool = True,
        progress: Callable[[int], None] | None = None,
    ) -> RegistrationReport:
        """Set the levels of many accounts (registrar only), batch by batch.

        Parameters
        ----------
        levels : mapping
            Address -> level in 1..T.
        batch_size : int, optional
            Accounts per transaction; default from :meth:`plan_level_batch_size`.
        skip_unchanged : bool
            Read the current levels first and leave out accounts already at their level, so a
            rerun after a crash only sends what is missing.
        progress : callable, optional
            Called with the number of accounts done after each batch (and for skipped ones).
        """
        t = self.num_levels
        accounts: list[str] = []
        values: list[int] = []
        for account, level in levels.items():
            address = parse_address(account, "account")
            if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= t:
                raise InputError(f"level of {address} must be an int in 1..{t}, got {level!r}")
            accounts.append(address)
            values.append(level)
        if not accounts:
            raise InputError("no accounts to register")
        if len(set(accounts)) != len(accounts):
            raise InputError("the same address appears twice in the levels to register")
        self.require_role("registrar")
        skipped = 0
        if skip_unchanged:
            current = self.current_levels(accounts)
            keep = [i for i, (c, v) in enumerate(zip(current, values)) if c != v]
            skipped = len(accounts) - len(keep)
            accounts = [accounts[i] for i in keep]
            values = [values[i] for i in keep]
            if progress and skipped:
                progress(skipped)
        if batch_size is None:
            batch_size = self.plan_level_batch_size(accounts, values) if accounts else 1
        elif not 1 <= batch_size <= self.max_level_batch:
            raise InputError(f"batch_size must be in 1..{self.max_level_batch}, got {batch_size}")
        batches = []
        for start in range(0, len(accounts), batch_size):
            chunk_a, chunk_l = accounts[start : start + batch_size], values[start : start + batch_size]
            digest = keccak(text=",".join(f"{a}:{v}" for a, v in zip(chunk_a, chunk_l))).hex()[:32]
            batches.append(self._send(
                self.contract.functions.setLevels(chunk_a, chunk_l),
                intent_id=self._intent_id("levels", digest), kind="setLevels",
            ))
            if progress:
                progress(len(chunk_a))
        return RegistrationReport(len(levels), skipped, batch_size, tuple(batches))

    # ------------------------------------------------------------------ releaser

    def publish_levels_root(self, root: bytes) -> tuple[int, TxRecord | None]:
        """Publish ``root`` as the levels root of a new epoch (registrar); return (epoch, tx).

        Repeating it after a crash resumes the same transaction; when ``root`` is already the
        current epoch's root nothing is sent (``tx`` None): re-publishing a root would only
        start an epoch identical to the last.
        """
        root = bytes(root)
        if len(root) != 32 or root == _ZERO_HASH:
            raise InputError(f"levels root 0x{root.hex()}: expected 32 non-zero bytes")
        current = self.levels_epoch()
        if current and self.levels_root(current) == root:
            return current, None
        # One intent per (epoch it is to start, root): a rerun before it is mined resumes it, while
        # publishing an older root again later (back to an earlier classification) is a new epoch.
        intent_id = self._intent_id("levels-root", current + 1, "0x" + root.hex())
        if not self._intent_stands(intent_id):
            self.require_role("registrar")
        tx = self._send(self.contract.functions.setLevelsRoot(root), intent_id=intent_id, kind="setLevelsRoot")
        events = self.contract.events.LevelsRootSet().process_receipt(tx.receipt, errors=DISCARD)
        if not events:
            raise TransactionError(f"levels root transaction {tx.tx_hash} emitted no LevelsRootSet event")
        return int(events[0]["args"]["epoch"]), tx

    def release_task(self, plan: TaskPlan, *, release_id: str | None = None,
                     for_selection: bool = False) -> ReleasedTask:
        """Encrypt, store, journal and release a decomposed task.

        With ``for_selection`` the task is released for selection (``releaseTaskForSelection``):
        only the receivers the selector fixes (:meth:`set_selection`) can claim its subtasks.

        Order of effects (what makes it crash-safe): (1) the release record (ciphertext hashes
        and levels) and the subtask keys and blobs it names are journaled in one transaction
        (fsynced), (2) blobs are written to the store from the journal, (3) the
        ``releaseTask`` intent is journaled and sent. Releasing the same plan again (same
        ``release_id``, by default the plan's digest) reuses the journaled record and resumes
        the same intent, so a crash anywhere never releases the task twice nor loses a key.
        Pass a new ``release_id`` to release an identical plan deliberately a second time.

        Concurrent releases of one plan sharing a journal (threads, or processes) each encrypt,
        but only the first to journal its record keeps it
        (:meth:`~crowdsense.chain.journal.Journal.put_first`); the others drop their ciphertexts
        and go on with the winner's, so the hashes sent, the blobs stored and the keys
        journaled are always the same set.
        """
        journal, store = self._journal(), self._store()
        if not isinstance(for_selection, bool):
            raise InputError(f"for_selection: {for_selection!r}: expected True or False")
        if plan.num_levels != self.num_levels:
            raise InputError(f"the plan has {plan.num_levels} levels but the registry has {self.num_levels}")
        release_id = release_id or plan.digest
        if not release_id or "/" in release_id:
            raise InputError(f"a release id must be non-empty and contain no '/', got {release_id!r}")
        record_key = f"release/{self.prefix}/{self.me}/{release_id}"
        intent_id = self._intent_id("release", release_id)
        record = journal.get(record_key)
        if record is None:
            self.require_role("releaser")
            assert self.signer is not None  # self.me checked it
            encrypted = encrypt_plan(plan, chain_id=self.conn.chain_id, registry=self.address,
                                     reply_to=self.signer.encryption_key)
            keys = {f"subtask-key/{self.prefix}/{Web3.to_hex(sub.subtask_hash)}":
                    {"key": sub.key, "blob": sub.blob, "level": sub.level, "index": sub.index,
                     "release": release_id}
                    for sub in encrypted}
            record, _ = journal.put_first(
                record_key,
                {"hashes": [sub.subtask_hash for sub in encrypted], "levels": [s.level for s in encrypted],
                 "title": plan.title, "taskId": None, "forSelection": for_selection},
                with_secrets=keys,
            )
        elif not self._intent_stands(intent_id):
            self.require_role("releaser")
        if bool(record.get("forSelection", False)) != for_selection:
            raise InputError(f"release {release_id!r} was started {'for' if not for_selection else 'without'} "
                             "selection: expected the same choice when it is resumed, or a new release id")
        hashes = [bytes(h) for h in record["hashes"]]
        levels = [int(v) for v in record["levels"]]
        for h in hashes:  # (re)publish the blobs, from the journal if the store lost them
            if not store.has_blob(h):
                secret = journal.get(f"subtask-key/{self.prefix}/{Web3.to_hex(h)}")
                if secret is None:
                    raise StoreError(f"subtask 0x{h.hex()} has neither a blob in the store nor one in the journal")
                store.put_blob(secret["blob"])
        release = self.contract.functions.releaseTaskForSelection if for_selection else self.contract.functions.releaseTask
        tx = self._send(release(hashes, levels), intent_id=intent_id, kind="releaseTask")
        events = self.contract.events.TaskReleased().process_receipt(tx.receipt, errors=DISCARD)
        if not events:
            raise TransactionError(f"release transaction {tx.tx_hash} emitted no TaskReleased event")
        task_id = int(events[0]["args"]["taskId"])
        if record.get("taskId") != task_id:
            journal.put(record_key, {**record, "taskId": task_id})
            journal.put(f"task/{self.prefix}/{task_id}", {"release": release_id, "hashes": hashes, "levels": levels})
        return ReleasedTask(task_id, tuple(hashes), tuple(levels), tx)

    # ------------------------------------------------------------------ selector (the platform)

    def task_selection(self, task_id: int) -> tuple[bool, bytes | None]:
        """Whether ``task_id`` was released for selection, and its selection root (None until fixed)."""
        for_selection, root = self._read(self.contract.functions.taskSelection(_check_task_id(task_id)))
        return bool(for_selection), None if bytes(root) == _ZERO_HASH else bytes(root)

    def set_selection(self, selection: Selection) -> TxRecord | None:
        """Fix ``selection`` as the receivers that may claim its task (selector role).

        The selection (with its secret seed, which gives every receiver's salt and proof) is
        journaled before the transaction is sent, so the proofs can always be served again;
        a rerun resumes the same transaction. Returns None when the task already has this root.
        """
        if not isinstance(selection, Selection):
            raise InputError(f"{selection!r:.60} is not a selection: expected a Selection (crowdsense.ldpf.selection)")
        if selection.chain_id != self.conn.chain_id or selection.registry != self.address:
            raise InputError(f"the selection is for registry {selection.registry} on chain {selection.chain_id}: "
                             f"expected registry {self.address} on chain {self.conn.chain_id}")
        task_id = selection.task_id
        intent_id = self._intent_id("selection", task_id, "0x" + selection.root.hex())
        for_selection, root = self.task_selection(task_id)
        if root == selection.root:
            return None
        if not self._intent_stands(intent_id):
            if self.task(task_id).closed:
                raise TaskClosedError(task_id, pre_check=True)
            if not for_selection:
                raise NotForSelectionError(task_id, pre_check=True)
            if root is not None:
                raise SelectionAlreadySetError(task_id, root, pre_check=True)
            self.require_role("selector")
        self._journal().put(f"selection/{self.prefix}/{task_id}", selection.to_json())
        return self._send(self.contract.functions.setSelection(task_id, selection.root), intent_id=intent_id,
                          kind="setSelection")

    def selection(self, task_id: int) -> Selection | None:
        """The selection this journal fixed for ``task_id`` (the platform's), to serve proofs."""
        record = None if self.journal is None else self.journal.get(f"selection/{self.prefix}/{_check_task_id(task_id)}")
        return None if record is None else Selection.from_json(record)

    def close_task(self, task_id: int) -> TxRecord:
        """Close a task (its releaser only): nothing more can be claimed or submitted."""
        _check_task_id(task_id)
        intent_id = self._intent_id("close", task_id)
        if not self._intent_stands(intent_id):
            task = self.task(task_id)
            if task.closed:
                raise TaskClosedError(task_id, pre_check=True)
            if task.releaser != self.me:
                raise NotReleaserError(task_id, self.me, pre_check=True)
        return self._send(self.contract.functions.closeTask(task_id), intent_id=intent_id, kind="closeTask")

    def released_task_ids(self) -> list[int]:
        """Ids of the tasks released from this journal (on this chain and registry)."""
        prefix = f"task/{self.prefix}/"
        return sorted(int(k[len(prefix):]) for k in self._journal().keys(prefix))

    def claim_keys(self, task_id: int) -> dict[int, tuple[str, bytes]]:
        """Subtask index -> (claimant, encryption key) of every claim of ``task_id``.

        Read from the ``SubtaskClaimed`` events: the key is what the claim itself carried, so it
        is the same for every account type (an EOA, a contract wallet, a relayed claim).
        """
        _check_task_id(task_id)
        event = self.contract.events.SubtaskClaimed()
        logs = event.get_logs(from_block=self.conn.deployment.block_number, to_block="latest",
                              argument_filters={"taskId": task_id})
        return {int(log["args"]["index"]): (Web3.to_checksum_address(log["args"]["claimant"]),
                                             bytes(log["args"]["encryptionKey"])) for log in logs}

    def hand_over_keys(self, task_ids: Iterable[int] | None = None) -> list[Handover]:
        """Encrypt each claimed subtask's key to its claimant and put the envelope in the store.

        Covers ``task_ids`` (default: every task released from this journal); subtasks
        already handed over are reported with ``written=False``. A subtask whose key cannot be
        handed over (its key is in another journal, its claim event is missing) is reported
        with its ``error`` and the others go on: one bad subtask never blocks the rest. Safe
        to run repeatedly, e.g. from a timer.
        """
        if task_ids is not None:
            task_ids = [_check_task_id(t) for t in task_ids]
        journal, store = self._journal(), self._store()
        out = []
        for task_id in (self.released_task_ids() if task_ids is None else list(task_ids)):
            claimed = [sub for sub in self.subtasks(task_id) if sub.claimant is not None]
            keys = self.claim_keys(task_id) if claimed else {}
            for sub in claimed:
                assert sub.claimant is not None
                if store.has_envelope(sub.subtask_hash, sub.claimant):
                    out.append(Handover(task_id, sub.index, sub.claimant, sub.subtask_hash, False))
                    continue
                secret = journal.get(f"subtask-key/{self.prefix}/{Web3.to_hex(sub.subtask_hash)}")
                claimant, key = keys.get(sub.index, (None, b""))
                if secret is None:
                    error = f"its key is not in the journal {journal.path} (the task was released from another journal)"
                elif claimant != sub.claimant:
                    error = f"no SubtaskClaimed event of claimant {sub.claimant} (the node serves incomplete logs)"
                elif not is_encryption_key(key):
                    error = f"the claim carries no usable encryption key (0x{key.hex()})"
                else:
                    envelope = seal_key(key, secret["key"], subtask_hash=sub.subtask_hash, claimant=sub.claimant)
                    store.put_envelope(sub.subtask_hash, sub.claimant, envelope)
                    out.append(Handover(task_id, sub.index, sub.claimant, sub.subtask_hash, True))
                    continue
                out.append(Handover(task_id, sub.index, sub.claimant, sub.subtask_hash, False, error))
        return out


def _role_id(role: str) -> bytes:
    try:
        return ROLES[role]
    except KeyError:
        raise InputError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}") from None
