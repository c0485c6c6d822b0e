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
:mod:`~crowdsense.chain.contract` (what both contract clients share),
:mod:`~crowdsense.chain.errors` (typed reverts), :mod:`~crowdsense.pmcb.tasks` (decomposition and
the encryption scheme), :mod:`~crowdsense.chain.store` (ciphertexts off chain),
:mod:`~crowdsense.chain.registry` and :mod:`~crowdsense.chain.verifier` (the two contracts).
"""

from __future__ import annotations

from crowdsense._lazy import lazy_exports

#: defining module -> public names; each imported on first access so that light sub-modules (for
#: example ``crowdsense.chain.node`` in tools that only talk to the node) do not pay for web3
#: and the whole client.
_EXPORTS = {
    "crowdsense.chain.accounts": (
        "Signer", "dev_signer", "load_keystore", "signer_from_env", "simulation_signer",
    ),
    "crowdsense.chain.connection": ("Connection", "connect", "deploy_contracts", "open_connection"),
    "crowdsense.chain.journal": ("Journal", "SecretStore"),
    "crowdsense.chain.registry": ("TaskRegistryClient",),
    "crowdsense.chain.store": ("SubtaskStore",),
    "crowdsense.pmcb.tasks": ("TaskPlan", "decompose"),
    "crowdsense.chain.txsend": ("TxRecord", "TxSender"),
    "crowdsense.chain.verifier": ("CommitmentVerifierClient",),
}
__all__, __getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
