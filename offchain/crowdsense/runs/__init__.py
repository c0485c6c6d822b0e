"""LDPF on a real chain: the CTBC and PDC rounds behind the client library.

:mod:`crowdsense.ldpf.ctbc` and :mod:`crowdsense.ldpf.pdc` implement the two location-privacy protocols
against pluggable boards and secret stores; this package plugs in the chain and the client:

* :mod:`~crowdsense.chain.boards` - the on-chain boards (``CommitmentVerifier`` through
  :class:`~crowdsense.chain.verifier.CommitmentVerifierClient`, one signer per party) and the
  client :class:`~crowdsense.chain.journal.Journal` as the secret store;
* :mod:`~crowdsense.runs.ctbc_round` - :func:`run_ctbc_round`, a whole CTBC round (popular region);
* :mod:`~crowdsense.runs.pdc_round` - :func:`run_pdc_round`, a whole PDC round (remote region);
* :mod:`~crowdsense.runs.scenario` - users and tasks in the synthetic city's regions;
* :mod:`~crowdsense.chain.txlog` - the record of what went on chain, and unchecked sends.

Example (a local Anvil with the contracts deployed)::

    from crowdsense.chain import Journal, open_connection, simulation_signer
    from crowdsense.chain.registration import fund_dev_accounts
    from crowdsense.runs import city_scenario, ctbc_setup, run_ctbc_round

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
    "ChainBitBoard": "crowdsense.chain.boards",
    "ChainBlindingBoard": "crowdsense.chain.boards",
    "JournalSecretStore": "crowdsense.chain.boards",
    "UnjournaledOpeningError": "crowdsense.chain.boards",
    "CTBC_FAULTS": "crowdsense.runs.ctbc_round",
    "CTBCRoundResult": "crowdsense.runs.ctbc_round",
    "run_ctbc_round": "crowdsense.runs.ctbc_round",
    "PDC_FAULTS": "crowdsense.runs.pdc_round",
    "PDCRoundResult": "crowdsense.runs.pdc_round",
    "run_pdc_round": "crowdsense.runs.pdc_round",
    "CityScenario": "crowdsense.runs.scenario",
    "city_scenario": "crowdsense.runs.scenario",
    "ctbc_setup": "crowdsense.runs.scenario",
    "pdc_setup": "crowdsense.runs.scenario",
    "to_grid": "crowdsense.runs.scenario",
    "TxLog": "crowdsense.chain.txlog",
    "TxRecord": "crowdsense.chain.txlog",
    "send_unchecked": "crowdsense.chain.txlog",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'crowdsense.runs' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
