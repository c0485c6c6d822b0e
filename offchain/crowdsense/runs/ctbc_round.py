"""One CTBC round against a real chain (LDPF section 4.2, docs/design.md section 6, popular regions).

The parties and the order of events are those of :mod:`crowdsense.ldpf.ctbc.protocol`; only the board
is the chain and the secret store the client journal (:mod:`crowdsense.chain.boards`):

1. The edge generator draws the epoch's secret rigid transform (:mod:`secrets`); users
   transform their positions; the edge anonymizer forms k-anonymity groups (MDAV) on the
   transformed positions and gives each user its group centre, the UD.
2. Every user seals its UD to the platform's encryption key and commits to the sealed UD
   (Protocol 1, :mod:`crowdsense.ldpf.ctbc.sealed`): draws r1, r2, journals the opening
   (fsynced), then sends ``commitBit(c, r1)`` with ``c = keccak256(r1 || r2 || sealed)`` from its
   own account. Users commit concurrently (``workers`` threads); a user whose commit fails
   uploads nothing.
3. The platform drops groups under k members, filters groups by the task's region of interest
   (transformed), ranks them by matching degree and asks candidates in order to reveal
   (Cases 1 and 2).
4. A selected user sends ``revealBit(c, r2, sealed)``; the platform checks the opening against
   its record on chain (under the user's account: r1, revealed flag and the payload of the
   ``BitRevealed`` event) and decrypts the sealed UD, which must be the UD it matched on. A user
   that does not answer (fault ``"absent"``) or opens another payload (fault ``"tamper"``: its
   forged opening is mined and refused by the contract) is excluded and the next candidate is
   asked.

What goes on chain: commitments, r1, and for selected users r2 and their UD sealed to the
platform (an ECIES ciphertext). No coordinate of any kind: real positions, transformed
positions, group centres and the parameters never leave the process; they appear only in
:meth:`CTBCRoundResult.audit`, which exists so that a test can check exactly that.

Epochs. The epoch number goes into every payload, so an opening cannot be replayed in another
epoch. By default it is the number of the next block when the round starts, which never repeats
on one chain, so rounds sharing a journal never collide.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crowdsense.chain.accounts import Signer
from crowdsense.chain.connection import Connection
from crowdsense.chain.journal import Journal
from crowdsense.chain.verifier import CommitmentVerifierClient
from crowdsense.ldpf.ctbc.geometry import Region, Task
from crowdsense.ldpf.ctbc.grouping import Grouping, k_anonymity_groups
from crowdsense.ldpf.ctbc.matching import Candidates, Selection, rank_candidates
from crowdsense.ldpf.ctbc.metrics import DriftStats, drift_degree
from crowdsense.ldpf.ctbc.payload import decode_ud, from_fixed, to_fixed
from crowdsense.ldpf.ctbc.protocol import CTBCUser, Reveal, Upload, select_users, ud_payloads
from crowdsense.ldpf.ctbc.sealed import PlatformKey, UDOpener
from crowdsense.ldpf.ctbc.transform import RigidTransform, draw_transform
from crowdsense.errors import CrowdsenseError, InputError
from crowdsense.chain.boards import ChainCommitmentBoard, JournalSecretStore
from crowdsense.chain.txlog import TxLog, TxRecord
from crowdsense.runs._parallel import check_workers, thread_map
from crowdsense.runs._round import (Progress, StageClock, check_faults, check_signers, own_transactions,
                                    progress_counter)
from crowdsense.runs.report import gas_table

__all__ = ["CTBC_FAULTS", "CTBCRoundResult", "run_ctbc_round"]

#: Faults a simulated user can be given: no answer when asked to reveal, or a forged opening.
CTBC_FAULTS = ("absent", "tamper")


def _region_json(region: Region) -> dict[str, Any]:
    return {"center": list(region.center), "halfWidth": region.half_width, "halfHeight": region.half_height,
            "angle": region.angle}


def _task_json(task: Task) -> dict[str, Any]:
    return {"center": list(task.center), "nRequired": task.n_required, "region": _region_json(task.region)}


@dataclass(frozen=True, eq=False)
class CTBCRoundResult:
    """Everything one on-chain CTBC round produced.

    User indices refer to ``accounts`` / ``positions``; ``selection`` and ``candidates`` are in
    *upload* indices (``uploaded[u]`` is the user of upload u), as the platform knows them.
    """

    epoch: int
    k: int
    task: Task
    task_transformed: Task
    accounts: tuple[str, ...]
    positions: np.ndarray = field(repr=False)
    transformed: np.ndarray = field(repr=False)
    grouping: Grouping = field(repr=False)
    uploads: tuple[Upload, ...] = field(repr=False)
    uploaded: np.ndarray = field(repr=False)
    commit_failures: dict[int, str]
    candidates: Candidates = field(repr=False)
    selection: Selection
    faults: dict[int, str]
    drift: DriftStats
    transactions: tuple[TxRecord, ...] = field(repr=False)
    timings: dict[str, float]
    transform: RigidTransform = field(repr=False)
    r2: dict[int, bytes] = field(repr=False, default_factory=dict)

    @property
    def selected(self) -> np.ndarray:
        """User indices of the selected users, in selection order."""
        return self.uploaded[self.selection.users]

    @property
    def failed(self) -> tuple[int, ...]:
        """User indices of users asked to reveal that failed, in order."""
        return tuple(int(self.uploaded[u]) for u in self.selection.failed)

    def _blocks(self, kind: str) -> dict[str, int]:
        return {r.subject: r.block_number for r in self.transactions if r.kind == kind and r.ok}

    def summary(self) -> dict[str, Any]:
        """Public facts of the round (no coordinates): counts, case, selection, drift, gas, timings."""
        return {
            "epoch": self.epoch,
            "k": self.k,
            "users": len(self.accounts),
            "uploads": len(self.uploads),
            "commitFailures": {self.accounts[i]: msg for i, msg in self.commit_failures.items()},
            "groups": int(self.grouping.n_groups),
            "groupsInRegion": int(np.count_nonzero(self.candidates.in_region)),
            "candidates": int(self.candidates.queue.size),
            "nRequired": self.task.n_required,
            "case": self.selection.case,
            "selected": [self.accounts[i] for i in self.selected.tolist()],
            "failed": [{"account": self.accounts[i], "fault": self.faults.get(i, "reveal failed")}
                       for i in self.failed],
            "asked": self.selection.n_asked,
            "drift": self.drift.as_dict(),
            "transactions": gas_table((r.kind, r.ok, r.gas_used) for r in self.transactions),
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }

    def audit(self) -> dict[str, Any]:
        """SECRET test material: real and transformed coordinates, parameters, every opening.

        For privacy audits only (e.g. scanning the chain for any of these values). Coordinates
        are metres; ``fixed`` values are the micrometre integers of the UD encoding.
        """
        commits, reveals = self._blocks("commitBit"), self._blocks("revealBit")
        by_user = {int(u): j for j, u in enumerate(self.uploaded.tolist())}
        selected = set(self.selected.tolist())
        users = []
        for i, account in enumerate(self.accounts):
            g = int(self.grouping.labels[i])
            j = by_user.get(i)
            c = "0x" + self.uploads[j].commitment.hex() if j is not None else None
            users.append({
                "account": account,
                "real": [float(v) for v in self.positions[i]],
                "transformed": [float(v) for v in self.transformed[i]],
                "transformedFixed": [int(v) for v in to_fixed(self.transformed[i : i + 1])[0]],
                "group": g,
                "commitment": c,
                "payload": "0x" + self.uploads[j].payload.hex() if j is not None else None,
                "sealed": "0x" + self.uploads[j].sealed.hex() if j is not None else None,
                "r2": "0x" + self.r2[i].hex() if i in self.r2 else None,
                "commitBlock": commits.get(c) if c else None,
                "revealBlock": reveals.get(c) if c else None,
                "selected": i in selected,
                "fault": self.faults.get(i),
            })
        return {
            "epoch": self.epoch,
            "transform": {**self.transform.to_dict(), "thetaFloat": self.transform.theta, "aFloat": self.transform.a,
                          "bFloat": self.transform.b},
            "task": _task_json(self.task),
            "taskTransformed": _task_json(self.task_transformed),
            "groupCentresTransformed": [[float(x), float(y)] for x, y in self.grouping.centres],
            "groupCentresFixed": [[int(x), int(y)] for x, y in to_fixed(self.grouping.centres)],
            "users": users,
        }


def _check_inputs(positions: object, k: int, task: Task, asked_faults: Sequence[str]) -> np.ndarray:
    """The positions as an (n, 2) float array, once k, the task and the asked faults are checked."""
    p = np.asarray(positions, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 2 or p.shape[0] < 2:
        raise InputError(f"positions must have shape (n, 2) with n >= 2, got {p.shape}")
    n = p.shape[0]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 2 <= k <= n:
        raise InputError(f"k must be an int in [2, {n}] (the number of users), got {k!r}")
    if not isinstance(task, Task):
        raise InputError(f"task must be a Task, got {type(task).__name__}")
    bad = [f for f in asked_faults if f not in CTBC_FAULTS]
    if bad:
        raise InputError(f"asked_faults must be among {CTBC_FAULTS}, got {bad}")
    return p


@dataclass(eq=False)
class _CTBCRound:
    """One CTBC round under way: the edge's output, the users, and what each step has left.

    ``uploads`` and ``uploaded`` grow as users commit (``uploaded[u]`` is the user of upload u);
    ``faults`` grows as the platform asks users listed in ``asked_faults`` to reveal.
    """

    k: int
    task: Task
    positions: np.ndarray
    transform: RigidTransform
    transformed: np.ndarray
    grouping: Grouping
    task_t: Task
    log: TxLog
    board: ChainCommitmentBoard
    accounts: tuple[str, ...]
    users: list[CTBCUser]
    platform: UDOpener
    faults: dict[int, str]
    asked_faults: list[str]
    workers: int
    progress: Progress | None
    clock: StageClock
    uploads: list[Upload] = field(default_factory=list)
    uploaded: list[int] = field(default_factory=list)
    commit_failures: dict[int, str] = field(default_factory=dict)
    asked: int = 0

    @property
    def epoch(self) -> int:
        return self.transform.epoch

    def commit(self) -> None:
        """Step 2: every user commits to its group's UD on chain (the opening journaled first)."""
        payloads = ud_payloads(self.grouping, epoch=self.epoch)
        labels = self.grouping.labels.tolist()
        n = len(self.users)
        key = self.platform.encryption_key
        results = thread_map(lambda i: self.users[i].commit(epoch=self.epoch, payload=payloads[labels[i]],
                                                            platform_key=key),
                             list(range(n)), workers=self.workers,
                             progress=progress_counter(self.progress, "commit", n))
        for i, res in enumerate(results):
            if isinstance(res, CrowdsenseError):
                self.commit_failures[i] = str(res)
                continue
            self.uploads.append(self.users[i].upload(len(self.uploads), epoch=self.epoch))
            self.uploaded.append(i)
        self.clock.lap("commit")

    def _reveal(self, upload: Upload) -> Reveal | None:
        """Called by the platform for each user it asks, in order; plays the user's fault if any."""
        i = self.uploaded[upload.user]
        self.asked += 1
        if self.progress is not None:
            self.progress("reveal", self.asked, self.task.n_required)
        if self.asked <= len(self.asked_faults):
            self.faults[i] = self.asked_faults[self.asked - 1]
        fault = self.faults.get(i)
        if fault == "absent":
            return None
        user = self.users[i]
        if fault == "tamper":
            opening = user.opening(epoch=self.epoch)
            assert opening is not None
            forged = bytearray(opening.payload)
            forged[-1] ^= 1  # open another sealed UD than committed: the chain must refuse it
            self.board.reveal_bit(opening.commitment, opening.r2, bytes(forged), sender=user.sender)
            return Reveal(opening.commitment, opening.r2, bytes(forged))
        return user.reveal(epoch=self.epoch)

    def match_and_reveal(self, min_age: int, rng: np.random.Generator) -> tuple[Selection, Candidates]:
        """Steps 3-4: the platform matches and asks users to reveal on chain, replacing failures."""
        if min_age:
            time.sleep(min_age)  # openings are accepted from minAge seconds after the commit
        selection, candidates = select_users(tuple(self.uploads), self.task_t, k=self.k, board=self.board,
                                             reveal=self._reveal, opener=self.platform, epoch=self.epoch,
                                             random_state=rng)
        self.clock.lap("match+reveal")
        return selection, candidates

    def result(self, selection: Selection, candidates: Candidates) -> CTBCRoundResult:
        uploads = tuple(self.uploads)
        uploaded = np.asarray(self.uploaded, dtype=np.int64)
        matched = [decode_ud(uploads[u].payload) for u in selection.users.tolist()]
        centres = from_fixed(np.array([(r.x, r.y) for r in matched], dtype=np.int64).reshape(-1, 2))
        openings = {i: user.opening(epoch=self.epoch) for i, user in enumerate(self.users)}
        return CTBCRoundResult(
            epoch=self.epoch, k=self.k, task=self.task, task_transformed=self.task_t, accounts=self.accounts,
            positions=self.positions, transformed=self.transformed, grouping=self.grouping, uploads=uploads,
            uploaded=uploaded, commit_failures=self.commit_failures, candidates=candidates, selection=selection,
            faults=self.faults, drift=drift_degree(self.transformed[uploaded[selection.users]], centres),
            transactions=own_transactions(self.log, self.accounts), timings=self.clock.with_total(),
            transform=self.transform, r2={i: o.r2 for i, o in openings.items() if o is not None},
        )


def run_ctbc_round(
    conn: Connection,
    positions: object,
    task: Task,
    *,
    k: int,
    signers: Sequence[Signer],
    journal: Journal,
    transform: RigidTransform | None = None,
    platform: UDOpener | None = None,
    faults: Mapping[int, str] | None = None,
    asked_faults: Sequence[str] = (),
    random_state: int | np.random.Generator | None = None,
    workers: int = 8,
    log: TxLog | None = None,
    receipt_timeout: float = 120.0,
    progress: Progress | None = None,
) -> CTBCRoundResult:
    """Run one CTBC round on the chain of ``conn`` (see the module docstring for the steps).

    Parameters
    ----------
    conn : Connection
        Node and deployment (only ``CommitmentVerifier`` is used).
    positions : array-like, shape (n, 2)
        Real user positions (metres).
    task : Task
        Task centre, N and region of interest, in real coordinates.
    k : int
        Anonymity level, 2 <= k <= n.
    signers : sequence of Signer
        One funded account per user (distinct).
    journal : Journal
        Where the users journal their openings and intents (one file may serve all simulated
        users of a process: keys include the account).
    transform : RigidTransform, optional
        The epoch's parameters; by default drawn with :mod:`secrets` for the epoch = next block.
    platform : UDOpener, optional
        The platform's encryption key, to which users seal their UD (the platform account's
        :class:`~crowdsense.chain.accounts.Signer`, or a
        :class:`~crowdsense.ldpf.ctbc.sealed.PlatformKey`); a fresh key for this round when omitted.
    faults : mapping user -> "absent" | "tamper", optional
        Users that fail their reveal (to exercise replacement).
    asked_faults : sequence of "absent" | "tamper"
        Faults of the first users the platform asks to reveal, in the order asked (the
        simplest way to make sure replacement happens); recorded in the result's ``faults``.
    random_state : None, int or Generator
        The platform's random order inside groups (not a secret).
    workers : int
        Threads that send the users' commits concurrently.
    log : TxLog, optional
        Collects every transaction (also returned in the result).
    progress : callable(stage, done, total), optional
        Called as users commit (stage ``"commit"``) and reveal (``"reveal"``).

    Raises
    ------
    InputError
        Bad parameters, or a region of interest with fewer than N users (checked before any
        transaction is sent).
    SelectionShortfallError
        Too many selected users failed to reveal.
    """
    p = _check_inputs(positions, k, task, asked_faults)
    signers = check_signers(signers, p.shape[0], "user")
    faults = check_faults(faults, p.shape[0], CTBC_FAULTS, "user")
    workers = check_workers(workers)
    clock = StageClock()

    # 1. edge: parameters, transform, groups (the UD payloads are made as users commit)
    if transform is None:
        transform = draw_transform(int(conn.w3.eth.block_number) + 1)
    transformed = transform.forward(p)
    grouping = k_anonymity_groups(transformed, k=int(k))
    task_t = transform.forward_task(task)
    rank_candidates(grouping.centres, grouping.labels, task_t)  # enough users in the region? before any gas
    clock.lap("transform+groups")

    log = TxLog() if log is None else log
    board = ChainCommitmentBoard(conn, log=log, receipt_timeout=receipt_timeout)
    store = JournalSecretStore(journal, conn)
    accounts = tuple(board.add_party(s, journal) for s in signers)
    # the store key is ctbc/bit/<epoch>/<account>: unique even when rounds share one journal
    users = [CTBCUser(a, sender=a, board=board, store=store) for a in accounts]
    platform = PlatformKey.generate() if platform is None else platform
    state = _CTBCRound(int(k), task, p, transform, transformed, grouping, task_t, log, board, accounts, users,
                       platform, faults, list(asked_faults), workers, progress, clock)
    state.commit()
    selection, candidates = state.match_and_reveal(CommitmentVerifierClient(conn).age_window[0],
                                                   np.random.default_rng(random_state))
    return state.result(selection, candidates)
