"""CLI of the services: ``crowdsense service serve`` runs the blob store over HTTP, and the roles given.

The service keeps subtask ciphertexts and key envelopes for parties on different machines;
``crowdsense release / handover / fetch --store http://host:port`` use it instead of a shared
folder. See :mod:`crowdsense.services` and docs/services.md.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import click

from crowdsense.cli.clientctx import FiniteRange, translate_errors
from crowdsense.cli.runoptions import insecure_test_key_option
from crowdsense.errors import InputError
from crowdsense.services.settings import (
    DEFAULT_DATABASE_URL,
    DEFAULT_MAX_BLOB_BYTES,
    DEFAULT_TIMESTAMP_WINDOW,
    MAX_BLOB_BYTES_LIMIT,
    MAX_TIMESTAMP_WINDOW,
)

__all__ = ["service", "serve"]

_LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def _on_command_line(name: str) -> bool:
    """Whether the option of parameter ``name`` was given on the command line (not by the environment)."""
    from click.core import ParameterSource

    return click.get_current_context().get_parameter_source(name) == ParameterSource.COMMANDLINE


def _all_interfaces(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


@click.group(short_help="Run a service over HTTP: blob store, PDC and CTBC platforms, edge.")
def service() -> None:
    """Services that parties on different machines talk to over HTTP."""


@service.command(short_help="Serve the blob store of subtask ciphertexts and key envelopes.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8600, show_default=True,
              help="TCP port to listen on.")
@click.option("--database-url", envvar="CROWDSENSE_DATABASE_URL", default=DEFAULT_DATABASE_URL,
              show_default=True, help="sqlite:///PATH or postgresql://user:password@host:port/db "
                                      "($CROWDSENSE_DATABASE_URL).")
@click.option("--domain", envvar="CROWDSENSE_SERVICE_DOMAIN", default=None,
              help="The service's name in signed requests: the host:port clients put in their URL "
                   "(default HOST:PORT; $CROWDSENSE_SERVICE_DOMAIN).")
@click.option("--writer", "writers", multiple=True, envvar="CROWDSENSE_SERVICE_WRITERS", metavar="ADDRESS",
              help="Only this account may write (repeat for several; default: any account that signs; "
                   "$CROWDSENSE_SERVICE_WRITERS).")
@click.option("--max-blob-bytes", type=click.IntRange(1, MAX_BLOB_BYTES_LIMIT),
              default=DEFAULT_MAX_BLOB_BYTES, show_default=True, help="Largest blob or envelope accepted.")
@click.option("--timestamp-window", type=click.IntRange(1, MAX_TIMESTAMP_WINDOW),
              default=DEFAULT_TIMESTAMP_WINDOW, show_default=True,
              help="Seconds a signed request stays valid either side of this server's clock.")
@click.option("--graceful-timeout", type=FiniteRange(min=0.0, max=3600.0), default=10.0, show_default=True,
              help="Seconds to let requests in progress finish on SIGINT/SIGTERM.")
@click.option("--workers", type=click.IntRange(1, 64), envvar="CROWDSENSE_SERVICE_WORKERS", default=1,
              show_default=True,
              help="Server processes sharing the port and the database: the PDC platform's cryptography "
                   "uses one core per process ($CROWDSENSE_SERVICE_WORKERS).")
@click.option("--log-level", type=click.Choice(_LOG_LEVELS), default="info", show_default=True,
              help="Server log level on stderr (debug also logs every request).")
@click.option("--pdc-key", type=click.Path(dir_okay=False), envvar="CROWDSENSE_PDC_KEY", default=None,
              help="Also be the PDC platform, with this Paillier key file (`crowdsense pdc keygen`; "
                   "$CROWDSENSE_PDC_KEY).")
@click.option("--pdc-operator", envvar="CROWDSENSE_PDC_OPERATOR", default=None, metavar="ADDRESS",
              help="The account that opens PDC tasks and reads their answers ($CROWDSENSE_PDC_OPERATOR).")
@click.option("--rpc-url", envvar="CROWDSENSE_RPC_URL", default=None,
              help="With --pdc-key or --ctbc-key: the node whose CommitmentVerifier holds the parties' commitments "
                   "(default http://127.0.0.1:8545).")
@click.option("--deployment", envvar="CROWDSENSE_DEPLOYMENT", type=click.Path(dir_okay=False), default=None,
              help="With --pdc-key or --ctbc-key: the deployment file (default deployments/<chainId>.json).")
@click.option("--ctbc-key", type=click.Path(dir_okay=False), envvar="CROWDSENSE_CTBC_KEY", default=None,
              help="Also be the CTBC platform, with this key file (`crowdsense ctbc keygen`; $CROWDSENSE_CTBC_KEY).")
@click.option("--ctbc-operator", envvar="CROWDSENSE_CTBC_OPERATOR", default=None, metavar="ADDRESS",
              help="The account that opens CTBC tasks and reads their selections ($CROWDSENSE_CTBC_OPERATOR).")
@click.option("--edge-operator", envvar="CROWDSENSE_EDGE_OPERATOR", default=None, metavar="ADDRESS",
              help="Also be the edge's parameter generator, run by this account ($CROWDSENSE_EDGE_OPERATOR).")
@click.option("--anonymizer-operator", envvar="CROWDSENSE_ANONYMIZER_OPERATOR", default=None, metavar="ADDRESS",
              help="Also be the edge anonymizer, run by this account ($CROWDSENSE_ANONYMIZER_OPERATOR); "
                   "never in the same service as --edge-operator.")
@insecure_test_key_option
@translate_errors
def serve(host: str, port: int, database_url: str, domain: str | None, writers: tuple[str, ...],
          max_blob_bytes: int, timestamp_window: int, graceful_timeout: float, workers: int, log_level: str,
          pdc_key: str | None, pdc_operator: str | None, rpc_url: str | None, deployment: str | None,
          ctbc_key: str | None, ctbc_operator: str | None, edge_operator: str | None,
          anonymizer_operator: str | None, insecure_test_key: bool) -> None:
    """Serve the blob store, and each role given (PDC or CTBC platform, edge parameter generator or
    anonymizer), until SIGINT or SIGTERM.

    Reads (GET /v1/blobs/HASH, GET /v1/envelopes/SUBTASK/CLAIMANT/WRITER) are public: they return
    ciphertexts only their readers can open. Writes are signed with the writer's Ethereum key;
    a request is valid once, within --timestamp-window seconds. The database (SQLite by
    default, PostgreSQL when --database-url says so) is created on first start; a restarted
    service keeps everything it acknowledged. With --workers N, N processes share the port and the
    database (each request is served by one of them). The OpenAPI schema is at /openapi.json.
    """
    from crowdsense.services.app import create_app, listen, serve as run
    from crowdsense.services.db import redacted_url
    from crowdsense.services.settings import Settings

    if domain is None:
        if _all_interfaces(host):
            raise InputError(f"--host {host} listens on every interface, so clients' URLs name another host: "
                             "expected --domain HOST:PORT as the clients write it")
        domain = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    settings = Settings(database_url=database_url, domain=domain, max_blob_bytes=max_blob_bytes,
                        timestamp_window=timestamp_window, writers=frozenset(writers))
    pdc = ctbc = None
    given = [f"--{n.replace('_', '-')}" for n in ("rpc_url", "deployment") if _on_command_line(n)]
    if pdc_key is None and ctbc_key is None and given:  # (from the environment: a shell's settings for all)
        one = len(given) == 1
        raise click.UsageError(f"{' and '.join(given)} {'is an option' if one else 'are options'} of the PDC "
                               f"and CTBC platforms: expected {'it' if one else 'them'} with --pdc-key or --ctbc-key")
    if edge_operator is not None and anonymizer_operator is not None:
        raise click.UsageError("--edge-operator and --anonymizer-operator in one service would hold both the "
                               "transform and the transformed positions, so real positions: expected two services "
                               "run by different parties")
    if ctbc_key is not None or ctbc_operator is not None:
        if ctbc_key is None or ctbc_operator is None:
            raise click.UsageError("--ctbc-key and --ctbc-operator go together: the platform's key and the account "
                                   "that opens its tasks")
        from crowdsense.services.ctbc_routes import CtbcConfig

        ctbc = CtbcConfig(ctbc_key, ctbc_operator, rpc_url=rpc_url, deployment=deployment)
    if pdc_key is not None or pdc_operator is not None:
        if pdc_key is None or pdc_operator is None:
            raise click.UsageError("--pdc-key and --pdc-operator go together: the platform's key and the account "
                                   "that opens its tasks")
        from crowdsense.services.pdc_routes import PdcConfig

        pdc = PdcConfig(pdc_key, pdc_operator, rpc_url=rpc_url, deployment=deployment,
                        allow_insecure_key=insecure_test_key)
    app = create_app(settings, pdc=pdc, ctbc=ctbc, edge=edge_operator, anonymizer=anonymizer_operator)
    sock = listen(host, port)
    writers = ", ".join(sorted(settings.writers)) if settings.writers else "any account that signs"
    state = app.state.service
    role = "".join(f", {name} (operator {r.operator})" for name, r in (
        ("PDC platform", state.pdc), ("CTBC platform", state.ctbc), ("edge parameter generator", state.edge),
        ("edge anonymizer", state.anonymizer)) if r is not None)
    processes = f", {workers} worker processes" if workers > 1 else ""
    click.echo(f"crowdsense service on http://{domain} (listening on {host}:{port}), database "
               f"{redacted_url(settings.database_url)}, writers: {writers}{role}{processes}", err=True)
    if workers == 1:
        run(app, sock, log_level=log_level, timeout_graceful_shutdown=graceful_timeout)
        return
    from crowdsense.services.workers import serve_workers

    # The app above proved the configuration; each worker builds its own (nothing open crosses a fork).
    state.blobs.engine.dispose()
    del app, state

    def build() -> Any:
        return create_app(settings, pdc=pdc, ctbc=ctbc, edge=edge_operator, anonymizer=anonymizer_operator)

    serve_workers(build, sock, workers, log_level=log_level, timeout_graceful_shutdown=graceful_timeout)
