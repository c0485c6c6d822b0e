"""The platform's side of PDC (LDPF Protocol 2): open a task, verify and decrypt queries, accept
the revealed distances, select the nearest receivers; and :func:`run_round`, every party in one
process. The protocol and its security argument are in :mod:`crowdsense.ldpf.pdc.protocol`."""

from __future__ import annotations

from typing import Any, Sequence

from gmpy2 import mpz
from phe import paillier

from crowdsense.commitments import CommitmentBoard
from crowdsense.ldpf.pdc.encoding import Grid, Point
from crowdsense.ldpf.pdc.errors import CheatingDetected, GridError, KeyLengthError, MessageError, ProtocolStateError
from crowdsense.ldpf.pdc.fastpaillier import PrivateEngine
from crowdsense.ldpf.pdc.ledger import MemoryLedger, PlatformLedger
from crowdsense.ldpf.pdc.keys import check_key_pair
from crowdsense.ldpf.pdc.messages import DecryptionMessage, QueryMessage, RevealMessage, TaskMessage
from crowdsense.ldpf.pdc.proofs import open_masks, proof_context, task_tables, verify_query_batched
from crowdsense.ldpf.pdc.selection import Selected, select_nearest
from crowdsense.ldpf.pdc.protocol import MIN_R_BITS, _check_room, encrypt_task
from crowdsense.ldpf.pdc.receiver import Receiver

__all__ = ["Platform", "run_round"]


class Platform:
    """The sensing platform (C): owns the Paillier key, opens tasks, decrypts, accepts distances.

    Parameters
    ----------
    private_key : phe.paillier.PaillierPrivateKey
        The platform's key (its public key is ``private_key.public_key``).
    grid : Grid
        The grid of the region's tasks.
    board : CommitmentBoard
        The commitment board (read-only use: records and opening checks).
    allow_insecure : bool, default False
        Accept keys below :data:`crowdsense.ldpf.pdc.keys.MIN_KEY_BITS` (tests only).
    fixed_base : bool, optional
        Passed to :class:`~crowdsense.ldpf.pdc.fastpaillier.PrivateEngine`.
    require_proofs : bool, default True
        Decrypt only queries whose well-formedness proof verifies
        (:mod:`crowdsense.ldpf.pdc.proofs`); ``False`` is Protocol 2 as published, which decrypts
        any Z (a receiver then chooses its distance, or reads the centre off the decryption).
    ledger : PlatformLedger, optional
        Where tasks and answers are kept (:mod:`crowdsense.ldpf.pdc.ledger`; default: in memory).
    """

    def __init__(
        self,
        private_key: paillier.PaillierPrivateKey,
        grid: Grid,
        *,
        board: CommitmentBoard,
        allow_insecure: bool = False,
        fixed_base: bool | None = None,
        require_proofs: bool = True,
        ledger: PlatformLedger | None = None,
    ) -> None:
        if not isinstance(grid, Grid):
            raise GridError(f"grid must be a Grid, got {type(grid).__name__}")
        if not isinstance(private_key, paillier.PaillierPrivateKey):
            raise KeyLengthError(
                f"private_key must be a phe PaillierPrivateKey, got {type(private_key).__name__}"
            )
        check_key_pair(private_key.public_key, private_key, allow_insecure=allow_insecure)
        _check_room(private_key.public_key.n.bit_length(), MIN_R_BITS, grid)
        self.grid = grid
        self.board = board
        self.engine = PrivateEngine(private_key, fixed_base=fixed_base)
        self.require_proofs = bool(require_proofs)
        self.ledger: PlatformLedger = MemoryLedger() if ledger is None else ledger
        self._tables: dict[str, tuple[list[Any], list[Any]]] = {}  # T_x, T_y per task (made on its first proof)

    @property
    def public_key(self) -> paillier.PaillierPublicKey:
        return self.engine.public_key

    def precompute(self, count: int) -> None:
        """Precompute ``count`` obfuscators (offline); each task uses ``grid.code_length``."""
        self.engine.precompute(count)

    def _task(self, task_id: str) -> tuple[TaskMessage, Point]:
        task = self.ledger.task(task_id)
        if task is None:
            raise ProtocolStateError(f"unknown task {task_id!r}")
        return task

    def open_task(self, task_id: str, centre: Any, *, public: dict[str, Any] | None = None) -> TaskMessage:
        """Step 1: encrypt the centre's Encode 1 once; the returned message goes to every receiver.

        ``public`` is kept with the task for anyone to read (for example where its grid lies)."""
        if self.ledger.task(task_id) is not None:
            raise ProtocolStateError(f"task {task_id!r} is already open")
        message = encrypt_task(self.engine, task_id, self.grid, centre)
        self.ledger.add_task(message, self.grid.check_point(centre, name="task centre"), public)
        return message

    def task_message(self, task_id: str) -> TaskMessage:
        """The task message of ``task_id`` (the same ciphertexts for every receiver)."""
        return self._task(task_id)[0]

    def handle_query(self, query: QueryMessage) -> DecryptionMessage:
        """Step 3: check the commitment is on the board, decrypt Z and prove the decryption.

        The same query sent again by a receiver still pending (its answer was lost) gets the same
        decryption again: nothing new is decrypted.

        Raises
        ------
        MessageError
            Wrong task digest or a Z that is not a ciphertext under the platform's key.
        ProtocolStateError
            Unknown task, another query by the same receiver, or a commitment that is missing
            from the board, recorded by someone else or already opened.
        """
        if not isinstance(query, QueryMessage):
            raise MessageError(f"expected a QueryMessage, got {type(query).__name__}")
        message, centre = self._task(query.task_id)
        if query.task_digest != message.digest:
            raise MessageError(
                f"query of {query.receiver!r} was computed on another version of task {query.task_id!r}"
            )
        earlier = self.ledger.answer(query.task_id, query.receiver)
        if earlier is not None:
            if earlier.state == "pending" and (earlier.commitment, earlier.z) == (query.commitment, query.z):
                return self._decryption(query, self.engine.decrypt_with_proof(query.z))
            raise ProtocolStateError(
                f"receiver {query.receiver!r} already queried task {query.task_id!r}; "
                "one decryption per receiver and task"
            )
        if self.ledger.commitment_used(query.commitment):
            raise ProtocolStateError("commitment already used by another query (one commitment per query)")
        if not self.engine.is_ciphertext(query.z):
            raise MessageError("z is not a ciphertext under the platform's key (outside Z*_{n^2})")
        masks = self._check_proof(query, message, centre) if self.require_proofs else None
        record = self.board.blinding_record(query.receiver, query.commitment)
        if record is None:
            raise ProtocolStateError(
                f"commitment 0x{query.commitment.hex()} is not on the board under {query.receiver!r}: "
                "receivers must commit before decryption"
            )
        if record.revealed:
            raise ProtocolStateError("commitment was opened before decryption")
        s, rho = self.engine.decrypt_with_proof(query.z)
        self.ledger.record_pending(query.task_id, query.receiver, commitment=query.commitment, z=int(query.z),
                                   s=int(s), masks=masks)
        return self._decryption(query, (s, rho))

    @staticmethod
    def _decryption(query: QueryMessage, s_rho: tuple[Any, Any]) -> DecryptionMessage:
        s, rho = s_rho
        return DecryptionMessage(task_id=query.task_id, receiver=query.receiver, commitment=query.commitment,
                                 plaintext=s, randomness=rho)

    def _check_proof(self, query: QueryMessage, message: TaskMessage, centre: Point) -> tuple[bytes, bytes]:
        """Verify that Z was formed from the task ciphertexts and one grid point, before decrypting.

        A failure rejects the receiver for the task (:class:`CheatingDetected`); nothing is
        decrypted. Returns the Pedersen commitments of the masks, opened at the reveal.
        """
        def reject(reason: str) -> CheatingDetected:
            reason = f"{reason}; Z is not decrypted"
            self.ledger.record_rejected(query.task_id, query.receiver, reason)
            return CheatingDetected("receiver", reason)

        cx, cy = centre
        proof = query.proof
        if proof is None:
            raise reject("the query carries no proof that Z was formed from the task ciphertexts")
        n2 = self.engine.nsquare
        if mpz(proof.x.w) * proof.y.w % n2 != query.z:
            raise reject("Z is not the product of the proven axis ciphertexts W_x W_y")
        tables = self._tables.get(query.task_id)
        if tables is None:
            tables = self._tables[query.task_id] = task_tables(self.engine.n, message.ciphertexts, self.grid.width)
        distances = ([abs(p - cx) for p in range(self.grid.width)], [abs(p - cy) for p in range(self.grid.height)])
        reason = verify_query_batched(
            self.engine.private_key, proof, tables, distances,  # type: ignore[arg-type]
            proof_context(message.digest, query.receiver, query.commitment),
        )
        if reason is not None:
            raise reject(f"the well-formedness proof fails: {reason}")
        return proof.x.commitment, proof.y.commitment

    def handle_reveal(self, reveal: RevealMessage) -> int:
        """Step 5: check the opening against the board and accept ``dist = s - r``.

        Raises
        ------
        CheatingDetected
            Party ``"receiver"``: the opening does not match the commitment (the query stays
            pending: only the committed r can ever pass), or ``s - r`` is outside
            ``[0, max_distance]`` (Z was not formed from a valid encoding; the receiver is
            rejected for this task).
        """
        if not isinstance(reveal, RevealMessage):
            raise MessageError(f"expected a RevealMessage, got {type(reveal).__name__}")
        self._task(reveal.task_id)
        pending = self.ledger.answer(reveal.task_id, reveal.receiver)
        if pending is None or pending.state != "pending" or pending.s is None:
            raise ProtocolStateError(
                f"no pending query of {reveal.receiver!r} for task {reveal.task_id!r}"
                + (f" (already {pending.state})" if pending is not None else "")
            )
        if reveal.commitment != pending.commitment:
            raise MessageError("reveal refers to another commitment than the receiver's query")
        if not self.board.check_blinding(reveal.receiver, reveal.commitment, reveal.r, reveal.salt):
            raise CheatingDetected(
                "receiver", "the revealed (r, salt) does not open the commitment on the board"
            )
        if pending.masks is not None and (
            reveal.mask_opening is None or not open_masks(*pending.masks, reveal.r, reveal.mask_opening)
        ):
            raise CheatingDetected(
                "receiver", "r is not the constant term of the proven Z: U + V != r G + tau H"
            )
        dist = pending.s - reveal.r
        if not 0 <= dist <= self.grid.max_distance:
            reason = (
                f"s - r = {dist} is outside [0, {self.grid.max_distance}]: "
                "Z was not formed from a valid encoding"
            )
            self.ledger.record_rejected(reveal.task_id, reveal.receiver, reason)
            raise CheatingDetected("receiver", reason)
        self.ledger.record_accepted(reveal.task_id, reveal.receiver, dist)
        return dist

    def distances(self, task_id: str) -> dict[str, int]:
        """Accepted distances of ``task_id`` by receiver."""
        self._task(task_id)
        return self.ledger.accepted(task_id)

    def rejected(self, task_id: str) -> dict[str, str]:
        """Receivers rejected for ``task_id``, with the reason."""
        self._task(task_id)
        return self.ledger.rejected(task_id)

    def select(
        self, task_id: str, n_select: int, *, max_distance: int | None = None, random_state: Any = None
    ) -> list[Selected]:
        """The ``n_select`` nearest accepted receivers of ``task_id`` (see :func:`select_nearest`)."""
        return select_nearest(
            self.distances(task_id), n_select, max_distance=max_distance, random_state=random_state
        )


def run_round(
    platform: Platform,
    receivers: Sequence[Receiver],
    *,
    task_id: str,
    centre: Any,
    json_transport: bool = True,
) -> dict[str, int]:
    """Run a whole round in one process (tests, demos, benchmarks) and return the accepted distances.

    With ``json_transport`` every message goes through ``to_json`` / ``from_json``, as between
    separate processes. A :class:`CheatingDetected` on either side propagates.
    """

    def hop(message: Any) -> Any:
        return type(message).from_json(message.to_json()) if json_transport else message

    task = platform.open_task(task_id, centre)
    task_text = task.to_json() if json_transport else None  # broadcast: serialised once
    queries = [r.respond(TaskMessage.from_json(task_text) if task_text else task) for r in receivers]
    decryptions = [platform.handle_query(hop(q)) for q in queries]
    reveals = [receiver.finish(hop(d)) for receiver, d in zip(receivers, decryptions)]
    for reveal in reveals:
        platform.handle_reveal(hop(reveal))
    return platform.distances(task_id)
