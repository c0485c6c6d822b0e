"""``crowdsense demo``: the main job (PMCB + LDPF end to end on a local chain); see :mod:`crowdsense.runs.demo`.

    crowdsense demo                      # attach to 127.0.0.1:8545 or start Anvil there
    crowdsense demo --node ganache       # ... or start Ganache there
    crowdsense demo --rpc-url URL        # an existing local development node
    crowdsense demo --tasks 6 --receivers 60 --key-bits 3072 --out out/big --json

Progress lines go to stderr; the summary table (or ``--json``) to stdout; files to ``--out``.
"""

from __future__ import annotations

import importlib.util
import json
from typing import Any

import click

from crowdsense.cli.classify import parse_betweenness
from crowdsense.cli.clientctx import json_option, translate_errors
from crowdsense.cli.runoptions import (
    count_option,
    grid_option,
    insecure_test_key_option,
    k_option,
    key_bits_option,
    seed_option,
    workers_option,
)

__all__ = ["demo", "build_options", "options_from_args"]


def _can_plot() -> bool:
    """Whether matplotlib is installed (the ``plots`` extra); says so on stderr when it is not."""
    if importlib.util.find_spec("matplotlib") is not None:
        return True
    click.echo("warning: matplotlib is not installed, so the demo writes no plots "
               "(pip install 'crowdsense[plots]' adds them)", err=True)
    return False


def build_options(params: dict[str, Any]) -> Any:
    """A :class:`~crowdsense.runs.demo.DemoOptions` from the command's parameters (``as_json`` excluded)."""
    from pathlib import Path

    from crowdsense.runs.demo import DEFAULT_GRAPH, DemoOptions

    p = dict(params)
    p.pop("as_json", None)
    p.pop("parties", None)
    p["betweenness"] = parse_betweenness(p["betweenness"])
    p["graph"] = Path(p["graph"]) if p["graph"] else DEFAULT_GRAPH
    p["out"] = Path(p["out"])
    p["deployments_dir"] = Path(p["deployments_dir"]) if p["deployments_dir"] else None
    p["faults"] = not p.pop("no_faults")
    p["plots"] = not p.pop("no_plots") and _can_plot()
    p["allow_insecure_key"] = p.pop("insecure_test_key")
    return DemoOptions(**p)


def _parties(params: dict[str, Any], as_json: bool) -> None:
    """``demo --parties``: :func:`crowdsense.runs.parties.run_parties`."""
    from pathlib import Path

    from crowdsense.runs.parties import PartiesOptions, run_parties

    out = Path("out/parties" if params["out"] == "out/demo" else params["out"])
    summary = run_parties(PartiesOptions(out=out, rpc_url=params["rpc_url"], seed=params["seed"]),
                          echo=lambda line: click.echo(line, err=True))
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo(f"task {summary['taskId']}: {summary['users']} users in {summary['groups']} groups (k = {summary['k']}), "
               f"{summary['candidates']} candidates near the task, {len(summary['selected'])} selected by CTBC")
    for s in summary["selected"]:
        claimed = f"claimed subtask {s['claimed']}" if s["claimed"] is not None else f"no claim: {s['claimRefused']}"
        click.echo(f"  {s['account']}  {s['metresFromTask']:7.1f} m  level {s['level']}  {claimed}")
    click.echo(f"not selected, refused by the contract: {summary['notSelectedClaim']['account']}")
    click.echo(f"{summary['delivered']} readings delivered, {summary['collected']} collected and verified by the "
               f"releaser; {summary['processes']} party processes, {summary['serviceProcesses']} services, "
               f"{summary['seconds']} s")


def options_from_args(argv: list[str], *, rpc_url: str | None = None) -> tuple[Any, bool]:
    """Parse ``crowdsense demo`` options from ``argv`` (for scripts); returns (options, as_json).

    ``rpc_url``, when given, overrides ``--rpc-url`` (the brownie script passes its network's).
    """
    ctx = demo.make_context("demo", list(argv))
    params = dict(ctx.params)
    if rpc_url is not None:
        params["rpc_url"] = rpc_url
    return build_options(params), bool(params.get("as_json"))


@click.command(short_help="The main job: PMCB + LDPF end to end on a local chain.")
@click.option("--rpc-url", default=None,
              help="Use this existing local development node instead of 127.0.0.1:PORT.")
@click.option("--port", type=click.IntRange(1, 65535), default=8545, show_default=True,
              help="Attach to a node on 127.0.0.1:PORT, or start --node there.")
@click.option("--node", type=click.Choice(["anvil", "ganache"]), default="anvil", show_default=True,
              help="The node to start on 127.0.0.1:PORT when none answers there.")
@click.option("--keep-node", is_flag=True, help="Leave a node started by the demo running at the end.")
@click.option("--levels", type=click.IntRange(2, 255), default=3, show_default=True,
              help="Number of security levels T.")
@count_option("--tasks", "Tasks to release (each decomposed into T subtasks).", default=4)
@count_option("--receivers", "Simulated receivers, drawn from every level of the graph.",
              default=30, minimum=2)
@click.option("--graph", type=click.Path(dir_okay=False, exists=True), default=None,
              help="Social graph (SNAP edge list) [default: the bundled ego-Facebook sample].")
@click.option("--betweenness", default="exact", show_default=True, metavar="exact|K",
              help="Exact betweenness, or K sampled pivots (faster on large graphs).")
@count_option("--ctbc-users", "Users of the popular region in the CTBC round (each commits on chain).",
              default=60, minimum=2)
@k_option
@count_option("--n", "Users the CTBC task needs (N).", default=5)
@count_option("--pdc-receivers", "Candidate receivers of the remote region in the PDC round.", default=10)
@count_option("--pdc-n", "Receivers the PDC task needs (N nearest).", default=3)
@grid_option
@key_bits_option
@insecure_test_key_option
@click.option("--no-faults", is_flag=True,
              help="Do not simulate failing parties (by default two CTBC users fail their reveal and are "
                   "replaced, and one PDC receiver lies about r and is caught).")
@seed_option("classifier, receivers, city, tasks; secrets always come from `secrets`")
@click.option("--out", type=click.Path(file_okay=False), default="out/demo", show_default=True,
              help="Output folder: summary.json, audit.json (secret, 0600), levels.json, plots, state/.")
@click.option("--deployments-dir", type=click.Path(file_okay=False), default=None,
              help="Where to write the deployment file [default: $CROWDSENSE_DEPLOYMENTS or ./deployments].")
@workers_option(8, "sending the simulated parties' transactions")
@click.option("--no-plots", is_flag=True, help="Skip the PNG plots (made with matplotlib, the `plots` extra).")
@click.option("--parties", is_flag=True,
              help="Instead: the one task flow between separate parties, every service and every party's command "
                   "a process of its own (CTBC selects, the selected claim at their level, data delivered); "
                   "writes to --out (default out/parties). Uses --rpc-url and --seed.")
@json_option
@translate_errors
def demo(**params: Any) -> None:
    """Run the whole flow on a local chain: deploy, classify ego-Facebook into T levels, register
    simulated receivers, release tasks, claim at every level, show refused claims on chain, run
    one CTBC round (popular region) and one PDC round (remote region) with on-chain commitments,
    then print a summary table and write plots and the audit file into --out."""
    from crowdsense.runs.demo import format_summary, run_demo

    as_json = params["as_json"]
    if params.pop("parties"):
        _parties(params, as_json)
        return
    options = build_options(params)
    from crowdsense.pmcb.graph_io import load_edge_list

    load_edge_list(options.graph)  # a bad graph file is refused before anything is deployed
    result = run_demo(options, echo=lambda line: click.echo(line, err=True))
    if as_json:
        click.echo(json.dumps(result.summary, indent=2, default=str))
    else:
        click.echo(format_summary(result.summary))
