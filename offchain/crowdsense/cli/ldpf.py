"""``crowdsense ctbc ...`` and ``crowdsense pdc ...``: the LDPF rounds on chain from the command line.

    crowdsense ctbc round --users 200 --k 5 --n 10 [--absent 1 --tamper 1] [--json] [--audit FILE]
    crowdsense pdc round --receivers 10 --grid 100 --key-bits 2048 --n 3 [--liars 1] [--json]

Both simulate their parties on a local development chain (Anvil or Ganache: simulated
accounts are derived from public seeds and funded through the node) against a deployed
``CommitmentVerifier`` (``crowdsense deploy`` first, or ``crowdsense demo``): users or receivers
in the synthetic city commit and reveal from their own accounts, openings journaled first
(``--journal``), and the platform matches off chain. The report goes to stdout (``--json`` for
machine output); ``--audit FILE`` also writes the round's secret material (mode 0600) for
privacy audits. Errors are one line on stderr with a non-zero exit code.
"""

from __future__ import annotations

from typing import Any

import click

from crowdsense.cli.clientctx import FiniteRange, Session, client_command, emit, progress_bar
from crowdsense.cli.runoptions import (
    count_option,
    audit_option,
    grid_option,
    insecure_test_key_option,
    k_option,
    key_bits_option,
    region_option,
    seed_option,
    workers_option,
)

__all__ = ["ctbc", "pdc"]

#: Balance given to every simulated account (1 ETH pays for thousands of commitments).
SIM_BALANCE_WEI = 10**18
#: The round commands' shared options: connection, deployment, journal and output; their parties
#: are simulated accounts (no account options); warnings (e.g. a weak test key) go to the summary.
_round_command = client_command(account=False, store=False, quiet_warnings=True)


def _simulated(session: Session, prefix: str, count: int) -> list[Any]:
    """Funded simulation accounts ``<prefix>-0..count-1`` (local development chains only)."""
    from crowdsense.chain.accounts import require_dev_chain, simulation_signer
    from crowdsense.chain.registration import fund_dev_accounts

    conn = session.conn
    require_dev_chain(conn.chain_id, "simulated users")
    signers = [simulation_signer(f"{prefix}-{i}", seed=session.sim_seed) for i in range(count)]
    fund_dev_accounts(conn.w3, [s.address for s in signers], wei=SIM_BALANCE_WEI, chain_id=conn.chain_id)
    return signers


class _Bars:
    """One progress bar per stage, on stderr."""

    def __init__(self) -> None:
        self.bars: dict[str, Any] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        bar = self.bars.get(stage)
        if bar is None:
            bar = self.bars[stage] = progress_bar(total, stage)
        bar.total = max(total, done)
        bar.n = done
        bar.refresh()

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


# ------------------------------------------------------------------------------ CTBC


@click.group(short_help="CTBC on chain: simulated rounds, or real parties over HTTP.")
def ctbc() -> None:
    """CTBC (coordinate transformation + bit commitment) for popular regions, on chain: `round`
    simulates every party; `keygen`, `join`, `commit`, `reveal`, `open` and `selection` are the
    commands of real parties on their own machines (docs/ctbc.md)."""


@ctbc.command("round", short_help="Run one CTBC round with simulated users in a popular region.")
@count_option("--users", "Users of the popular region taking part (each commits on chain).",
              default=100, minimum=2)
@k_option
@count_option("--n", "Users the task needs (N).", default=10, dest="n_required")
@click.option("--task-side", type=FiniteRange(min=1.0), default=1000.0, show_default=True,
              help="Side of the task's square region of interest, in metres (doubled until its groups hold "
                   "N users plus the failing ones).")
@region_option("popular", "densest")
@count_option("--absent", "Make this many of the first users asked to reveal not answer (they are replaced).",
              default=0, minimum=0)
@count_option("--tamper", "Then make this many open a forged UD (the chain refuses it; they are replaced).",
              default=0, minimum=0)
@seed_option("city, users, task, the platform's random picks")
@workers_option(8, "sending the users' commitments")
@audit_option("coordinates, parameters, openings")
@_round_command
def ctbc_round(session: Session, users: int, k: int, n_required: int, task_side: float, region_index: int,
               absent: int, tamper: int, seed: int, workers: int, audit_path: str | None) -> None:
    """Run one CTBC round: USERS users of a popular region of the synthetic city commit to their
    k-anonymous group centre on chain (transformed coordinates), the platform matches groups to a
    task near the region centre, and the N selected users reveal on chain; failed or missing
    reveals are replaced by the next candidate."""
    from crowdsense.runs.ctbc_round import run_ctbc_round
    from crowdsense.runs.report import format_ctbc, write_secret_json
    from crowdsense.runs.scenario import city_scenario, ctbc_setup

    if k > users:
        raise click.BadParameter(f"k = {k} exceeds the number of users {users}", param_hint="--k")
    scenario = city_scenario(population=max(1000, 6 * users), popular_index=region_index, random_state=seed)
    setup = ctbc_setup(scenario, users=users, n_required=n_required, task_side=task_side, k=k,
                       spare=absent + tamper,
                       random_state=seed + 1)
    signers = _simulated(session, "ctbc-user", users)
    bars = _Bars()
    try:
        result = run_ctbc_round(session.conn, setup.positions, setup.task, k=k, signers=signers,
                                journal=session.journal, asked_faults=["absent"] * absent + ["tamper"] * tamper,
                                random_state=seed, workers=workers, receipt_timeout=session.receipt_timeout,
                                progress=bars)
    finally:
        bars.close()
    summary = {"region": {"kind": "popular", "index": region_index, "density": round(scenario.popular_density, 2)},
               **result.summary()}
    if audit_path:
        write_secret_json(audit_path, {"ctbc": result.audit()})
        summary["audit"] = audit_path
    emit(session, summary, lambda: format_ctbc(summary)
         + f"\n  popular region {region_index}: {summary['region']['density']} users per km^2"
         + (f"\n  secret material written to {audit_path} (mode 0600)" if audit_path else ""))


# ------------------------------------------------------------------------------- PDC


@click.group(short_help="PDC on chain: simulated rounds, or real parties over HTTP.")
def pdc() -> None:
    """PDC (Paillier distance computation with blinding commitments) for remote regions, on chain:
    `round` simulates every party; `keygen`, `open`, `answer` and `answers` are the commands of
    real parties meeting at a platform service (`crowdsense service serve --pdc-key`)."""


@pdc.command("round", short_help="Run one PDC round with simulated receivers in a remote region.")
@count_option("--receivers", "Candidate receivers in the remote region (each commits and reveals on chain).",
              default=10)
@grid_option
@key_bits_option
@insecure_test_key_option
@click.option("--r-bits", type=click.IntRange(16, 128), default=64, show_default=True,
              help="Bits of each receiver's blinding value r (at most 128 with well-formedness proofs).")
@count_option("--n", "Receivers the task needs (N nearest).", default=3, dest="n_select")
@click.option("--max-distance", type=click.IntRange(min=0), default=None,
              help="Radius of the region of interest in grid steps (default: the whole grid).")
@region_option("remote", "most remote")
@count_option("--liars", "Make this many receivers reveal a false r to claim distance 0 (chain and platform refuse).",
              default=0, minimum=0)
@count_option("--absent", "Make this many receivers never reveal r.", default=0, minimum=0)
@seed_option("city, receivers, task")
@workers_option(4, "running the receivers")
@audit_option("locations, r, distances")
@_round_command
def pdc_round(session: Session, receivers: int, grid: int, key_bits: int, insecure_test_key: bool, r_bits: int,
              n_select: int, max_distance: int | None, region_index: int, liars: int, absent: int, seed: int,
              workers: int, audit_path: str | None) -> None:
    """Run one PDC round: the platform encrypts the task centre's encoding once (Paillier), each
    of RECEIVERS receivers in a remote region returns Enc(dist + r) and commits to r on chain,
    the platform decrypts s = dist + r, each receiver learns dist and reveals r on chain, and
    the platform accepts dist after checking the on-chain commitment. The N nearest are selected."""
    from crowdsense.runs.pdc_round import run_pdc_round
    from crowdsense.runs.report import format_pdc, write_secret_json
    from crowdsense.runs.scenario import city_scenario, pdc_setup

    if liars + absent > receivers:
        raise click.BadParameter(f"--liars {liars} + --absent {absent} exceed --receivers {receivers}")
    scenario = city_scenario(remote_index=region_index, random_state=seed)
    setup = pdc_setup(scenario, receivers=receivers, grid=grid, random_state=seed + 2)
    signers = _simulated(session, "pdc-receiver", receivers)
    faults = {i: "liar" for i in range(liars)} | {liars + i: "absent" for i in range(absent)}
    bars = _Bars()
    try:
        result = run_pdc_round(session.conn, setup.locations, setup.centre, grid=grid, n_select=n_select,
                               signers=signers, journal=session.journal, key_bits=key_bits,
                               allow_insecure=insecure_test_key, r_bits=r_bits, max_distance=max_distance,
                               faults=faults, random_state=seed, workers=workers,
                               receipt_timeout=session.receipt_timeout, positions=setup.positions,
                               centre_position=setup.centre_position, progress=bars)
    finally:
        bars.close()
    summary = {"region": {"kind": "remote", "index": region_index, "density": round(scenario.remote_density, 2),
                          "gridStepMetres": round(setup.step, 3)}, **result.summary()}
    if audit_path:
        write_secret_json(audit_path, {"pdc": result.audit()})
        summary["audit"] = audit_path
    emit(session, summary, lambda: format_pdc(summary)
         + f"\n  remote region {region_index}: {summary['region']['density']} users per km^2 in the city, "
           f"one grid step = {setup.step:.1f} m"
         + (f"\n  secret material written to {audit_path} (mode 0600)" if audit_path else ""))
