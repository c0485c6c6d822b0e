"""One CTBC round against a real chain (LDPF section 4.2, DESIGN section 6, popular regions).

The parties and the order of events are those of :mod:`crowdsense.ldpf.ctbc.protocol`; only the board
is the chain and the secret store the client journal (:mod:`crowdsense.chain.boards`):

1. The edge generator draws the epoch's secret rigid transform (:mod:`secrets`); users
   transform their positions; the edge anonymizer forms k-anonymity groups (MDAV) on the
   transformed positions and gives each user its group centre, the UD.
2. Every user commits (Protocol 1): draws r1, r2, journals the opening (fsynced), then sends
   ``commitBit(c, r1)`` with ``c = keccak256(r1 || r2 || UD)`` from its own account. Users
   commit concurrently (``workers`` threads); a user whose commit fails uploads nothing.
3. The platform drops groups under k members, filters groups by the task's region of interest
   (transformed), ranks them by matching degree and asks candidates in order to reveal
   (Cases 1 and 2).
4. A selected user sends ``revealBit(c, r2, UD)``; the platform checks the opening against the
   on-chain record (committer, r1, revealed flag and the payload of the ``BitRevealed`` event).
   A user that does not answer (fault ``"absent"``) or opens another UD (fault ``"tamper"``:
   its forged opening is mined and refused by the contract) is excluded and the next candidate
   is asked.

What goes on chain: commitments, r1, and for selected users r2 and the group centre in
*transformed* coordinates (meaningless without the epoch's parameters). Real positions,
individual transformed positions and the parameters never leave the process; they appear only
in :meth:`CTBCRoundResult.audit`, which exists so that a test can check exactly that.

Epochs. The epoch number goes into every payload, so an opening cannot be replayed in another
epoch. By default it is the number of the next block when the round starts, which never repeats
on one chain, so rounds sharing a journal never collide.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
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
from crowdsense.ldpf.ctbc.transform import RigidTransform, draw_transform
from crowdsense.errors import CrowdsenseError, InputError
from crowdsense.runs._parallel import check_workers, thread_map
from crowdsense.chain.boards import ChainBitBoard, JournalSecretStore
from crowdsense.chain.txlog import TxLog, TxRecord

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
        return {r.subject: r.block for r in self.transactions if r.kind == kind and r.ok}

    def summary(self) -> dict[str, Any]:
        """Public facts of the round (no coordinates): counts, case, selection, drift, gas, timings."""
        gas: dict[str, dict[str, int]] = {}
        for r in self.transactions:
            row = gas.setdefault(r.kind, {"count": 0, "reverted": 0, "gas": 0})
            row["count"] += 1
            row["reverted"] += 0 if r.ok else 1
            row["gas"] += r.gas_used
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
            "transactions": gas,
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


def _check_faults(faults: Mapping[int, str] | None, n: int) -> dict[int, str]:
    out: dict[int, str] = {}
    for user, fault in dict(faults or {}).items():
        if isinstance(user, bool) or not isinstance(user, (int, np.integer)) or not 0 <= user < n:
            raise InputError(f"fault keys must be user indices in [0, {n}), got {user!r}")
        if fault not in CTBC_FAULTS:
            raise InputError(f"faults must be one of {CTBC_FAULTS}, got {fault!r} for user {user}")
        out[int(user)] = fault
    return out


def run_ctbc_round(
    conn: Connection,
    positions: object,
    task: Task,
    *,
    k: int,
    signers: Sequence[Signer],
    journal: Journal,
    transform: RigidTransform | None = None,
    faults: Mapping[int, str] | None = None,
    asked_faults: Sequence[str] = (),
    random_state: int | np.random.Generator | None = None,
    workers: int = 8,
    log: TxLog | None = None,
    receipt_timeout: float = 120.0,
    progress: Callable[[str, int, int], None] | None = None,
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
    p = np.asarray(positions, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 2 or p.shape[0] < 2:
        raise InputError(f"positions must have shape (n, 2) with n >= 2, got {p.shape}")
    n = p.shape[0]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 2 <= k <= n:
        raise InputError(f"k must be an int in [2, {n}] (the number of users), got {k!r}")
    if not isinstance(task, Task):
        raise InputError(f"task must be a Task, got {type(task).__name__}")
    signers = list(signers)
    if len(signers) != n:
        raise InputError(f"need one signer per user ({n}), got {len(signers)}")
    if len({s.address.lower() for s in signers}) != n:
        raise InputError("the users' signers must be distinct accounts")
    faults = _check_faults(faults, n)
    asked_faults = list(asked_faults)
    bad = [f for f in asked_faults if f not in CTBC_FAULTS]
    if bad:
        raise InputError(f"asked_faults must be among {CTBC_FAULTS}, got {bad}")
    workers = check_workers(workers)
    rng = np.random.default_rng(random_state)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = now - clock
        clock = now

    # 1. edge: parameters, transform, groups, UD payloads
    if transform is None:
        transform = draw_transform(int(conn.w3.eth.block_number) + 1)
    epoch = transform.epoch
    transformed = transform.forward(p)
    grouping = k_anonymity_groups(transformed, k=int(k))
    payloads = ud_payloads(grouping, epoch=epoch)
    task_t = transform.forward_task(task)
    rank_candidates(grouping.centres, grouping.labels, task_t)  # enough users in the region? before any gas
    lap("transform+groups")

    # 2. users commit (opening journaled first, by CTBCUser through JournalSecretStore)
    log = TxLog() if log is None else log
    board = ChainBitBoard(conn, log=log, receipt_timeout=receipt_timeout)
    store = JournalSecretStore(journal, conn)
    accounts = tuple(board.add_party(s, journal) for s in signers)
    # the store key is ctbc/bit/<epoch>/<account>: unique even when rounds share one journal
    users = [CTBCUser(accounts[i], sender=accounts[i], board=board, store=store) for i in range(n)]
    labels = grouping.labels.tolist()
    done = [0]

    def tick(_: int) -> None:
        done[0] += 1
        if progress is not None:
            progress("commit", done[0], n)

    results = thread_map(lambda i: users[i].commit(epoch=epoch, payload=payloads[labels[i]]), list(range(n)),
                         workers=workers, progress=tick)
    uploads: list[Upload] = []
    uploaded: list[int] = []
    commit_failures: dict[int, str] = {}
    for i, res in enumerate(results):
        if isinstance(res, CrowdsenseError):
            commit_failures[i] = str(res)
            continue
        uploads.append(Upload(len(uploads), accounts[i], payloads[labels[i]], res))
        uploaded.append(i)
    lap("commit")
    min_age = CommitmentVerifierClient(conn).age_window[0]
    if min_age:
        time.sleep(min_age)  # openings are accepted from minAge seconds after the commit

    # 3-4. platform matches; selected users reveal on chain; failures are replaced
    asked = [0]

    def reveal(upload: Upload) -> Reveal | None:
        i = uploaded[upload.user]
        asked[0] += 1
        if progress is not None:
            progress("reveal", asked[0], task.n_required)
        if asked[0] <= len(asked_faults):
            faults[i] = asked_faults[asked[0] - 1]
        fault = faults.get(i)
        if fault == "absent":
            return None
        user = users[i]
        if fault == "tamper":
            opening = user.opening(epoch=epoch)
            assert opening is not None
            forged = bytearray(opening.payload)
            forged[-1] ^= 1  # claim a centre one micrometre away: the chain must refuse it
            board.reveal_bit(opening.commitment, opening.r2, bytes(forged), sender=user.sender)
            return Reveal(opening.commitment, opening.r2, bytes(forged))
        return user.reveal(epoch=epoch)

    uploads_t = tuple(uploads)
    selection, candidates = select_users(uploads_t, task_t, k=int(k), board=board, reveal=reveal, epoch=epoch,
                                         random_state=rng)
    lap("match+reveal")

    uploaded_arr = np.asarray(uploaded, dtype=np.int64)
    matched = [decode_ud(uploads_t[u].payload) for u in selection.users.tolist()]
    centres = from_fixed(np.array([(r.x, r.y) for r in matched], dtype=np.int64).reshape(-1, 2))
    drift = drift_degree(transformed[uploaded_arr[selection.users]], centres)
    r2 = {}
    for i, user in enumerate(users):
        opening = user.opening(epoch=epoch)
        if opening is not None:
            r2[i] = opening.r2
    timings["total"] = sum(timings.values())
    mine = set(accounts)
    return CTBCRoundResult(
        epoch=epoch, k=int(k), task=task, task_transformed=task_t, accounts=accounts, positions=p,
        transformed=transformed, grouping=grouping, uploads=uploads_t, uploaded=uploaded_arr,
        commit_failures=commit_failures, candidates=candidates, selection=selection, faults=faults, drift=drift,
        transactions=tuple(r for r in log.records() if r.sender in mine), timings=timings,
        transform=transform, r2=r2,
    )
