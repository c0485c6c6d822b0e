"""The parties' clients of the edge, the anonymizer and the CTBC platform, and a user's three steps.

A user takes part in CTBC from its own machine, with its own key, location and journal:

1. :func:`join_epoch`: fetch the epoch's transform from the edge (a registered account only),
   project its own latitude and longitude to metres about the epoch's origin, transform them,
   and send *only the transformed position* to the anonymizer. The location never leaves the
   machine; the transform never reaches the anonymizer.
2. :func:`commit_epoch`: fetch its group's centre (the UD) from the anonymizer, seal it to the
   platform's key, commit on chain (the opening journaled first:
   :class:`~crowdsense.ldpf.ctbc.protocol.CTBCUser`) and upload (commitment, UD, sealed UD).
3. :func:`reveal_task`: ask the platform whether it is asked to reveal for a task; if so, open
   the commitment on chain and send the opening; the platform verifies it and selects the user
   or excludes it.

Each step can be run again after an interruption: the journal keeps the opening, the chain
refuses nothing twice, and the services answer a repeated request as the first time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import numpy as np

from crowdsense.errors import InputError
from crowdsense.ldpf.ctbc.geometry import Region, Task, task_to_json
from crowdsense.ldpf.ctbc.payload import decode_ud
from crowdsense.ldpf.ctbc.protocol import CTBCUser
from crowdsense.ldpf.ctbc.transform import RigidTransform
from crowdsense.services.client import ServiceClient, ServiceIntegrityError

__all__ = ["EdgeClient", "AnonymizerClient", "CtbcClient", "EpochParameters", "join_epoch", "commit_epoch",
           "reveal_task", "local_task"]


@dataclass(frozen=True)
class EpochParameters:
    """An epoch as a registered party receives it: its public origin and its secret transform."""

    epoch: int
    origin: tuple[float, float]
    transform: RigidTransform  # its repr hides the parameters

    def to_local(self, location: Any, what: str = "location") -> np.ndarray:
        """``"LAT,LON"`` as (x east, y north) metres about the epoch's origin."""
        from crowdsense.ldpf.city import project_lonlat
        from crowdsense.ldpf.pdc.region import parse_latlon

        lat, lon = parse_latlon(location, what)
        return project_lonlat(np.array([[lat, lon]]), origin=self.origin)[0]


class EdgeClient(ServiceClient):
    """The edge's parameter generator: epochs and registrations."""

    def open_epoch(self, origin: tuple[float, float], epoch: int | None = None) -> dict[str, Any]:
        doc: dict[str, Any] = {"origin": list(origin)}
        if epoch is not None:
            doc["epoch"] = epoch
        # "the next epoch" twice would open two: only a numbered epoch is retried (a repeat is refused)
        return dict(self._json("POST", "/v1/edge/epochs", doc, signed=True, idempotent=epoch is not None))

    def register(self, accounts: list[str]) -> dict[str, Any]:
        return dict(self._json("POST", "/v1/edge/parties", {"accounts": accounts}, signed=True))

    def epoch(self, epoch: int) -> EpochParameters:
        doc = self._json("GET", f"/v1/edge/epochs/{int(epoch)}", signed=True)
        try:
            params = EpochParameters(int(doc["epoch"]), (float(doc["origin"][0]), float(doc["origin"][1])),
                                     RigidTransform.from_dict(doc["transform"]))
        except (KeyError, TypeError, ValueError, InputError):
            raise ServiceIntegrityError(f"edge at {self.base_url} answered epoch {epoch} with something else than "
                                        "an epoch: expected origin and transform") from None
        if params.epoch != epoch or params.transform.epoch != epoch:
            raise ServiceIntegrityError(f"edge at {self.base_url} answered epoch {params.epoch} for {epoch}: "
                                        "expected the epoch asked for")
        return params


class AnonymizerClient(ServiceClient):
    """The edge anonymizer: positions in, UDs out."""

    def send_position(self, epoch: int, point: Any) -> dict[str, Any]:
        x, y = (float(v) for v in point)
        return dict(self._json("POST", f"/v1/anonymizer/epochs/{int(epoch)}/positions", {"x": x, "y": y},
                               signed=True))

    def group(self, epoch: int, k: int) -> dict[str, Any]:
        return dict(self._json("POST", f"/v1/anonymizer/epochs/{int(epoch)}/groups", {"k": k}, signed=True))

    def ud(self, epoch: int) -> bytes:
        doc = self._json("GET", f"/v1/anonymizer/epochs/{int(epoch)}/ud", signed=True)
        try:
            payload = bytes.fromhex(str(doc["ud"]).removeprefix("0x"))
            if decode_ud(payload).epoch != epoch:
                raise ValueError
        except (KeyError, ValueError, InputError):
            raise ServiceIntegrityError(f"anonymizer at {self.base_url} answered no UD of epoch {epoch}: expected "
                                        "the UD payload of this epoch") from None
        return payload


def _task_path(task_id: str) -> str:
    return f"/v1/ctbc/tasks/{quote(task_id, safe='')}"


class CtbcClient(ServiceClient):
    """The CTBC platform: its key, uploads, tasks, reveals and selections."""

    def encryption_key(self) -> bytes:
        doc = self._json("GET", "/v1/ctbc/key")
        try:
            key = bytes.fromhex(str(doc["encryptionKey"]).removeprefix("0x"))
        except (KeyError, ValueError):
            key = b""
        if len(key) != 32:
            raise ServiceIntegrityError(f"platform at {self.base_url} answered no encryption key: expected 32 bytes")
        return key

    def upload(self, epoch: int, commitment: bytes, payload: bytes, sealed: bytes) -> dict[str, Any]:
        doc = {"commitment": "0x" + commitment.hex(), "payload": "0x" + payload.hex(), "sealed": "0x" + sealed.hex()}
        return dict(self._json("POST", f"/v1/ctbc/epochs/{int(epoch)}/uploads", doc, signed=True))

    def open_task(self, task_id: str, *, epoch: int, k: int, task: Task) -> dict[str, Any]:
        """Open a task (the operator): ``task`` in the epoch's transformed coordinates."""
        return dict(self._json("POST", "/v1/ctbc/tasks", {"taskId": task_id, "epoch": epoch, "k": k,
                                                          "task": task_to_json(task)}, signed=True))

    def me(self, task_id: str) -> dict[str, Any]:
        return dict(self._json("GET", _task_path(task_id) + "/me", signed=True))

    def reveal(self, task_id: str, commitment: bytes, r2: bytes, sealed: bytes) -> dict[str, Any]:
        doc = {"commitment": "0x" + commitment.hex(), "r2": "0x" + r2.hex(), "sealed": "0x" + sealed.hex()}
        return dict(self._json("POST", _task_path(task_id) + "/reveals", doc, signed=True))

    def expire(self, task_id: str) -> dict[str, Any]:
        return dict(self._json("POST", _task_path(task_id) + "/expire", signed=True))

    def selection(self, task_id: str) -> dict[str, Any]:
        return dict(self._json("GET", _task_path(task_id) + "/selection", signed=True))


def local_task(params: EpochParameters, centre: Any, *, n_required: int, half_width: float, half_height: float,
               angle: float = 0.0) -> Task:
    """A task at ``centre`` (``"LAT,LON"``) in the epoch's local metres (before the transform)."""
    x, y = params.to_local(centre, "task centre")
    return Task((float(x), float(y)), n_required, Region((float(x), float(y)), half_width, half_height, angle))


def join_epoch(edge: EdgeClient, anonymizer: AnonymizerClient, epoch: int, location: Any) -> tuple[float, float]:
    """Step 1: send the anonymizer this user's transformed position; returns it."""
    params = edge.epoch(epoch)
    x, y = params.transform.forward(params.to_local(location)[None, :])[0]
    anonymizer.send_position(epoch, (x, y))
    return float(x), float(y)


def commit_epoch(anonymizer: AnonymizerClient, platform: CtbcClient, epoch: int, *, board: Any,
                 secret_store: Any) -> bytes:
    """Step 2: commit on chain to this user's sealed UD and upload it; returns the commitment.

    ``board`` is the user's view of the chain's commitment board (acting as the user) and
    ``secret_store`` its journal; the opening is journaled before the commitment is sent."""
    user = CTBCUser(board.account, sender=board.account, board=board, store=secret_store)
    opening = user.opening(epoch=epoch)
    if opening is None:  # first run: the UD and the key are needed only to make the opening
        user.commit(epoch=epoch, payload=anonymizer.ud(epoch), platform_key=platform.encryption_key())
    else:
        user.resume(epoch=epoch)
    upload = user.upload(0, epoch=epoch)
    platform.upload(epoch, upload.commitment, upload.payload, upload.sealed)
    return upload.commitment


def reveal_task(platform: CtbcClient, task_id: str, *, board: Any, secret_store: Any) -> dict[str, Any]:
    """Step 3: if the platform asks this user for ``task_id``, open the commitment on chain and send
    the opening; returns the platform's answer (``state``: selected, or the state it is in)."""
    me = platform.me(task_id)
    if me.get("state") != "asked":
        return me
    user = CTBCUser(board.account, sender=board.account, board=board, store=secret_store)
    opened = user.reveal(epoch=int(me["epoch"]))
    if opened is None:
        raise InputError(f"this journal holds no opening of epoch {me['epoch']}: expected the journal "
                         "`crowdsense ctbc commit` used")
    return platform.reveal(task_id, opened.commitment, opened.r2, opened.payload)
