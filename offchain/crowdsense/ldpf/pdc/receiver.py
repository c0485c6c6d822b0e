"""The receiver's side of PDC (LDPF Protocol 2): answer a task with ``Z = Enc(dist + r)`` and its
proof, check the platform's decryption, reveal r. The protocol and its security argument are
in :mod:`crowdsense.ldpf.pdc.protocol`."""

from __future__ import annotations

import secrets
from typing import Any

from gmpy2 import mpz
from phe import paillier

from crowdsense.commitments import (
    AlreadyCommittedError,
    AlreadyRevealedError,
    BlindingOpening,
    CommitmentBoard,
    SecretStore,
    new_blinding_opening,
    same_account,
)
from crowdsense.ldpf.pdc.budget import AnswerBudget, platform_key_id
from crowdsense.ldpf.pdc.encoding import Grid, Point
from crowdsense.ldpf.pdc.errors import BlindingBitsError, CheatingDetected, GridError, MessageError, ProtocolStateError
from crowdsense.ldpf.pdc.fastpaillier import PublicEngine
from crowdsense.ldpf.pdc.keys import check_key_bits
from crowdsense.ldpf.pdc.messages import DecryptionMessage, QueryMessage, RevealMessage, TaskMessage
from crowdsense.ldpf.pdc.proofs import (
    QueryPrecomputation,
    QueryProof,
    precompute_query,
    proof_context,
    prove_query,
    task_tables,
)

from crowdsense.ldpf.pdc.protocol import DEFAULT_R_BITS, PROOF_MAX_R_BITS, _check_room, check_r_bits, encrypted_distance

__all__ = ["Receiver"]


class Receiver:
    """A task receiver (user D) running its side of Protocol 2.

    Every step first validates its input, so bad input raises before any state changes; the
    receiver's state lives in ``secret_store`` (not in this object), so a new ``Receiver`` with
    the same store, board account and location resumes where a crashed one stopped.

    Parameters
    ----------
    location : (int, int)
        The receiver's grid point (from the edge layer's coding of its real position).
    grid : Grid
        The grid shared with the platform; a task on another grid is refused.
    board : CommitmentBoard
        The commitment board, acting as this receiver's account (its identity in messages).
    secret_store : SecretStore
        Durable storage for r and the commitment opening; written before every board call.
    r_bits : int, default 64
        Bits of the blinding r, in ``[MIN_R_BITS, MAX_R_BITS]``.
    allow_insecure : bool, default False
        Accept task keys below :data:`crowdsense.ldpf.pdc.keys.MIN_KEY_BITS` (tests only).
    prove : bool, default True
        Send the well-formedness proof of :mod:`crowdsense.ldpf.pdc.proofs` with every query
        (then ``r_bits <= PROOF_MAX_R_BITS``). ``False`` gives Protocol 2 as published, which
        a platform that asks for proofs refuses.
    budget : AnswerBudget, optional
        The receiver's answer budget (:mod:`crowdsense.ldpf.pdc.budget`), charged before
        each new answer; ``None`` answers without limit.
    platform_id : str, optional
        The platform's stable identity for the budget; default: a hash of the task key.
    """

    def __init__(
        self,
        location: Any,
        grid: Grid,
        *,
        board: CommitmentBoard,
        secret_store: SecretStore,
        r_bits: int = DEFAULT_R_BITS,
        allow_insecure: bool = False,
        prove: bool = True,
        budget: AnswerBudget | None = None,
        platform_id: str | None = None,
    ) -> None:
        if not isinstance(grid, Grid):
            raise GridError(f"grid must be a Grid, got {type(grid).__name__}")
        self.location: Point = grid.check_point(location, name="receiver location")
        self.grid = grid
        self.r_bits = check_r_bits(r_bits)
        if prove and self.r_bits > PROOF_MAX_R_BITS:
            raise BlindingBitsError(
                f"r_bits must be at most {PROOF_MAX_R_BITS} with well-formedness proofs, got {self.r_bits}"
            )
        if budget is not None and not isinstance(budget, AnswerBudget):
            raise TypeError(f"budget must be an AnswerBudget or None, got {type(budget).__name__}")
        self.prove, self.budget, self.platform_id = bool(prove), budget, platform_id
        self._proof_pool: dict[int, list[QueryPrecomputation]] = {}
        for name, obj, methods in (
            ("board", board, ("commit_blinding", "reveal_blinding", "check_blinding", "blinding_record")),
            ("secret_store", secret_store, ("put", "get")),
        ):
            missing = [m for m in methods if not callable(getattr(obj, m, None))]
            if missing:
                raise TypeError(f"{name} lacks method(s) {', '.join(missing)}")
        self.board = board
        self.secret_store = secret_store
        self.allow_insecure = allow_insecure
        self._engines: dict[int, PublicEngine] = {}

    @property
    def account(self) -> str:
        """This receiver's identity: the board account."""
        return self.board.account

    def _engine(self, n: int) -> PublicEngine:
        engine = self._engines.get(n)
        if engine is None:
            check_key_bits(n.bit_length(), allow_insecure=self.allow_insecure, what="task key")
            _check_room(n.bit_length(), self.r_bits, self.grid)
            engine = self._engines[n] = PublicEngine(n)
        return engine

    def precompute(self, public_key: paillier.PaillierPublicKey | int, count: int) -> None:
        """Precompute ``count`` obfuscators for the platform's key (offline, before tasks arrive)."""
        n = public_key.n if isinstance(public_key, paillier.PaillierPublicKey) else public_key
        self._engine(n).precompute(count)

    def precompute_proofs(self, public_key: paillier.PaillierPublicKey | int, count: int = 1) -> None:
        """Draw the task-independent part of ``count`` query proofs for the platform's key (offline).

        Each costs ``width + height + 2`` n-th powers modulo n^2 and serves one query.
        """
        n = public_key.n if isinstance(public_key, paillier.PaillierPublicKey) else public_key
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"count must be a non-negative int, got {count!r}")
        self._engine(n)
        pool = self._proof_pool.setdefault(int(n), [])
        pool.extend(precompute_query(n, self.grid.shape, self.location, r_bits=self.r_bits) for _ in range(count))

    def add_precomputed_proof(self, n: int, precomputation: QueryPrecomputation) -> None:
        """Keep one query's offline proof part drawn elsewhere (another process of the same
        party: the draw is :func:`~crowdsense.ldpf.pdc.proofs.precompute_query` of this
        receiver's own grid point and r bits, for the platform's modulus ``n``)."""
        if not isinstance(precomputation, QueryPrecomputation):
            raise ValueError(f"expected a QueryPrecomputation, got {type(precomputation).__name__}")
        self._engine(n)
        self._proof_pool.setdefault(int(n), []).append(precomputation)

    def _proof_precomputation(self, n: int) -> QueryPrecomputation:
        pool = self._proof_pool.get(int(n))
        if pool:
            return pool.pop()
        return precompute_query(n, self.grid.shape, self.location, r_bits=self.r_bits)

    def _platform(self, task: TaskMessage) -> str:
        return self.platform_id if self.platform_id is not None else platform_key_id(task.public_key_n)

    def _key(self, task_id: str) -> str:
        return f"ldpf-pdc/{task_id}/{self.account}"

    def state(self, task_id: str) -> str | None:
        """``"committing"``, ``"committed"``, ``"revealing"``, ``"revealed"`` or ``None``."""
        entry = self.secret_store.get(self._key(task_id))
        return None if entry is None else entry["state"]

    def distance(self, task_id: str) -> int | None:
        """The distance learnt for ``task_id`` (after :meth:`finish`), else ``None``."""
        entry = self.secret_store.get(self._key(task_id))
        return None if entry is None else entry.get("distance")

    def respond(self, task: TaskMessage) -> QueryMessage:
        """Step 2: compute Z and its proof, save the opening, commit on the board, return the query.

        Raises
        ------
        MessageError
            If the task is on another grid or its ciphertexts are invalid.
        KeyLengthError
            If the task key is too short.
        ProtocolStateError
            If this receiver already answered the task (use :meth:`resume`).
        AnswerBudgetExceeded
            If the receiver's budget for this platform is spent (nothing is computed or sent).
        crowdsense.commitments.CommitmentError
            If the commit fails; the opening is already saved, so :meth:`resume` can retry.
        """
        if not isinstance(task, TaskMessage):
            raise MessageError(f"expected a TaskMessage, got {type(task).__name__}")
        if task.grid != self.grid:
            raise MessageError(
                f"task {task.task_id!r} is on a {task.grid.width} x {task.grid.height} grid, "
                f"the receiver's grid is {self.grid.width} x {self.grid.height}"
            )
        engine = self._engine(task.public_key_n)
        key = self._key(task.task_id)
        if self.secret_store.get(key) is not None:
            raise ProtocolStateError(
                f"task {task.task_id!r} was already answered; use resume({task.task_id!r})"
            )

        tables = task_tables(task.public_key_n, task.ciphertexts, task.grid.width) if self.prove else None
        if self.budget is not None:
            self.budget.charge(self._platform(task), task.task_id)  # journaled before anything is computed

        proof: QueryProof | None = None
        tau: int | None = None
        if tables is not None:
            pre = self._proof_precomputation(task.public_key_n)
            r, tau = pre.r, pre.tau
            opening = new_blinding_opening(r)
            proof = prove_query(pre, tables, proof_context(task.digest, self.account, opening.commitment))
            z = mpz(proof.x.w) * proof.y.w % engine.nsquare
        else:
            r = secrets.randbits(self.r_bits)
            z = encrypted_distance(engine, task, self.location, offset=r)
            opening = new_blinding_opening(r)
        entry = {
            "format": 1,
            "task_id": task.task_id,
            "receiver": self.account,
            "task_digest": "0x" + task.digest.hex(),
            "public_key_n": str(task.public_key_n),
            "max_distance": task.grid.max_distance,
            "r": str(r),
            "salt": "0x" + opening.salt.hex(),
            "commitment": "0x" + opening.commitment.hex(),
            "z": str(int(z)),
            "tau": None if tau is None else str(tau),
            "proof": None if proof is None else proof.to_dict(),  # dropped once the query is answered
            "state": "committing",
            "distance": None,
        }
        self.secret_store.put(key, entry)  # before the commit transaction: never lose the opening
        self.board.commit_blinding(opening.commitment)
        entry["state"] = "committed"
        self.secret_store.put(key, entry)
        return self._query(entry)

    def _query(self, entry: dict[str, Any]) -> QueryMessage:
        proof = entry.get("proof")
        return QueryMessage(
            task_id=entry["task_id"],
            task_digest=bytes.fromhex(entry["task_digest"][2:]),
            receiver=entry["receiver"],
            commitment=bytes.fromhex(entry["commitment"][2:]),
            z=int(entry["z"]),
            proof=None if proof is None else QueryProof.from_dict(proof),
        )

    def resume(self, task_id: str) -> QueryMessage:
        """Rebuild the query of ``task_id`` from the store, (re)committing if the commit did not land.

        If the commitment turns out to be on the board already (the transaction went through but
        its receipt was lost), that is fine: the board keys records by committer, so the record is
        this account's own.
        """
        entry = self.secret_store.get(self._key(task_id))
        if entry is None:
            raise ProtocolStateError(f"nothing stored for task {task_id!r}; call respond() first")
        if entry["state"] not in ("committing", "committed"):
            raise ProtocolStateError(f"task {task_id!r} is past the query step (state {entry['state']!r})")
        if entry["state"] == "committing":
            commitment = bytes.fromhex(entry["commitment"][2:])
            try:
                self.board.commit_blinding(commitment)
            except AlreadyCommittedError:
                pass  # this account's own record: the board keys commitments by their committer
            entry["state"] = "committed"
            self.secret_store.put(self._key(task_id), entry)
        return self._query(entry)

    def finish(self, decryption: DecryptionMessage) -> RevealMessage:
        """Step 4: verify s, learn ``dist = s - r``, open the commitment, return the reveal.

        Raises
        ------
        CheatingDetected
            Party ``"platform"``: the decryption proof fails (wrong s), or ``s - r`` is out of
            range (the task ciphertexts were not a valid Encode 1). Nothing is revealed.
        MessageError, ProtocolStateError
            For a message that does not belong to this receiver's stored query.
        """
        if not isinstance(decryption, DecryptionMessage):
            raise MessageError(f"expected a DecryptionMessage, got {type(decryption).__name__}")
        if not same_account(decryption.receiver, self.account):
            raise MessageError(f"decryption is addressed to {decryption.receiver!r}, not {self.account!r}")
        key = self._key(decryption.task_id)
        entry = self.secret_store.get(key)
        if entry is None:
            raise ProtocolStateError(f"no stored query for task {decryption.task_id!r}")
        if decryption.commitment.hex() != entry["commitment"][2:]:
            raise MessageError("decryption refers to another commitment than the stored query")
        if entry["state"] == "committing":
            raise ProtocolStateError(
                f"the commitment for task {decryption.task_id!r} is not confirmed; call resume()"
            )
        opening = BlindingOpening(int(entry["r"]), bytes.fromhex(entry["salt"][2:]))
        if entry["state"] == "revealed":
            return self._reveal(entry, opening)

        engine = self._engine(int(entry["public_key_n"]))
        s, rho = decryption.plaintext, decryption.randomness
        if not engine.verify_decryption(mpz(entry["z"]), s, rho):
            raise CheatingDetected(
                "platform", "decryption proof fails: Z != (1 + s n) rho^n mod n^2, so s is not Dec(Z)"
            )
        dist = s - opening.r
        if not 0 <= dist <= entry["max_distance"]:
            raise CheatingDetected(
                "platform",
                f"s - r = {dist} is outside [0, {entry['max_distance']}]: "
                "the task ciphertexts are not a valid Encode 1",
            )
        entry["state"], entry["distance"] = "revealing", dist
        entry.pop("proof", None)  # the query is answered: its proof is no longer needed
        self.secret_store.put(key, entry)
        try:
            self.board.reveal_blinding(decryption.commitment, opening.r, opening.salt)
        except AlreadyRevealedError:
            pass  # this account opened its own record before (the receipt was lost)
        entry["state"] = "revealed"
        self.secret_store.put(key, entry)
        return self._reveal(entry, opening)

    def stored_query(self, task_id: str) -> QueryMessage:
        """The query stored for ``task_id``, in any state: what a receiver sends again when the
        platform's answer was lost (its proof is dropped once the answer came; the platform
        answers a repeated query without it)."""
        entry = self.secret_store.get(self._key(task_id))
        if entry is None:
            raise ProtocolStateError(f"nothing stored for task {task_id!r}; call respond() first")
        return self._query(entry)

    def stored_reveal(self, task_id: str) -> RevealMessage:
        """The reveal of ``task_id`` once its commitment is opened (state ``"revealed"``): what a
        receiver sends again when the platform's answer to its reveal was lost."""
        entry = self.secret_store.get(self._key(task_id))
        if entry is None or entry["state"] != "revealed":
            raise ProtocolStateError(f"task {task_id!r} is not revealed yet (state "
                                     f"{None if entry is None else entry['state']!r}); call finish() first")
        return self._reveal(entry, BlindingOpening(int(entry["r"]), bytes.fromhex(entry["salt"][2:])))

    def _reveal(self, entry: dict[str, Any], opening: BlindingOpening) -> RevealMessage:
        return RevealMessage(
            task_id=entry["task_id"],
            receiver=entry["receiver"],
            commitment=bytes.fromhex(entry["commitment"][2:]),
            r=opening.r,
            salt=opening.salt,
            mask_opening=None if entry.get("tau") is None else int(entry["tau"]),
        )
