"""The main job's four PNG plots: PMCB levels, the CTBC selection, the PDC distances, gas.

Figures are made with matplotlib's object API (:class:`~matplotlib.figure.Figure`, no pyplot),
so nothing depends on a GUI backend or on pyplot's global state.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from crowdsense.pmcb.classify import Classification
from crowdsense.runs.ctbc_round import CTBCRoundResult
from crowdsense.runs.pdc_round import PDCRoundResult

__all__ = ["write_plots"]

_DPI = 110


def write_plots(out: Path, classification: Classification, ctbc: CTBCRoundResult, pdc: PDCRoundResult,
                gas: dict[str, dict[str, int]]) -> dict[str, str]:
    """Write the four plots into ``out``; returns ``{summary key: path}``."""
    return {
        "plotLevels": _save(_levels(classification), out / "levels.png"),
        "plotCtbc": _save(_ctbc(ctbc), out / "ctbc_selection.png"),
        "plotPdc": _save(_pdc(pdc), out / "pdc_distances.png"),
        "plotGas": _save(_gas(gas), out / "gas.png"),
    }


def _save(fig: Figure, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=_DPI)
    return str(path)


def _levels(classification: Classification) -> Figure:
    """The T-level partition in the (degree, clustering) plane, and the clusters' sizes."""
    colours = colormaps["viridis"]
    f = classification.features
    levels = classification.levels
    t = classification.n_levels
    fig = Figure(figsize=(11, 4.5))
    ax1, ax2 = fig.subplots(1, 2)
    for lvl in range(1, t + 1):
        m = levels == lvl
        ax1.scatter(f.degree[m], f.clustering[m], s=6, alpha=0.6, color=colours((lvl - 1) / max(t - 1, 1)),
                    label=f"level {lvl} ({int(m.sum())} nodes)")
    ax1.set_xscale("log")
    ax1.set_xlabel("degree D (log)")
    ax1.set_ylabel("local clustering Lc")
    ax1.set_title("PMCB levels of the social graph")
    ax1.legend(fontsize=8)
    clusters = classification.clusters
    ax2.bar([c.level for c in clusters], [c.size for c in clusters],
            color=[colours((c.level - 1) / max(t - 1, 1)) for c in clusters])
    for c in clusters:
        ax2.annotate(f"I = {c.I:.1f}", (c.level, c.size), ha="center", va="bottom", fontsize=8)
    ax2.set_xticks([c.level for c in clusters])
    ax2.set_xlabel("security level (higher influence = higher level)")
    ax2.set_ylabel("nodes")
    ax2.set_title("cluster sizes and influence")
    return fig


def _ctbc(ctbc: CTBCRoundResult) -> Figure:
    """The CTBC selection in real coordinates (the simulation's view) and the platform's view."""
    fig = Figure(figsize=(12, 6.5))
    ax1, ax2 = fig.subplots(1, 2)
    real = ctbc.positions
    selected, failed = ctbc.selected, np.asarray(ctbc.failed, dtype=np.int64)
    centres_real = ctbc.transform.inverse(ctbc.grouping.centres)
    ax1.scatter(real[:, 0], real[:, 1], s=10, color="0.7", label="users (real positions, never published)")
    ax1.scatter(centres_real[:, 0], centres_real[:, 1], s=25, marker="+", color="tab:blue",
                label="group centres (k-anonymous)")
    box = ctbc.task.region.corners()
    ax1.fill(box[:, 0], box[:, 1], alpha=0.12, color="tab:orange", label="region of interest")
    ax1.scatter(*ctbc.task.center, marker="*", s=200, color="tab:orange", label="task centre")
    ax1.scatter(real[selected, 0], real[selected, 1], s=40, facecolors="none", edgecolors="tab:green",
                linewidths=1.5, label="selected (revealed on chain)")
    if failed.size:
        ax1.scatter(real[failed, 0], real[failed, 1], s=50, marker="x", color="tab:red",
                    label="failed reveal, replaced")
    ax1.set_aspect("equal")
    ax1.set_title(f"CTBC in a popular region: N = {ctbc.task.n_required}, k = {ctbc.k}")
    ax1.set_xlabel("x (m)")
    ax1.set_ylabel("y (m)")
    ax1.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0.0, -0.12), ncol=2)
    centres = ctbc.grouping.centres
    tbox = ctbc.task_transformed.region.corners()
    ax2.scatter(centres[:, 0], centres[:, 1], s=25, marker="+", color="tab:blue", label="UD: group centres (committed)")
    ax2.fill(tbox[:, 0], tbox[:, 1], alpha=0.12, color="tab:orange", label="task region (transformed)")
    ax2.scatter(*ctbc.task_transformed.center, marker="*", s=200, color="tab:orange",
                label="task centre (transformed)")
    chosen_groups = np.unique(ctbc.grouping.labels[selected])
    ax2.scatter(centres[chosen_groups, 0], centres[chosen_groups, 1], s=90, facecolors="none",
                edgecolors="tab:green", linewidths=1.5, label="groups of the selected users")
    ax2.set_aspect("equal")
    ax2.set_title("what the platform sees: committed group centres, transformed")
    ax2.set_xlabel("x' (m)")
    ax2.set_ylabel("y' (m)")
    ax2.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0.0, -0.12), ncol=2)
    return fig


def _pdc(pdc: PDCRoundResult) -> Figure:
    """The PDC receivers on the grid, and the distances the platform accepted."""
    fig = Figure(figsize=(12, 5))
    ax1, ax2 = fig.subplots(1, 2)
    chosen = {s.receiver for s in pdc.selected}
    status = {o.account: o for o in pdc.outcomes}
    for account, (x, y) in zip(pdc.accounts, np.array(pdc.locations).tolist()):
        colour = "tab:green" if account in chosen else "tab:red" if status[account].status != "accepted" else "0.5"
        ax1.scatter(x, y, s=40, color=colour)
    ax1.scatter(*pdc.centre, marker="*", s=220, color="tab:orange", label="task centre (platform only)")
    ax1.scatter([], [], color="tab:green", label="selected")
    ax1.scatter([], [], color="0.5", label="accepted, not selected")
    ax1.scatter([], [], color="tab:red", label="rejected / absent")
    ax1.set_xlim(-1, pdc.grid.width)
    ax1.set_ylim(-1, pdc.grid.height)
    ax1.set_aspect("equal")
    ax1.set_title(f"PDC in a remote region: {pdc.grid.width} x {pdc.grid.height} grid")
    ax1.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0.0, -0.08), ncol=2)
    dist = sorted(pdc.distances.items(), key=lambda kv: kv[1])
    ax2.bar(range(len(dist)), [d for _, d in dist], color=["tab:green" if a in chosen else "0.6" for a, _ in dist])
    ax2.set_xticks(range(len(dist)))
    ax2.set_xticklabels([a[:6] for a, _ in dist], rotation=60, fontsize=7)
    ax2.set_ylabel("Manhattan distance (grid steps)")
    ax2.set_title(f"distances the platform accepted ({len(dist)}); N = {pdc.n_select} nearest selected")
    return fig


def _gas(gas: dict[str, dict[str, int]]) -> Figure:
    """Mean gas per transaction type, as read back from the chain."""
    kinds = sorted(gas, key=lambda k: gas[k]["gas"] / gas[k]["count"])
    means = [gas[k]["gas"] / gas[k]["count"] for k in kinds]
    fig = Figure(figsize=(9, 0.45 * len(kinds) + 1.5))
    ax = fig.subplots()
    ax.barh(range(len(kinds)), means, color="tab:blue")
    for i, k in enumerate(kinds):
        r = gas[k]
        ax.annotate(f"{means[i]:,.0f}  (x{r['count']}" + (f", {r['reverted']} reverted)" if r["reverted"] else ")"),
                    (means[i], i), va="center", fontsize=7, xytext=(3, 0), textcoords="offset points")
    ax.set_yticks(range(len(kinds)))
    ax.set_yticklabels(kinds, fontsize=8)
    ax.set_xlabel("mean gas used per transaction")
    ax.set_xlim(0, max(means) * 1.35 if means else 1)
    ax.set_title("gas per transaction type in this run (read from the chain)")
    return fig
