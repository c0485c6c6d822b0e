"""Protocol 2 of LDPF (PDC): the platform learns each receiver's Manhattan distance, nothing else.

Roles: the **platform** (sensing platform C, owner of the Paillier key, knows the task centre)
and each **receiver** (user D, knows its own grid position). Steps, with the message types of
:mod:`crowdsense.ldpf.pdc.messages`:

1. *Task, once per task.* The platform encrypts Encode 1 of the centre, ``Enc(E1(C)_i)`` for the
   ``width + height`` bits, and sends the same :class:`TaskMessage` to every receiver.
2. *Query.* The receiver computes ``Z = Enc(dist + r)`` homomorphically (see below) together
   with a proof that Z was formed from the task ciphertexts and one grid point
   (:mod:`crowdsense.ldpf.pdc.proofs`): it sends the masked axis ciphertexts ``W_x``, ``W_y``
   with ``Z = W_x W_y``, and ``r = u + v`` is the sum of their masks. It stores ``r`` and the
   commitment opening in its :class:`~crowdsense.commitments.SecretStore`, *then* records
   ``c = keccak256(abi.encode(r, salt))`` on the :class:`~crowdsense.commitments.CommitmentBoard`,
   and sends ``(c, Z, proof)``. If the receiver has an answer budget
   (:mod:`crowdsense.ldpf.pdc.budget`), it is charged first.
3. *Decryption.* The platform verifies the proof (batched, with its key), checks that c is on
   the board, recorded by that receiver and not yet opened (so r was fixed before anything was
   decrypted), decrypts ``s = dist + r`` and returns s together with the unique ``rho`` such
   that ``Z = (1 + s n) rho^n mod n^2``.
4. *Reveal.* The receiver verifies that equation, derives ``dist = s - r``, checks
   ``0 <= dist <= max_distance``, opens c on the board and sends ``(r, salt, tau)``.
5. *Acceptance.* The platform checks the opening against the board, that ``U + V = r G + tau H``
   (the masks' Pedersen commitments of the proof: the constant term of Z is this r), and
   ``0 <= s - r <= max_distance``, and accepts ``dist = s - r``.

The homomorphic distance (step 2). With ``a = E1(D)`` and ``b = E1(C)``, Proposition 2 gives
``dist = E1(D).E2(C) + E2(D).E1(C) = sum_i a_i (1 - b_i) + (1 - a_i) b_i
= |A| - sum_{i in A} b_i + sum_{i not in A} b_i`` where ``A = {i : a_i = 1}``. Since the
receiver's bits are 0/1, there is no scalar multiplication at all::

    Z = (1 + (|A| + r) n) * prod_{i not in A} c_i * (prod_{i in A} c_i)^(-1) * h  mod n^2

(:func:`encrypted_distance`, the published protocol). With proofs the same product is taken
per axis: ``W_x = T_x(x) (1 + u n) sigma_x^n`` where ``T_x(p)`` is that product over the x
axis for position p (:func:`crowdsense.ldpf.pdc.proofs.distance_table`), and the same for y.
Encode 2 never travels: it is the complement of Encode 1 and enters through ``|A|`` and the
inverse.

Security argument (location privacy against the key owner, cheats of either side):

* *Receiver's location.* Every ciphertext the receiver sends is re-randomised with a fresh
  uniform n-th residue. Even the key owner learns only the plaintexts: ``dx + u`` for W_x,
  ``dy + v`` for W_y, ``dist + r`` for Z. Each is masked by a uniform value of
  ``r_bits - 1`` bits, so it leaks at most ``max_distance / 2**(r_bits - 1)`` before the reveal.
  After the reveal the platform knows r and so dist, which is the purpose of the protocol. It
  does not learn u: the Pedersen commitments are perfectly hiding, and the proofs are
  statistically zero-knowledge even for the key owner (see :mod:`crowdsense.ldpf.pdc.proofs`).
* *Task centre.* The receiver sees Paillier ciphertexts (semantically secure under DCR), then
  ``s`` and ``rho`` for its own Z. The platform decrypts only a Z proven to be
  ``Enc(dist(P, C) + r)`` for a grid point P and an r the receiver knows, so the decryption
  tells the receiver ``dist(P, C)`` and nothing else. Without the proof it would be a
  decryption oracle: ``Z = Enc(r) prod c_i^(2^i)`` would spell out the centre.
* *Caught: a receiver forming Z any other way* (for example ``Z = Enc(r)``, distance 0): the
  proof fails and Z is never decrypted (:class:`CheatingDetected`, party ``"receiver"``).
* *Caught: a receiver lying about r.* c is on the board before the platform decrypts, and
  the keccak commitment is binding, so any ``r' != r`` fails ``check_blinding``; the Pedersen
  opening ``U + V = r G + tau H`` ties the same r to Z's constant term. The 32-byte salt keeps
  a short r from being found by trying every value against the public c.
* *Caught with certainty: a platform returning a wrong s.* For a valid key, Paillier
  encryption is a bijection ``Z_n x Z_n^* -> Z_{n^2}^*``, so no ``(s', rho')`` with ``s' != s``
  satisfies ``Z = (1 + s' n) rho'^n`` (:class:`CheatingDetected`, party ``"platform"``). The
  receiver then does not reveal r, so the platform never learns dist either.

Not detectable here (documented limits): a receiver computing Z for a grid point where it is not
(the proof shows Z is honest for *some* point it chose; where the receiver really is needs
location attestation); a platform encrypting something other than a valid Encode 1 (the receiver
notices only when its distance falls outside the range; the task digest lets receivers compare
that they all got the same ciphertexts); a platform choosing task centres to locate a receiver
from several answers (limited by the receiver's answer budget). The key is trusted to be a valid
Paillier key (the edge layer issues it in the paper's "Preparation" step).

References
----------
LDPF section 4.3, Protocol 2 and Proposition 2; docs/design.md, section 7; docs/pdc.md.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, Sequence

import gmpy2
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
from crowdsense.ldpf.pdc.encoding import Grid, Point, encode_point
from crowdsense.ldpf.pdc.errors import (
    BlindingBitsError,
    CheatingDetected,
    GridError,
    KeyLengthError,
    MessageError,
    ProtocolStateError,
)
from crowdsense.ldpf.pdc.fastpaillier import PrivateEngine, PublicEngine
from crowdsense.ldpf.pdc.keys import check_key_bits, check_key_pair
from crowdsense.ldpf.pdc.messages import DecryptionMessage, QueryMessage, RevealMessage, TaskMessage
from crowdsense.ldpf.pdc.proofs import (
    MAX_MASK_BITS,
    QueryPrecomputation,
    QueryProof,
    open_masks,
    precompute_query,
    proof_context,
    prove_query,
    task_tables,
    verify_query_batched,
)
from crowdsense.ldpf.pdc.selection import Selected, select_nearest

__all__ = [
    "MIN_R_BITS",
    "MAX_R_BITS",
    "PROOF_MAX_R_BITS",
    "DEFAULT_R_BITS",
    "check_r_bits",
    "encrypt_task",
    "encrypted_distance",
    "Platform",
    "Receiver",
    "run_round",
]

#: Fewest random bits of the blinding r. Below 16 bits ``s = dist + r`` would reveal most of
#: dist to the platform before the reveal (statistical distance up to max_distance / 2**r_bits).
MIN_R_BITS = 16
#: Most bits: r must fit the contract's ``uint256``.
MAX_R_BITS = 256
#: Default: 64 bits keep the pre-reveal leak below 2**-48 on any grid up to 10^4 x 10^4.
DEFAULT_R_BITS = 64
#: Most bits with well-formedness proofs: r = u + v with masks below 2**(r_bits - 1), and the
#: masks must stay far below the order of the Pedersen group (see crowdsense.ldpf.pdc.proofs).
PROOF_MAX_R_BITS = MAX_MASK_BITS + 1


def check_r_bits(r_bits: Any) -> int:
    """Return ``r_bits`` after checking ``MIN_R_BITS <= r_bits <= MAX_R_BITS``."""
    if isinstance(r_bits, bool) or not isinstance(r_bits, int):
        raise BlindingBitsError(f"r_bits must be an int, got {r_bits!r}")
    if not MIN_R_BITS <= r_bits <= MAX_R_BITS:
        raise BlindingBitsError(f"r_bits must be in [{MIN_R_BITS}, {MAX_R_BITS}], got {r_bits}")
    return r_bits


def _check_room(key_bits: int, r_bits: int, grid: Grid) -> None:
    """``dist + r < 2**r_bits + max_distance`` must stay below n, with a bit to spare."""
    need = max(r_bits, grid.max_distance.bit_length()) + 2
    if key_bits < need:
        raise KeyLengthError(
            f"a {key_bits}-bit key cannot hold dist + r with r_bits={r_bits}; need >= {need} bits"
        )


def _product(values: Sequence[mpz], modulus: mpz) -> mpz:
    acc = mpz(1)
    for v in values:
        acc = acc * v % modulus
    return acc


def encrypt_task(engine: PublicEngine, task_id: str, grid: Grid, centre: Any) -> TaskMessage:
    """Step 1: ``Enc(E1(C)_i)`` for every bit of the centre's Encode 1 (uses the engine's pool).

    Raises
    ------
    GridError
        If ``centre`` is not an integer point of ``grid``.
    """
    bits = encode_point(centre, grid, scheme=1)
    one, n2 = 1 + engine.n, engine.nsquare  # Enc(1) = (1 + n) h, Enc(0) = h
    ciphertexts = tuple(int(one * engine.obfuscator() % n2) if b else int(engine.obfuscator()) for b in bits)
    return TaskMessage(task_id=task_id, grid=grid, public_key_n=int(engine.n), ciphertexts=ciphertexts)


def encrypted_distance(engine: PublicEngine, task: TaskMessage, location: Point, *, offset: int = 0) -> mpz:
    """Step 2's homomorphic core: a fresh ``Enc(dist(location, C) + offset)`` from the task ciphertexts.

    Parameters
    ----------
    engine : PublicEngine
        Engine for the task's key (its obfuscator pool is used for the re-randomisation).
    task : TaskMessage
    location : (int, int)
        The receiver's grid point (already checked against ``task.grid``).
    offset : int
        Plaintext added to the distance (the blinding r; 0 in the Encode-1-only variant).

    Raises
    ------
    MessageError
        If a task ciphertext is not invertible modulo n^2 (not a Paillier ciphertext).
    """
    if engine.n != task.public_key_n:
        raise MessageError("engine and task message use different public keys")
    x, y = task.grid.check_point(location, name="location")
    width, height = task.grid.shape
    cts = [mpz(c) for c in task.ciphertexts]
    xs, ys = cts[:width], cts[width:]
    n, n2 = engine.n, engine.nsquare
    # A = {i : E1(D)_i = 1} = indices >= x on the x axis and >= y on the y axis.
    in_a = _product(xs[x:], n2) * _product(ys[y:], n2) % n2
    not_a = _product(xs[:x], n2) * _product(ys[:y], n2) % n2
    if gmpy2.gcd(in_a * not_a, n) != 1:
        raise MessageError(
            "task ciphertexts are not all invertible modulo n^2 (not valid Paillier ciphertexts)"
        )
    size_a = (width - x) + (height - y)
    z = not_a * gmpy2.invert(in_a, n2) % n2
    return z * (1 + (size_a + offset) % n * n) % n2 * engine.obfuscator() % n2


# ------------------------------------------------------------------------------------ receiver


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

    def _reveal(self, entry: dict[str, Any], opening: BlindingOpening) -> RevealMessage:
        return RevealMessage(
            task_id=entry["task_id"],
            receiver=entry["receiver"],
            commitment=bytes.fromhex(entry["commitment"][2:]),
            r=opening.r,
            salt=opening.salt,
            mask_opening=None if entry.get("tau") is None else int(entry["tau"]),
        )


# ------------------------------------------------------------------------------------ platform


@dataclass
class _Pending:
    commitment: bytes
    s: int
    masks: tuple[bytes, bytes] | None = None  # Pedersen commitments U, V of a proven query


@dataclass
class _Task:
    message: TaskMessage
    centre: Point
    tables: tuple[list[Any], list[Any]] | None = None  # T_x, T_y (made on the first proof)
    pending: dict[str, _Pending] = field(default_factory=dict)
    accepted: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)


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
        self._tasks: dict[str, _Task] = {}
        self._commitments: set[bytes] = set()  # every commitment ever answered, across tasks

    @property
    def public_key(self) -> paillier.PaillierPublicKey:
        return self.engine.public_key

    def precompute(self, count: int) -> None:
        """Precompute ``count`` obfuscators (offline); each task uses ``grid.code_length``."""
        self.engine.precompute(count)

    def _task(self, task_id: str) -> _Task:
        task = self._tasks.get(task_id)
        if task is None:
            raise ProtocolStateError(f"unknown task {task_id!r}")
        return task

    def open_task(self, task_id: str, centre: Any) -> TaskMessage:
        """Step 1: encrypt the centre's Encode 1 once; the returned message goes to every receiver."""
        if task_id in self._tasks:
            raise ProtocolStateError(f"task {task_id!r} is already open")
        message = encrypt_task(self.engine, task_id, self.grid, centre)
        self._tasks[task_id] = _Task(message, self.grid.check_point(centre, name="task centre"))
        return message

    def task_message(self, task_id: str) -> TaskMessage:
        """The task message of ``task_id`` (the same ciphertexts for every receiver)."""
        return self._task(task_id).message

    def handle_query(self, query: QueryMessage) -> DecryptionMessage:
        """Step 3: check the commitment is on the board, decrypt Z and prove the decryption.

        Raises
        ------
        MessageError
            Wrong task digest or a Z that is not a ciphertext under the platform's key.
        ProtocolStateError
            Unknown task, a second query by the same receiver, or a commitment that is missing
            from the board, recorded by someone else or already opened.
        """
        if not isinstance(query, QueryMessage):
            raise MessageError(f"expected a QueryMessage, got {type(query).__name__}")
        task = self._task(query.task_id)
        if query.task_digest != task.message.digest:
            raise MessageError(
                f"query of {query.receiver!r} was computed on another version of task {query.task_id!r}"
            )
        if any(query.receiver in seen for seen in (task.pending, task.accepted, task.rejected)):
            raise ProtocolStateError(
                f"receiver {query.receiver!r} already queried task {query.task_id!r}; "
                "one decryption per receiver and task"
            )
        if query.commitment in self._commitments:
            raise ProtocolStateError("commitment already used by another query (one commitment per query)")
        if not self.engine.is_ciphertext(query.z):
            raise MessageError("z is not a ciphertext under the platform's key (outside Z*_{n^2})")
        masks = self._check_proof(task, query) if self.require_proofs else None
        record = self.board.blinding_record(query.receiver, query.commitment)
        if record is None:
            raise ProtocolStateError(
                f"commitment 0x{query.commitment.hex()} is not on the board under {query.receiver!r}: "
                "receivers must commit before decryption"
            )
        if record.revealed:
            raise ProtocolStateError("commitment was opened before decryption")
        s, rho = self.engine.decrypt_with_proof(query.z)
        task.pending[query.receiver] = _Pending(query.commitment, s, masks)
        self._commitments.add(query.commitment)
        return DecryptionMessage(
            task_id=query.task_id,
            receiver=query.receiver,
            commitment=query.commitment,
            plaintext=s,
            randomness=rho,
        )

    def _check_proof(self, task: _Task, query: QueryMessage) -> tuple[bytes, bytes]:
        """Verify that Z was formed from the task ciphertexts and one grid point, before decrypting.

        A failure rejects the receiver for the task (:class:`CheatingDetected`); nothing is
        decrypted. Returns the Pedersen commitments of the masks, opened at the reveal.
        """
        def reject(reason: str) -> CheatingDetected:
            reason = f"{reason}; Z is not decrypted"
            task.rejected[query.receiver] = reason
            return CheatingDetected("receiver", reason)

        proof = query.proof
        if proof is None:
            raise reject("the query carries no proof that Z was formed from the task ciphertexts")
        n2 = self.engine.nsquare
        if mpz(proof.x.w) * proof.y.w % n2 != query.z:
            raise reject("Z is not the product of the proven axis ciphertexts W_x W_y")
        if task.tables is None:
            task.tables = task_tables(self.engine.n, task.message.ciphertexts, self.grid.width)
        cx, cy = task.centre
        distances = ([abs(p - cx) for p in range(self.grid.width)], [abs(p - cy) for p in range(self.grid.height)])
        reason = verify_query_batched(
            self.engine.private_key, proof, task.tables, distances,  # type: ignore[arg-type]
            proof_context(task.message.digest, query.receiver, query.commitment),
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
        task = self._task(reveal.task_id)
        pending = task.pending.get(reveal.receiver)
        if pending is None:
            done = [name for name, seen in (("accepted", task.accepted), ("rejected", task.rejected))
                    if reveal.receiver in seen]
            raise ProtocolStateError(
                f"no pending query of {reveal.receiver!r} for task {reveal.task_id!r}"
                + (f" (already {done[0]})" if done else "")
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
        del task.pending[reveal.receiver]
        if not 0 <= dist <= self.grid.max_distance:
            reason = (
                f"s - r = {dist} is outside [0, {self.grid.max_distance}]: "
                "Z was not formed from a valid encoding"
            )
            task.rejected[reveal.receiver] = reason
            raise CheatingDetected("receiver", reason)
        task.accepted[reveal.receiver] = dist
        return dist

    def distances(self, task_id: str) -> dict[str, int]:
        """Accepted distances of ``task_id`` by receiver."""
        return dict(self._task(task_id).accepted)

    def rejected(self, task_id: str) -> dict[str, str]:
        """Receivers rejected for ``task_id``, with the reason."""
        return dict(self._task(task_id).rejected)

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
