"""Comparison points for PDC: the straightforward implementation and the Encode-1-only variant.

**Straightforward** (:func:`straightforward_round`) follows the paper's operation count with
``phe`` objects throughout: for every receiver the task encodings are encrypted afresh, 4n
encryptions (Encode 1 and Encode 2 of both axes, ``public_key.encrypt``), the receiver forms
``sum_i E2(C)_i * E1(D)_i + E1(C)_i * E2(D)_i`` with ``EncryptedNumber * int`` and ``+``, adds
``public_key.encrypt(r)``, and the platform decrypts with ``private_key.decrypt``. The blinding
commitment, the board, the secret store and JSON messages are the same as in PDC, so the
comparison isolates the cryptographic work. It has no decryption proof (the paper's protocol
has none): a wrong s is caught only when ``s - r`` falls out of range.

**Encode 1 only** (LDPF Figs. 10-13, "Manhattan distance only calculated by Encode 1, which
cannot prevent users from cheating"): the distance is the Hamming distance between the two
Encode-1 vectors (equal to Proposition 2's sum, since ``E2 = 1 - E1``), computed with the same
fast engine as PDC; the receiver sends ``Enc(dist)`` and the platform decrypts it directly.
No blinding, no commitment, no proof: the receiver does not learn its distance, and nothing
stops a receiver from sending the encryption of any number it likes. Measured against PDC it
shows what the cheating prevention costs.
"""

from __future__ import annotations

import json
import secrets
from typing import Any, Callable, Mapping

from phe import paillier

from crowdsense.commitments import (
    CommitmentBoard,
    MemoryCommitmentBoard,
    MemorySecretStore,
    SecretStore,
    new_blinding_opening,
)
from crowdsense.ldpf.pdc.encoding import Grid, encode_point
from crowdsense.ldpf.pdc.errors import CheatingDetected, MessageError, ProtocolStateError
from crowdsense.ldpf.pdc.fastpaillier import PrivateEngine, PublicEngine
from crowdsense.ldpf.pdc.keys import check_key_pair
from crowdsense.ldpf.pdc.messages import EncryptedDistanceMessage, TaskMessage
from crowdsense.ldpf.pdc.protocol import DEFAULT_R_BITS, check_r_bits, encrypt_task, encrypted_distance

__all__ = [
    "straightforward_round",
    "Encode1OnlyPlatform",
    "encode1_only_query",
    "encode1_only_round",
]


def _dump(values: list[paillier.EncryptedNumber]) -> list[dict[str, Any]]:
    return [{"ciphertext": str(v.ciphertext()), "exponent": v.exponent} for v in values]


def _load(pk: paillier.PaillierPublicKey, items: list[dict[str, Any]]) -> list[paillier.EncryptedNumber]:
    return [paillier.EncryptedNumber(pk, int(item["ciphertext"]), int(item["exponent"])) for item in items]


def straightforward_round(
    private_key: paillier.PaillierPrivateKey,
    grid: Grid,
    centre: Any,
    locations: Mapping[str, Any],
    *,
    r_bits: int = DEFAULT_R_BITS,
    board: CommitmentBoard | None = None,
    store_factory: Callable[[], SecretStore] = MemorySecretStore,
    allow_insecure: bool = False,
    on_receiver_done: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Protocol 2 the straightforward way, for every receiver in turn; returns accepted distances.

    Parameters
    ----------
    private_key : phe.paillier.PaillierPrivateKey
    grid : Grid
    centre : (int, int)
        Task centre C.
    locations : mapping of str to (int, int)
        Receiver account -> grid point D.
    r_bits : int, default 64
    board : CommitmentBoard, optional
        A board to act on (``as_account`` is used for receivers when available); default: a
        fresh :class:`MemoryCommitmentBoard`.
    store_factory : callable
        Makes each receiver's secret store.
    on_receiver_done : callable, optional
        Called with the number of receivers done after each one (benchmark checkpoints).
    """
    public_key = private_key.public_key
    check_key_pair(public_key, private_key, allow_insecure=allow_insecure)
    r_bits = check_r_bits(r_bits)
    centre = grid.check_point(centre, name="task centre")
    points = {name: grid.check_point(p, name=f"location of {name}") for name, p in locations.items()}
    board = board if board is not None else MemoryCommitmentBoard("platform")
    c1 = [int(b) for b in encode_point(centre, grid, scheme=1)]
    c2 = [int(b) for b in encode_point(centre, grid, scheme=2)]
    accepted: dict[str, int] = {}

    for done, (name, point) in enumerate(points.items(), start=1):
        # Platform: 4n fresh encryptions for this receiver's protocol instance.
        task_json = json.dumps(
            {
                "n": str(public_key.n),
                "e1": _dump([public_key.encrypt(b) for b in c1]),
                "e2": _dump([public_key.encrypt(b) for b in c2]),
            }
        )
        # Receiver: dot products with EncryptedNumber * int, blinding, commitment.
        msg = json.loads(task_json)
        pk = paillier.PaillierPublicKey(int(msg["n"]))
        enc1, enc2 = _load(pk, msg["e1"]), _load(pk, msg["e2"])
        d1 = [int(b) for b in encode_point(point, grid, scheme=1)]
        d2 = [int(b) for b in encode_point(point, grid, scheme=2)]
        total = sum(enc2[i] * d1[i] + enc1[i] * d2[i] for i in range(len(d1)))
        r = secrets.randbits(r_bits)
        z = total + pk.encrypt(r)
        opening = new_blinding_opening(r)
        store = store_factory()
        store.put(
            "straightforward",
            {"r": str(r), "salt": opening.salt.hex(), "commitment": opening.commitment.hex()},
        )
        receiver_board = board.as_account(name) if hasattr(board, "as_account") else board
        receiver_board.commit_blinding(opening.commitment)
        query_json = json.dumps(
            {"z": _dump([z])[0], "commitment": opening.commitment.hex(), "receiver": name}
        )
        # Platform: commitment must be on the board, then decrypt.
        query = json.loads(query_json)
        commitment = bytes.fromhex(query["commitment"])
        if board.blinding_record(query["receiver"], commitment) is None:
            raise ProtocolStateError(f"commitment of {name!r} is not on the board")
        s = private_key.decrypt(_load(public_key, [query["z"]])[0])
        decryption_json = json.dumps({"s": str(s)})
        # Receiver: dist = s - r, range check, reveal.
        s_received = int(json.loads(decryption_json)["s"])
        dist = s_received - r
        if not 0 <= dist <= grid.max_distance:
            raise CheatingDetected("platform", f"s - r = {dist} outside [0, {grid.max_distance}]")
        receiver_board.reveal_blinding(opening.commitment, r, opening.salt)
        reveal_json = json.dumps({"r": str(r), "salt": opening.salt.hex()})
        # Platform: check the opening, accept.
        reveal = json.loads(reveal_json)
        if not board.check_blinding(query["receiver"], commitment, int(reveal["r"]), bytes.fromhex(reveal["salt"])):
            raise CheatingDetected("receiver", "opening does not match the commitment")
        accepted[name] = s - int(reveal["r"])
        if on_receiver_done is not None:
            on_receiver_done(done)
    return accepted


class Encode1OnlyPlatform:
    """Platform of the Encode-1-only variant: same task message as PDC, decrypts ``Enc(dist)`` directly.

    Parameters
    ----------
    private_key : phe.paillier.PaillierPrivateKey
    grid : Grid
    allow_insecure : bool, default False
    fixed_base : bool, optional
    """

    def __init__(
        self,
        private_key: paillier.PaillierPrivateKey,
        grid: Grid,
        *,
        allow_insecure: bool = False,
        fixed_base: bool | None = None,
    ) -> None:
        check_key_pair(private_key.public_key, private_key, allow_insecure=allow_insecure)
        self.grid = grid
        self.engine = PrivateEngine(private_key, fixed_base=fixed_base)
        self._tasks: dict[str, TaskMessage] = {}
        self._distances: dict[str, dict[str, int]] = {}

    def open_task(self, task_id: str, centre: Any) -> TaskMessage:
        if task_id in self._tasks:
            raise ProtocolStateError(f"task {task_id!r} is already open")
        message = encrypt_task(self.engine, task_id, self.grid, centre)
        self._tasks[task_id], self._distances[task_id] = message, {}
        return message

    def handle(self, message: EncryptedDistanceMessage) -> int:
        """Decrypt a receiver's ``Enc(dist)``; only a range check guards it."""
        if not isinstance(message, EncryptedDistanceMessage):
            raise MessageError(f"expected an EncryptedDistanceMessage, got {type(message).__name__}")
        task = self._tasks.get(message.task_id)
        if task is None:
            raise ProtocolStateError(f"unknown task {message.task_id!r}")
        if message.task_digest != task.digest:
            raise MessageError("message was computed on another version of the task")
        if message.receiver in self._distances[message.task_id]:
            raise ProtocolStateError(f"receiver {message.receiver!r} already answered")
        if not self.engine.is_ciphertext(message.z):
            raise MessageError("z is not a ciphertext under the platform's key")
        dist = self.engine.decrypt(message.z)
        if not 0 <= dist <= self.grid.max_distance:
            raise CheatingDetected(
                "receiver", f"decrypted distance {dist} outside [0, {self.grid.max_distance}]"
            )
        self._distances[message.task_id][message.receiver] = dist
        return dist

    def distances(self, task_id: str) -> dict[str, int]:
        return dict(self._distances[task_id])


def encode1_only_query(
    task: TaskMessage, location: Any, *, receiver: str, engine: PublicEngine | None = None
) -> EncryptedDistanceMessage:
    """Receiver side of the variant: ``Enc(Hamming(E1(D), E1(C)))``, re-randomised."""
    engine = engine if engine is not None else PublicEngine(task.public_key_n)
    z = encrypted_distance(engine, task, task.grid.check_point(location, name="location"), offset=0)
    return EncryptedDistanceMessage(
        task_id=task.task_id, task_digest=task.digest, receiver=receiver, z=int(z)
    )


def encode1_only_round(
    platform: Encode1OnlyPlatform,
    locations: Mapping[str, Any],
    *,
    task_id: str,
    centre: Any,
) -> dict[str, int]:
    """Run the variant for every receiver, messages through JSON; returns the decrypted distances."""
    task_json = platform.open_task(task_id, centre).to_json()
    engines: dict[int, PublicEngine] = {}
    queries = []
    for name, point in locations.items():
        task = TaskMessage.from_json(task_json)
        engine = engines.setdefault(task.public_key_n, PublicEngine(task.public_key_n))
        queries.append(encode1_only_query(task, point, receiver=name, engine=engine).to_json())
    for text in queries:
        platform.handle(EncryptedDistanceMessage.from_json(text))
    return platform.distances(task_id)
