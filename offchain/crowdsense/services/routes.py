"""The HTTP API of the blob store (``/v1``): blobs by hash, key envelopes by subtask, claimant and writer.

Reads are public: what is stored is ciphertext, named by its hash, that only its intended
reader can open, so anybody may fetch it and nobody needs to sign to do so. Writes are signed
(:mod:`crowdsense.services.auth`), single-use (:mod:`crowdsense.services.replay`) and, when the
service is configured with writers, limited to them. Each check that fails ends the request
with one JSON error, in this order: malformed path (400), body too large (413), signature
(401), writer not allowed or not the one named in the path (403), bytes not matching their
name (422), envelope conflict (409).

Database calls run in the server's worker threads, never on the event loop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from eth_utils import keccak
from fastapi import APIRouter, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

import crowdsense
from crowdsense.services.auth import SignedRequest, verify_request
from crowdsense.services.blobs import BlobStore, EnvelopeConflictError
from crowdsense.services.replay import NonceLedger
from crowdsense.services.settings import Settings

__all__ = ["ApiError", "ServiceState", "router", "BLOB_HASH_HEADER", "authenticate", "error_responses", "read_body"]

#: Response header naming the hash of the bytes returned (envelopes are found by subtask).
BLOB_HASH_HEADER = "X-Crowdsense-Blob-Hash"
_HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_BINARY_BODY = {"requestBody": {"required": True, "content": {
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}
_BINARY = {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}
_ERROR_SCHEMA = {"type": "object", "required": ["error"], "additionalProperties": False,
                 "properties": {"error": {"type": "string"}}}


def error_responses(reasons: dict[int, str], *statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI answers of these error statuses, each ``{"error": "<what>: <expected>"}``
    described by its entry of ``reasons``."""
    return {status: {"description": reasons[status], "content": {"application/json": {"schema": _ERROR_SCHEMA}}}
            for status in statuses}


_BLOB_REASONS = {400: "a malformed path", 401: "the signature does not authenticate the request",
                 403: "the signer may not write this", 404: "nothing stored under this name",
                 409: "another envelope of this writer is stored", 413: "the body is too large",
                 422: "the body does not match its name"}


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return error_responses(_BLOB_REASONS, *statuses)


_READ_ERRORS = _errors(400, 404)
_WRITE_ERRORS = _errors(400, 401, 403, 409, 413, 422)

# Path parameters: the schema states their form (so that clients and fuzzers generated from it
# send well-formed names); the handlers check it themselves, to answer with what was wrong.
BlobHash = Annotated[str, Path(description="keccak256 of the bytes", json_schema_extra={"pattern": _HASH.pattern})]
SubtaskHash = Annotated[str, Path(description="keccak256 of the subtask's ciphertext (as on chain)",
                                  json_schema_extra={"pattern": _HASH.pattern})]
Claimant = Annotated[str, Path(description="the claimant the envelope is sealed to",
                               json_schema_extra={"pattern": _ADDRESS.pattern})]
Writer = Annotated[str, Path(description="the account that wrote (signed) the envelope: the releaser",
                             json_schema_extra={"pattern": _ADDRESS.pattern})]


class ApiError(Exception):
    """An error answered as ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class ServiceState:
    """What the routes of one app share: settings and the database behind them."""

    settings: Settings
    blobs: BlobStore
    nonces: NonceLedger
    database: str  # engine name, for the health answer
    pdc: Any = None  # the PDC platform role (crowdsense.services.pdc_routes.PdcRole), when configured
    edge: Any = None  # the edge's parameter generator (crowdsense.services.edge_routes.EdgeRole)
    anonymizer: Any = None  # the edge anonymizer (crowdsense.services.edge_routes.AnonymizerRole)
    ctbc: Any = None  # the CTBC platform role (crowdsense.services.ctbc_routes.CtbcRole)


router = APIRouter(prefix="/v1")


def _state(request: Request) -> ServiceState:
    return request.app.state.service  # type: ignore[no-any-return]


def _hash(text: str, what: str) -> str:
    if not _HASH.fullmatch(text):
        raise ApiError(400, f"{what} {text!r} is not a keccak256 hash: expected 0x and 64 hex digits")
    return text.lower()


def _address(text: str, what: str = "claimant") -> str:
    if not _ADDRESS.fullmatch(text):
        raise ApiError(400, f"{what} {text!r} is not an address: expected 0x and 40 hex digits")
    return text.lower()


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it is known to exceed ``limit`` bytes."""
    too_large = f"the body is larger than {limit} bytes: expected at most {limit} bytes (the service's limit)"
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(413, too_large)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, too_large)
        chunks.append(chunk)
    return b"".join(chunks)


async def authenticate(request: Request, state: ServiceState, body: bytes) -> SignedRequest:
    """Authenticate a signed request and record its nonce (a replay is refused: 401)."""
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    settings = state.settings
    signed = verify_request(request.headers, domain=settings.domain, method=request.method, path=path,
                            body=body, window=settings.timestamp_window)
    await run_in_threadpool(state.nonces.record, signed, window=settings.timestamp_window)
    return signed


async def _signed_write(request: Request, state: ServiceState, body: bytes) -> SignedRequest:
    """Authenticate a write and check the writer is allowed."""
    settings = state.settings
    signed = await authenticate(request, state, body)
    if settings.writers and signed.account not in settings.writers:
        raise ApiError(403, f"account {signed.account} may not write to this service: expected one of its "
                            f"{len(settings.writers)} configured writer(s)")
    return signed


def _stored(created: bool, **fields: Any) -> JSONResponse:
    return JSONResponse({**fields, "created": created}, status_code=201 if created else 200)


@router.get("/health", summary="Liveness and configuration")
async def health(request: Request) -> dict[str, Any]:
    state = _state(request)
    roles = ["blobs"] + [name for name in ("pdc", "ctbc", "edge", "anonymizer") if getattr(state, name) is not None]
    return {"status": "ok", "service": "crowdsense", "version": crowdsense.__version__,
            "domain": state.settings.domain, "database": state.database,
            "maxBlobBytes": state.settings.max_blob_bytes, "timestampWindow": state.settings.timestamp_window,
            "restrictedWriters": bool(state.settings.writers), "roles": roles}


@router.put("/blobs/{blob_hash}", summary="Store bytes under their keccak256 (signed)",
            openapi_extra=_BINARY_BODY, status_code=201, responses={200: {"description": "already stored"},
                                                                    **_WRITE_ERRORS})
async def put_blob(blob_hash: BlobHash, request: Request) -> JSONResponse:
    state = _state(request)
    name = _hash(blob_hash, "blob hash")
    body = await read_body(request, state.settings.max_blob_bytes)
    signed = await _signed_write(request, state, body)
    actual = "0x" + keccak(body).hex()
    if actual != name:
        raise ApiError(422, f"the body hashes to {actual}, not {name}: expected bytes whose keccak256 is the "
                            "hash in the path")
    created = await run_in_threadpool(state.blobs.put_blob, name, body, kind="ciphertext",
                                      writer=signed.account)
    return _stored(created, hash=name, size=len(body))


@router.get("/blobs/{blob_hash}", summary="Bytes stored under a hash", response_class=Response,
            responses={200: _BINARY, **_READ_ERRORS})
async def get_blob(blob_hash: BlobHash, request: Request) -> Response:
    name = _hash(blob_hash, "blob hash")
    store = _state(request).blobs
    data = store.cached(name)
    if data is None:
        data = await run_in_threadpool(store.get_blob, name)
    if data is None:
        raise ApiError(404, f"no blob {name} in this service: expected the hash of stored bytes "
                            "(is this the service the writer uses?)")
    return Response(data, media_type="application/octet-stream", headers={BLOB_HASH_HEADER: name})


@router.head("/blobs/{blob_hash}", summary="Whether a blob is stored", include_in_schema=False)
async def head_blob(blob_hash: BlobHash, request: Request) -> Response:
    name = _hash(blob_hash, "blob hash")
    found = await run_in_threadpool(_state(request).blobs.has_blob, name)
    return Response(status_code=200 if found else 404, headers={BLOB_HASH_HEADER: name})


@router.put("/envelopes/{subtask_hash}/{claimant}/{writer}",
            summary="Store the key envelope the signer writes for a claimant (signed)",
            openapi_extra=_BINARY_BODY, status_code=201,
            responses={200: {"description": "already stored"}, **_WRITE_ERRORS})
async def put_envelope(subtask_hash: SubtaskHash, claimant: Claimant, writer: Writer,
                       request: Request) -> JSONResponse:
    state = _state(request)
    subtask, who, by = _hash(subtask_hash, "subtask hash"), _address(claimant), _address(writer, "writer")
    body = await read_body(request, state.settings.max_blob_bytes)
    signed = await _signed_write(request, state, body)
    if signed.account.lower() != by:
        raise ApiError(403, f"account {signed.account} may not write envelopes filed under {by}: expected its "
                            "own address as the writer in the path")
    if not body:
        raise ApiError(422, "the envelope is empty: expected the key envelope's bytes")
    envelope_hash = "0x" + keccak(body).hex()
    try:
        created = await run_in_threadpool(state.blobs.put_envelope, subtask, who, envelope_hash, body,
                                          writer=signed.account)
    except EnvelopeConflictError as exc:
        raise ApiError(409, str(exc)) from None
    return _stored(created, subtaskHash=subtask, claimant=who, writer=by, envelopeHash=envelope_hash,
                   size=len(body))


@router.get("/envelopes/{subtask_hash}/{claimant}/{writer}", summary="A writer's key envelope for a claimant",
            response_class=Response, responses={200: _BINARY, **_READ_ERRORS})
async def get_envelope(subtask_hash: SubtaskHash, claimant: Claimant, writer: Writer, request: Request) -> Response:
    subtask, who, by = _hash(subtask_hash, "subtask hash"), _address(claimant), _address(writer, "writer")
    stored = await run_in_threadpool(_state(request).blobs.get_envelope, subtask, who, by)
    if stored is None:
        raise ApiError(404, f"no key envelope by {by} for subtask {subtask} and claimant {who}: "
                            "expected one after the releaser's hand-over")
    return Response(stored.data, media_type="application/octet-stream",
                    headers={BLOB_HASH_HEADER: stored.envelope_hash})


@router.head("/envelopes/{subtask_hash}/{claimant}/{writer}", include_in_schema=False)
async def head_envelope(subtask_hash: SubtaskHash, claimant: Claimant, writer: Writer,
                        request: Request) -> Response:
    subtask, who, by = _hash(subtask_hash, "subtask hash"), _address(claimant), _address(writer, "writer")
    stored = await run_in_threadpool(_state(request).blobs.get_envelope, subtask, who, by)
    return Response(status_code=200 if stored is not None else 404)
