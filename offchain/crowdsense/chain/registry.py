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
from web3.contract.contract import ContractFunction
from web3.exceptions import Web3RPCError
from web3.logs import DISCARD

from crowdsense.chain import registry_records
from crowdsense.chain.accounts import Signer
from crowdsense.chain.addresses import parse_address
from crowdsense.chain.connection import Connection
from crowdsense.chain.contract import ClientOptions, ContractClient, optional_account
from crowdsense.chain.errors import (
    AlreadyClaimedError,
    AlreadyHoldsSubtaskError,
    ClientError,
    DataAlreadySubmittedError,
    IndexOutOfRangeError,
    InvalidLevelProofError,
    LevelMismatchError,
    NoLevelsRootError,
    NotClaimantError,
    NotForSelectionError,
    NotRegisteredError,
    NotReleaserError,
    NotSelectedError,
    SelectionAlreadySetError,
    SelectionPendingError,
    SelectionRequiredError,
    StoreError,
    TaskClosedError,
    TransactionError,
    UnauthorizedAccountError,
    call_decoded,
)
from crowdsense.chain.registry_records import (
    ClaimResult,
    FetchedSubtask,
    Handover,
    RegistrationReport,
    ReleasedTask,
    SubtaskInfo,
    TaskInfo,
)
from crowdsense.chain.store import SubtaskStore
from crowdsense.chain.txsend import TxRecord
from crowdsense.ecies import is_encryption_key
from crowdsense.errors import InputError
from crowdsense.ldpf.selection import Selection, SelectionProof
from crowdsense.pmcb.levels_tree import LevelProof, level_proof_from_json
from crowdsense.pmcb.tasks import TaskPlan, decrypt_subtask, encrypt_plan, open_key, seal_key

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
_ZERO_HASH = b"\x00" * 32
#: Share of the block gas limit one level batch may use (room for other transactions).
BLOCK_GAS_SHARE = 0.5


class NoSubtaskForLevelError(ClientError, LookupError):
    """A task has no unclaimed subtask of the receiver's level."""


# ---------------------------------------------------------------------------- client


class TaskRegistryClient(ContractClient):
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

    # ------------------------------------------------------------------ receiver

    def open_subtasks(
        self,
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

    def _under_root(self, task_id: int, root: bytes, cache: dict[int, bytes | None]) -> bool:
        """Whether ``task_id`` was released under the levels root ``root``."""
        if task_id not in cache:
            epoch = self.task_levels_epoch(task_id)
            cache[task_id] = self.levels_root(epoch) if epoch else None
        return cache[task_id] == bytes(root)

    def remember_proof(self, proof: LevelProof) -> None:
        """Keep ``proof`` in the journal: later claims of tasks under its root find it there."""
        if not isinstance(proof, LevelProof):
            raise InputError(f"{proof!r} is not a level proof: expected a LevelProof (crowdsense.pmcb.levels_tree)")
        self._journal().put(f"level-proof/{self.prefix}/0x{bytes(proof.root).hex()}/{self.me}", proof.to_json())

    def remembered_proof(self, task_id: int) -> LevelProof | None:
        """The journaled proof of this account under the levels root of ``task_id``'s epoch, if any."""
        if self.journal is None:
            return None
        epoch = self.task_levels_epoch(task_id)
        root = self.levels_root(epoch) if epoch else None
        if root is None:
            return None
        record = self.journal.get(f"level-proof/{self.prefix}/0x{root.hex()}/{self.me}")
        return None if record is None else level_proof_from_json(record, what=f"journal {self.journal.path}")

    def check_claim(self, task_id: int, index: int, *, proof: LevelProof | None = None,
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

    def _check_selection(self, task_id: int, root: bytes | None, selection: SelectionProof) -> None:
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

    def _check_proof(self, task_id: int, proof: LevelProof) -> int:
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

    def pick_subtask(self, task_id: int, *, proof: LevelProof | None = None) -> int:
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

    def claim_proof(self, task_id: int, proof: LevelProof | None = None) -> LevelProof | None:
        """The proof a claim of ``task_id`` carries: ``proof`` if given; else none for an account
        with a stored level; else the proof an earlier claim journaled for the task's root."""
        if proof is None and self.level_of(self.me) == 0:
            return self.remembered_proof(task_id)
        return proof

    def claim_function(self, task_id: int, index: int, proof: LevelProof | None,
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

    def claim(self, task_id: int, index: int | None = None, *, proof: LevelProof | None = None,
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

    def fetch_subtask(self, task_id: int, index: int) -> FetchedSubtask:
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

    def submit_data(self, task_id: int, index: int, *, data: bytes | None = None,
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


def _role_id(role: str) -> bytes:
    try:
        return ROLES[role]
    except KeyError:
        raise InputError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}") from None
