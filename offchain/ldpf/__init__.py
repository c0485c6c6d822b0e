"""LDPF on a real chain: the CTBC and PDC rounds behind the client library.

:mod:`offchain.ctbc` and :mod:`offchain.pdc` implement the two location-privacy protocols
against pluggable boards and secret stores; this package plugs in the chain and the client:

* :mod:`~offchain.ldpf.boards` - the on-chain boards (``CommitmentVerifier`` through
  :class:`~offchain.client.verifier.CommitmentVerifierClient`, one signer per party) and the
  client :class:`~offchain.client.journal.Journal` as the secret store;
* :mod:`~offchain.ldpf.ctbc_round` - :func:`run_ctbc_round`, a whole CTBC round (popular region);
* :mod:`~offchain.ldpf.pdc_round` - :func:`run_pdc_round`, a whole PDC round (remote region);
* :mod:`~offchain.ldpf.scenario` - users and tasks in the synthetic city's regions;
* :mod:`~offchain.ldpf.txlog` - the record of what went on chain, and unchecked sends.

Example (a local Anvil with the contracts deployed)::

    from offchain.client import Journal, open_connection, simulation_signer
    from offchain.client.registration import fund_dev_accounts
    from offchain.ldpf import city_scenario, ctbc_setup, run_ctbc_round

    conn = open_connection("http://127.0.0.1:8545")
    setup = ctbc_setup(city_scenario(random_state=0), users=60, n_required=5, random_state=0)
    signers = [simulation_signer(f"ctbc-user-{i}") for i in range(60)]
    fund_dev_accounts(conn.w3, [s.address for s in signers], wei=10**18)
    result = run_ctbc_round(conn, setup.positions, setup.task, k=5, signers=signers,
                            journal=Journal(".crowdsense/journal.sqlite"))
    result.summary()["selected"]
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ChainBitBoard": "boards",
    "ChainBlindingBoard": "boards",
    "JournalSecretStore": "boards",
    "UnjournaledOpeningError": "boards",
    "CTBC_FAULTS": "ctbc_round",
    "CTBCRoundResult": "ctbc_round",
    "run_ctbc_round": "ctbc_round",
    "PDC_FAULTS": "pdc_round",
    "PDCRoundResult": "pdc_round",
    "run_pdc_round": "pdc_round",
    "CityScenario": "scenario",
    "city_scenario": "scenario",
    "ctbc_setup": "scenario",
    "pdc_setup": "scenario",
    "to_grid": "scenario",
    "TxLog": "txlog",
    "TxRecord": "txlog",
    "send_unchecked": "txlog",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'offchain.ldpf' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"offchain.ldpf.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
