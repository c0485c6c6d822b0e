"""The edge layer over HTTP: the parameter generator (``/v1/edge``) and the anonymizer (``/v1/anonymizer``).

LDPF's edge layer has two jobs that must not meet in one party: the **parameter generator**
draws each epoch's secret rigid transform and gives it to registered parties only (receivers
and the platform), and the **anonymizer** groups the *transformed* positions into k-anonymous
groups without ever holding the transform. Whoever holds both sees real positions, so each is
its own role, started by its own option with its own operator (``crowdsense service serve
--edge-operator A`` on one machine, ``--anonymizer-operator B`` on another); a service given
both warns at start.

========================================================  ==========  ===================================
``POST /v1/edge/epochs``                                  operator    open an epoch: origin, transform
``POST /v1/edge/parties``                                 operator    register accounts
``GET /v1/edge/epochs/{epoch}``                           registered  the epoch's origin and transform
``POST /v1/anonymizer/epochs/{epoch}/positions``          any signer  my transformed position
``POST /v1/anonymizer/epochs/{epoch}/groups``             operator    group the epoch (MDAV, k)
``GET /v1/anonymizer/epochs/{epoch}/ud``                  the user    my group's centre (UD payload)
========================================================  ==========  ===================================

Every request is signed (:mod:`crowdsense.services.auth`, single use). Errors: 400 malformed,
401 signature, 403 not the operator / not registered, 404 unknown epoch or nothing sent,
409 out of order (an epoch number taken, a position after grouping, a second position),
413 too large, 422 refused (k larger than the users of the epoch).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any

from eth_utils import is_hex_address
from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from crowdsense.errors import InputError
from crowdsense.ldpf.ctbc.transform import draw_transform
from crowdsense.ldpf.pdc.region import parse_latlon
from crowdsense.services.ctbc_ledger import AnonymizerLedger, ConflictError, EdgeLedger
from crowdsense.services.roles import ADDRESS, NUMBER, json_body, json_body_schema, require_operator, role_of
from crowdsense.services.routes import ApiError, ServiceState, authenticate, error_responses, read_body

__all__ = ["EdgeRole", "AnonymizerRole", "edge_router", "anonymizer_router", "MAX_EPOCH"]

#: Epochs are numbered 1..MAX_EPOCH (they go into 64-bit payload words).
MAX_EPOCH = 2**63 - 1
#: Accounts registered by one request at most.
MAX_REGISTER = 10_000
Epoch = Annotated[int, Path(description="the epoch's number", ge=1, le=MAX_EPOCH)]
_REASONS = {400: "a malformed request", 401: "the signature does not authenticate the request",
            403: "the signer may not do this", 404: "no such epoch, nothing sent, or the service lacks the role",
            409: "out of order for this epoch", 413: "the body is too large", 422: "the request is refused"}


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return error_responses(_REASONS, *statuses)


@dataclass(frozen=True)
class EdgeRole:
    """The parameter generator and registration authority: its ledger and operator."""

    ledger: EdgeLedger
    operator: str


@dataclass(frozen=True)
class AnonymizerRole:
    """The anonymizer: its ledger and operator."""

    ledger: AnonymizerLedger
    operator: str


def _edge(request: Request) -> tuple[ServiceState, EdgeRole]:
    return role_of(request, "edge", "the edge's parameter generator", "--edge-operator")


def _anonymizer(request: Request) -> tuple[ServiceState, AnonymizerRole]:
    return role_of(request, "anonymizer", "the edge anonymizer", "--anonymizer-operator")


def _refused(exc: Exception) -> ApiError:
    return ApiError(409 if isinstance(exc, ConflictError) else 422, str(exc))


edge_router = APIRouter(prefix="/v1/edge")
anonymizer_router = APIRouter(prefix="/v1/anonymizer")


@edge_router.post("/epochs", summary="Open an epoch: draw its secret transform (operator, signed)",
                  status_code=201, responses=_errors(400, 401, 403, 404, 409, 413),
                  openapi_extra=json_body_schema({"origin": {"type": "array", "items": NUMBER, "minItems": 2,
                                                             "maxItems": 2},
                                                  "epoch": {"type": "integer", "minimum": 1, "maximum": MAX_EPOCH}},
                                                 optional=("epoch",)))
async def open_epoch(request: Request) -> JSONResponse:
    state, role = _edge(request)
    body = await read_body(request, 4096)
    await require_operator(request, state, role.operator, body, "edge")
    doc = json_body(body, "the epoch: origin (and epoch)")
    if not isinstance(doc, dict) or not {"origin"} <= set(doc) <= {"origin", "epoch"}:
        raise ApiError(400, "the epoch is malformed: expected an object with origin [lat, lon] and optionally epoch")
    try:
        origin = parse_latlon(doc["origin"], "origin")
    except InputError as exc:
        raise ApiError(400, str(exc)) from None
    epoch = doc.get("epoch")
    if epoch is None:
        latest = await run_in_threadpool(role.ledger.latest)
        epoch = 1 if latest is None else int(latest) + 1
    if isinstance(epoch, bool) or not isinstance(epoch, int) or not 1 <= epoch <= MAX_EPOCH:
        raise ApiError(400, f"epoch {epoch!r} is not usable: expected an integer in 1..2**63-1")
    try:
        await run_in_threadpool(role.ledger.open_epoch, draw_transform(epoch), origin)
    except ConflictError as exc:
        raise _refused(exc) from None
    return JSONResponse({"epoch": epoch, "origin": list(origin)}, status_code=201)


@edge_router.post("/parties", summary="Register accounts to read epochs (operator, signed)",
                  responses=_errors(400, 401, 403, 404, 413),
                  openapi_extra=json_body_schema({"accounts": {"type": "array", "items": ADDRESS, "minItems": 1,
                                                               "maxItems": MAX_REGISTER}}))
async def register(request: Request) -> JSONResponse:
    state, role = _edge(request)
    body = await read_body(request, 64 * MAX_REGISTER)
    await require_operator(request, state, role.operator, body, "edge")
    doc = json_body(body, "the accounts to register", {"accounts"})
    accounts = doc["accounts"]
    if not isinstance(accounts, list) or not 1 <= len(accounts) <= MAX_REGISTER or \
            not all(isinstance(a, str) and is_hex_address(a) for a in accounts):
        raise ApiError(400, f"accounts is malformed: expected a list of 1..{MAX_REGISTER} addresses")
    added = await run_in_threadpool(role.ledger.register, [a.lower() for a in accounts])
    return JSONResponse({"registered": added, "already": len(set(a.lower() for a in accounts)) - added})


@edge_router.get("/epochs/{epoch}", summary="An epoch's origin and secret transform (registered parties, signed)",
                 responses=_errors(400, 401, 403, 404))
async def get_epoch(epoch: Epoch, request: Request) -> JSONResponse:
    state, role = _edge(request)
    signed = await authenticate(request, state, b"")
    if signed.account != role.operator and not await run_in_threadpool(role.ledger.registered, signed.account):
        raise ApiError(403, f"account {signed.account} is not registered with this edge: expected an account "
                            "its operator registered (`crowdsense edge register`)")
    found = await run_in_threadpool(role.ledger.epoch, epoch)
    if found is None:
        raise ApiError(404, f"no epoch {epoch} at this edge: expected an epoch its operator opened")
    origin, transform = found
    return JSONResponse({"epoch": epoch, "origin": list(origin), "transform": transform.to_dict()})


def _number(doc: dict[str, Any], key: str) -> float:
    value = doc.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or abs(value) > 1e12:
        raise ApiError(400, f"{key} {str(value)[:40]!r} is not a coordinate: expected a finite number of metres")
    return float(value)


@anonymizer_router.post("/epochs/{epoch}/positions", summary="Send my transformed position (signed)",
                        openapi_extra=json_body_schema({"x": NUMBER, "y": NUMBER}),
                        responses=_errors(400, 401, 404, 409, 413))
async def post_position(epoch: Epoch, request: Request) -> JSONResponse:
    state, role = _anonymizer(request)
    body = await read_body(request, 1024)
    signed = await authenticate(request, state, body)
    doc = json_body(body, "the transformed position", {"x", "y"})
    x, y = _number(doc, "x"), _number(doc, "y")
    try:
        created = await run_in_threadpool(role.ledger.add_position, epoch, signed.account.lower(), x, y)
    except ConflictError as exc:
        raise _refused(exc) from None
    return JSONResponse({"epoch": epoch, "account": signed.account, "created": created},
                        status_code=201 if created else 200)


@anonymizer_router.post("/epochs/{epoch}/groups", summary="Group the epoch's positions (operator, signed)",
                        openapi_extra=json_body_schema({"k": {"type": "integer", "minimum": 2, "maximum": 10_000}}),
                        responses=_errors(400, 401, 403, 404, 409, 413, 422))
async def group_epoch(epoch: Epoch, request: Request) -> JSONResponse:
    state, role = _anonymizer(request)
    body = await read_body(request, 1024)
    await require_operator(request, state, role.operator, body, "anonymizer")
    k = json_body(body, "the anonymity level", {"k"})["k"]
    if isinstance(k, bool) or not isinstance(k, int) or not 2 <= k <= 10_000:
        raise ApiError(400, f"k {str(k)[:20]!r} is not usable: expected an integer in 2..10000")
    try:
        users, groups = await run_in_threadpool(role.ledger.group, epoch, k)
    except (ConflictError, InputError) as exc:
        raise _refused(exc) from None
    return JSONResponse({"epoch": epoch, "k": k, "users": users, "groups": groups})


@anonymizer_router.get("/epochs/{epoch}/ud", summary="My group's centre, the UD payload (signed)",
                       responses=_errors(400, 401, 404, 409))
async def get_ud(epoch: Epoch, request: Request) -> JSONResponse:
    state, role = _anonymizer(request)
    signed = await authenticate(request, state, b"")
    account = signed.account.lower()
    if await run_in_threadpool(role.ledger.grouped, epoch) is None:
        raise ApiError(409, f"epoch {epoch} is not grouped yet: expected the anonymizer's operator to group it "
                            "first (`crowdsense edge group`)")
    ud = await run_in_threadpool(role.ledger.ud, epoch, account)
    if ud is None:
        raise ApiError(404, f"account {signed.account} sent no position in epoch {epoch}: expected "
                            "`crowdsense ctbc join` before the epoch was grouped")
    return JSONResponse({"epoch": epoch, "account": signed.account, "ud": "0x" + ud.hex()})
