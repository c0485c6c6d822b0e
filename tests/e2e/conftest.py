"""Fixtures of the end-to-end tests: a deployment, funded simulated parties, small inputs.

The node (``node_url``, ``unused_port``), the CLI runner (``run_cli``) and ``python_subprocess``
are the shared ones of ``tests/conftest.py``. Contracts are deployed with the client's
:func:`~crowdsense.chain.connection.deploy_contracts` once per module. Paillier keys are made
once per session, small (``allow_insecure``) for the library tests; the CLI tests use 1024 bits,
the shortest length the CLI accepts without its hidden test flag.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest

NUM_LEVELS = 3


@pytest.fixture()
def unused_url(unused_port: int) -> str:
    """The URL of a port nothing listens on (a node that is down)."""
    return f"http://127.0.0.1:{unused_port}"


@pytest.fixture(scope="session")
def chain_at() -> Callable[[Any], Any]:
    """``chain_at(demo_result)``: a verified connection to the demo run's deployment."""
    from crowdsense.chain.connection import open_connection

    return lambda result: open_connection(result.summary["chain"]["rpcUrl"], result.summary["chain"]["deployment"],
                                          retries=1, backoff=0.05)


@dataclass
class Chain:
    """One deployment: its connection and the file that describes it."""

    url: str
    conn: Any
    deployment_path: Path
    tmp: Path

    def journal(self, name: str) -> Any:
        from crowdsense.chain.journal import Journal

        return Journal(self.tmp / f"{name}.sqlite")

    def signers(self, prefix: str, count: int) -> list[Any]:
        """``count`` funded simulation accounts (distinct per prefix)."""
        from crowdsense.chain.accounts import simulation_signer
        from crowdsense.chain.registration import fund_dev_accounts

        signers = [simulation_signer(f"{prefix}-{i}", seed="e2e-tests") for i in range(count)]
        fund_dev_accounts(self.conn.w3, [s.address for s in signers], wei=10**18)
        return signers

    def nonce(self, address: str) -> int:
        return int(self.conn.w3.eth.get_transaction_count(address))


@pytest.fixture(scope="module")
def deployed(node_url: str, tmp_path_factory: pytest.TempPathFactory) -> Chain:
    """A fresh deployment per module (T = 3, admin = registrar = releaser = dev account 0).

    Named ``deployed`` rather than ``chain``, which is brownie's own fixture under ``brownie test``.
    """
    from crowdsense.chain.accounts import dev_signer
    from crowdsense.chain.connection import connect, deploy_contracts, open_connection

    tmp = tmp_path_factory.mktemp("e2e")
    path = tmp / "deployment.json"
    deploy_contracts(connect(node_url, retries=1, backoff=0.05), dev_signer(0), NUM_LEVELS, path=path)
    return Chain(node_url, open_connection(node_url, path, retries=1, backoff=0.05), path, tmp)


@pytest.fixture(scope="session")
def small_paillier_key() -> Any:
    """A 512-bit Paillier private key (tests only: allow_insecure)."""
    from crowdsense.ldpf.pdc.keys import generate_keypair

    return generate_keypair(512, allow_insecure=True)[1]


@pytest.fixture(scope="session")
def small_graph(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 77-node social graph (Les Miserables co-appearances) as a SNAP edge list."""
    import networkx as nx

    g = nx.convert_node_labels_to_integers(nx.les_miserables_graph())
    path = tmp_path_factory.mktemp("graph") / "lesmis.txt"
    path.write_text("# Les Miserables co-appearance graph\n" + "".join(f"{u} {v}\n" for u, v in g.edges()))
    return path
