"""PMCB Fig. 8: privacy leakage of the collusion model beside the paper's quoted numbers.

    python benchmarks/leakage.py [--quick] [--seed 2021] [--out-dir benchmarks/results]

Computes, with :mod:`crowdsense.pmcb.leakage` (exact), for T = 3, 4, 5:

* Fig. 8(a): probability that the colluders among N = 0..150 receivers hold a leaked part of
  every subtask (and, as a stricter variant, the whole task in full);
* Fig. 8(b): probability that every subtask leaks at a given degree of privacy loss
  (20 %..100 %) with N = 150 receivers;

and compares the model with the paper's quoted numbers (150 users: 94.55 / 85.12 / 73.35 %;
60 % loss: 5.24 / 4.49 / 0.76 %). It also evaluates a table of alternative readings of the
paper's description at the quoted points, the number of receivers at which the model would
meet each quoted number, and a Monte-Carlo cross-check of the exact model (agreement in
standard errors, and exact-vs-simulation time as the in-run baseline).

The balanced split assumes levels of equal size; the classifier's are not. So the same two
panels are also computed with the categories sized as the levels of
:func:`crowdsense.pmcb.classify.classify_graph` on the bundled ego-Facebook graph (default
settings, seed 0, T = 3, 4, 5): N receivers apportioned in the proportions of its levels
1..T (``headline.classified_levels``, plot ``leakage_fig8_levels.png``).

Outputs in ``--out-dir``: ``leakage.json`` (machine, parameters, comparisons, readings,
cross-check), ``leakage.csv`` (every plotted value, long format), ``leakage_fig8a.png``,
``leakage_fig8b.png``, ``leakage_fig8b_vs_n.png`` and ``leakage_fig8_levels.png``. ``--quick`` uses fewer
Monte-Carlo trials and points and writes ``leakage_quick.*`` instead. Exits 1 if the
Monte-Carlo estimate disagrees with the exact value by more than 5 standard errors.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

import benchkit
from crowdsense.pmcb.leakage import (
    PAPER_DEGREE_LEVELS,
    PAPER_MODEL,
    CollusionModel,
    category_sizes,
    degree_leak_probability,
    monte_carlo,
    reconstructed_degree_distribution,
    reconstruction_probability,
)

ROOT = Path(__file__).resolve().parent.parent

TS = (3, 4, 5)
N_MAX = 150
#: The numbers the paper quotes in section V.B.5 (fractions, not percent).
PAPER_8A = {"n_receivers": 150, "values": {3: 0.9455, 4: 0.8512, 5: 0.7335}}
PAPER_8B = {"degree": 0.6, "values": {3: 0.0524, 4: 0.0449, 5: 0.0076}}
#: The main reading of the model (see docs/leakage.md).
MAIN = {"reading": "joint", "allocation": "balanced", "fig8a_min_degree": 0.2, "fig8b_n_receivers": 150}
Z_LIMIT = 5.0
COLORS = {3: "tab:red", 4: "tab:blue", 5: "tab:green"}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def model_for(reading: str) -> CollusionModel:
    return PAPER_MODEL.with_reading(reading)


# ----------------------------------------------------------------------------- curves


def fig8a_curves(model: CollusionModel, allocation: str, min_degree: float) -> dict[int, list[float]]:
    return {
        t: [reconstruction_probability(n, t, min_degree=min_degree, model=model, allocation=allocation)
            for n in range(N_MAX + 1)]
        for t in TS
    }


def compare(values: dict[int, float], paper: dict[int, float]) -> dict[str, Any]:
    rows = {}
    for t in TS:
        m, p = values[t], paper[t]
        rows[str(t)] = {"model": m, "paper": p, "diff_points": 100 * (m - p), "ratio_model_over_paper": m / p}
    return {"by_T": rows, "max_abs_diff_points": max(abs(r["diff_points"]) for r in rows.values()),
            "ordering_T3_gt_T4_gt_T5": values[3] > values[4] > values[5]}


# ----------------------------------------------------------------------------- readings


def best_common_n(fn, paper: dict[int, float], n_max: int) -> dict[str, Any]:
    """The one N in 1..n_max that brings a reading closest to all three quoted numbers at once.

    N is a free parameter here (the paper does not give it for Fig. 8(b)); the point is to show
    whether *any* population size reproduces the three numbers together, not to pick one.
    """
    errors = [(max(abs(fn(n, t) - paper[t]) for t in TS), n) for n in range(1, n_max + 1)]
    err, n = min(errors)
    return {"n": n, "max_abs_diff_points": 100 * err, "search_range": [1, n_max]}


def _category_level_cdfs(n: int, t: int, model: CollusionModel, allocation: str) -> np.ndarray:
    """CDF over levels (0, d_1..d_K) of each category's pooled leak L_c = max D, shape (T, K+1)."""
    cdf = np.cumsum(model.receiver_distribution(t), axis=1)
    cdf[:, -1] = 1.0
    if allocation == "balanced":
        return cdf ** category_sizes(n, t)[:, None]
    # uniform: each receiver is in category c with probability 1/T, otherwise it adds level 0 to c
    return ((1.0 - 1.0 / t) + cdf / t) ** n


def _value_8a(kind: str, n: int, t: int, model: CollusionModel, allocation: str) -> float:
    """Other readings of Fig. 8(a)'s "degree of privacy leakage" (not of the form P(all subtasks))."""
    levels = np.concatenate([[0.0], PAPER_DEGREE_LEVELS])
    if kind == "expected_reconstructed_degree":  # E[min_c L_c]
        return float(levels @ reconstructed_degree_distribution(n, t, model=model, allocation=allocation))
    cdf = _category_level_cdfs(n, t, model, allocation)
    if kind == "mean_subtask_leaked":  # (1/T) sum_c P(L_c > 0): share of subtasks with some leak
        return float(np.mean(1.0 - cdf[:, 0]))
    pmf = np.diff(np.concatenate([np.zeros((t, 1)), cdf], axis=1), axis=1)
    return float(np.mean(pmf @ levels))  # (1/T) sum_c E[L_c]: expected share of the task leaked


READINGS_8A_OTHER = {
    "expected_reconstructed_degree": "E[degree to which the whole task is reconstructed]",
    "mean_subtask_leaked": "share of subtasks with some leak (mean over categories)",
    "mean_expected_leak": "expected share of the task leaked (mean over subtasks of E[L_c])",
}


def _series_8b(kind: str, n: int, t: int, model: CollusionModel, allocation: Any) -> list[float]:
    """One Fig. 8(b) candidate quantity over the degrees d_1..d_K."""
    if kind == "leak_exactly":
        return [degree_leak_probability(n, t, d, model=model, allocation=allocation)
                for d in PAPER_DEGREE_LEVELS]
    if kind == "reconstructed_exactly":
        return reconstructed_degree_distribution(n, t, model=model, allocation=allocation)[1:].tolist()
    return [reconstruction_probability(n, t, min_degree=d, model=model, allocation=allocation)
            for d in PAPER_DEGREE_LEVELS]


def _value_8b(kind: str, n: int, t: int, model: CollusionModel, allocation: str, k: int) -> float:
    """``_series_8b(...)[k]`` without computing the other degrees."""
    levels = PAPER_DEGREE_LEVELS
    if kind == "leak_exactly":
        return degree_leak_probability(n, t, levels[k], model=model, allocation=allocation)
    at_least = reconstruction_probability(n, t, min_degree=levels[k], model=model, allocation=allocation)
    if kind == "reconstructed_at_least" or k + 1 == len(levels):
        return at_least
    above = reconstruction_probability(n, t, min_degree=levels[k + 1], model=model, allocation=allocation)
    return at_least - above


READINGS_8B = {
    "leak_exactly": "P(every subtask has a leak of exactly d)",
    "reconstructed_exactly": "P(task reconstructed to exactly d)",
    "reconstructed_at_least": "P(task reconstructed to >= d)",
}


def readings_table(n_common_max: int) -> list[dict[str, Any]]:
    """Every reading tried, evaluated at the paper's quoted points (d = 60 % for Fig. 8(b))."""
    rows: list[dict[str, Any]] = []
    n8a, n8b = PAPER_8A["n_receivers"], MAIN["fig8b_n_receivers"]
    k60 = PAPER_DEGREE_LEVELS.index(PAPER_8B["degree"])
    for reading in ("joint", "conditional"):
        model = model_for(reading)
        for allocation in ("balanced", "uniform"):
            is_main = (reading, allocation) == (MAIN["reading"], MAIN["allocation"])
            for delta in PAPER_DEGREE_LEVELS:
                def fig8a(n: int, t: int, delta: float = delta) -> float:
                    return reconstruction_probability(n, t, min_degree=delta, model=model,
                                                      allocation=allocation)

                rows.append({
                    "panel": "8a", "reading": reading, "allocation": allocation,
                    "quantity": f"P(every subtask leaked >= {delta:.0%})",
                    "main": is_main and delta == MAIN["fig8a_min_degree"],
                    **compare({t: fig8a(n8a, t) for t in TS}, PAPER_8A["values"]),
                    "best_common_n": best_common_n(fig8a, PAPER_8A["values"], n_common_max),
                })
            for kind, label in READINGS_8A_OTHER.items():
                def fig8a_other(n: int, t: int, kind: str = kind) -> float:
                    return _value_8a(kind, n, t, model, allocation)

                rows.append({
                    "panel": "8a", "reading": reading, "allocation": allocation, "quantity": label,
                    "main": False,
                    **compare({t: fig8a_other(n8a, t) for t in TS}, PAPER_8A["values"]),
                    "best_common_n": best_common_n(fig8a_other, PAPER_8A["values"], n_common_max),
                })
            for kind, label in READINGS_8B.items():
                def fig8b(n: int, t: int, kind: str = kind) -> float:
                    return _value_8b(kind, n, t, model, allocation, k60)

                series = {t: _series_8b(kind, n8b, t, model, allocation) for t in TS}
                rows.append({
                    "panel": "8b", "reading": reading, "allocation": allocation, "quantity": label,
                    "main": is_main and kind == "leak_exactly",
                    "peak_degree_by_T": {str(t): PAPER_DEGREE_LEVELS[int(np.argmax(series[t]))] for t in TS},
                    **compare({t: series[t][k60] for t in TS}, PAPER_8B["values"]),
                    "best_common_n": best_common_n(fig8b, PAPER_8B["values"], n_common_max),
                })
    return rows


def implied_receivers(n_max: int = 3000) -> dict[str, Any]:
    """For each quoted number, the N at which the main model comes closest to it."""
    model = model_for(MAIN["reading"])
    out: dict[str, Any] = {"search_range": [0, n_max]}
    for panel, paper, fn in (
        ("8a", PAPER_8A["values"], lambda n, t: reconstruction_probability(
            n, t, min_degree=MAIN["fig8a_min_degree"], model=model, allocation=MAIN["allocation"])),
        ("8b", PAPER_8B["values"], lambda n, t: degree_leak_probability(
            n, t, PAPER_8B["degree"], model=model, allocation=MAIN["allocation"])),
    ):
        rows = {}
        for t in TS:
            values = np.array([fn(n, t) for n in range(n_max + 1)])
            best = int(np.argmin(np.abs(values - paper[t])))
            rows[str(t)] = {"paper": paper[t], "closest_n": best, "model_at_closest_n": float(values[best])}
        out[panel] = rows
    return out


def trials_for_consistency(model: dict[int, float], paper: dict[int, float]) -> dict[str, float]:
    """Largest number of simulation trials n for which |paper - model| <= 2 sqrt(p (1 - p) / n).

    If the paper's figure came from a Monte Carlo with at most this many trials, its number is
    statistically compatible with the model's exact value.
    """
    return {str(t): 4 * model[t] * (1 - model[t]) / (model[t] - paper[t]) ** 2 for t in TS}


def ratio_bound_8b() -> dict[str, Any]:
    """Lower bound on P_5 / P_4 implied by the paper's own P_4 / P_3 in Fig. 8(b), N = 150.

    In every model where the task leaks only if each category has a leaking receiver
    (P_T = prod_c f_c(n_c) with f_c(n) = 1 - (1 - r_c)^n), concavity of f_c gives
    f_c(m) >= (m / n) f_c(n) for m <= n. With balanced sizes n_c^(T):
      P_4 / P_3 <= f_4(n_4^(4))                       (the other ratios are <= 1)
      P_5 / P_4 >= f_5(n_5^(5)) * prod_{c<=4} n_c^(5) / n_c^(4)
                >= (n_4^(5) / n_4^(4)) f_4(n_4^(4)) * prod_{c<=4} n_c^(5) / n_c^(4)
    using r_5 >= r_4 at the 60 % degree, which holds for the paper's parameters in both readings.
    """
    n = MAIN["fig8b_n_receivers"]
    s4, s5 = category_sizes(n, 4), category_sizes(n, 5)
    paper = PAPER_8B["values"]
    p43 = paper[4] / paper[3]
    shrink = float(np.prod(s5[:4] / s4))
    bound = (s5[3] / s4[3]) * p43 * shrink
    k = 1 + PAPER_DEGREE_LEVELS.index(PAPER_8B["degree"])
    tables = [PAPER_MODEL.with_reading(rd).receiver_distribution(5) for rd in ("joint", "conditional")]
    r5_ge_r4 = all(bool(tab[4, k] >= tab[3, k]) for tab in tables)
    return {"n_receivers": n, "paper_P4_over_P3": p43, "paper_P5_over_P4": paper[5] / paper[4],
            "lower_bound_P5_over_P4": float(bound), "paper_consistent": paper[5] / paper[4] >= bound,
            "r5_ge_r4_at_60_both_readings": r5_ge_r4}


# ----------------------------------------------------------------------------- cross-check


def cross_check(quick: bool, seed: int) -> dict[str, Any]:
    """Monte Carlo vs exact at a few points; exact time is the in-run baseline."""
    points = [30] if quick else [10, 30, 75, 150]
    trials = 20_000 if quick else 200_000
    rng = np.random.default_rng(seed)
    rows = []
    for allocation in ("balanced", "uniform"):
        for n in points:
            for t in TS:
                start = time.perf_counter()
                exact_rec = np.array([reconstruction_probability(n, t, min_degree=d, allocation=allocation)
                                      for d in PAPER_DEGREE_LEVELS])
                exact_leak = np.array([degree_leak_probability(n, t, d, allocation=allocation)
                                       for d in PAPER_DEGREE_LEVELS])
                exact_pmf = reconstructed_degree_distribution(n, t, allocation=allocation)
                exact_s = time.perf_counter() - start
                start = time.perf_counter()
                est = monte_carlo(n, t, n_trials=trials, allocation=allocation, random_state=rng)
                mc_s = time.perf_counter() - start
                z = []
                for e, x in ((est.reconstruction, exact_rec), (est.degree_leak, exact_leak),
                             (est.degree_distribution, exact_pmf)):
                    se = np.sqrt(np.clip(x * (1 - x), 1e-300, None) / trials)
                    z.extend(((e - x) / se).tolist())
                rows.append({
                    "allocation": allocation, "n_receivers": n, "T": t, "trials": trials,
                    "exact_reconstruct_20": float(exact_rec[0]),
                    "mc_reconstruct_20": float(est.reconstruction[0]),
                    "exact_leak_60": float(exact_leak[2]), "mc_leak_60": float(est.degree_leak[2]),
                    "max_abs_z": float(np.max(np.abs(z))), "exact_s": exact_s, "mc_s": mc_s,
                    "mc_over_exact_time": mc_s / exact_s,
                })
    max_z = max(r["max_abs_z"] for r in rows)
    median_ratio = float(np.median([r["mc_over_exact_time"] for r in rows]))
    return {"trials": trials, "points_n": points, "z_limit": Z_LIMIT, "max_abs_z": max_z,
            "ok": max_z <= Z_LIMIT, "median_mc_over_exact_time": median_ratio, "rows": rows}


# ----------------------------------------------------------------------------- output


def write_csv(path: Path, a_main, a_full, a_uniform, b_main, b_pmf) -> None:
    fields = ["panel", "quantity", "reading", "allocation", "n_categories", "n_receivers", "degree", "model",
              "paper"]
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        for name, curves, alloc, delta in (("reconstruct_ge_20", a_main, "balanced", 0.2),
                                           ("reconstruct_ge_20", a_uniform, "uniform", 0.2),
                                           ("reconstruct_full_100", a_full, "balanced", 1.0)):
            for t in TS:
                for n, v in enumerate(curves[t]):
                    quoted = (n, name, alloc) == (PAPER_8A["n_receivers"], "reconstruct_ge_20", "balanced")
                    paper = PAPER_8A["values"][t] if quoted else ""
                    w.writerow({"panel": "8a", "quantity": name, "reading": "joint", "allocation": alloc,
                                "n_categories": t, "n_receivers": n, "degree": delta, "model": f"{v:.10g}",
                                "paper": paper})
        for name, bars in (("leak_exactly_d_every_subtask", b_main), ("reconstructed_degree_pmf", b_pmf)):
            for t in TS:
                for d, v in zip(PAPER_DEGREE_LEVELS, bars[t]):
                    quoted = d == PAPER_8B["degree"] and name.startswith("leak")
                    paper = PAPER_8B["values"][t] if quoted else ""
                    w.writerow({"panel": "8b", "quantity": name, "reading": "joint", "allocation": "balanced",
                                "n_categories": t, "n_receivers": MAIN["fig8b_n_receivers"], "degree": d,
                                "model": f"{v:.10g}", "paper": paper})


def plot_all(out_dir: Path, stem: str, a_main, a_full, b_main, b60_vs_n, implied) -> list[str]:
    plt = benchkit.pyplot()
    names = []
    n = np.arange(N_MAX + 1)

    fig, ax = plt.subplots(figsize=(7, 4.6))
    for t in TS:
        ax.plot(n, 100 * np.array(a_main[t]), color=COLORS[t], lw=2,
                label=f"model T={t} (some leak in every subtask)")
        ax.plot(n, 100 * np.array(a_full[t]), color=COLORS[t], lw=1, ls=":",
                label=f"model T={t} (whole task in full)")
        p = 100 * PAPER_8A["values"][t]
        m = 100 * a_main[t][-1]
        ax.plot([N_MAX], [p], marker="*", ms=13, color=COLORS[t], mec="black", ls="none")
        ax.annotate(f"paper {p:.2f}%", (N_MAX, p), xytext=(-80, 3), textcoords="offset points", fontsize=8,
                    color=COLORS[t], bbox={"fc": "white", "ec": "none", "alpha": 0.8, "pad": 1})
        ax.annotate(f"model {m:.2f}%", (N_MAX, m), xytext=(6, -4), textcoords="offset points", fontsize=8,
                    color=COLORS[t])
    ax.plot([], [], marker="*", ms=11, color="grey", mec="black", ls="none",
            label="paper, quoted at 150 users")
    ax.set_xlim(0, N_MAX + 32)
    ax.set_ylim(0, 105)
    ax.set_xlabel("number of receivers N (balanced over T categories)")
    ax.set_ylabel("probability of privacy leakage (%)")
    ax.set_title("PMCB Fig. 8(a): colluders reconstruct the task")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    names.append(benchkit.save_figure(fig, out_dir / f"{stem}_fig8a.png", dpi=130))

    fig, ax = plt.subplots(figsize=(7, 4.6))
    x = np.arange(len(PAPER_DEGREE_LEVELS))
    width = 0.26
    k60 = PAPER_DEGREE_LEVELS.index(PAPER_8B["degree"])
    for i, t in enumerate(TS):
        vals = 100 * np.array(b_main[t])
        ax.bar(x + (i - 1) * width, vals, width, color=COLORS[t], alpha=0.8, label=f"model T={t}")
        p = 100 * PAPER_8B["values"][t]
        ax.plot([x[k60] + (i - 1) * width], [p], marker="D", ms=7, color=COLORS[t], mec="black", ls="none")
    ax.plot([], [], marker="D", ms=7, color="grey", mec="black", ls="none", label="paper, quoted at 60% loss")
    quoted = "\n".join(f"T={t}: model {100 * b_main[t][k60]:.2f}%, paper {100 * PAPER_8B['values'][t]:.2f}%"
                       for t in TS)
    ax.text(0.02, 0.97, "at 60% loss\n" + quoted, transform=ax.transAxes, va="top", fontsize=8,
            bbox={"fc": "white", "ec": "grey", "alpha": 0.9})
    ax.set_xticks(x, [f"{d:.0%}" for d in PAPER_DEGREE_LEVELS])
    ax.set_xlabel("degree of privacy loss d")
    ax.set_ylabel("probability of privacy leakage (%)")
    ax.set_title(f"PMCB Fig. 8(b): every subtask leaks at degree d (N = {MAIN['fig8b_n_receivers']})")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8)
    names.append(benchkit.save_figure(fig, out_dir / f"{stem}_fig8b.png", dpi=130))

    fig, ax = plt.subplots(figsize=(7, 4.6))
    for t in TS:
        ax.plot(n, 100 * np.array(b60_vs_n[t]), color=COLORS[t], lw=2, label=f"model T={t}")
        p = 100 * PAPER_8B["values"][t]
        ax.axhline(p, color=COLORS[t], ls="--", lw=1, label=f"paper T={t}: {p:.2f}%")
        n_star = implied["8b"][str(t)]["closest_n"]
        if n_star <= N_MAX:
            ax.plot([n_star], [p], marker="o", color=COLORS[t], mec="black")
            ax.annotate(f"N={n_star}", (n_star, p), xytext=(4, 4), textcoords="offset points", fontsize=8)
    ax.set_xlabel("number of receivers N")
    ax.set_ylabel("P(every subtask leaks at 60%) (%)")
    ax.set_title("Fig. 8(b) at 60% loss vs N: where the model meets the paper")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    names.append(benchkit.save_figure(fig, out_dir / f"{stem}_fig8b_vs_n.png", dpi=130))
    return names


def classified_level_sizes(seed: int) -> dict[int, list[int]]:
    """Node count of each level 1..T of the classifier on ego-Facebook (default settings)."""
    import warnings

    from crowdsense.data import sample_path
    from crowdsense.pmcb.classify import classify_graph

    sizes = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for t in TS:
            result = classify_graph(sample_path("facebook_combined.txt.gz"), n_levels=t, random_state=seed)
            sizes[t] = [c.size for c in result.clusters]  # ordered by level 1..T
    return sizes


def classified_levels(model: CollusionModel, level_sizes: dict[int, list[int]]) -> dict[str, Any]:
    """Fig. 8(a) and 8(b) with categories sized like the classifier's levels, beside balanced."""
    n8a, n8b = PAPER_8A["n_receivers"], MAIN["fig8b_n_receivers"]
    k60 = PAPER_DEGREE_LEVELS.index(PAPER_8B["degree"])
    out: dict[str, Any] = {"graph": "ego-Facebook (bundled), classify_graph defaults, seed 0",
                           "level_sizes": {str(t): v for t, v in level_sizes.items()}, "by_T": {}}
    for t, sizes in level_sizes.items():
        shares = [float(v) for v in sizes]
        curve = [reconstruction_probability(n, t, min_degree=MAIN["fig8a_min_degree"], model=model,
                                            allocation=shares) for n in range(N_MAX + 1)]
        bars = _series_8b("leak_exactly", n8b, t, model, shares)
        out["by_T"][str(t)] = {
            "receivers_per_level_at_150": category_sizes(n8a, t, shares).tolist(),
            "fig8a_curve": curve,
            "fig8a_at_150": curve[n8a],
            "fig8a_at_150_balanced": reconstruction_probability(n8a, t, min_degree=MAIN["fig8a_min_degree"],
                                                                model=model),
            "fig8b": bars,
            "fig8b_at_60": bars[k60],
            "fig8b_at_60_balanced": degree_leak_probability(n8b, t, PAPER_8B["degree"], model=model),
        }
    return out


def plot_levels(out_dir: Path, stem: str, a_main, b_main, levels: dict[str, Any]) -> str:
    plt = benchkit.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.6))
    n = np.arange(N_MAX + 1)
    ax = axes[0]
    for t in TS:
        entry = levels["by_T"][str(t)]
        ax.plot(n, 100 * np.array(a_main[t]), color=COLORS[t], lw=1.5, ls="--",
                label=f"T={t}, balanced levels")
        sizes = " / ".join(str(v) for v in levels["level_sizes"][str(t)])
        ax.plot(n, 100 * np.array(entry["fig8a_curve"]), color=COLORS[t], lw=2,
                label=f"T={t}, classified levels ({sizes} nodes)")
    ax.set_xlabel("number of receivers N")
    ax.set_ylabel("probability of privacy leakage (%)")
    ax.set_title("Fig. 8(a): some leak in every subtask")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    ax = axes[1]
    x = np.arange(len(PAPER_DEGREE_LEVELS))
    width = 0.13
    for i, t in enumerate(TS):
        entry = levels["by_T"][str(t)]
        ax.bar(x + (2 * i - 2.5) * width, 100 * np.array(b_main[t]), width, color=COLORS[t], alpha=0.45,
               label=f"T={t}, balanced")
        ax.bar(x + (2 * i - 1.5) * width, 100 * np.array(entry["fig8b"]), width, color=COLORS[t],
               label=f"T={t}, classified levels")
    ax.set_xticks(x, [f"{d:.0%}" for d in PAPER_DEGREE_LEVELS])
    ax.set_xlabel("degree of privacy loss d")
    ax.set_ylabel("probability of privacy leakage (%)")
    ax.set_title(f"Fig. 8(b): every subtask leaks at degree d (N = {MAIN['fig8b_n_receivers']})")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=7, ncol=2)
    fig.suptitle("PMCB Fig. 8 with the level proportions of the classifier (ego-Facebook) "
                 "beside equal levels")
    return benchkit.save_figure(fig, out_dir / f"{stem}_fig8_levels.png", dpi=130)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small run (about a minute); writes leakage_quick.*")
    parser.add_argument("--seed", type=int, default=2021, help="seed of the Monte-Carlo cross-check")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    started = time.time()
    info = benchkit.machine_info(["numpy", "matplotlib"])
    model = model_for(MAIN["reading"])
    alloc = MAIN["allocation"]

    a_main = fig8a_curves(model, alloc, MAIN["fig8a_min_degree"])
    a_full = fig8a_curves(model, alloc, 1.0)
    a_uniform = fig8a_curves(model, "uniform", MAIN["fig8a_min_degree"])
    b_main = {t: _series_8b("leak_exactly", MAIN["fig8b_n_receivers"], t, model, alloc) for t in TS}
    b_pmf = {t: _series_8b("reconstructed_exactly", MAIN["fig8b_n_receivers"], t, model, alloc) for t in TS}
    b60_vs_n = {t: [degree_leak_probability(n, t, PAPER_8B["degree"], model=model, allocation=alloc)
                    for n in range(N_MAX + 1)] for t in TS}
    log("curves done")
    readings = readings_table(300)
    implied = implied_receivers()
    log("readings done")
    check = cross_check(args.quick, args.seed)
    log(f"cross-check done: max |z| = {check['max_abs_z']:.2f}")
    levels = classified_levels(model, classified_level_sizes(0))
    log("classified levels done")

    k60 = PAPER_DEGREE_LEVELS.index(PAPER_8B["degree"])
    headline = {
        "fig8a_at_150": compare({t: a_main[t][PAPER_8A["n_receivers"]] for t in TS}, PAPER_8A["values"]),
        "fig8b_at_60": compare({t: b_main[t][k60] for t in TS}, PAPER_8B["values"]),
        "fig8b_peak_degree_by_T": {str(t): PAPER_DEGREE_LEVELS[int(np.argmax(b_main[t]))] for t in TS},
        **{f"best_reading_{panel}": min((r for r in readings if r["panel"] == panel),
                                        key=lambda r: r["max_abs_diff_points"]) for panel in ("8a", "8b")},
        "implied_receivers": implied,
        "fig8a_trials_for_2se_consistency": trials_for_consistency(
            {t: a_main[t][PAPER_8A["n_receivers"]] for t in TS}, PAPER_8A["values"]),
        "fig8b_ratio_bound": ratio_bound_8b(),
        "classified_levels": {
            "level_sizes": levels["level_sizes"],
            "fig8a_at_150": {t: {"classified_levels": v["fig8a_at_150"],
                                 "balanced": v["fig8a_at_150_balanced"],
                                 "receivers_per_level": v["receivers_per_level_at_150"]}
                             for t, v in levels["by_T"].items()},
            "fig8b_at_60": {t: {"classified_levels": v["fig8b_at_60"], "balanced": v["fig8b_at_60_balanced"]}
                            for t, v in levels["by_T"].items()},
        },
        "monte_carlo_max_abs_z": check["max_abs_z"],
        "monte_carlo_over_exact_time_median": check["median_mc_over_exact_time"],
    }
    stem = benchkit.output_stem(args.out_dir, "leakage", quick=args.quick)
    result = {
        "benchmark": "leakage",
        "mode": "quick" if args.quick else "full",
        "created": benchkit.utc_timestamp(),
        "machine": info,
        "parameters": {
            "leak_rates": list(PAPER_MODEL.leak_rates), "degree_levels": list(PAPER_MODEL.degree_levels),
            "degree_probabilities": [list(r) for r in PAPER_MODEL.degree_probabilities],
            "main_reading": MAIN, "T": list(TS), "n_receivers": [0, N_MAX], "seed": args.seed,
        },
        "paper": {"fig8a": {**PAPER_8A, "values": {str(k): v for k, v in PAPER_8A["values"].items()}},
                  "fig8b": {**PAPER_8B, "values": {str(k): v for k, v in PAPER_8B["values"].items()}}},
        "headline": headline,
        "fig8a": {"n_receivers": list(range(N_MAX + 1)),
                  "reconstruct_ge_20_balanced": {str(t): a_main[t] for t in TS},
                  "reconstruct_ge_20_uniform": {str(t): a_uniform[t] for t in TS},
                  "reconstruct_full_balanced": {str(t): a_full[t] for t in TS}},
        "fig8b": {"n_receivers": MAIN["fig8b_n_receivers"], "degrees": list(PAPER_DEGREE_LEVELS),
                  "leak_exactly_d_every_subtask": {str(t): b_main[t] for t in TS},
                  "reconstructed_degree_pmf": {str(t): b_pmf[t] for t in TS},
                  "leak_60_vs_n": {str(t): b60_vs_n[t] for t in TS}},
        "readings": readings,
        "classified_levels": levels,
        "monte_carlo": check,
    }
    benchkit.write_json(args.out_dir / f"{stem}.json", result, indent=1)
    write_csv(args.out_dir / f"{stem}.csv", a_main, a_full, a_uniform, b_main, b_pmf)
    plots = plot_all(args.out_dir, stem, a_main, a_full, b_main, b60_vs_n, implied)
    plots.append(plot_levels(args.out_dir, stem, a_main, b_main, levels))
    result["elapsed_s"] = time.time() - started
    benchkit.write_json(args.out_dir / f"{stem}.json", result, indent=1)
    log(f"wrote {stem}.json, {stem}.csv, {', '.join(plots)} to {args.out_dir} in {result['elapsed_s']:.1f} s")
    for key in ("fig8a_at_150", "fig8b_at_60"):
        h = headline[key]
        log(key + ": " + ", ".join(f"T={t}: model {100 * r['model']:.2f}% vs paper {100 * r['paper']:.2f}%"
                                   for t, r in h["by_T"].items()))
    if not check["ok"]:
        log(f"CROSS-CHECK FAILED: max |z| = {check['max_abs_z']:.2f} > {Z_LIMIT}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
