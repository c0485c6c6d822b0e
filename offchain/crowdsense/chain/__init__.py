"""The crowdsense client: web3.py access to the deployed contracts, independent of brownie.

Typical use::

    from crowdsense.chain import (Journal, SubtaskStore, TaskRegistryClient, load_keystore,
                                 open_connection)

    conn = open_connection("http://127.0.0.1:8545")          # verifies deployments/<chainId>.json
    me = load_keystore("alice.json", password)
    client = TaskRegistryClient(conn, me, journal=Journal(), store=SubtaskStore())
    for sub in client.open_subtasks():                         # subtasks of my level
        client.claim(sub.task_id, sub.index)

Modules: :mod:`~crowdsense.chain.connection` (node + deployment), :mod:`~crowdsense.chain.accounts`
(keys), :mod:`~crowdsense.chain.journal` (durable secrets and intents),
:mod:`~crowdsense.chain.txsend` (nonces, receipts, idempotent sends),
:mod:`~crowdsense.chain.errors` (typed reverts), :mod:`~crowdsense.pmcb.tasks` (decomposition and
the encryption scheme), :mod:`~crowdsense.chain.store` (ciphertexts off chain),
:mod:`~crowdsense.chain.registry` and :mod:`~crowdsense.chain.verifier` (the two contracts).
"""

from __future__ import annotations

import importlib
from typing import Any

#: public name -> defining module; imported on first access so that light sub-modules (for
#: example ``crowdsense.chain.batch`` in worker processes) do not pay for the whole client.
_EXPORTS = {
    "Signer": "crowdsense.chain.accounts",
    "dev_signer": "crowdsense.chain.accounts",
    "load_keystore": "crowdsense.chain.accounts",
    "signer_from_env": "crowdsense.chain.accounts",
    "simulation_signer": "crowdsense.chain.accounts",
    "Connection": "crowdsense.chain.connection",
    "connect": "crowdsense.chain.connection",
    "deploy_contracts": "crowdsense.chain.connection",
    "open_connection": "crowdsense.chain.connection",
    "Journal": "crowdsense.chain.journal",
    "SecretStore": "crowdsense.chain.journal",
    "TaskRegistryClient": "crowdsense.chain.registry",
    "SubtaskStore": "crowdsense.chain.store",
    "TaskPlan": "crowdsense.pmcb.tasks",
    "decompose": "crowdsense.pmcb.tasks",
    "TxResult": "crowdsense.chain.txsend",
    "TxSender": "crowdsense.chain.txsend",
    "CommitmentVerifierClient": "crowdsense.chain.verifier",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'crowdsense.chain' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
