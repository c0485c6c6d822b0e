"""One PDC round against a real chain (LDPF section 4.3, docs/design.md section 7, remote regions).

The protocol is :mod:`crowdsense.ldpf.pdc.protocol` (Protocol 2) with the board on chain and the
receivers' secret store in the client journal (:mod:`crowdsense.chain.boards`). Every message
between the platform and a receiver travels as the JSON text of :mod:`crowdsense.ldpf.pdc.messages`,
as between separate processes:

1. *Task.* The platform encrypts Encode 1 of the task centre once (Paillier, ``key_bits``) and
   broadcasts the same task message to every candidate receiver.
2. *Query.* Each receiver computes ``Z = Enc(dist + r)`` homomorphically with a fresh blinding
   r (``r_bits`` bits from :mod:`secrets`) and the proof that Z was formed from the task
   (:mod:`crowdsense.ldpf.pdc.proofs`), journals r and the opening, then sends
   ``commitBlinding(keccak256(abi.encode(r, salt)))`` from its own account, and sends
   ``(c, Z, proof)`` to the platform. Receivers work concurrently (``workers`` threads).
3. *Decryption.* The platform verifies the proof, checks on chain that c is recorded by that
   receiver and not yet opened, decrypts ``s = dist + r`` and returns s with its proof of
   correct decryption.
4. *Reveal.* The receiver checks the proof, learns ``dist = s - r`` and opens c on chain with
   ``revealBlinding(c, r, salt)``, then sends ``(r, salt)`` and the opening of its masks.
5. *Acceptance.* The platform checks the opening against the on-chain commitment
   (``checkBlindingOpening``) and that the chain records it as opened, and accepts
   ``dist = s - r``; the N nearest accepted receivers within ``max_distance`` are selected.

Faults for demonstrations and tests: ``"absent"`` answers the query but never reveals (its
commitment stays unopened and it is not selected); ``"liar"`` claims a smaller distance by
revealing ``r + dist`` instead of r: the chain refuses that opening (``OpeningMismatch``, mined
and reverted) and the platform rejects the claim (:class:`~crowdsense.ldpf.pdc.errors.CheatingDetected`).

What goes on chain: the commitments and, once each receiver knows its distance, r. The
distance, s, Z, the task ciphertexts and every location stay off chain; they appear only in
:meth:`PDCRoundResult.audit` (secret test material for privacy audits).
"""

from __future__ import annotations

import multiprocessing
import os
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from phe import paillier

from crowdsense.chain.accounts import Signer
from crowdsense.chain.connection import Connection
from crowdsense.chain.journal import Journal
from crowdsense.errors import CrowdsenseError, InputError
from crowdsense.chain.boards import ChainCommitmentBoard, JournalSecretStore, blinding_opening_key
from crowdsense.chain.txlog import TxLog, TxRecord
from crowdsense.ldpf.pdc.budget import AnswerBudget
from crowdsense.ldpf.pdc.encoding import Grid, manhattan
from crowdsense.ldpf.pdc.errors import CheatingDetected, SelectionWarning
from crowdsense.ldpf.pdc.keys import RECOMMENDED_KEY_BITS, generate_keypair
from crowdsense.ldpf.pdc.messages import DecryptionMessage, QueryMessage, RevealMessage, TaskMessage
from crowdsense.ldpf.pdc.proofs import QueryPrecomputation, precompute_query
from crowdsense.ldpf.pdc.platform import Platform
from crowdsense.ldpf.pdc.protocol import DEFAULT_R_BITS
from crowdsense.ldpf.pdc.receiver import Receiver
from crowdsense.ldpf.pdc.selection import Selected, select_nearest
from crowdsense.runs._parallel import check_workers, thread_map
from crowdsense.runs._round import (Progress, StageClock, check_faults, check_signers, own_transactions,
                                    progress_counter)
from crowdsense.runs.report import gas_table

__all__ = ["PDC_FAULTS", "PDCReceiverOutcome", "PDCRoundResult", "precompute_proofs", "run_pdc_round"]

#: Faults a simulated receiver can be given (see the module docstring).
PDC_FAULTS = ("absent", "liar")


@dataclass(frozen=True)
class PDCReceiverOutcome:
    """What happened to one receiver: ``status`` is accepted, rejected, absent or failed."""

    account: str
    location: tuple[int, int]
    status: str
    distance: int | None = None  # as accepted by the platform
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"account": self.account, "status": self.status, "distance": self.distance, "reason": self.reason}


@dataclass(frozen=True, eq=False)
class PDCRoundResult:
    """Everything one on-chain PDC round produced (see :meth:`summary` and :meth:`audit`)."""

    task_id: str
    grid: Grid
    centre: tuple[int, int]
    key_bits: int
    r_bits: int
    n_select: int
    max_distance: int | None
    accounts: tuple[str, ...]
    locations: tuple[tuple[int, int], ...] = field(repr=False)
    outcomes: tuple[PDCReceiverOutcome, ...] = field(repr=False)
    selected: tuple[Selected, ...]
    faults: dict[int, str]
    transactions: tuple[TxRecord, ...] = field(repr=False)
    timings: dict[str, float]
    message_bytes: dict[str, int]
    warnings: tuple[str, ...] = ()
    secrets: dict[str, dict[str, Any]] = field(repr=False, default_factory=dict)
    positions: np.ndarray | None = field(repr=False, default=None)
    centre_position: tuple[float, float] | None = field(repr=False, default=None)
    public_key_n: int = field(repr=False, default=0)
    private_key_primes: tuple[int, int] = field(repr=False, default=(0, 0))

    @property
    def distances(self) -> dict[str, int]:
        """Accepted distances by account (what the platform learnt)."""
        return {o.account: o.distance for o in self.outcomes if o.status == "accepted" and o.distance is not None}

    def summary(self) -> dict[str, Any]:
        """Public facts: counts, statuses, the selection (accounts and distances), gas, timings."""
        counts: dict[str, int] = {}
        for o in self.outcomes:
            counts[o.status] = counts.get(o.status, 0) + 1
        return {
            "taskId": self.task_id,
            "grid": [self.grid.width, self.grid.height],
            "keyBits": self.key_bits,
            "rBits": self.r_bits,
            "receivers": len(self.accounts),
            "statuses": counts,
            "rejected": [o.to_json() for o in self.outcomes if o.status != "accepted"],
            "nRequired": self.n_select,
            "maxDistance": self.max_distance,
            "selected": [{"account": s.receiver, "distance": s.distance} for s in self.selected],
            "transactions": gas_table((r.kind, r.ok, r.gas_used) for r in self.transactions),
            "messageBytes": dict(self.message_bytes),
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            "warnings": list(self.warnings),
        }

    def audit(self) -> dict[str, Any]:
        """SECRET test material: locations, true and learnt distances, r, salt, s, blocks, and the
        platform's Paillier primes (its private key)."""
        reveals = {r.subject: r.block_number for r in self.transactions if r.kind == "revealBlinding" and r.ok}
        commits = {r.subject: r.block_number for r in self.transactions if r.kind == "commitBlinding" and r.ok}
        out = []
        for i, (account, loc, outcome) in enumerate(zip(self.accounts, self.locations, self.outcomes)):
            secret = self.secrets.get(account, {})
            c = secret.get("commitment")
            out.append({
                "account": account,
                "location": list(loc),
                "real": None if self.positions is None else [float(v) for v in self.positions[i]],
                "trueDistance": manhattan(loc, self.centre, self.grid),
                "acceptedDistance": outcome.distance,
                "learntDistance": secret.get("learnt"),
                "status": outcome.status,
                "fault": self.faults.get(i),
                "r": secret.get("r"),
                "rHex": None if secret.get("r") is None else "0x" + int(secret["r"]).to_bytes(32, "big").hex(),
                "salt": secret.get("salt"),
                "s": secret.get("s"),
                "commitment": c,
                "commitBlock": commits.get(c) if c else None,
                "revealBlock": reveals.get(c) if c else None,
            })
        return {
            "taskId": self.task_id,
            "grid": [self.grid.width, self.grid.height],
            "centre": list(self.centre),
            "centreReal": None if self.centre_position is None else list(self.centre_position),
            "publicKeyN": str(self.public_key_n),
            "privateKeyPrimes": [str(v) for v in self.private_key_primes],
            "receivers": out,
        }


def _check_inputs(
    locations: Sequence[Sequence[int]] | np.ndarray, centre: Sequence[int], grid: Grid | int, n_select: int,
    max_distance: int | None,
) -> tuple[Grid, tuple[tuple[int, int], ...], tuple[int, int]]:
    """The grid, and the locations and the centre as its points, once N and the radius are checked."""
    if isinstance(grid, (int, np.integer)) and not isinstance(grid, bool):
        grid = Grid(grid)
    if not isinstance(grid, Grid):
        raise InputError(f"grid must be a Grid or an int, got {type(grid).__name__}")
    locs = tuple(grid.check_point(tuple(int(v) for v in loc), name=f"location {i}")
                 for i, loc in enumerate(locations))
    centre_pt = grid.check_point(tuple(int(v) for v in centre), name="task centre")
    if not locs:
        raise InputError("a PDC round needs at least one receiver, got none")
    if isinstance(n_select, bool) or not isinstance(n_select, (int, np.integer)) or n_select < 1:
        raise InputError(f"n_select must be an int >= 1, got {n_select!r}")
    if max_distance is not None and (isinstance(max_distance, bool) or not isinstance(max_distance, int)
                                     or max_distance < 0):
        raise InputError(f"max_distance must be None or an int >= 0, got {max_distance!r}")
    return grid, locs, centre_pt


@dataclass(eq=False)
class _PDCRound:
    """One PDC round under way: its parties, and what each step has left for the next.

    ``status`` gets one ``(status, reason)`` per receiver as the steps settle its fate; receiver
    indices are those of ``locs``, ``boards`` and ``receivers``.
    """

    conn: Connection
    locs: tuple[tuple[int, int], ...]
    faults: dict[int, str]
    journal: Journal
    workers: int
    progress: Progress | None
    clock: StageClock
    board: ChainCommitmentBoard  # the platform's read-only view of the chain
    platform: Platform
    task_id: str
    task_text: str
    boards: list[ChainCommitmentBoard]  # one per receiver, sending from its account
    receivers: list[Receiver]
    status: dict[int, tuple[str, str | None]] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    answers: list[str | CrowdsenseError] = field(default_factory=list)
    decryptions: dict[int, str] = field(default_factory=dict)
    s_values: dict[int, int] = field(default_factory=dict)
    accepted: dict[str, int] = field(default_factory=dict)

    @property
    def accounts(self) -> tuple[str, ...]:
        return tuple(b.account for b in self.boards)

    def query(self) -> None:
        """Step 2: every receiver answers the task with Z = Enc(dist + r) and commits to r on chain."""
        def respond(i: int) -> str:
            return self.receivers[i].respond(TaskMessage.from_json(self.task_text)).to_json()

        n = len(self.receivers)
        self.answers = thread_map(respond, list(range(n)), workers=self.workers,
                                  progress=progress_counter(self.progress, "query", n))
        self.clock.lap("query (Z + commit)")

    def decrypt(self) -> None:
        """Step 3: the platform checks each commitment on chain, then decrypts s with a proof."""
        for i, answer in enumerate(self.answers):
            if isinstance(answer, CrowdsenseError):
                self.status[i] = ("failed", f"query failed: {answer}")
                continue
            self.sizes["queries"] += len(answer)
            try:
                message = self.platform.handle_query(QueryMessage.from_json(answer))
            except CrowdsenseError as exc:
                self.status[i] = ("rejected", f"query refused: {exc}")
                continue
            self.s_values[i] = message.plaintext
            self.decryptions[i] = message.to_json()
            self.sizes["decryptions"] += len(self.decryptions[i])
        self.clock.lap("decrypt")

    def _finish(self, i: int) -> str | None:
        """Receiver i checks the proof, learns dist and opens its commitment (or plays its fault)."""
        decryption = DecryptionMessage.from_json(self.decryptions[i])
        fault = self.faults.get(i)
        if fault == "absent":
            return None
        if fault == "liar":
            opening = self.journal.get(blinding_opening_key(self.conn, decryption.commitment))
            assert opening is not None
            r, salt = int(opening["r"]), bytes(opening["salt"])
            lie = r + max(decryption.plaintext - r, 1)  # claims distance 0
            try:
                self.boards[i].reveal_blinding(decryption.commitment, lie, salt)
            except CrowdsenseError:
                pass  # the chain refused the forged opening; the liar tries the platform anyway
            return RevealMessage(self.task_id, self.accounts[i], decryption.commitment, lie, salt).to_json()
        return self.receivers[i].finish(decryption).to_json()

    def reveal_and_accept(self) -> None:
        """Steps 4 and 5: receivers open their commitments; the platform accepts dist = s - r."""
        order = sorted(self.decryptions)
        finished = thread_map(self._finish, order, workers=self.workers,
                              progress=progress_counter(self.progress, "reveal", len(order)))
        self.clock.lap("reveal (verify + open)")
        for i, reveal_text in zip(order, finished):
            if isinstance(reveal_text, CrowdsenseError):
                self.status[i] = ("failed", f"reveal failed: {reveal_text}")
            elif reveal_text is None:
                self.status[i] = ("absent", "never revealed r")
            else:
                self.sizes["reveals"] += len(reveal_text)
                self.status[i] = self._accept(i, RevealMessage.from_json(reveal_text))

    def _accept(self, i: int, reveal: RevealMessage) -> tuple[str, str | None]:
        try:
            dist = self.platform.handle_reveal(reveal)
        except (CheatingDetected, CrowdsenseError) as exc:
            return ("rejected", str(exc))
        record = self.board.blinding_record(reveal.receiver, reveal.commitment)
        if record is None or not record.revealed:
            return ("rejected", "the opening was not published on chain")
        self.accepted[self.accounts[i]] = dist
        return ("accepted", None)

    def select(self, n_select: int, max_distance: int | None, random_state: Any,
               key_bits: int) -> tuple[list[Selected], list[str]]:
        """The N nearest accepted receivers, and the warnings of the round."""
        caught: list[str] = []
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always", SelectionWarning)
            selected = select_nearest(self.accepted, int(n_select), max_distance=max_distance,
                                      random_state=random_state) if self.accepted else []
            caught.extend(str(w.message) for w in seen if issubclass(w.category, SelectionWarning))
        if key_bits < RECOMMENDED_KEY_BITS:
            caught.append(f"the Paillier key has {key_bits} bits, below the recommended {RECOMMENDED_KEY_BITS}")
        if not self.accepted:
            caught.append(f"no receiver was accepted, fewer than the {n_select} wanted")
        self.clock.lap("accept+select")
        return selected, caught

    def outcomes(self) -> tuple[PDCReceiverOutcome, ...]:
        accounts = self.accounts
        out = []
        for i, loc in enumerate(self.locs):
            status, reason = self.status[i]
            distance = self.accepted.get(accounts[i]) if status == "accepted" else None
            out.append(PDCReceiverOutcome(accounts[i], loc, status, distance, reason))
        return tuple(out)

    def secrets(self) -> dict[str, dict[str, Any]]:
        """Each receiver's journaled r and salt, its s and the distance it learnt (for the audit)."""
        out: dict[str, dict[str, Any]] = {}
        for i, answer in enumerate(self.answers):
            if isinstance(answer, CrowdsenseError):
                continue
            c = QueryMessage.from_json(answer).commitment
            opening = self.journal.get(blinding_opening_key(self.conn, c)) or {}
            out[self.accounts[i]] = {
                "commitment": "0x" + c.hex(),
                "r": int(opening["r"]) if "r" in opening else None,
                "salt": "0x" + bytes(opening["salt"]).hex() if "salt" in opening else None,
                "s": self.s_values.get(i),
                "learnt": self.receivers[i].distance(self.task_id),
            }
        return out


#: Below this key size the offline proof parts take less than starting worker processes.
_PROCESS_POOL_MIN_KEY_BITS = 1024


def precompute_proofs(receivers: list[Receiver], n: int, workers: int) -> None:
    """What each receiver draws while idle, before the task arrives: one query's offline proof
    part (about ``width + height`` n-th powers modulo n^2, CPU-bound). Real receivers draw theirs
    on their own devices at once; simulated in one process they share its cores, so with a real
    key the draws go to worker processes (gmpy2 holds the interpreter lock)."""
    jobs = [(n, r.grid.shape, r.location, r.r_bits) for r in receivers]
    processes = min(workers, os.cpu_count() or 1, len(receivers))
    if processes < 2 or n.bit_length() < _PROCESS_POOL_MIN_KEY_BITS:
        drawn = [_draw(job) for job in jobs]
    else:
        with ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("spawn")) as pool:
            drawn = list(pool.map(_draw, jobs))
    for receiver, precomputation in zip(receivers, drawn):
        receiver.add_precomputed_proof(n, precomputation)


def _draw(job: tuple[int, tuple[int, int], Any, int]) -> QueryPrecomputation:
    n, shape, location, r_bits = job
    return precompute_query(n, shape, location, r_bits=r_bits)


def _check_parties(signers: Sequence[Signer], faults: Mapping[int, str] | None, workers: int,
                   budgets: Sequence[AnswerBudget | None] | None, n: int) -> tuple[list[Signer], dict[int, str], int]:
    """The receivers' accounts, faults and budgets (one each for ``n`` receivers), and the workers."""
    checked = (check_signers(signers, n, "receiver"), check_faults(faults, n, PDC_FAULTS, "receiver"),
               check_workers(workers))
    if budgets is not None and len(budgets) != n:
        raise InputError(f"budgets must give one entry per receiver ({n}), got {len(budgets)}")
    return checked


def run_pdc_round(
    conn: Connection,
    locations: Sequence[Sequence[int]] | np.ndarray,
    centre: Sequence[int],
    *,
    grid: Grid | int,
    n_select: int,
    signers: Sequence[Signer],
    journal: Journal,
    private_key: paillier.PaillierPrivateKey | None = None,
    key_bits: int = RECOMMENDED_KEY_BITS,
    allow_insecure: bool = False,
    r_bits: int = DEFAULT_R_BITS,
    max_distance: int | None = None,
    task_id: str | None = None,
    faults: Mapping[int, str] | None = None,
    random_state: int | np.random.Generator | None = None,
    workers: int = 4,
    log: TxLog | None = None,
    receipt_timeout: float = 120.0,
    positions: np.ndarray | None = None,
    centre_position: tuple[float, float] | None = None,
    progress: Progress | None = None,
    budgets: Sequence[AnswerBudget | None] | None = None,
) -> PDCRoundResult:
    """Run one PDC round on the chain of ``conn`` (steps in the module docstring).

    Parameters
    ----------
    conn : Connection
        Node and deployment (only ``CommitmentVerifier`` is used).
    locations : sequence of (int, int)
        Receivers' grid points (each known only to its receiver).
    centre : (int, int)
        The task centre on the grid (known only to the platform).
    grid : Grid or int
        The shared grid (an int n means n x n).
    n_select : int
        N, the number of receivers wanted.
    signers : sequence of Signer
        One funded account per receiver (distinct).
    journal : Journal
        The receivers' journal (r, salt and intents; keys include the account).
    private_key : PaillierPrivateKey, optional
        The platform's key; generated with ``key_bits`` bits when omitted.
    key_bits, allow_insecure : int, bool
        Length of a generated key (2048 by default; 1024 is accepted with a WeakKeyWarning, less
        only with ``allow_insecure``, for tests).
    r_bits : int
        Bits of each blinding r.
    max_distance : int, optional
        Radius of the region of interest in grid steps (default: the whole grid).
    task_id : str, optional (default ``"pdc-<next block>"``)
    faults : mapping receiver -> "absent" | "liar", optional
    random_state : None, int or Generator
        Tie-breaking of equal distances in the selection.
    positions, centre_position : optional
        Real coordinates behind the grid points, recorded in :meth:`PDCRoundResult.audit` only.
    progress : callable(stage, done, total), optional
        Stages ``"query"`` and ``"reveal"``.
    budgets : sequence of AnswerBudget or None, optional
        Each receiver's answer budget (:mod:`crowdsense.ldpf.pdc.budget`); a receiver whose
        budget is spent fails its query with a one-line reason.
    """
    grid, locs, centre_pt = _check_inputs(locations, centre, grid, n_select, max_distance)
    signers, faults, workers = _check_parties(signers, faults, workers, budgets, len(locs))
    clock = StageClock()
    if private_key is None:
        _, private_key = generate_keypair(key_bits, allow_insecure=allow_insecure)
    key_bits = private_key.public_key.n.bit_length()
    clock.lap("keygen")
    log = TxLog() if log is None else log
    board = ChainCommitmentBoard(conn, log=log, receipt_timeout=receipt_timeout)
    platform = Platform(private_key, grid, board=board, allow_insecure=allow_insecure)
    task_id = task_id or f"pdc-{int(conn.w3.eth.block_number) + 1}"
    task_text = platform.open_task(task_id, centre_pt).to_json()  # encrypted once, broadcast to all
    clock.lap("encrypt task")

    store = JournalSecretStore(journal, conn)
    boards = [board.as_account(s, journal) for s in signers]
    receivers = [Receiver(loc, grid, board=b, secret_store=store, r_bits=r_bits, allow_insecure=allow_insecure,
                          budget=None if budgets is None else budgets[i])
                 for i, (loc, b) in enumerate(zip(locs, boards))]
    precompute_proofs(receivers, private_key.public_key.n, workers)
    clock.lap("precompute proofs (offline)")
    state = _PDCRound(conn, locs, faults, journal, workers, progress, clock, board, platform, task_id, task_text,
                      boards, receivers,
                      sizes={"task": len(task_text), "queries": 0, "decryptions": 0, "reveals": 0})
    state.query()
    state.decrypt()
    state.reveal_and_accept()
    selected, caught = state.select(n_select, max_distance, random_state, key_bits)
    return PDCRoundResult(
        task_id=task_id, grid=grid, centre=centre_pt, key_bits=key_bits, r_bits=r_bits, n_select=int(n_select),
        max_distance=max_distance, accounts=state.accounts, locations=locs, outcomes=state.outcomes(),
        selected=tuple(selected), faults=faults, transactions=own_transactions(log, state.accounts),
        timings=clock.with_total(), message_bytes=state.sizes, warnings=tuple(caught), secrets=state.secrets(),
        positions=positions, centre_position=centre_position, public_key_n=int(private_key.public_key.n),
        private_key_primes=(int(private_key.p), int(private_key.q)),
    )
