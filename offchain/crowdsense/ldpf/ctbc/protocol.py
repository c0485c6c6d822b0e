"""One CTBC round: users commit, the platform matches, selected users reveal, openings verified.

Parties and what each sees (LDPF section 4.2, Figure 2):

1. The **edge generator** draws the epoch's rigid transform and gives it to the users and the
   platform (:mod:`crowdsense.ldpf.ctbc.transform`); it never goes on chain.
2. Each **user** transforms its own position. The **edge anonymizer**, which sees transformed
   positions but not the parameters, forms the k-anonymity groups and tells each user its
   group's centre (:mod:`crowdsense.ldpf.ctbc.grouping`). The user's UD is that centre, encoded by
   :mod:`crowdsense.ldpf.ctbc.payload`.
3. Each user seals its UD to the platform's encryption key (:mod:`crowdsense.ldpf.ctbc.sealed`)
   and commits to the *sealed* UD (Protocol 1): draws r1, r2, **stores the opening (r1, r2,
   sealed UD) and the UD in its secret store**, and only then publishes
   ``c = keccak256(r1, r2, sealed)`` and r1 on the board (:meth:`CTBCUser.commit`). A crash at
   any point leaves either nothing on the board or a commitment whose opening is stored:
   :meth:`CTBCUser.commit` is idempotent and resumes. The user uploads (c, UD, sealed UD) to
   the platform, off chain.
4. The **platform** drops uploads of groups with fewer than k members (not k-anonymous, so not
   genuine), filters by the region of interest, ranks groups by matching degree, and asks
   candidates in order to reveal (:mod:`crowdsense.ldpf.ctbc.matching`).
5. A selected user opens its commitment on the board (:meth:`CTBCUser.reveal`): the board
   shows the sealed UD, which nobody but the platform can read. The platform verifies off
   chain that the opening hashes to the commitment, that the board recorded it under that
   user's account, and that the opened blob decrypts, for that user and epoch, to the UD it
   matched on (:func:`verify_reveal`). Failures and silence exclude the user; the next
   candidate is asked.

Only the selected users' commitments are verified at selection time (N hashes, plus one per
replacement), not all n: this is what keeps verification out of the O(n) part of the cost.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from crowdsense.commitments import (
    MAX_PAYLOAD,
    BitOpening,
    CommitmentBoard,
    MemoryCommitmentBoard,
    MemorySecretStore,
    SecretStore,
    bit_commitment,
    new_bit_opening,
    valid_bit_opening,
)
from crowdsense.ldpf.ctbc._validation import RandomState, as_points, check_k, check_random_state
from crowdsense.ldpf.ctbc.errors import StaleOpeningError
from crowdsense.ldpf.ctbc.geometry import Task
from crowdsense.ldpf.ctbc.grouping import Grouping, k_anonymity_groups
from crowdsense.ldpf.ctbc.matching import Candidates, Selection, fill_selection, rank_candidates
from crowdsense.ldpf.ctbc.metrics import DriftStats, drift_degree
from crowdsense.ldpf.ctbc.payload import decode_many, decode_ud, encode_ud, from_fixed, to_fixed
from crowdsense.ldpf.ctbc.sealed import PlatformKey, UDOpener, open_ud, seal_ud
from crowdsense.ldpf.ctbc.transform import RigidTransform, draw_transform
from crowdsense.errors import CrowdsenseError, DecryptionError, InputError

__all__ = [
    "Upload",
    "Reveal",
    "CTBCUser",
    "opening_key",
    "ud_payloads",
    "platform_groups",
    "rank_uploads",
    "verify_reveal",
    "select_users",
    "RoundResult",
    "run_round",
    "Fault",
]

Fault = Literal["absent", "tamper"]


def opening_key(epoch: int, user: int | str) -> str:
    """Secret-store key of a user's opening in an epoch: ``"ctbc/bit/<epoch>/<user>"``."""
    return f"ctbc/bit/{int(epoch)}/{user}"


@dataclass(frozen=True)
class Upload:
    """What a user sends the platform, off chain: its pseudonymous index, account, UD payload,
    the UD sealed to the platform (what its commitment binds) and the commitment."""

    user: int
    sender: str
    payload: bytes
    sealed: bytes
    commitment: bytes


@dataclass(frozen=True)
class Reveal:
    """A user's opening as the platform receives it (on chain: the ``BitRevealed`` event);
    ``payload`` is the sealed UD."""

    commitment: bytes
    r2: bytes
    payload: bytes


def _opening_record(opening: BitOpening, commitment: bytes, *, epoch: int, user: object,
                    sender: str, ud: bytes) -> dict[str, object]:
    return {
        "kind": "ctbc-bit-opening",
        "version": 2,
        "epoch": int(epoch),
        "user": str(user),
        "sender": sender,
        "r1": opening.r1.hex(),
        "r2": opening.r2.hex(),
        "payload": opening.payload.hex(),
        "ud": ud.hex(),
        "commitment": commitment.hex(),
    }


def _opening_from_record(rec: Mapping[str, object]) -> tuple[BitOpening, bytes]:
    """The opening (its payload is the sealed UD) and the UD of a stored record."""
    if rec.get("version") != 2:
        raise InputError(f"CTBC opening record of version {rec.get('version')!r} (a UD published in the clear): "
                         "expected version 2 (a sealed UD); commit again in a new epoch")
    try:
        opening = BitOpening(bytes.fromhex(str(rec["r1"])), bytes.fromhex(str(rec["r2"])),
                             bytes.fromhex(str(rec["payload"])))
        ud = bytes.fromhex(str(rec["ud"]))
    except (KeyError, ValueError) as exc:
        raise InputError(f"not a CTBC opening record: {exc}") from exc
    if len(opening.r1) != 32 or len(opening.r2) != 32 or not 1 <= len(opening.payload) <= MAX_PAYLOAD:
        raise InputError("not a CTBC opening record: r1, r2 must be 32 bytes and the payload 1..1024")
    return opening, ud


class CTBCUser:
    """The user side of Protocol 1, for one user and account.

    Parameters
    ----------
    user : int or str
        The user's name in its secret store: its pseudonymous index in a simulated round, its
        account between real parties.
    sender : str
        The account that sends the commit and reveal (on chain: an address).
    board : CommitmentBoard
        Where commitments are published.
    store : SecretStore
        The user's private journal; openings are written here before anything is sent.
    """

    def __init__(self, user: int | str, *, sender: str, board: CommitmentBoard, store: SecretStore) -> None:
        self.user = user
        self.sender = sender
        self.board = board
        self.store = store

    def commit(self, *, epoch: int, payload: bytes, platform_key: bytes) -> bytes:
        """Commit to ``payload`` (the UD) sealed to ``platform_key`` for ``epoch``; return the commitment c.

        The sealed UD to upload with it is :meth:`upload`'s.

        Order: seal the UD (:func:`~crowdsense.ldpf.ctbc.sealed.seal_ud`), draw (r1, r2) with
        :mod:`secrets`, ``store.put`` the opening and the UD, then ``board.commit_bit(c, r1)``.
        Calling again after a crash reuses the stored opening and sends the commitment only if
        the board does not have it yet under this account, so the call is safe to repeat.

        Raises
        ------
        StaleOpeningError
            The store has an opening for this epoch and user but for another UD.
        """
        key = opening_key(epoch, self.user)
        rec = self.store.get(key)
        if rec is None:
            ud = bytes(payload)
            if decode_ud(ud).epoch != epoch:
                raise InputError(f"the UD payload is of epoch {decode_ud(ud).epoch}: expected epoch {epoch}")
            opening = new_bit_opening(seal_ud(platform_key, ud, committer=self.sender))
            commitment = opening.commitment
            self.store.put(key, _opening_record(opening, commitment, epoch=epoch, user=self.user,
                                                sender=self.sender, ud=ud))
        else:
            opening, ud = _opening_from_record(rec)
            if ud != bytes(payload):
                raise StaleOpeningError(key)
            commitment = opening.commitment
        self._publish(commitment, opening.r1)
        return commitment

    def upload(self, index: int, *, epoch: int) -> Upload:
        """What this user sends the platform for ``epoch`` as upload number ``index`` (after :meth:`commit`)."""
        rec = self.store.get(opening_key(epoch, self.user))
        if rec is None:
            raise InputError(f"user {self.user} has not committed in epoch {epoch}: expected commit() first")
        opening, ud = _opening_from_record(rec)
        return Upload(index, self.sender, ud, opening.payload, opening.commitment)

    def resume(self, *, epoch: int) -> bytes | None:
        """After a restart: make sure a stored opening's commitment is on the board.

        Returns the commitment, or None when nothing was stored for ``epoch`` (then nothing can
        have been sent either, because the store is written first).
        """
        rec = self.store.get(opening_key(epoch, self.user))
        if rec is None:
            return None
        opening, _ = _opening_from_record(rec)
        commitment = opening.commitment
        self._publish(commitment, opening.r1)
        return commitment

    def _publish(self, commitment: bytes, r1: bytes) -> None:
        if self.board.bit_record(self.sender, commitment) is None:
            self.board.commit_bit(commitment, r1, sender=self.sender)

    def opening(self, *, epoch: int) -> BitOpening | None:
        """The stored opening of ``epoch``, if any (its payload is the sealed UD)."""
        rec = self.store.get(opening_key(epoch, self.user))
        return None if rec is None else _opening_from_record(rec)[0]

    def reveal(self, *, epoch: int) -> Reveal | None:
        """Open this epoch's commitment on the board; None if no opening is stored.

        Board rule violations propagate as :class:`crowdsense.commitments.CommitmentError`.
        """
        opening = self.opening(epoch=epoch)
        if opening is None:
            return None
        commitment = opening.commitment
        record = self.board.bit_record(self.sender, commitment)
        if record is None or not record.revealed:
            self.board.reveal_bit(commitment, opening.r2, opening.payload, sender=self.sender)
        return Reveal(commitment, opening.r2, opening.payload)


# ------------------------------------------------------------------------------ edge side


def ud_payloads(grouping: Grouping, *, epoch: int) -> list[bytes]:
    """One canonical payload per group: the group centre in fixed point (see payload module)."""
    fixed = to_fixed(grouping.centres).tolist()
    return [encode_ud(epoch, g, x, y) for g, (x, y) in enumerate(fixed)]


# -------------------------------------------------------------------------- platform side


def platform_groups(uploads: Sequence[Upload], *, k: int, epoch: int | None = None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rebuild groups from uploads: ``(centres (G, 2), labels (n,), valid (n,) bool)``.

    Uploads are grouped by identical payload bytes (a group's members upload the same UD). A
    payload uploaded by fewer than k users is not a k-anonymous group, and a payload of another
    epoch (when ``epoch`` is given) is a replay: those uploads get ``valid = False`` and must be
    ignored; :func:`select_users` drops them.
    """
    k = check_k(k)
    payloads = [u.payload for u in uploads]
    distinct = list(dict.fromkeys(payloads))
    index = {p: i for i, p in enumerate(distinct)}
    labels = np.fromiter((index[p] for p in payloads), dtype=np.int64, count=len(payloads))
    epochs, _, fixed = decode_many(distinct)
    sizes = np.bincount(labels, minlength=len(distinct))
    valid = sizes[labels] >= k
    if epoch is not None:
        valid &= (epochs == epoch)[labels]
    return from_fixed(fixed), labels, valid


def verify_reveal(upload: Upload, reveal: Reveal | None, board: CommitmentBoard, opener: UDOpener) -> bool:
    """The platform's off-chain check of one opening.

    Accepts only if the opening is for the uploaded commitment and carries the uploaded sealed
    UD, hashes with the board's r1 to the commitment, the board records the commitment under
    the uploader's account and as revealed, and the sealed UD decrypts (``opener``: the
    platform's key), for the uploader and the UD's epoch, to the uploaded UD, which is what
    the platform matched on.
    """
    if reveal is None:
        return False
    if reveal.commitment != upload.commitment or reveal.payload != upload.sealed:
        return False
    if not valid_bit_opening(reveal.r2, reveal.payload):
        return False
    record = board.bit_record(upload.sender, upload.commitment)
    if record is None or record.r1 is None or not record.revealed:
        return False
    if bit_commitment(record.r1, bytes(reveal.r2), bytes(reveal.payload)) != upload.commitment:
        return False
    if record.payload is not None and record.payload != upload.sealed:
        return False
    try:
        epoch = decode_ud(upload.payload).epoch
        return open_ud(opener, upload.sealed, committer=upload.sender, epoch=epoch) == upload.payload
    except (DecryptionError, InputError):
        return False


def rank_uploads(uploads: Sequence[Upload], task: Task, *, k: int, epoch: int | None = None,
                 random_state: RandomState = None) -> Candidates:
    """The platform's candidate queue over ``uploads`` (indices into it): uploads of groups under
    k members or of another epoch dropped (:func:`platform_groups`), the rest ranked by
    :func:`~crowdsense.ldpf.ctbc.matching.rank_candidates`; group numbers are those of
    :func:`platform_groups` (one per distinct UD).

    Raises
    ------
    NotEnoughCandidatesError
        The region of interest holds fewer than N valid uploads.
    """
    centres, labels, valid = platform_groups(uploads, k=k, epoch=epoch)
    users = np.flatnonzero(valid)
    # Keep only k-anonymous groups, renumbered 0..G'-1, then rank their members.
    kept, labels_kept = np.unique(labels[users], return_inverse=True)
    candidates = rank_candidates(centres[kept], labels_kept.reshape(-1), task, random_state=random_state)
    degree = np.zeros(centres.shape[0])
    degree[kept] = candidates.degree
    in_region = np.zeros(centres.shape[0], dtype=bool)
    in_region[kept] = candidates.in_region
    return replace(candidates, queue=users[candidates.queue], queue_groups=kept[candidates.queue_groups],
                   group_order=kept[candidates.group_order], degree=degree, in_region=in_region)


def select_users(
    uploads: Sequence[Upload],
    task: Task,
    *,
    k: int,
    board: CommitmentBoard,
    reveal: Callable[[Upload], Reveal | None],
    opener: UDOpener,
    epoch: int | None = None,
    random_state: RandomState = None,
) -> tuple[Selection, Candidates]:
    """Match, select and verify: the platform's part of the round.

    Parameters
    ----------
    uploads : sequence of Upload
        All users' uploads; a user is identified by its index in this sequence.
    task : Task
        The task in transformed coordinates (``transform.forward_task``).
    k : int
        The anonymity level; uploads of smaller groups are ignored.
    board : CommitmentBoard
        Where the commitments are recorded.
    reveal : callable(Upload) -> Reveal or None
        Asks the user behind an upload to open its commitment; None or an exception of this
        package means the user failed.
    opener : UDOpener
        The platform's key, which opens the sealed UDs (:mod:`crowdsense.ldpf.ctbc.sealed`).
    epoch : int, optional
        The current epoch; uploads committed for another epoch are ignored.
    random_state : None, int or numpy Generator
        Random order inside groups (Case 1 picks N members at random).

    Returns
    -------
    selection, candidates
    """
    candidates = rank_uploads(uploads, task, k=k, epoch=epoch, random_state=random_state)

    def verify(user: int) -> bool:
        upload = uploads[user]
        try:
            opened = reveal(upload)
        except CrowdsenseError:
            return False
        return verify_reveal(upload, opened, board, opener)

    return fill_selection(candidates, verify), candidates


# ---------------------------------------------------------------------------- simulation


@dataclass(frozen=True)
class RoundResult:
    """Everything a simulated round produced (the simulation sees all; no party does)."""

    selection: Selection
    candidates: Candidates
    grouping: Grouping
    transformed: np.ndarray
    task: Task
    uploads: tuple[Upload, ...]
    drift: DriftStats
    epoch: int


def run_round(
    positions: object,
    task: Task,
    *,
    k: int,
    transform: RigidTransform | None = None,
    board: CommitmentBoard | None = None,
    stores: Sequence[SecretStore] | None = None,
    senders: Sequence[str] | None = None,
    platform: UDOpener | None = None,
    faults: Mapping[int, Fault] | None = None,
    random_state: RandomState = None,
) -> RoundResult:
    """Simulate one complete CTBC round for users at real ``positions`` and a real-coordinate ``task``.

    Parameters
    ----------
    positions : array-like, shape (n, 2)
        Real user positions (metres).
    task : Task
        The task in real coordinates; the platform receives it transformed.
    k : int
        Anonymity level, 2 <= k <= n.
    transform : RigidTransform, optional
        The epoch's parameters; drawn fresh with :mod:`secrets` when omitted.
    board : CommitmentBoard, optional
        Defaults to a fresh :class:`MemoryCommitmentBoard`.
    stores : sequence of SecretStore, optional
        One per user; fresh :class:`MemorySecretStore` objects when omitted.
    senders : sequence of str, optional
        One account per user; ``"user-<i>"`` when omitted.
    platform : UDOpener, optional
        The platform's encryption key; a fresh :class:`~crowdsense.ldpf.ctbc.sealed.PlatformKey`
        when omitted.
    faults : mapping user -> "absent" | "tamper", optional
        Users that do not answer when asked to reveal, or reveal a different UD.
    random_state : None, int or numpy Generator
        Seeds the platform's random picks.
    """
    p = as_points(positions, "positions")
    n = p.shape[0]
    k = check_k(k, n)
    if not isinstance(task, Task):
        raise InputError(f"task must be a Task, got {type(task).__name__}")
    rng = check_random_state(random_state)
    transform = draw_transform() if transform is None else transform
    board = MemoryCommitmentBoard() if board is None else board
    platform = PlatformKey.generate() if platform is None else platform
    stores = [MemorySecretStore() for _ in range(n)] if stores is None else list(stores)
    senders = [f"user-{i}" for i in range(n)] if senders is None else list(senders)
    if len(stores) != n or len(senders) != n:
        raise InputError(f"need one store and one sender per user ({n}), "
                         f"got {len(stores)} and {len(senders)}")
    faults = dict(faults or {})
    bad = {v for v in faults.values()} - {"absent", "tamper"}
    if bad:
        raise InputError(f"faults must be 'absent' or 'tamper', got {sorted(bad)}")
    epoch = transform.epoch

    transformed = transform.forward(p)
    grouping = k_anonymity_groups(transformed, k=k)
    payloads = ud_payloads(grouping, epoch=epoch)
    users = [CTBCUser(i, sender=senders[i], board=board, store=stores[i]) for i in range(n)]
    for i, g in enumerate(grouping.labels.tolist()):
        users[i].commit(epoch=epoch, payload=payloads[g], platform_key=platform.encryption_key)
    uploads = tuple(user.upload(i, epoch=epoch) for i, user in enumerate(users))
    task_t = transform.forward_task(task)

    def reveal(upload: Upload) -> Reveal | None:
        fault = faults.get(upload.user)
        if fault == "absent":
            return None
        user = users[upload.user]
        if fault == "tamper":
            opening = user.opening(epoch=epoch)
            assert opening is not None
            forged = bytearray(opening.payload)
            forged[-1] ^= 1  # change the sealed UD: the board refuses the opening
            user.board.reveal_bit(opening.commitment, opening.r2, bytes(forged), sender=user.sender)
            return Reveal(opening.commitment, opening.r2, bytes(forged))
        return user.reveal(epoch=epoch)

    selection, candidates = select_users(uploads, task_t, k=k, board=board, reveal=reveal, opener=platform,
                                         epoch=epoch, random_state=rng)
    matched = from_fixed(np.array([(r.x, r.y) for r in (decode_ud(uploads[u].payload)
                                                         for u in selection.users.tolist())],
                                  dtype=np.int64).reshape(-1, 2))
    drift = drift_degree(transformed[selection.users], matched)
    return RoundResult(selection, candidates, grouping, transformed, task_t, uploads, drift, epoch)
