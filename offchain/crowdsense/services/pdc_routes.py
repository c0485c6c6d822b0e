"""The PDC platform over HTTP (``/v1/pdc``): the sensing platform's side of LDPF Protocol 2.

A service started with a Paillier key (``crowdsense service serve --pdc-key FILE``) is the
platform: its operator opens tasks in remote regions, receivers on their own machines answer
them (``crowdsense pdc answer``), and the operator reads the accepted distances to select the
nearest receivers and fix the selection on chain. The protocol is
:class:`~crowdsense.ldpf.pdc.platform.Platform`'s, unchanged; this module carries its messages
(the JSON of :mod:`crowdsense.ldpf.pdc.messages`) and keeps its ledger in the service's
database (:class:`~crowdsense.services.pdc_ledger.SqlLedger`).

=====================================  ==========  =============================================
``POST /v1/pdc/tasks``                 operator    open a task: region and centre; answers the
                                                   task message (the encrypted centre)
``GET /v1/pdc/tasks/{id}``             anyone      the task message and its region
``POST /v1/pdc/tasks/{id}/queries``    receiver    a query (Z, commitment, proof); answers the
                                                   decryption. The same query again gets the
                                                   same answer (nothing new is decrypted)
``POST /v1/pdc/tasks/{id}/reveals``    receiver    the opening of r; answers the distance
``GET /v1/pdc/tasks/{id}/answers``     operator    accepted distances, rejected receivers with
                                                   the reason, receivers still pending
=====================================  ==========  =============================================

Every request but the public read is signed with the party's Ethereum key
(:mod:`crowdsense.services.auth`, single-use); a receiver's messages must name the account
that signs them, so no receiver answers, or spends a commitment, in another's name. The
commitments the platform checks before decrypting are those on chain (``CommitmentVerifier``).
Errors: 400 malformed request, 401 signature, 403 not the operator or not the receiver named,
404 unknown task, 409 out of order (a second query, a reveal before the query, a task id
taken), 413 too large, 422 the message is wrong or the receiver is caught cheating (the reason
is in the answer).
"""

from __future__ import annotations

import threading
from pathlib import Path as FilePath
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from phe import paillier

from crowdsense.commitments import CommitmentBoard
from crowdsense.errors import InputError
from crowdsense.ldpf.pdc.errors import CheatingDetected, MessageError, ProtocolStateError
from crowdsense.ldpf.pdc.messages import QueryMessage, RevealMessage, TaskMessage
from crowdsense.ldpf.pdc.platform import Platform
from crowdsense.ldpf.pdc.region import GridRegion
from crowdsense.services.auth import SignedRequest
from crowdsense.services.pdc_ledger import SqlLedger
from crowdsense.services.roles import JSON_BODY, TaskId, checked_task_id, json_body, require_operator, role_of
from crowdsense.services.routes import ApiError, ServiceState, authenticate, error_responses, read_body

__all__ = ["PdcConfig", "PdcRole", "router"]

_REASONS = {400: "a malformed request", 401: "the signature does not authenticate the request",
            403: "the signer may not do this", 404: "no such task, or the service is no PDC platform",
            409: "out of order for this task", 413: "the body is too large",
            422: "the message is wrong, or the receiver cheated"}


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return error_responses(_REASONS, *statuses)


@dataclass
class PdcRole:
    """The platform role of a service: its Paillier key, the board it checks commitments on,
    its operator, and one :class:`Platform` per grid shape over the shared ledger."""

    private_key: paillier.PaillierPrivateKey
    board: CommitmentBoard
    ledger: SqlLedger
    operator: str
    allow_insecure: bool = False
    _platforms: dict[tuple[int, int], Platform] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def platform(self, region: GridRegion) -> Platform:
        """The platform of ``region``'s grid shape (made once: its engine holds precomputed tables)."""
        shape = (region.width, region.height)
        with self._lock:
            found = self._platforms.get(shape)
            if found is None:
                found = self._platforms[shape] = Platform(self.private_key, region.grid, board=self.board,
                                                          allow_insecure=self.allow_insecure, ledger=self.ledger)
            return found

    def region(self, task_id: str) -> GridRegion:
        public = self.ledger.public(task_id)
        if public is None:
            raise ApiError(404, f"no PDC task {task_id!r} on this platform: expected the id of an opened task")
        return GridRegion.from_json(public["region"])


@dataclass(frozen=True)
class PdcConfig:
    """What makes a service the PDC platform: its Paillier key file, its operator's address, and
    the chain whose ``CommitmentVerifier`` holds the receivers' commitments."""

    key_file: str | FilePath
    operator: str
    rpc_url: str | None = None
    deployment: str | FilePath | None = None
    allow_insecure_key: bool = False

    def load(self) -> tuple[paillier.PaillierPrivateKey, CommitmentBoard, str]:
        """The key (read and checked), the chain's board (connected, the deployment verified) and
        the operator's address; errors say which is not usable. Nothing is written."""
        from eth_utils import is_hex_address, to_checksum_address

        from crowdsense.chain.boards import ChainCommitmentBoard
        from crowdsense.chain.connection import open_connection
        from crowdsense.ldpf.pdc.keys import read_private_key

        if not isinstance(self.operator, str) or not is_hex_address(self.operator):
            raise InputError(f"PDC operator {self.operator!r} is not an address: expected 0x and 40 hex digits")
        key = read_private_key(self.key_file, allow_insecure=self.allow_insecure_key)
        conn = open_connection(self.rpc_url, self.deployment)
        return key, ChainCommitmentBoard(conn), to_checksum_address(self.operator)

    def role(self, ledger: SqlLedger, loaded: tuple[paillier.PaillierPrivateKey, CommitmentBoard, str]) -> PdcRole:
        """The role over ``ledger`` with what :meth:`load` gave."""
        key, board, operator = loaded
        return PdcRole(key, board, ledger, operator, allow_insecure=self.allow_insecure_key)


router = APIRouter(prefix="/v1/pdc")


def _role(request: Request) -> tuple[ServiceState, PdcRole]:
    return role_of(request, "pdc", "a PDC platform", "--pdc-key")


def _refusal(exc: Exception) -> ApiError:
    """The answer to an error of the protocol."""
    if isinstance(exc, CheatingDetected):
        return ApiError(422, f"caught: {exc}")
    if isinstance(exc, ProtocolStateError):
        return ApiError(409, str(exc))
    return ApiError(422, str(exc))


async def _operator(request: Request, state: ServiceState, role: PdcRole, body: bytes) -> None:
    await require_operator(request, state, role.operator, body, "platform")


def _same_receiver(signed: SignedRequest, named: str) -> None:
    if named.lower() != signed.account.lower():
        raise ApiError(403, f"the message names receiver {named[:60]!r} but is signed by {signed.account}: "
                            "expected each receiver to send its own messages")


def _task_answer(task_id: str, message: TaskMessage, region: GridRegion, status: int = 200) -> JSONResponse:
    return JSONResponse({"taskId": task_id, "task": message.to_dict(), "region": region.to_json()},
                        status_code=status)


@router.post("/tasks", summary="Open a PDC task (operator, signed)", status_code=201, openapi_extra=JSON_BODY,
             responses=_errors(400, 401, 403, 404, 409, 413, 422))
async def open_task(request: Request) -> JSONResponse:
    state, role = _role(request)
    body = await read_body(request, state.settings.max_blob_bytes)
    await _operator(request, state, role, body)
    doc = json_body(body, "the task: taskId, region and centre")
    if not isinstance(doc, dict) or set(doc) != {"taskId", "region", "centre"}:
        raise ApiError(400, "the task is malformed: expected an object with taskId, region and centre")
    task_id = checked_task_id(doc["taskId"])
    try:
        region = GridRegion.from_json(doc["region"])
        centre = region.point(doc["centre"], "task centre")
        platform = role.platform(region)
        message = await run_in_threadpool(platform.open_task, task_id, centre, public={"region": region.to_json()})
    except (InputError, ProtocolStateError) as exc:
        raise _refusal(exc) from None
    return _task_answer(task_id, message, region, 201)


@router.get("/tasks/{task_id}", summary="A PDC task: its message and region", responses=_errors(400, 404))
async def get_task(task_id: TaskId, request: Request) -> JSONResponse:
    _, role = _role(request)
    name = checked_task_id(task_id)
    region = await run_in_threadpool(role.region, name)
    return _task_answer(name, role.platform(region).task_message(name), region)


async def _receiver_message(request: Request, task_id: str, kind: type[Any], what: str) -> tuple[Any, PdcRole, Any]:
    """A receiver's message to the task: read, authenticated (before it is parsed), parsed, and
    checked to name its signer and this task; with the role and the task's platform."""
    state, role = _role(request)
    name = checked_task_id(task_id)
    body = await read_body(request, state.settings.max_blob_bytes)
    signed = await authenticate(request, state, body)
    try:
        message = kind.from_json(body)
    except MessageError as exc:
        raise ApiError(400, f"the {what} is malformed: {exc}") from None
    _same_receiver(signed, message.receiver)
    if message.task_id != name:
        raise ApiError(400, f"the {what} is for task {message.task_id!r}, sent to {name!r}: expected the same task")
    return message, role, role.platform(await run_in_threadpool(role.region, name))


@router.post("/tasks/{task_id}/queries", summary="A receiver's query; answers its decryption (signed)",
             openapi_extra=JSON_BODY, responses=_errors(400, 401, 403, 404, 409, 413, 422))
async def post_query(task_id: TaskId, request: Request) -> JSONResponse:
    query, _, platform = await _receiver_message(request, task_id, QueryMessage, "query")
    try:
        decryption = await run_in_threadpool(platform.handle_query, query)
    except (InputError, CheatingDetected) as exc:
        raise _refusal(exc) from None
    return JSONResponse(decryption.to_dict())


@router.post("/tasks/{task_id}/reveals", summary="A receiver's opening of r; answers its distance (signed)",
             openapi_extra=JSON_BODY, responses=_errors(400, 401, 403, 404, 409, 413, 422))
async def post_reveal(task_id: TaskId, request: Request) -> JSONResponse:
    reveal, role, platform = await _receiver_message(request, task_id, RevealMessage, "reveal")
    earlier = await run_in_threadpool(role.ledger.answer, reveal.task_id, reveal.receiver)
    if earlier is not None and earlier.state == "accepted" and earlier.commitment == reveal.commitment:
        distance = earlier.distance  # the same reveal again (its answer was lost): the same answer
    else:
        try:
            distance = await run_in_threadpool(platform.handle_reveal, reveal)
        except (InputError, CheatingDetected) as exc:
            raise _refusal(exc) from None
    return JSONResponse({"taskId": reveal.task_id, "receiver": reveal.receiver, "distance": distance})


@router.get("/tasks/{task_id}/answers", summary="Accepted distances and rejections of a task (operator, signed)",
            responses=_errors(400, 401, 403, 404))
async def get_answers(task_id: TaskId, request: Request) -> JSONResponse:
    state, role = _role(request)
    name = checked_task_id(task_id)
    await _operator(request, state, role, b"")
    await run_in_threadpool(role.region, name)
    ledger = role.ledger
    accepted, rejected, pending = await run_in_threadpool(
        lambda: (ledger.accepted(name), ledger.rejected(name), ledger.pending(name)))
    return JSONResponse({"taskId": name, "accepted": accepted, "rejected": rejected, "pending": pending})
