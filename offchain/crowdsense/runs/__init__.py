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

from crowdsense._lazy import lazy_exports

_EXPORTS = {
    "crowdsense.chain.boards": ("ChainCommitmentBoard", "JournalSecretStore", "UnjournaledOpeningError"),
    "crowdsense.runs.ctbc_round": ("CTBC_FAULTS", "CTBCRoundResult", "run_ctbc_round"),
    "crowdsense.runs.pdc_round": ("PDC_FAULTS", "PDCRoundResult", "run_pdc_round"),
    "crowdsense.runs.scenario": ("CityScenario", "city_scenario", "ctbc_setup", "pdc_setup", "to_grid"),
    "crowdsense.chain.txlog": ("TxLog", "send_unchecked"),
    "crowdsense.chain.txsend": ("TxRecord",),
}
__all__, __getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
