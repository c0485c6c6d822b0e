"""The service process: a FastAPI app over one database, served by uvicorn.

:func:`create_app` builds the app from :class:`~crowdsense.services.settings.Settings` (the
database is opened and its tables created right away, so a wrong URL fails at start, not at
the first request); :func:`serve` runs it on a socket it binds first, so a port in use is one
error line rather than a log and an exit from inside the server.

Every error is JSON ``{"error": "<what was wrong>: <what is expected>"}`` with its status,
unknown paths and methods included; an unexpected failure is a 500 with the same shape and no
traceback (the traceback goes to the server's log). The OpenAPI schema is at ``/openapi.json``.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from eth_utils import is_hex_address, to_checksum_address
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.routing import Match

import crowdsense
from crowdsense.errors import InputError, ToolchainError
from crowdsense.services.auth import AuthenticationError
from crowdsense.services.blobs import BlobStore
from crowdsense.services.db import open_database
from crowdsense.services.ctbc_ledger import AnonymizerLedger, CtbcLedger, EdgeLedger
from crowdsense.services.ctbc_routes import CtbcConfig
from crowdsense.services.ctbc_routes import router as ctbc_router
from crowdsense.services.edge_routes import AnonymizerRole, EdgeRole, anonymizer_router, edge_router
from crowdsense.services.pdc_ledger import SqlLedger
from crowdsense.services.pdc_routes import PdcConfig
from crowdsense.services.pdc_routes import router as pdc_router
from crowdsense.services.replay import NonceLedger
from crowdsense.services.routes import ApiError, ServiceState, router
from crowdsense.services.settings import Settings

__all__ = ["create_app", "serve", "listen"]

_log = logging.getLogger("crowdsense.services")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return _error(exc.status, exc.message)


async def _auth_error(request: Request, exc: Exception) -> JSONResponse:
    return _error(401, str(exc))


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    return _error(404, f"no endpoint {request.method} {request.url.path}: "
                       "expected a path listed in /openapi.json")


async def _method_not_allowed(request: Request, exc: Exception) -> JSONResponse:
    response = _error(405, f"{request.method} is not allowed on {request.url.path}: "
                           "expected a method listed for it in /openapi.json")
    response.headers["Allow"] = ", ".join(_allowed_methods(request))  # RFC 9110
    return response


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at the request's path (Starlette's own 405 names only
    those of the first route that matched the path, one method in ours)."""
    methods: set[str] = set()
    routes = list(request.app.router.routes)
    while routes:
        route = routes.pop()
        included = getattr(route, "original_router", None)  # a router included in the app
        if included is not None:
            routes.extend(included.routes)
        elif route.matches(request.scope)[0] is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    return _error(400, f"malformed request to {request.url.path}: expected the parameters of /openapi.json")


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    _log.exception("unexpected error serving %s %s", request.method, request.url.path)
    return _error(500, f"internal error ({type(exc).__name__}): expected none; see the service's log")


def _operator(value: str | None, option: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not is_hex_address(value):
        raise InputError(f"{option} {value!r} is not an address: expected 0x and 40 hex digits")
    return str(to_checksum_address(value))


def create_app(settings: Settings | None = None, *, pdc: PdcConfig | None = None, edge: str | None = None,
               anonymizer: str | None = None, ctbc: CtbcConfig | None = None) -> FastAPI:
    """The service app over ``settings`` (default :meth:`Settings.from_env`), with the roles given:
    ``pdc`` the PDC platform (:mod:`crowdsense.services.pdc_routes`), ``edge`` and ``anonymizer``
    the operators of the edge's parameter generator and of its anonymizer
    (:mod:`crowdsense.services.edge_routes`), ``ctbc`` the CTBC platform
    (:mod:`crowdsense.services.ctbc_routes`).

    Raises
    ------
    InputError, ToolchainError
        The database URL is malformed, or the database cannot be opened; a role's key, operator or
        chain is not usable.
    """
    settings = Settings.from_env() if settings is None else settings
    if not isinstance(settings, Settings):
        raise InputError(f"settings must be a Settings, got {type(settings).__name__}")
    # every role checked before the database: a refused start writes nothing
    edge, anonymizer = _operator(edge, "--edge-operator"), _operator(anonymizer, "--anonymizer-operator")
    loaded = None if pdc is None else pdc.load()
    ctbc_loaded = None if ctbc is None else ctbc.load()
    engine = open_database(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        title="crowdsense service",
        version=crowdsense.__version__,
        summary="Content-addressed store of subtask ciphertexts and key envelopes; the PDC and CTBC platforms "
                "and the edge layer, each when configured; requests signed by Ethereum keys.",
        lifespan=lifespan,
        exception_handlers={
            ApiError: _api_error,
            AuthenticationError: _auth_error,
            RequestValidationError: _invalid,
            404: _not_found,
            405: _method_not_allowed,
            500: _unexpected,
            Exception: _unexpected,
        },
    )
    role = None if pdc is None or loaded is None else pdc.role(SqlLedger(engine), loaded)
    app.state.service = ServiceState(
        settings, BlobStore(engine), NonceLedger(engine), engine.dialect.name, role,
        edge=None if edge is None else EdgeRole(EdgeLedger(engine), edge),
        anonymizer=None if anonymizer is None else AnonymizerRole(AnonymizerLedger(engine), anonymizer),
        ctbc=None if ctbc is None or ctbc_loaded is None else ctbc.role(CtbcLedger(engine), ctbc_loaded))
    for each in (router, pdc_router, edge_router, anonymizer_router, ctbc_router):
        app.include_router(each)
    return app


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (IPv4 or IPv6).

    Raises :class:`~crowdsense.errors.ToolchainError` naming the address when it cannot be bound."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise InputError(f"cannot resolve host {host!r} ({exc.strerror}): expected an address or host name "
                         "of this machine") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise ToolchainError(f"cannot listen on {host}:{port} ({exc.strerror or exc}): expected a free port "
                             "(--port) on an address of this machine (--host)") from None
    sock.set_inheritable(True)
    return sock


def serve(app: FastAPI, sock: socket.socket, *, log_level: str = "info", **options: Any) -> None:
    """Serve ``app`` on the bound ``sock`` until SIGINT or SIGTERM (a graceful stop)."""
    config = uvicorn.Config(app, log_level=log_level, access_log=log_level == "debug", ws="none", **options)
    uvicorn.Server(config).run(sockets=[sock])
