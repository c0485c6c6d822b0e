"""``crowdsense ctbc ...`` and ``crowdsense pdc ...``: the LDPF rounds on chain from the command line.

    crowdsense ctbc round --users 200 --k 5 --n 10 [--absent 1 --tamper 1] [--json] [--audit FILE]
    crowdsense pdc round --receivers 10 --grid 100 --key-bits 2048 --n 3 [--liars 1] [--json]

Both simulate their parties on a local development chain (Anvil or Ganache: simulated
accounts are derived from public seeds and funded with ``anvil_setBalance``) against a deployed
``CommitmentVerifier`` (``crowdsense deploy`` first, or ``crowdsense demo``): users or receivers
in the synthetic city commit and reveal from their own accounts, openings journaled first
(``--journal``), and the platform matches off chain. The report goes to stdout (``--json`` for
machine output); ``--audit FILE`` also writes the round's secret material (mode 0600) for
privacy audits. Errors are one line on stderr with a non-zero exit code.
"""

from __future__ import annotations

import functools
import os
import warnings
from typing import Any, Callable

import click

from crowdsense.cli.clientctx import Session, emit, progress_bar
from crowdsense.errors import CrowdsenseError

__all__ = ["ctbc", "pdc"]

#: Balance given to every simulated account (1 ETH pays for thousands of commitments).
SIM_BALANCE_WEI = 10**18


def _round_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Connection, journal and output options of a round command; builds a Session."""
    names = ("rpc_url", "deployment", "journal_path", "sim_seed", "timeout", "retries", "receipt_timeout", "as_json")

    @functools.wraps(fn)
    def wrapper(**kwargs: Any) -> Any:
        values = {n: kwargs.pop(n) for n in names}
        session = Session(rpc_url=values["rpc_url"], keystore=None, password_file=None, dev_account=None, sim_node=None,
                          sim_seed=values["sim_seed"], journal_path=values["journal_path"], timeout=values["timeout"],
                          retries=values["retries"], receipt_timeout=values["receipt_timeout"],
                          as_json=values["as_json"], deployment=values["deployment"])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # reported in the summary instead (e.g. weak keys)
                return fn(session, **kwargs)
        except (CrowdsenseError, click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            if os.environ.get("CROWDSENSE_DEBUG"):
                raise
            from crowdsense.chain.errors import ClientError

            try:
                from web3.exceptions import Web3Exception
            except ImportError:  # pragma: no cover
                Web3Exception = ()  # type: ignore[assignment,misc]
            if isinstance(exc, (Web3Exception, OSError)):
                raise ClientError(f"{type(exc).__name__}: {exc}") from exc
            raise
        finally:
            session.close()

    options = [
        click.option("--rpc-url", envvar="CROWDSENSE_RPC_URL", default="http://127.0.0.1:8545", show_default=True,
                     help="JSON-RPC URL of a local development node ($CROWDSENSE_RPC_URL)."),
        click.option("--deployment", envvar="CROWDSENSE_DEPLOYMENT", type=click.Path(dir_okay=False), default=None,
                     help="Deployment file (default deployments/<chainId>.json; $CROWDSENSE_DEPLOYMENT)."),
        click.option("--journal", "journal_path", envvar="CROWDSENSE_JOURNAL", type=click.Path(dir_okay=False),
                     default=".crowdsense/journal.sqlite", show_default=True,
                     help="SQLite journal of the simulated parties' openings and transactions."),
        click.option("--sim-seed", default="crowdsense-simulation", show_default=True,
                     help="Seed of the simulated accounts."),
        click.option("--timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
                     help="Seconds per RPC request."),
        click.option("--retries", type=click.IntRange(min=0, max=20), default=4, show_default=True,
                     help="Retries of a failed RPC request (exponential back-off)."),
        click.option("--receipt-timeout", type=click.FloatRange(min=0.1), default=120.0, show_default=True,
                     help="Seconds to wait for each receipt."),
        click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout."),
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


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


@click.group(short_help="CTBC rounds (popular regions) on chain.")
def ctbc() -> None:
    """CTBC (coordinate transformation + bit commitment) for popular regions, on chain."""


@ctbc.command("round", short_help="Run one CTBC round with simulated users in a popular region.")
@click.option("--users", type=click.IntRange(min=2), default=100, show_default=True,
              help="Users of the popular region taking part (each commits on chain).")
@click.option("--k", "k", type=click.IntRange(min=2), default=5, show_default=True, help="Anonymity level k.")
@click.option("--n", "n_required", type=click.IntRange(min=1), default=10, show_default=True,
              help="Users the task needs (N).")
@click.option("--task-side", type=click.FloatRange(min=1.0), default=1000.0, show_default=True,
              help="Side of the task's square region of interest, in metres (doubled until its groups hold "
                   "N users plus the failing ones).")
@click.option("--region", "region_index", type=click.IntRange(min=0), default=0, show_default=True,
              help="Which popular region of the synthetic city (0 = densest).")
@click.option("--absent", type=click.IntRange(min=0), default=0, show_default=True,
              help="Make this many of the first users asked to reveal not answer (they are replaced).")
@click.option("--tamper", type=click.IntRange(min=0), default=0, show_default=True,
              help="Then make this many open a forged UD (the chain refuses it; they are replaced).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the simulation (city, users, task, the platform's random picks).")
@click.option("--workers", type=click.IntRange(1, 64), default=8, show_default=True,
              help="Threads sending the users' commitments.")
@click.option("--audit", "audit_path", type=click.Path(dir_okay=False), default=None,
              help="Also write the round's secret material (coordinates, parameters, openings) here, mode 0600.")
@_round_options
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


@click.group(short_help="PDC rounds (remote regions) on chain.")
def pdc() -> None:
    """PDC (Paillier distance computation with blinding commitments) for remote regions, on chain."""


@pdc.command("round", short_help="Run one PDC round with simulated receivers in a remote region.")
@click.option("--receivers", type=click.IntRange(min=1), default=10, show_default=True,
              help="Candidate receivers in the remote region (each commits and reveals on chain).")
@click.option("--grid", "grid_size", type=click.IntRange(2, 10_000), default=100, show_default=True,
              help="Grid points per axis over the region.")
@click.option("--key-bits", type=click.IntRange(min=128), default=2048, show_default=True,
              help="Paillier modulus length (1024 is accepted with a warning; below needs --insecure-test-key).")
@click.option("--insecure-test-key", is_flag=True, hidden=True,
              help="Allow Paillier keys below 1024 bits (tests only).")
@click.option("--r-bits", type=click.IntRange(16, 256), default=64, show_default=True,
              help="Bits of each receiver's blinding value r.")
@click.option("--n", "n_select", type=click.IntRange(min=1), default=3, show_default=True,
              help="Receivers the task needs (N nearest).")
@click.option("--max-distance", type=click.IntRange(min=0), default=None,
              help="Radius of the region of interest in grid steps (default: the whole grid).")
@click.option("--region", "region_index", type=click.IntRange(min=0), default=0, show_default=True,
              help="Which remote region of the synthetic city (0 = most remote).")
@click.option("--liars", type=click.IntRange(min=0), default=0, show_default=True,
              help="Make this many receivers reveal a false r to claim distance 0 (chain and platform refuse).")
@click.option("--absent", type=click.IntRange(min=0), default=0, show_default=True,
              help="Make this many receivers never reveal r.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the simulation (city, receivers, task).")
@click.option("--workers", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Threads running the receivers.")
@click.option("--audit", "audit_path", type=click.Path(dir_okay=False), default=None,
              help="Also write the round's secret material (locations, r, distances) here, mode 0600.")
@_round_options
def pdc_round(session: Session, receivers: int, grid_size: int, key_bits: int, insecure_test_key: bool, r_bits: int,
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
    setup = pdc_setup(scenario, receivers=receivers, grid=grid_size, random_state=seed + 2)
    signers = _simulated(session, "pdc-receiver", receivers)
    faults = {i: "liar" for i in range(liars)} | {liars + i: "absent" for i in range(absent)}
    bars = _Bars()
    try:
        result = run_pdc_round(session.conn, setup.locations, setup.centre, grid=grid_size, n_select=n_select,
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
