"""``crowdsense classify``: a social graph into T security levels (PMCB), written to levels.json.

    crowdsense classify --levels 3 --out levels.json [--graph edges.txt.gz] \\
        [--neighbors 10] [--connect grow|bridge] [--min-share 0.5] [--seed 0] [--betweenness exact|K]
        [--features-out features.csv] [--json]

The summary (one row per level: size and influence terms) goes to stdout, as a table or as
JSON with ``--json``; the progress bar and warnings (dropped self-loops, bridged similarity
graph...) go to stderr. Errors are one line (the group in :mod:`crowdsense.cli.main` prints them).
"""

from __future__ import annotations

import json
import sys
import warnings
from typing import Any

import click

from crowdsense.cli.clientctx import FiniteRange, json_option
from crowdsense.data import sample_path

__all__ = ["classify", "parse_betweenness"]


def parse_betweenness(value: str) -> str | int:
    """``exact`` or a number of sampled pivots K >= 1 (``--betweenness`` of ``classify`` and ``demo``)."""
    if value == "exact":
        return "exact"
    try:
        k = int(value)
    except ValueError:
        raise click.BadParameter(f"expected 'exact' or a number of pivots >= 1, got {value!r}") from None
    if k < 1:
        raise click.BadParameter(f"expected 'exact' or a number of pivots >= 1, got {k}")
    return k


def _betweenness(ctx: click.Context, param: click.Parameter, value: str) -> str | int:
    return parse_betweenness(value)


def _table(result: Any) -> str:
    head = f"{'level':>5} {'size':>7} {'AD':>10} {'ALC':>8} {'ABC':>10} {'AIF':>8} {'I':>10}"
    rows = [f"{c.level:>5} {c.size:>7} {c.AD:>10.3f} {c.ALC:>8.4f} {c.ABC:>10.3e} {c.AIF:>8.4f} {c.I:>10.3f}"
            for c in result.clusters]
    return "\n".join([head, *rows])


@click.command(short_help="Cluster a social graph into T security levels.")
@click.option("--graph", "graph_path", default=None, metavar="FILE",
              help="SNAP edge list 'u v' per line (# comments; plain or gzip) "
                   "[default: the bundled ego-Facebook sample, 4,039 nodes].")
@click.option("--levels", "n_levels", required=True, type=click.IntRange(min=2), metavar="T",
              help="Number of security levels T (>= 2, at most the number of nodes).")
@click.option("--neighbors", "n_neighbors", default=10, show_default=True, type=click.IntRange(min=1),
              metavar="K", help="K of the symmetric K-nearest-neighbour similarity graph (the smallest K tried: "
                                "it grows until the graph is connected, unless --connect bridge).")
@click.option("--connect", type=click.Choice(["grow", "bridge"]), default="grow", show_default=True,
              help="Raise K until the similarity graph is connected, or keep K and bridge its components "
                   "(with a warning).")
@click.option("--min-share", "min_share", default=0.5, show_default=True, type=FiniteRange(0, 1),
              metavar="S", help="Each level holds between S and 2-S times nodes/T (0: sizes left to RatioCut).")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0),
              help="Seed of pivots, eigensolver and k-means (the same seed gives the same levels).")
@click.option("--betweenness", "pivots", default="exact", show_default=True, metavar="exact|K", callback=_betweenness,
              help="Exact betweenness, or K sampled pivot sources (faster on large graphs).")
@click.option("--directed", type=click.Choice(["reject", "symmetrize"]), default="reject", show_default=True,
              help="A directed edge list is an error, or is made undirected (edge if either direction).")
@click.option("--influence", type=click.Choice(["paper", "normalized"]), default="paper", show_default=True,
              help="Cluster influence: the paper's AD+ALC+ABC+AIF, or over min-max scaled features.")
@click.option("--jobs", "n_jobs", type=click.IntRange(min=1), default=None,
              help="Processes for betweenness (default: all available cores).")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), metavar="FILE",
              help="Where to write levels.json.")
@click.option("--features-out", "features_path", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Also write the per-node table (node, D, BC, Lc, I_f, level) as CSV.")
@json_option
@click.option("--no-progress", is_flag=True, help="Do not show the progress bar.")
def classify(graph_path: str | None, n_levels: int, n_neighbors: int, connect: str, min_share: float, seed: int,
             pivots: str | int, directed: str,
             influence: str, n_jobs: int | None, out_path: str, features_path: str | None, as_json: bool,
             no_progress: bool) -> None:
    """Classify the nodes of a social graph into T security levels (PMCB).

    Node vectors <degree, betweenness, local clustering, ego-graph entropy>, a symmetric kNN
    Gaussian similarity graph, RatioCut spectral clustering into T clusters, and levels by
    cluster influence AD+ALC+ABC+AIF: the most influential cluster gets level T. Writes
    levels.json ({"levels": {node: level}, "clusters": [...], ...}), the input of
    `crowdsense register`.
    """
    from tqdm import tqdm

    from crowdsense.pmcb.classify import STAGES, classify_graph, write_features_csv, write_levels_json

    graph_path = graph_path or str(sample_path("facebook_combined.txt.gz"))

    bar = tqdm(total=len(STAGES), desc="classify", unit="step", file=sys.stderr, leave=False,
               disable=True if no_progress else None)

    def step(stage: str) -> None:
        bar.set_postfix_str(stage)
        bar.update(1)

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = classify_graph(graph_path, n_levels=n_levels, n_neighbors=n_neighbors, betweenness=pivots,
                                    influence=influence, random_state=seed, n_jobs=n_jobs,
                                    directed=directed, progress=step, connect=connect,  # type: ignore[arg-type]
                                    min_share=min_share)
    finally:
        bar.close()
    for w in caught:
        if issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning)):
            continue
        click.echo(f"warning: {w.message}", err=True)
    written = [write_levels_json(result, out_path)]
    if features_path:
        written.append(write_features_csv(result, features_path))
    summary = {
        "graph": graph_path,
        "nodes": result.graph.n_nodes,
        "edges": result.graph.n_edges,
        "levels": n_levels,
        "clusters": [c.as_dict() for c in result.clusters],
        "out": str(written[0]),
        "features_out": str(written[1]) if features_path else None,
        "seconds": round(result.timings["total"], 3),
    }
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo(f"{result.graph.n_nodes} nodes, {result.graph.n_edges} edges -> {n_levels} levels "
               f"in {result.timings['total']:.2f} s")
    click.echo(_table(result))
    click.echo(f"wrote {', '.join(str(p) for p in written)}")
