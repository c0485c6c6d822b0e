"""One PDC round against a real chain (LDPF section 4.3, DESIGN section 7, remote regions).

The protocol is :mod:`crowdsense.ldpf.pdc.protocol` (Protocol 2) with the board on chain and the
receivers' secret store in the client journal (:mod:`crowdsense.chain.boards`). Every message
between the platform and a receiver travels as the JSON text of :mod:`crowdsense.ldpf.pdc.messages`,
as between separate processes:

1. *Task.* The platform encrypts Encode 1 of the task centre once (Paillier, ``key_bits``) and
   broadcasts the same task message to every candidate receiver.
2. *Query.* Each receiver computes ``Z = Enc(dist + r)`` homomorphically with a fresh blinding
   r (``r_bits`` bits from :mod:`secrets`), journals r and the opening, then sends
   ``commitBlinding(keccak256(abi.encode(r, salt)))`` from its own account, and sends
   ``(c, Z)`` to the platform. Receivers work concurrently (``workers`` threads).
3. *Decryption.* The platform checks on chain that c is recorded by that receiver and not yet
   opened, decrypts ``s = dist + r`` and returns s with its proof of correct decryption.
4. *Reveal.* The receiver checks the proof, learns ``dist = s - r`` and opens c on chain with
   ``revealBlinding(c, r, salt)``, then sends ``(r, salt)``.
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

import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from phe import paillier

from crowdsense.chain.accounts import Signer
from crowdsense.chain.connection import Connection
from crowdsense.chain.journal import Journal
from crowdsense.errors import CrowdsenseError, InputError
from crowdsense.runs._parallel import check_workers, thread_map
from crowdsense.chain.boards import ChainBlindingBoard, JournalSecretStore, blinding_opening_key
from crowdsense.chain.txlog import TxLog, TxRecord
from crowdsense.ldpf.pdc.encoding import Grid, manhattan
from crowdsense.ldpf.pdc.errors import CheatingDetected, SelectionWarning
from crowdsense.ldpf.pdc.keys import RECOMMENDED_KEY_BITS, generate_keypair
from crowdsense.ldpf.pdc.messages import DecryptionMessage, QueryMessage, RevealMessage, TaskMessage
from crowdsense.ldpf.pdc.protocol import DEFAULT_R_BITS, Platform, Receiver
from crowdsense.ldpf.pdc.selection import Selected, select_nearest

__all__ = ["PDC_FAULTS", "PDCReceiverOutcome", "PDCRoundResult", "run_pdc_round"]

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

    @property
    def distances(self) -> dict[str, int]:
        """Accepted distances by account (what the platform learnt)."""
        return {o.account: o.distance for o in self.outcomes if o.status == "accepted" and o.distance is not None}

    def summary(self) -> dict[str, Any]:
        """Public facts: counts, statuses, the selection (accounts and distances), gas, timings."""
        gas: dict[str, dict[str, int]] = {}
        for r in self.transactions:
            row = gas.setdefault(r.kind, {"count": 0, "reverted": 0, "gas": 0})
            row["count"] += 1
            row["reverted"] += 0 if r.ok else 1
            row["gas"] += r.gas_used
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
            "transactions": gas,
            "messageBytes": dict(self.message_bytes),
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            "warnings": list(self.warnings),
        }

    def audit(self) -> dict[str, Any]:
        """SECRET test material: locations, true and learnt distances, r, salt, s, blocks."""
        reveals = {r.subject: r.block for r in self.transactions if r.kind == "revealBlinding" and r.ok}
        commits = {r.subject: r.block for r in self.transactions if r.kind == "commitBlinding" and r.ok}
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
            "receivers": out,
        }


def _check_faults(faults: Mapping[int, str] | None, n: int) -> dict[int, str]:
    out: dict[int, str] = {}
    for i, fault in dict(faults or {}).items():
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < n:
            raise InputError(f"fault keys must be receiver indices in [0, {n}), got {i!r}")
        if fault not in PDC_FAULTS:
            raise InputError(f"faults must be one of {PDC_FAULTS}, got {fault!r} for receiver {i}")
        out[int(i)] = fault
    return out


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
    progress: Callable[[str, int, int], None] | None = None,
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
    key_bits : int
        Length of a generated key (2048 by default; 1024 is accepted with a WeakKeyWarning).
    allow_insecure : bool
        Accept keys below 1024 bits (tests only).
    r_bits : int
        Bits of each blinding r.
    max_distance : int, optional
        Radius of the region of interest in grid steps (default: the whole grid).
    task_id : str, optional
        Default ``"pdc-<next block>"``.
    faults : mapping receiver -> "absent" | "liar", optional
    random_state : None, int or Generator
        Tie-breaking of equal distances in the selection.
    positions, centre_position : optional
        Real coordinates behind the grid points, recorded in :meth:`PDCRoundResult.audit` only.
    progress : callable(stage, done, total), optional
        Stages ``"query"`` and ``"reveal"``.
    """
    grid = Grid(grid) if isinstance(grid, (int, np.integer)) and not isinstance(grid, bool) else grid
    if not isinstance(grid, Grid):
        raise InputError(f"grid must be a Grid or an int, got {type(grid).__name__}")
    locs = tuple(grid.check_point(tuple(int(v) for v in loc), name=f"location {i}") for i, loc in enumerate(locations))
    centre_pt = grid.check_point(tuple(int(v) for v in centre), name="task centre")
    n = len(locs)
    if n < 1:
        raise InputError("a PDC round needs at least one receiver, got none")
    signers = list(signers)
    if len(signers) != n:
        raise InputError(f"need one signer per receiver ({n}), got {len(signers)}")
    if len({s.address.lower() for s in signers}) != n:
        raise InputError("the receivers' signers must be distinct accounts")
    if isinstance(n_select, bool) or not isinstance(n_select, (int, np.integer)) or n_select < 1:
        raise InputError(f"n_select must be an int >= 1, got {n_select!r}")
    if max_distance is not None and (isinstance(max_distance, bool) or not isinstance(max_distance, int)
                                     or max_distance < 0):
        raise InputError(f"max_distance must be None or an int >= 0, got {max_distance!r}")
    faults = _check_faults(faults, n)
    workers = check_workers(workers)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = now - clock
        clock = now

    if private_key is None:
        _, private_key = generate_keypair(key_bits, allow_insecure=allow_insecure)
    key_bits = private_key.public_key.n.bit_length()
    lap("keygen")
    log = TxLog() if log is None else log
    platform_board = ChainBlindingBoard(conn, log=log, receipt_timeout=receipt_timeout)
    platform = Platform(private_key, grid, board=platform_board, allow_insecure=allow_insecure)
    task_id = task_id or f"pdc-{int(conn.w3.eth.block_number) + 1}"
    task_text = platform.open_task(task_id, centre_pt).to_json()  # encrypted once, broadcast to all
    lap("encrypt task")

    store = JournalSecretStore(journal, conn)
    boards = [platform_board.as_account(s, journal) for s in signers]
    accounts = tuple(b.account for b in boards)
    receivers = [Receiver(locs[i], grid, board=boards[i], secret_store=store, r_bits=r_bits,
                          allow_insecure=allow_insecure) for i in range(n)]
    status: dict[int, tuple[str, str | None]] = {}
    sizes = {"task": len(task_text), "queries": 0, "decryptions": 0, "reveals": 0}
    done = [0]

    def tick(stage: str, total: int) -> Callable[[int], None]:
        done[0] = 0

        def step(_: int) -> None:
            done[0] += 1
            if progress is not None:
                progress(stage, done[0], total)
        return step

    # 2. queries: Z = Enc(dist + r), r journaled, commitment on chain
    answers = thread_map(lambda i: receivers[i].respond(TaskMessage.from_json(task_text)).to_json(),
                         list(range(n)), workers=workers, progress=tick("query", n))
    lap("query (Z + commit)")

    # 3. platform: commitment on chain?  then decrypt with proof
    decryptions: dict[int, str] = {}
    s_values: dict[int, int] = {}
    for i, answer in enumerate(answers):
        if isinstance(answer, CrowdsenseError):
            status[i] = ("failed", f"query failed: {answer}")
            continue
        sizes["queries"] += len(answer)
        try:
            message = platform.handle_query(QueryMessage.from_json(answer))
        except CrowdsenseError as exc:
            status[i] = ("rejected", f"query refused: {exc}")
            continue
        s_values[i] = message.plaintext
        decryptions[i] = message.to_json()
        sizes["decryptions"] += len(decryptions[i])
    lap("decrypt")

    # 4. receivers: check the proof, learn dist, open the commitment on chain
    def finish(i: int) -> str | None:
        decryption = DecryptionMessage.from_json(decryptions[i])
        fault = faults.get(i)
        if fault == "absent":
            return None
        if fault == "liar":
            opening = journal.get(blinding_opening_key(conn, decryption.commitment))
            assert opening is not None
            r, salt = int(opening["r"]), bytes(opening["salt"])
            lie = r + max(decryption.plaintext - r, 1)  # claims distance 0
            try:
                boards[i].reveal_blinding(decryption.commitment, lie, salt)
            except CrowdsenseError:
                pass  # the chain refused the forged opening; the liar tries the platform anyway
            return RevealMessage(task_id, accounts[i], decryption.commitment, lie, salt).to_json()
        return receivers[i].finish(decryption).to_json()

    order = sorted(decryptions)
    finished = thread_map(finish, order, workers=workers, progress=tick("reveal", len(order)))
    lap("reveal (verify + open)")

    # 5. platform: opening against the chain, accept dist = s - r
    accepted: dict[str, int] = {}
    for i, reveal_text in zip(order, finished):
        if isinstance(reveal_text, CrowdsenseError):
            status[i] = ("failed", f"reveal failed: {reveal_text}")
            continue
        if reveal_text is None:
            status[i] = ("absent", "never revealed r")
            continue
        sizes["reveals"] += len(reveal_text)
        reveal = RevealMessage.from_json(reveal_text)
        try:
            dist = platform.handle_reveal(reveal)
        except (CheatingDetected, CrowdsenseError) as exc:
            status[i] = ("rejected", str(exc))
            continue
        record = platform_board.blinding_record(reveal.commitment)
        if record is None or not record.revealed:
            status[i] = ("rejected", "the opening was not published on chain")
            continue
        accepted[accounts[i]] = dist
        status[i] = ("accepted", None)
    caught: list[str] = []
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always", SelectionWarning)
        selected = select_nearest(accepted, int(n_select), max_distance=max_distance, random_state=random_state) \
            if accepted else []
        caught.extend(str(w.message) for w in seen if issubclass(w.category, SelectionWarning))
    if key_bits < RECOMMENDED_KEY_BITS:
        caught.append(f"the Paillier key has {key_bits} bits, below the recommended {RECOMMENDED_KEY_BITS}")
    if not accepted:
        caught.append(f"no receiver was accepted, fewer than the {n_select} wanted")
    lap("accept+select")
    timings["total"] = sum(timings.values())

    outcomes = tuple(PDCReceiverOutcome(accounts[i], locs[i], status[i][0],
                                        accepted.get(accounts[i]) if status[i][0] == "accepted" else None,
                                        status[i][1]) for i in range(n))
    secrets: dict[str, dict[str, Any]] = {}
    key_of = {}
    for i, answer in enumerate(answers):
        if not isinstance(answer, CrowdsenseError):
            key_of[i] = QueryMessage.from_json(answer).commitment
    for i, c in key_of.items():
        opening = journal.get(blinding_opening_key(conn, c)) or {}
        secrets[accounts[i]] = {
            "commitment": "0x" + c.hex(),
            "r": int(opening["r"]) if "r" in opening else None,
            "salt": "0x" + bytes(opening["salt"]).hex() if "salt" in opening else None,
            "s": s_values.get(i),
            "learnt": receivers[i].distance(task_id),
        }
    mine = set(accounts)
    return PDCRoundResult(
        task_id=task_id, grid=grid, centre=centre_pt, key_bits=key_bits, r_bits=r_bits, n_select=int(n_select),
        max_distance=max_distance, accounts=accounts, locations=locs, outcomes=outcomes, selected=tuple(selected),
        faults=faults, transactions=tuple(r for r in log.records() if r.sender in mine), timings=timings,
        message_bytes=sizes, warnings=tuple(caught), secrets=secrets, positions=positions,
        centre_position=centre_position, public_key_n=int(private_key.public_key.n),
    )
