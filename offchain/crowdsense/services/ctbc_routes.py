"""The CTBC platform over HTTP (``/v1/ctbc``): the sensing platform's side of LDPF's popular regions.

A service started with a platform key (``crowdsense service serve --ctbc-key FILE
--ctbc-operator ADDRESS``) collects the users' uploads of each epoch, ranks them for the tasks
its operator opens, asks the best candidates to reveal, verifies each opening against the
chain, and replaces whoever fails (LDPF Steps 4-5). The protocol's computations are those of
:mod:`crowdsense.ldpf.ctbc.protocol` (``rank_uploads``, ``verify_reveal``) and
:mod:`~crowdsense.ldpf.ctbc.sealed`; the state is :class:`~crowdsense.services.ctbc_ledger.CtbcLedger`.

====================================================  ==========  ============================================
``GET /v1/ctbc/key``                                  anyone      the platform's encryption key (UDs are
                                                                  sealed to it)
``POST /v1/ctbc/epochs/{epoch}/uploads``              the user    commitment, UD and sealed UD; the
                                                                  commitment must be on chain under the
                                                                  signer, the sealed UD must open to the UD
``POST /v1/ctbc/tasks``                               operator    open a task (transformed coordinates): the
                                                                  ranked candidates, the first N asked
``GET /v1/ctbc/tasks/{id}/me``                        the user    whether I am asked, selected or excluded
``POST /v1/ctbc/tasks/{id}/reveals``                  the user    my opening (after revealing on chain)
``POST /v1/ctbc/tasks/{id}/expire``                   operator    exclude the asked who did not reveal; ask
                                                                  as many next candidates
``GET /v1/ctbc/tasks/{id}/selection``                 operator    selected, excluded (why), asked, queued
====================================================  ==========  ============================================

The task in transformed coordinates is never served: beside the task's public real position it
would give the epoch's transform away. Errors: 400 malformed, 401 signature, 403 not the
operator, 404 unknown task or nothing uploaded, 409 out of order, 413 too large, 422 refused
(an upload that does not match the chain or does not open; too few candidates; an opening that
does not verify: the user is excluded).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Annotated, Any

import numpy as np
from eth_utils import to_checksum_address
from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from crowdsense.commitments import CommitmentBoard
from crowdsense.errors import CrowdsenseError, DecryptionError, InputError
from crowdsense.ldpf.ctbc.geometry import task_from_json, task_to_json
from crowdsense.ldpf.ctbc.payload import PAYLOAD_SIZE, decode_ud
from crowdsense.ldpf.ctbc.protocol import Reveal, rank_uploads, verify_reveal
from crowdsense.ldpf.ctbc.sealed import SEALED_SIZE, PlatformKey, open_ud, read_platform_key
from crowdsense.services.ctbc_ledger import ConflictError, CtbcLedger
from crowdsense.services.edge_routes import MAX_EPOCH
from crowdsense.services.roles import (NUMBER, TASK_ID_PATTERN, TaskId, checked_task_id, hex_field, hex_schema,
                                      json_body, json_body_schema, require_operator, role_of)
from crowdsense.services.routes import ApiError, ServiceState, authenticate, error_responses, read_body

__all__ = ["CtbcConfig", "CtbcRole", "router"]

_POINT = {"type": "array", "items": NUMBER, "minItems": 2, "maxItems": 2}
Epoch = Annotated[int, Path(description="the epoch's number", ge=1, le=MAX_EPOCH)]
_REASONS = {400: "a malformed request", 401: "the signature does not authenticate the request",
            403: "the signer may not do this", 404: "no such task, nothing uploaded, or the service is no CTBC "
                                                    "platform",
            409: "out of order", 413: "the body is too large",
            422: "refused: does not match the chain, too few candidates, or an opening that does not verify"}


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return error_responses(_REASONS, *statuses)


@dataclass(frozen=True)
class CtbcRole:
    """The CTBC platform role of a service."""

    key: PlatformKey
    board: CommitmentBoard
    ledger: CtbcLedger
    operator: str


@dataclass(frozen=True)
class CtbcConfig:
    """What makes a service the CTBC platform: its key file, its operator, and the chain whose
    ``CommitmentVerifier`` holds the users' commitments."""

    key_file: str | FilePath
    operator: str
    rpc_url: str | None = None
    deployment: str | FilePath | None = None

    def load(self) -> tuple[PlatformKey, CommitmentBoard, str]:
        from eth_utils import is_hex_address, to_checksum_address

        from crowdsense.chain.boards import ChainCommitmentBoard
        from crowdsense.chain.connection import open_connection

        if not isinstance(self.operator, str) or not is_hex_address(self.operator):
            raise InputError(f"CTBC operator {self.operator!r} is not an address: expected 0x and 40 hex digits")
        key = read_platform_key(self.key_file)
        return key, ChainCommitmentBoard(open_connection(self.rpc_url, self.deployment)), \
            to_checksum_address(self.operator)

    def role(self, ledger: CtbcLedger, loaded: tuple[PlatformKey, CommitmentBoard, str]) -> CtbcRole:
        key, board, operator = loaded
        return CtbcRole(key, board, ledger, operator)


router = APIRouter(prefix="/v1/ctbc")


def _role(request: Request) -> tuple[ServiceState, CtbcRole]:
    return role_of(request, "ctbc", "a CTBC platform", "--ctbc-key")


async def _task(role: CtbcRole, task_id: str) -> dict[str, Any]:
    found = await run_in_threadpool(role.ledger.task, checked_task_id(task_id))
    if found is None:
        raise ApiError(404, f"no CTBC task {task_id!r} on this platform: expected the id of an opened task")
    return found


async def _operator_task(request: Request, task_id: str) -> tuple[CtbcRole, dict[str, Any]]:
    """The role and the task of an operator's request without a body (404 unknown task, 403 not the operator)."""
    state, role = _role(request)
    task = await _task(role, task_id)
    await require_operator(request, state, role.operator, b"", "platform")
    return role, task


@router.get("/key", summary="The platform's encryption key", responses=_errors(404))
async def get_key(request: Request) -> JSONResponse:
    _, role = _role(request)
    return JSONResponse({"encryptionKey": "0x" + role.key.encryption_key.hex()})


@router.post("/epochs/{epoch}/uploads", summary="Upload my commitment, UD and sealed UD (signed)",
             openapi_extra=json_body_schema({"commitment": hex_schema(32), "payload": hex_schema(PAYLOAD_SIZE),
                                             "sealed": hex_schema(SEALED_SIZE)}),
             responses=_errors(400, 401, 404, 409, 413, 422))
async def post_upload(epoch: Epoch, request: Request) -> JSONResponse:
    state, role = _role(request)
    body = await read_body(request, 4096)
    signed = await authenticate(request, state, body)
    doc = json_body(body, "the upload", {"commitment", "payload", "sealed"})
    commitment = hex_field(doc, "commitment", 32)
    payload, sealed = hex_field(doc, "payload", PAYLOAD_SIZE), hex_field(doc, "sealed", SEALED_SIZE)
    account = signed.account.lower()
    try:
        if decode_ud(payload).epoch != epoch:
            raise InputError(f"the UD is of epoch {decode_ud(payload).epoch}: expected epoch {epoch}")
        if open_ud(role.key, sealed, committer=signed.account, epoch=epoch) != payload:
            raise InputError("the sealed UD opens to another UD: expected the UD sealed to this platform")
    except (InputError, DecryptionError) as exc:
        raise ApiError(422, f"upload refused: {exc}") from None
    record = await run_in_threadpool(role.board.bit_record, signed.account, commitment)
    if record is None:
        raise ApiError(422, f"commitment 0x{commitment.hex()} is not on chain under {signed.account}: expected "
                            "the commitment sent (commitBit) from the uploading account")
    try:
        created = await run_in_threadpool(role.ledger.add_upload, epoch, account, commitment, payload, sealed)
    except ConflictError as exc:
        raise ApiError(409, str(exc)) from None
    return JSONResponse({"epoch": epoch, "account": signed.account, "created": created},
                        status_code=201 if created else 200)


@router.post("/tasks", summary="Open a task in transformed coordinates (operator, signed)", status_code=201,
             openapi_extra=json_body_schema({
                 "taskId": {"type": "string", "pattern": TASK_ID_PATTERN},
                 "epoch": {"type": "integer", "minimum": 1, "maximum": MAX_EPOCH},
                 "k": {"type": "integer", "minimum": 2, "maximum": 10_000},
                 "task": {"type": "object", "additionalProperties": False, "required": ["center", "nRequired", "region"],
                          "properties": {"center": _POINT, "nRequired": {"type": "integer", "minimum": 1},
                                         "region": {"type": "object", "additionalProperties": False,
                                                    "required": ["center", "halfWidth", "halfHeight"],
                                                    "properties": {"center": _POINT, "halfWidth": NUMBER,
                                                                   "halfHeight": NUMBER, "angle": NUMBER}}}}}),
             responses=_errors(400, 401, 403, 404, 409, 413, 422))
async def open_task(request: Request) -> JSONResponse:
    state, role = _role(request)
    body = await read_body(request, 4096)
    await require_operator(request, state, role.operator, body, "platform")
    doc = json_body(body, "the task", {"taskId", "epoch", "k", "task"})
    name = checked_task_id(doc["taskId"])
    epoch, k = doc["epoch"], doc["k"]
    if isinstance(epoch, bool) or not isinstance(epoch, int) or not 1 <= epoch <= MAX_EPOCH:
        raise ApiError(400, f"epoch {str(epoch)[:30]!r} is not usable: expected an integer in 1..2**63-1")
    if isinstance(k, bool) or not isinstance(k, int) or not 2 <= k <= 10_000:
        raise ApiError(400, f"k {str(k)[:20]!r} is not usable: expected an integer in 2..10000")
    try:
        task = task_from_json(doc["task"])
    except InputError as exc:
        raise ApiError(400, str(exc)) from None
    uploads = await run_in_threadpool(role.ledger.uploads, epoch)
    try:
        candidates = rank_uploads(uploads, task, k=k, epoch=epoch,
                                  random_state=np.random.default_rng(secrets.randbits(128)))
    except InputError as exc:
        raise ApiError(422, f"task {name!r} cannot be matched: {exc}") from None
    queue = [(uploads[u].sender, g) for u, g in zip(candidates.queue.tolist(), candidates.queue_groups.tolist())]
    try:
        await run_in_threadpool(lambda: role.ledger.open_task(name, epoch=epoch, task=task_to_json(task), k=k,
                                                              case=candidates.case, queue=queue))
    except ConflictError as exc:
        raise ApiError(409, str(exc)) from None
    return JSONResponse({"taskId": name, "epoch": epoch, "case": candidates.case, "candidates": len(queue),
                         "asked": min(task.n_required, len(queue))}, status_code=201)


@router.get("/tasks/{task_id}/me", summary="Whether I am asked to reveal, selected or excluded (signed)",
            responses=_errors(400, 401, 404))
async def my_state(task_id: TaskId, request: Request) -> JSONResponse:
    state, role = _role(request)
    task = await _task(role, task_id)
    signed = await authenticate(request, state, b"")
    found = await run_in_threadpool(role.ledger.candidate, task["taskId"], signed.account.lower())
    return JSONResponse({"taskId": task["taskId"], "epoch": task["epoch"], "account": signed.account,
                         "state": "not a candidate" if found is None else found.state,
                         "reason": None if found is None else found.reason})


@router.post("/tasks/{task_id}/reveals", summary="My opening, after revealing it on chain (signed)",
             openapi_extra=json_body_schema({"commitment": hex_schema(32), "r2": hex_schema(32),
                                             "sealed": hex_schema(SEALED_SIZE)}),
             responses=_errors(400, 401, 404, 409, 413, 422))
async def post_reveal(task_id: TaskId, request: Request) -> JSONResponse:
    state, role = _role(request)
    task = await _task(role, task_id)
    body = await read_body(request, 4096)
    signed = await authenticate(request, state, body)
    doc = json_body(body, "the opening", {"commitment", "r2", "sealed"})
    reveal = Reveal(hex_field(doc, "commitment", 32), hex_field(doc, "r2", 32), hex_field(doc, "sealed", SEALED_SIZE))
    name, account = task["taskId"], signed.account.lower()
    found = await run_in_threadpool(role.ledger.candidate, name, account)
    if found is None or found.state == "queued":
        raise ApiError(409, f"account {signed.account} is not asked to reveal for task {name!r}: expected a "
                            "candidate the platform asked (GET .../me)")
    if found.state in ("selected", "failed"):  # the same reveal again (its answer was lost): the same verdict
        return _verdict(name, signed.account, found.state, found.reason)
    upload = await run_in_threadpool(role.ledger.upload, task["epoch"], account)
    assert upload is not None  # a candidate is an upload of the task's epoch
    try:
        ok = await run_in_threadpool(verify_reveal, upload, reveal, role.board, role.key)
    except CrowdsenseError:
        ok = False
    reason = None if ok else "the opening does not verify against the upload and the chain"
    verdict = await run_in_threadpool(lambda: role.ledger.settle(name, account, selected=ok, reason=reason))
    return _verdict(name, signed.account, verdict, reason)


def _verdict(task_id: str, account: str, verdict: str, reason: str | None) -> JSONResponse:
    if verdict != "selected":
        raise ApiError(422, f"caught: account {account} is excluded from task {task_id!r}: {reason or verdict}")
    return JSONResponse({"taskId": task_id, "account": account, "state": verdict})


@router.post("/tasks/{task_id}/expire", summary="Exclude the asked who did not reveal; ask the next (operator)",
             responses=_errors(400, 401, 403, 404))
async def expire(task_id: TaskId, request: Request) -> JSONResponse:
    role, task = await _operator_task(request, task_id)
    late = await run_in_threadpool(role.ledger.expire, task["taskId"], "did not reveal in time")
    return JSONResponse({"taskId": task["taskId"], "excluded": late})


@router.get("/tasks/{task_id}/selection", summary="The selection so far (operator, signed)",
            responses=_errors(400, 401, 403, 404))
async def selection(task_id: TaskId, request: Request) -> JSONResponse:
    role, task = await _operator_task(request, task_id)
    rows = await run_in_threadpool(role.ledger.candidates, task["taskId"])
    by_state: dict[str, list[Any]] = {"selected": [], "failed": [], "asked": [], "queued": []}
    for c in rows:
        by_state[c.state].append(c)
    selected = [to_checksum_address(c.account) for c in by_state["selected"]]
    return JSONResponse({"taskId": task["taskId"], "epoch": task["epoch"], "case": task["case"],
                         "nRequired": task["nRequired"], "selected": selected,
                         "failed": {to_checksum_address(c.account): c.reason for c in by_state["failed"]},
                         "asked": [to_checksum_address(c.account) for c in by_state["asked"]], "queued": len(by_state["queued"]),
                         "complete": len(selected) == task["nRequired"]})
