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

from offchain.client.accounts import Signer, dev_signer, load_keystore, signer_from_env, simulation_signer
from offchain.client.connection import Connection, connect, deploy_contracts, open_connection
from offchain.client.journal import Journal, SecretStore
from offchain.client.registry import TaskRegistryClient
from offchain.client.store import SubtaskStore
from offchain.client.tasks import TaskPlan, decompose
from offchain.client.txsend import TxResult, TxSender
from offchain.client.verifier import CommitmentVerifierClient

__all__ = [
    "Signer",
    "dev_signer",
    "load_keystore",
    "signer_from_env",
    "simulation_signer",
    "Connection",
    "connect",
    "deploy_contracts",
    "open_connection",
    "Journal",
    "SecretStore",
    "TaskRegistryClient",
    "SubtaskStore",
    "TaskPlan",
    "decompose",
    "TxResult",
    "TxSender",
    "CommitmentVerifierClient",
]
