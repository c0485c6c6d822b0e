"""Options and state shared by the client commands of the CLI.

Every client command takes the same connection, account and storage options (each with an
environment variable, so a shell session sets them once; commands whose parties are simulated
leave out the account options)::

    --rpc-url URL          $CROWDSENSE_RPC_URL      node (default http://127.0.0.1:8545)
    --deployment FILE      $CROWDSENSE_DEPLOYMENT   deployment file (default <dir>/<chainId>.json, where
                                                    <dir> is $CROWDSENSE_DEPLOYMENTS or ./deployments)
    --keystore FILE        $CROWDSENSE_KEYSTORE     encrypted keystore; password from
                                                    --password-file, $CROWDSENSE_KEYSTORE_PASSWORD
                                                    or a hidden prompt
    (no option)            $CROWDSENSE_PRIVATE_KEY  hex private key, used when no keystore is given
    --dev-account N                                 Anvil/Hardhat test account N (local chains only)
    --sim-node ID                                   a simulated receiver's account (local chains only)
    --journal PATH         $CROWDSENSE_JOURNAL      SQLite journal (default .crowdsense/journal.sqlite)
    --store DIR|URL        $CROWDSENSE_STORE        ciphertext store: a folder (default .crowdsense/store)
                                                    or a service's http://host:port
    --timeout S, --retries N                        per-request timeout and retries (back-off)
    --json                                          machine-readable output on stdout

:class:`Session` builds the connection, signer, journal and clients lazily, so ``--help``
and commands that need no node stay fast. Errors of foreign libraries (web3, OS) are turned
into one-line :class:`~crowdsense.errors.CrowdsenseError` messages; set ``CROWDSENSE_DEBUG=1``
to see the traceback instead.
"""

from __future__ import annotations

import functools
import json
import math
import os
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import click

from crowdsense.errors import CrowdsenseError, InputError

__all__ = [
    "client_command",
    "translate_errors",
    "Session",
    "emit",
    "progress_bar",
    "parse_hash",
    "ChainInt",
    "FiniteRange",
    "UINT256",
    "UINT64",
    "read_password",
    "keystore_option",
    "password_option",
    "json_option",
]

ENV_PASSWORD = "CROWDSENSE_KEYSTORE_PASSWORD"


class ChainInt(click.IntRange):
    """An integer argument bound for a contract or the node: ``minimum..2**bits-1``, the range of
    a Solidity ``uint<bits>`` (task ids and indexes are uint256, block numbers and ages uint64).

    Checked while parsing, so a value the ABI encoder would refuse (with a dump of the ABI) is
    one usage error; ``--help`` and the error write the bound as ``2**256-1``, not 78 digits.
    """

    def __init__(self, bits: int, minimum: int = 0) -> None:
        super().__init__(min=minimum, max=2**bits - 1)
        self.bits = bits

    def _describe_range(self) -> str:
        return f"{self.min}..2**{self.bits}-1 (uint{self.bits})"


class FiniteRange(click.FloatRange):
    """click's FloatRange without ``nan`` and ``inf``, which it accepts (nan passes every
    comparison; inf any range without a maximum) and which make no timeout, amount or length."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value} is not a finite number: expected a number in {self._describe_range()}", param, ctx)
        return number


#: Task ids and subtask indexes (``uint256`` in TaskRegistry).
UINT256 = ChainInt(256)
#: Block numbers and CommitmentVerifier's ages (``uint64``).
UINT64 = ChainInt(64)


#: ``--keystore``, shared by the client commands and ``account address``.
keystore_option = click.option(
    "--keystore", envvar="CROWDSENSE_KEYSTORE", type=click.Path(dir_okay=False), default=None,
    help="Encrypted JSON keystore of the account ($CROWDSENSE_KEYSTORE); otherwise $CROWDSENSE_PRIVATE_KEY is used.")
#: ``--password-file``: the keystore password, without a terminal.
password_option = click.option(
    "--password-file", type=click.Path(dir_okay=False, exists=True), default=None,
    help=f"File whose first line is the keystore password (else ${ENV_PASSWORD} or a prompt).")
#: ``--json``: every command prints machine-readable output on request.
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")

#: The shared options by the name of their parameter, in the order ``--help`` lists them.
_SHARED: dict[str, Callable[[Any], Any]] = {
    "rpc_url": click.option("--rpc-url", envvar="CROWDSENSE_RPC_URL", default="http://127.0.0.1:8545",
                            show_default=True, help="JSON-RPC URL of the node ($CROWDSENSE_RPC_URL)."),
    "deployment": click.option("--deployment", envvar="CROWDSENSE_DEPLOYMENT", type=click.Path(dir_okay=False),
                               default=None, help="Deployment file (default deployments/<chainId>.json; "
                                                  "$CROWDSENSE_DEPLOYMENT, $CROWDSENSE_DEPLOYMENTS)."),
    "keystore": keystore_option,
    "password_file": password_option,
    "dev_account": click.option("--dev-account", type=click.IntRange(0, 2**31 - 1), default=None,
                                help="Use Anvil/Hardhat test account N (local development chains only)."),
    "sim_node": click.option("--sim-node", default=None, metavar="ID",
                             help="Act as the simulated receiver of graph node ID (local development chains only)."),
    "sim_seed": click.option("--sim-seed", default="crowdsense-simulation", show_default=True,
                             help="Seed of the simulated accounts."),
    "journal_path": click.option("--journal", "journal_path", envvar="CROWDSENSE_JOURNAL",
                                 type=click.Path(dir_okay=False), default=".crowdsense/journal.sqlite",
                                 show_default=True,
                                 help="Local SQLite journal of secrets and pending transactions ($CROWDSENSE_JOURNAL)."),
    "store_path": click.option("--store", "store_path", envvar="CROWDSENSE_STORE", type=click.Path(file_okay=False),
                               default=".crowdsense/store", show_default=True, metavar="DIR|URL",
                               help="Folder of subtask ciphertexts and key envelopes, or the URL "
                                    "http://host:port of a crowdsense service ($CROWDSENSE_STORE)."),
    "timeout": click.option("--timeout", type=FiniteRange(min=0.1), default=10.0, show_default=True,
                            help="Seconds per RPC request (transient failures are retried with back-off)."),
    "retries": click.option("--retries", type=click.IntRange(min=0, max=20), default=4, show_default=True,
                            help="Retries of a failed RPC request (exponential back-off from 0.2 s)."),
    "receipt_timeout": click.option("--receipt-timeout", type=FiniteRange(min=0.1), default=120.0,
                                    show_default=True, help="Seconds to wait for a transaction receipt."),
    "as_json": json_option,
}
_ACCOUNT = ("keystore", "password_file", "dev_account", "sim_node")


def read_password(password_file: str | None, prompt: str, *, confirm: bool = False) -> str:
    """A keystore password: the first line of ``password_file``, else ``$CROWDSENSE_KEYSTORE_PASSWORD``,
    else a hidden prompt on the terminal (asked twice when ``confirm``, for a new keystore).

    A password file holds at most 64 KiB (:data:`crowdsense.inputfile.PASSWORD_LIMIT`), so a
    wrong path such as ``/dev/zero`` fails at once; a byte order mark is not part of the password."""
    if password_file:
        from crowdsense.inputfile import PASSWORD_LIMIT, open_input_text

        with open_input_text(password_file, "password file", limit=PASSWORD_LIMIT) as fh:
            try:
                return fh.readline().rstrip("\r\n")
            except UnicodeDecodeError:
                raise InputError(f"password file {password_file} is not UTF-8 text: expected the password "
                                 "on its first line") from None
    env = os.environ.get(ENV_PASSWORD)
    if env is not None:
        return env
    if not _has_terminal():
        raise InputError(f"no keystore password and no terminal to ask for it: give --password-file FILE "
                         f"or set ${ENV_PASSWORD}")
    return click.prompt(prompt, hide_input=True, confirmation_prompt=confirm, err=True)


def _has_terminal() -> bool:
    """Whether a hidden prompt can reach the user: where :func:`getpass.getpass` asks (the
    controlling terminal, else a terminal on stdin). Without one, getpass would warn and read
    the password from stdin in clear, so :func:`read_password` refuses instead."""
    if sys.stdin is not None and sys.stdin.isatty():
        return True
    try:
        with open("/dev/tty", "rb"):
            return True
    except OSError:
        return False


@dataclass
class Session:
    """Lazily built client state for one command invocation."""

    rpc_url: str
    sim_seed: str
    timeout: float
    retries: int
    receipt_timeout: float
    as_json: bool
    journal_path: str = ".crowdsense/journal.sqlite"
    keystore: str | None = None
    password_file: str | None = None
    dev_account: int | None = None
    sim_node: str | None = None
    deployment: str | None = None
    store_path: str | None = None
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def _cached(self, name: str, make: Callable[[], Any]) -> Any:
        if name not in self._cache:
            self._cache[name] = make()
        return self._cache[name]

    @property
    def w3(self) -> Any:
        if "conn" in self._cache:
            return self._cache["conn"].w3

        def make() -> Any:
            from crowdsense.chain.connection import connect

            return connect(self.rpc_url, timeout=self.timeout, retries=self.retries)

        return self._cached("w3", make)

    @property
    def chain_id(self) -> int:
        return self._cached("chain_id", lambda: int(self.w3.eth.chain_id))

    @property
    def conn(self) -> Any:
        def make() -> Any:
            from crowdsense.chain.connection import open_connection

            conn = open_connection(self.rpc_url, self.deployment, timeout=self.timeout, retries=self.retries)
            self._cache["chain_id"] = conn.chain_id
            return conn

        return self._cached("conn", make)

    @property
    def signer(self) -> Any:
        """The account from --keystore, $CROWDSENSE_PRIVATE_KEY, --dev-account or --sim-node; or None."""

        def make() -> Any:
            from crowdsense.chain import accounts

            chosen = [n for n, v in (("--keystore", self.keystore), ("--dev-account", self.dev_account),
                                     ("--sim-node", self.sim_node)) if v is not None]
            if len(chosen) > 1:
                raise click.UsageError(f"give only one of {', '.join(chosen)}")
            if self.keystore:
                return accounts.load_keystore(self.keystore, read_password(self.password_file,
                                                                         f"Password for keystore {self.keystore}"))
            if self.dev_account is not None:
                accounts.require_dev_chain(self.chain_id, "--dev-account keys")
                return accounts.dev_signer(self.dev_account)
            if self.sim_node is not None:
                accounts.require_dev_chain(self.chain_id, "--sim-node accounts")
                return accounts.simulation_signer(self.sim_node, seed=self.sim_seed)
            return accounts.signer_from_env()

        return self._cached("signer", make)

    def require_signer(self) -> Any:
        signer = self.signer
        if signer is None:
            raise click.UsageError(
                "this command needs an account: --keystore FILE, $CROWDSENSE_PRIVATE_KEY, "
                "or --dev-account N on a local chain"
            )
        return signer

    @property
    def journal(self) -> Any:
        def make() -> Any:
            from crowdsense.chain.journal import LazyJournal

            return LazyJournal(self.journal_path)  # no file until something is written

        return self._cached("journal", make)

    @property
    def store(self) -> Any:
        def make() -> Any:
            from crowdsense.chain.store import SubtaskStore
            from crowdsense.services.subtask_store import ServiceSubtaskStore, is_service_url

            if is_service_url(self.store_path):  # a service shared over HTTP; writes signed by the account
                return ServiceSubtaskStore(str(self.store_path), self.signer, timeout=self.timeout,
                                           retries=self.retries)
            return SubtaskStore(self.store_path or ".crowdsense/store")

        return self._cached("store", make)

    def registry(self, *, account: bool = True) -> Any:
        """A TaskRegistryClient (with the account when ``account``)."""

        def make() -> Any:
            from crowdsense.chain.registry import TaskRegistryClient

            signer = self.require_signer() if account else self.signer
            return TaskRegistryClient(self.conn, signer, journal=self.journal, store=self.store,
                                      receipt_timeout=self.receipt_timeout)

        return self._cached(f"registry-{account}", make)

    def close(self) -> None:
        journal = self._cache.get("journal")
        if journal is not None:
            journal.close()


def _foreign_error(exc: BaseException) -> CrowdsenseError | None:
    """A one-line CrowdsenseError for errors of other libraries, or None to re-raise."""
    from crowdsense.chain.errors import ClientError

    try:
        from web3.exceptions import Web3Exception
    except ImportError:  # pragma: no cover
        Web3Exception = ()  # type: ignore[assignment,misc]
    if isinstance(exc, Web3Exception):
        return ClientError(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        return ClientError(f"{exc.strerror or exc}{where}")
    return None


def translate_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a command so that errors of other libraries (web3, OS) become one-line
    :class:`~crowdsense.errors.CrowdsenseError` messages; ``CROWDSENSE_DEBUG=1`` keeps the traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (CrowdsenseError, click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            if os.environ.get("CROWDSENSE_DEBUG"):
                raise
            translated = _foreign_error(exc)
            if translated is None:
                raise
            raise translated from exc

    return wrapper


def client_command(
    *, needs_deployment: bool = True, account: bool = True, store: bool = True, journal: bool = True,
    quiet_warnings: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate ``fn(session, **options)``: adds the shared options and builds the Session.

    ``account=False`` leaves out the account options (commands whose parties are simulated);
    ``store=False`` the ciphertext store; ``journal=False`` the journal (commands that keep no
    secret and send no transaction); ``quiet_warnings`` silences Python warnings for commands
    that report them in their summary instead (e.g. a weak test key).
    """
    names = [n for n in _SHARED
             if (account or n not in _ACCOUNT)
             and (needs_deployment or n not in ("deployment", "store_path"))
             and (store or n != "store_path")
             and (journal or n != "journal_path")]

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        @translate_errors
        def wrapper(**kwargs: Any) -> Any:
            session = Session(**{n: kwargs.pop(n) for n in names})
            try:
                with warnings.catch_warnings():
                    if quiet_warnings:
                        warnings.simplefilter("ignore")
                    return fn(session, **kwargs)
            finally:
                session.close()

        for name in reversed(names):
            wrapper = _SHARED[name](wrapper)
        return wrapper

    return decorate


def _jsonable(value: Any) -> Any:
    if hasattr(value, "to_json"):
        return value.to_json()
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def emit(out: Session | bool, data: Any, human: str | Callable[[], str]) -> None:
    """Print ``data`` as JSON (``--json`` of the session, or ``out`` itself when a flag) or the
    human-readable text, on stdout."""
    if out if isinstance(out, bool) else out.as_json:
        click.echo(json.dumps(_jsonable(data), indent=2, sort_keys=True))
    else:
        click.echo(human() if callable(human) else human)


def progress_bar(total: int, description: str) -> Any:
    """A tqdm bar on stderr (silent when stderr is not a terminal)."""
    from tqdm import tqdm

    return tqdm(total=total, desc=description, file=sys.stderr, disable=None, unit="", leave=False)


def parse_hash(text: str) -> bytes:
    """A 0x-prefixed 32-byte hex string -> bytes (click.BadParameter otherwise)."""
    raw = text.removeprefix("0x")
    try:
        value = bytes.fromhex(raw)
    except ValueError:
        raise click.BadParameter(f"not hex: {text!r}") from None
    if len(value) != 32:
        raise click.BadParameter(f"expected 32 bytes (64 hex characters), got {len(value)} bytes")
    return value
