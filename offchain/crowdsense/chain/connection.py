"""Connecting to a node, checking the deployment against it, and deploying without brownie.

* :func:`connect` opens an HTTP(S) JSON-RPC connection with request timeouts and retries with
  exponential back-off (:class:`RetryingHTTPProvider`); an unreachable node is a
  :class:`~crowdsense.chain.errors.NodeUnavailableError` naming the URL, not a traceback.
* :func:`open_connection` also loads the deployment file (``deployments/<chainId>.json`` by
  default, see :mod:`crowdsense.chain.deployment`) and checks it: the chain id must match the node's
  and the code at each address must be the shipped contract's, otherwise
  :class:`~crowdsense.errors.DeploymentError` says which and what to do.
* :func:`deploy_contracts` deploys both contracts from the artifacts shipped in the package
  with plain web3 and writes the deployment file, so a user needs neither brownie nor a
  compiler. With a journal, its creation transactions are journaled intents like every other
  send: a rerun after a crash finishes the deployment instead of starting another.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Literal

import requests
from web3 import Web3
from web3.contract import Contract
from web3.providers.rpc import HTTPProvider
from web3.types import RPCEndpoint, RPCResponse

from crowdsense.chain.accounts import Signer
from crowdsense.chain.addresses import parse_address
from crowdsense.chain.errors import NodeUnavailableError
from crowdsense.chain.deployment import (
    CONTRACT_NAMES,
    ContractInfo,
    Deployment,
    deployment_path,
    load_abi,
    load_artifact,
    runtime_code_matches,
)
from crowdsense.errors import DeploymentError, InputError

if TYPE_CHECKING:
    from crowdsense.chain.journal import Journal
    from crowdsense.chain.txsend import TxRecord, TxSender

__all__ = [
    "DEFAULT_RPC_URL",
    "ENV_RPC_URL",
    "ENV_DEPLOYMENT",
    "RetryingHTTPProvider",
    "connect",
    "Connection",
    "open_connection",
    "verify_deployment",
    "DeployOutcome",
    "DeployResult",
    "deploy_contracts",
]

DEFAULT_RPC_URL = "http://127.0.0.1:8545"
ENV_RPC_URL = "CROWDSENSE_RPC_URL"
ENV_DEPLOYMENT = "CROWDSENSE_DEPLOYMENT"

#: HTTP statuses worth retrying: rate limiting and gateway/server hiccups.
TRANSIENT_HTTP = frozenset({429, 500, 502, 503, 504})
#: JSON-RPC error codes worth retrying (EIP-1474 "limit exceeded").
TRANSIENT_RPC = frozenset({-32005})


class RetryingHTTPProvider(HTTPProvider):
    """An HTTP provider that retries transient failures of *every* method with back-off.

    web3's own retry covers read methods only; here ``eth_sendRawTransaction`` is retried too,
    which is safe because the same signed bytes always have the same hash (a node that already
    has the transaction answers "already known", which the sender accepts).

    Parameters
    ----------
    endpoint_uri : str
        ``http://`` or ``https://`` URL.
    timeout : float
        Seconds per HTTP request.
    retries : int
        Extra attempts after the first; delays ``backoff * 2**i`` capped at ``max_backoff``.
    """

    def __init__(
        self,
        endpoint_uri: str,
        *,
        timeout: float = 10.0,
        retries: int = 4,
        backoff: float = 0.2,
        max_backoff: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        # The node's chain id is asked once: web3's validation asks it before and after every
        # call (two extra round trips and ~12 ms of client CPU per contract read), and a
        # connection's chain never changes (open_connection checked it against the deployment).
        super().__init__(endpoint_uri, request_kwargs={"timeout": timeout}, exception_retry_configuration=None,
                         cache_allowed_requests=True, cacheable_requests={RPCEndpoint("eth_chainId")})
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.retry_count = 0  # retries made so far (diagnostics)
        self._sleep = sleep

    def _delay(self, attempt: int) -> None:
        self.retry_count += 1
        self._sleep(min(self.max_backoff, self.backoff * 2**attempt))

    def _post(self, request_data: bytes) -> bytes:
        reason = "no attempt made"
        for attempt in range(self.retries + 1):
            try:
                return self._request_session_manager.make_post_request(
                    self.endpoint_uri, request_data, **self.get_request_kwargs()
                )
            except requests.Timeout:
                reason = f"no answer within {self.timeout:g} s"
            except requests.ConnectionError as exc:
                reason = f"connection failed ({type(exc).__name__})"
            except requests.HTTPError as exc:
                status = exc.response.status_code if exc.response is not None else None
                if status not in TRANSIENT_HTTP:
                    raise NodeUnavailableError(str(self.endpoint_uri), f"HTTP {status}") from None
                reason = f"HTTP {status}"
            if attempt < self.retries:
                self._delay(attempt)
        raise NodeUnavailableError(str(self.endpoint_uri), f"{reason} after {self.retries + 1} attempts")

    def _make_request(self, method: RPCEndpoint, request_data: bytes) -> bytes:
        return self._post(request_data)

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        for attempt in range(self.retries + 1):
            response = super().make_request(method, params)
            error = response.get("error") if isinstance(response, dict) else None
            if not (isinstance(error, dict) and error.get("code") in TRANSIENT_RPC) or attempt == self.retries:
                return response
            self._delay(attempt)
        return response  # pragma: no cover

    def make_batch_request(self, batch_requests: list[tuple[RPCEndpoint, Any]]) -> list[RPCResponse] | RPCResponse:
        from web3._utils.batching import sort_batch_response_by_response_ids

        raw = self._post(self.encode_batch_rpc_request(batch_requests))
        response = self.decode_rpc_response(raw)
        if not isinstance(response, list):
            return response
        return sort_batch_response_by_response_ids(response)  # type: ignore[arg-type]


def resolve_rpc_url(rpc_url: str | None = None) -> str:
    """The explicit URL, else ``$CROWDSENSE_RPC_URL``, else :data:`DEFAULT_RPC_URL`."""
    return rpc_url or os.environ.get(ENV_RPC_URL) or DEFAULT_RPC_URL


def connect(
    rpc_url: str | None = None,
    *,
    timeout: float = 10.0,
    retries: int = 4,
    backoff: float = 0.2,
) -> Web3:
    """A Web3 instance on ``rpc_url`` whose node answered ``eth_chainId``.

    Raises
    ------
    InputError
        The URL is not http(s).
    NodeUnavailableError
        The node did not answer (after the retries).
    """
    url = resolve_rpc_url(rpc_url)
    if not url.startswith(("http://", "https://")):
        raise InputError(f"RPC URL must start with http:// or https://, got {url!r}")
    if timeout <= 0:
        raise InputError(f"timeout must be > 0 seconds, got {timeout!r}")
    provider = RetryingHTTPProvider(url, timeout=timeout, retries=retries, backoff=backoff)
    w3 = Web3(provider)
    try:
        w3.eth.chain_id
    except NodeUnavailableError:
        raise
    except (ValueError, requests.RequestException) as exc:
        raise NodeUnavailableError(url, f"not a JSON-RPC endpoint ({type(exc).__name__})") from None
    return w3


@dataclass
class Connection:
    """A node plus a verified deployment: the two contracts ready to call."""

    w3: Web3
    rpc_url: str
    chain_id: int
    deployment: Deployment
    deployment_path: Path | None
    registry: Contract = field(repr=False)
    verifier: Contract = field(repr=False)

    @property
    def registry_address(self) -> str:
        return self.registry.address

    @property
    def verifier_address(self) -> str:
        return self.verifier.address


def _missing_deployment(path: Path, chain_id: int) -> DeploymentError:
    return DeploymentError(
        f"deployment file {path} not found (node chain id {chain_id}): deploy first with "
        "`crowdsense deploy` (or `brownie run scripts/deploy.py`), or pass --deployment FILE"
    )


def verify_deployment(w3: Web3, deployment: Deployment, *, path: Path | None = None, chain_id: int | None = None) -> None:
    """Check that ``deployment`` describes the shipped contracts on the node ``w3`` talks to.

    The code at each address must be the artifact's runtime code (see
    :func:`~crowdsense.chain.deployment.runtime_code_matches`): an address that holds another
    contract (a swapped entry, an older version, someone else's contract) is refused before any
    call could misread it.
    """
    where = f"deployment file {path}" if path else "the deployment"
    chain_id = int(w3.eth.chain_id) if chain_id is None else chain_id
    if deployment.chain_id != chain_id:
        raise DeploymentError(
            f"{where} is for chain id {deployment.chain_id}, but the node reports chain id {chain_id}: "
            "wrong --rpc-url or wrong --deployment file"
        )
    for name in CONTRACT_NAMES:
        address = deployment.address(name)
        code = bytes(w3.eth.get_code(parse_address(address, f"{where}: {name} address", error=DeploymentError)))
        if not code:
            raise DeploymentError(
                f"{where}: no contract code at {address} ({name}) on chain {chain_id}; the node was "
                "probably restarted or reset: deploy again"
            )
        if not runtime_code_matches(name, code):
            raise DeploymentError(
                f"{where}: the code at {address} is not the shipped {name} contract: expected the address "
                f"of a {name} deployed from this version's artifacts (`crowdsense deploy`)"
            )


def open_connection(
    rpc_url: str | None = None,
    deployment: str | Path | Deployment | None = None,
    *,
    timeout: float = 10.0,
    retries: int = 4,
    backoff: float = 0.2,
    directory: Path | None = None,
) -> Connection:
    """Connect, load the deployment file and verify it against the node.

    ``deployment`` is a path, a loaded :class:`Deployment`, or None for
    ``$CROWDSENSE_DEPLOYMENT`` or else ``<directory>/<chainId>.json`` (``$CROWDSENSE_DEPLOYMENTS``
    or ``./deployments`` by default).
    """
    url = resolve_rpc_url(rpc_url)
    w3 = connect(url, timeout=timeout, retries=retries, backoff=backoff)
    chain_id = int(w3.eth.chain_id)
    path: Path | None
    if isinstance(deployment, Deployment):
        dep, path = deployment, None
    else:
        env_path = os.environ.get(ENV_DEPLOYMENT)
        path = Path(deployment) if deployment else Path(env_path) if env_path else deployment_path(chain_id, directory)
        if not path.exists():
            raise _missing_deployment(path, chain_id)
        dep = Deployment.load(path)
    verify_deployment(w3, dep, path=path, chain_id=chain_id)
    registry = w3.eth.contract(address=Web3.to_checksum_address(dep.address("TaskRegistry")), abi=load_abi("TaskRegistry"))
    verifier = w3.eth.contract(
        address=Web3.to_checksum_address(dep.address("CommitmentVerifier")), abi=load_abi("CommitmentVerifier")
    )
    return Connection(w3=w3, rpc_url=url, chain_id=chain_id, deployment=dep, deployment_path=path,
                      registry=registry, verifier=verifier)


#: What a :func:`deploy_contracts` call did: sent every creation transaction itself, finished a
#: deployment interrupted earlier (some of them came from the journal), or found a finished one.
DeployOutcome = Literal["deployed", "resumed", "existing"]


@dataclass(frozen=True)
class DeployResult:
    """What :func:`deploy_contracts` did: the deployment, where it was written, the tx hashes."""

    deployment: Deployment
    path: Path | None
    tx_hashes: dict[str, str]
    outcome: DeployOutcome = "deployed"


def _deploy_options(account: Signer, num_levels: int, min_age: int, max_age: int,
                    role_holders: dict[str, str | None]) -> dict[str, Any]:
    """The checked constructor options of a deployment, as a deploy round records them."""
    if isinstance(num_levels, bool) or not isinstance(num_levels, int) or not 2 <= num_levels <= 255:
        raise InputError(f"num_levels must be an int in [2, 255], got {num_levels!r}")
    if not (isinstance(min_age, int) and isinstance(max_age, int) and 0 <= min_age <= max_age and max_age > 0):
        raise InputError(f"ages must satisfy 0 <= min_age <= max_age and max_age > 0, got {min_age!r}, {max_age!r}")
    roles = {role: parse_address(who or account.address, role) for role, who in role_holders.items()}
    return {"numLevels": num_levels, "minAge": min_age, "maxAge": max_age, **roles}


def _send_creations(w3: Web3, sender: "TxSender", options: dict[str, Any],
                    round_: "_DeployRound | None") -> dict[str, "TxRecord"]:
    """Send (or resume, within a journaled round) the two creation transactions."""
    results = {}
    for name, args in (
        ("TaskRegistry", (options["numLevels"], options["admin"], options["registrar"], options["releaser"])),
        ("CommitmentVerifier", (options["minAge"], options["maxAge"])),
    ):
        artifact = load_artifact(name)
        factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
        data = factory.constructor(*args).data_in_transaction
        results[name] = sender.send({"to": None, "data": data}, kind=f"deploy {name}",
                                    intent_id=round_.intent_id(name) if round_ else None)
    return results


def deploy_contracts(
    w3: Web3,
    account: Signer,
    num_levels: int,
    *,
    min_age: int = 0,
    max_age: int = 86400,
    admin: str | None = None,
    registrar: str | None = None,
    releaser: str | None = None,
    path: str | Path | None = None,
    directory: Path | None = None,
    network: str | None = None,
    write: bool = True,
    receipt_timeout: float = 120.0,
    journal: Journal | None = None,
    new: bool = False,
) -> DeployResult:
    """Deploy TaskRegistry and CommitmentVerifier from the shipped artifacts.

    With a ``journal`` (the CLI always gives one) a deployment is a numbered *round* of the
    account on the chain, and each creation transaction a journaled intent of that round:

    * a rerun after a crash finds the round unfinished and resumes its intents (a mined
      creation is taken from its receipt, a journaled one not yet mined is re-broadcast as the
      same signed bytes), sends only what is missing and then writes the deployment file;
    * a rerun after success sends nothing (``outcome == "existing"``) and writes the file of
      the recorded deployment; ``new=True`` starts the next round, i.e. another set of
      contracts, and is refused while the last round is unfinished (finish it first, or its
      pending transactions could still create contracts nobody knows of);
    * options that differ from the round's are refused rather than mixed into it.

    Parameters
    ----------
    w3 : Web3
        Connected node.
    account : Signer
        Deployer; pays gas and, unless given otherwise, gets all three roles.
    num_levels : int
        Number of security levels T (2..255).
    min_age, max_age : int
        CommitmentVerifier's opening window in seconds.
    admin, registrar, releaser : str, optional
        Role holders (default: the deployer).
    path, directory : optional
        Where to write the deployment file (default ``<deployments dir>/<chainId>.json``, see
        :func:`~crowdsense.chain.deployment.deployments_dir`).
    network : str, optional
        Name recorded in the file (default ``"chain-<id>"``).
    write : bool
        Write the deployment file (default True).
    journal : Journal, optional
        Makes the deployment resumable and idempotent, as above; without it every call deploys.
    new : bool
        Deploy another set although the journal records a finished one.
    """
    from crowdsense.chain.txsend import TxSender

    options = _deploy_options(account, num_levels, min_age, max_age,
                              {"admin": admin, "registrar": registrar, "releaser": releaser})
    chain_id = int(w3.eth.chain_id)
    sender = TxSender(w3, account, journal=journal, chain_id=chain_id, receipt_timeout=receipt_timeout)
    round_: _DeployRound | None = None
    if journal is not None:
        round_ = _DeployRound.open(journal, chain_id, account.address, options, new=new)
    if round_ is not None and round_.done:
        outcome: DeployOutcome = "existing"
        record = round_.record
        addresses, block_number, tx_hashes = record["contracts"], record["blockNumber"], record["txHashes"]
    else:
        results = _send_creations(w3, sender, options, round_)
        addresses = {name: str(res.contract_address) for name, res in results.items()}
        block_number = min(r.block_number for r in results.values())
        tx_hashes = {name: r.tx_hash for name, r in results.items()}
        resumed = round_ is not None and (round_.inherited or any(r.resumed for r in results.values()))
        outcome = "resumed" if resumed else "deployed"
        if round_ is not None:
            round_.finish(addresses, block_number, tx_hashes)
    deployment = Deployment(
        network=network or f"chain-{chain_id}",
        chain_id=chain_id,
        deployer=account.address,
        block_number=block_number,
        num_levels=num_levels,
        contracts={name: ContractInfo(address=address, abi_path=f"crowdsense/chain/artifacts/{name}.json")
                   for name, address in addresses.items()},
    )
    if outcome == "existing":
        try:
            verify_deployment(w3, deployment, chain_id=chain_id)
        except DeploymentError as exc:
            raise DeploymentError(f"the deployment recorded in the journal does not check out ({exc}): "
                                  "pass --new to deploy a new set") from None
    written: Path | None = None
    if write:
        target = Path(path) if path else deployment_path(chain_id, directory)
        written = deployment.save(target)
    return DeployResult(deployment, written, tx_hashes, outcome)


@dataclass
class _DeployRound:
    """One deployment of an account on a chain, as journaled: the secret
    ``deployment/<chainId>/<deployer>/<n>`` holds its options and, once finished, its contracts;
    its creation transactions are the intents ``deploy/<chainId>/<n>/<contract>/<deployer>``."""

    journal: Journal
    chain_id: int
    deployer: str
    number: int
    record: dict[str, Any]
    inherited: bool  # the round was started by an earlier (or a concurrent) run

    @property
    def key(self) -> str:
        return f"deployment/{self.chain_id}/{self.deployer}/{self.number}"

    @property
    def done(self) -> bool:
        return self.record.get("contracts") is not None

    def intent_id(self, contract: str) -> str:
        return f"deploy/{self.chain_id}/{self.number}/{contract}/{self.deployer}"

    @classmethod
    def open(cls, journal: Journal, chain_id: int, deployer: str, options: dict[str, Any], *,
             new: bool) -> "_DeployRound":
        """The round this call works on: the last one, or (none yet, or ``new``) the next."""
        prefix = f"deployment/{chain_id}/{deployer}/"
        numbers = sorted(int(k[len(prefix):]) for k in journal.keys(prefix) if k[len(prefix):].isdigit())
        if numbers:
            recorded = journal.get(f"{prefix}{numbers[-1]}") or {}
            last = cls(journal, chain_id, deployer, numbers[-1], recorded, True)
            if not last.done:
                last.check(options, "an interrupted deployment of this account on this chain has other "
                           "options", "run `crowdsense deploy` with those options to finish it")
                if new:
                    raise InputError(
                        f"the deployment started earlier from {deployer} on chain {chain_id} is not "
                        "finished: run `crowdsense deploy` without --new to finish it first"
                    )
                return last
            if not new:
                last.check(options, "this account has already deployed on this chain with other options",
                           "pass --new to deploy another set")
                return last
        number = (numbers[-1] if numbers else 0) + 1
        record, won = journal.put_first(f"{prefix}{number}", {"options": options, "contracts": None})
        round_ = cls(journal, chain_id, deployer, number, record, not won)
        round_.check(options, "a concurrent deployment of this account on this chain has other options",
                     "wait for it and rerun")
        return round_

    def check(self, options: dict[str, Any], problem: str, remedy: str) -> None:
        recorded = self.record.get("options")
        if recorded != options:
            shown = ", ".join(f"{k} {v}" for k, v in (recorded or {}).items())
            raise InputError(f"{problem} ({shown}; journal {self.journal.path}): {remedy}")

    def finish(self, contracts: dict[str, str], block_number: int, tx_hashes: dict[str, str]) -> None:
        self.record = {**self.record, "contracts": contracts, "blockNumber": block_number,
                       "txHashes": tx_hashes}
        self.journal.put(self.key, self.record)
