"""The crowdsense client: web3.py access to the deployed contracts, independent of brownie.

Typical use::

    from offchain.client import (Journal, SubtaskStore, TaskRegistryClient, load_keystore,
                                 open_connection)

    conn = open_connection("http://127.0.0.1:8545")          # verifies deployments/<chainId>.json
    me = load_keystore("alice.json", password)
    client = TaskRegistryClient(conn, me, journal=Journal(), store=SubtaskStore())
    for sub in client.open_subtasks():                         # subtasks of my level
        client.claim(sub.task_id, sub.index)

Modules: :mod:`~offchain.client.connection` (node + deployment), :mod:`~offchain.client.accounts`
(keys), :mod:`~offchain.client.journal` (durable secrets and intents),
:mod:`~offchain.client.txsend` (nonces, receipts, idempotent sends),
:mod:`~offchain.client.errors` (typed reverts), :mod:`~offchain.client.tasks` (decomposition and
the encryption scheme), :mod:`~offchain.client.store` (ciphertexts off chain),
:mod:`~offchain.client.registry` and :mod:`~offchain.client.verifier` (the two contracts).
"""

from __future__ import annotations

import importlib
from typing import Any

#: public name -> defining module; imported on first access so that light sub-modules (for
#: example ``offchain.client.batch`` in worker processes) do not pay for the whole client.
_EXPORTS = {
    "Signer": "accounts",
    "dev_signer": "accounts",
    "load_keystore": "accounts",
    "signer_from_env": "accounts",
    "simulation_signer": "accounts",
    "Connection": "connection",
    "connect": "connection",
    "deploy_contracts": "connection",
    "open_connection": "connection",
    "Journal": "journal",
    "SecretStore": "journal",
    "TaskRegistryClient": "registry",
    "SubtaskStore": "store",
    "TaskPlan": "tasks",
    "decompose": "tasks",
    "TxResult": "txsend",
    "TxSender": "txsend",
    "CommitmentVerifierClient": "verifier",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'offchain.client' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"offchain.client.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
