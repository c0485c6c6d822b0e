"""PMCB classifier benchmark: speed against a pure networkx + scikit-learn reference, scaling,
and quality (paper Figs. 5 and 6).

    python benchmarks/classify.py [--quick] [--out-dir benchmarks/results] [--repeats 5]
                                  [--pivots 256] [--jobs N] [--seed 0] [--scale-1m | --scale-1m-only]

1. **ego-Facebook, T = 3, 4, 5**: :func:`crowdsense.pmcb.classify.classify_graph` from the edge-list
   file (parsing included), ``--repeats`` timed runs per T after one warm-up run (imports and
   caches), median per stage and in total. In the same invocation, the **reference pipeline**:
   the same definitions written with networkx (degree, ``betweenness_centrality``,
   ``clustering``, an explicit ``subgraph`` per node for I_f, ``connected_components``), dense
   numpy/scipy linear algebra (brute-force distances, dense W, L = D - W, dense generalized
   ``eigh``) and scikit-learn (``KMeans``), with the same seeds. Its features (minutes, networkx's
   betweenness) are computed once per invocation, its partition once per T; ratio = reference
   (features + partition of that T) / our median. The levels of both are compared node by
   node ("identical levels" is part of the target).
2. **Scaling**: Holme-Kim power-law cluster graphs (networkx ``powerlaw_cluster_graph``, m = 10
   edges per new node, triangle probability 0.3) with 10k and 100k nodes, written as edge-list
   files and classified with sampled betweenness (``--pivots``) in a fresh process each, for a
   clean peak memory (``ru_maxrss`` of that process and of its betweenness worker). Where exact
   betweenness is affordable (10k) it is also computed, for the rank correlation (Spearman)
   of sampled vs exact values, the overlap of the top 1 %, and the agreement of the levels.
3. **Quality on ego-Facebook** (paper Fig. 5), T = 3, 4, 5: RatioCut value (on the similarity
   graph of the spectral run: the same graph for every partition), cluster-size balance
   (smallest / largest), silhouette (scaled node vectors) and stability across 5 seeds of the
   spectral levels vs k-means on the scaled vectors and on the raw vectors (the paper's
   baseline), each k-means with 10 k-means++ restarts. RatioCut is what the spectral method
   optimises; silhouette, balance and stability are optimised by neither, so the figure
   shows all four. Plot of the partitions for T = 3, 4, 5 (paper Fig. 6). A sweep over K
   (5..50, T = 3) shows how the connectivity of the kNN graph shapes the partition.
4. **email-Eu-core** (directed: symmetrised on purpose) against its 42 department labels:
   adjusted Rand index and NMI of the spectral and k-means partitions for T = 3 and T = 42.
   The classifier groups nodes by structural role (degree, centrality...), not by community,
   so agreement with departments is expected to be low: this is an outside sanity check, not
   a target.

5. **Balance and stability**: on ego-Facebook, the adjusted Rand index between the levels of
   5 seeds (T = 3, 4, 5); on email-Eu-core and three generated families (powerlaw-cluster
   3000, Watts-Strogatz 2000, Barabási-Albert 5000), level sizes, balance (smallest /
   largest) and the same ARI. RatioCut of the spectral levels and of k-means (raw and scaled
   vectors) is measured on one and the same similarity graph. ``headline`` holds
   ``balance_by_T``, ``ari_across_seeds_by_T``, ``ratiocut_spectral_vs_kmeans_same_graph_by_T``,
   ``balance_other_graphs`` and ``ari_other_graphs``.

6. **City scale** (``--scale-1m``; ``--scale-1m-only`` runs just this part and adds it to an
   existing ``classify.json``): a 1,000,000-node Holme-Kim-style graph (python-igraph's
   preferential attachment, 5 edges per node, plus 5 triads closed per node: about 10
   million edges, heavy-tailed degrees and clustering) classified into T = 3 levels with sampled betweenness
   (``--city-pivots``, default 32) in a fresh process, its memory and that of its forked
   betweenness worker sampled together (psutil, every 0.2 s) besides their ``ru_maxrss``,
   and the CPU seconds of every stage besides its wall seconds. The sampling error is
   measured against exact betweenness on a 10,000-node graph of the same family, at the
   same number of pivots and at 32, 128 and 512 (Spearman rank correlation over all nodes,
   overlap and relative error of the top 1 %, and the agreement of the T = 3 levels computed
   with sampled and with exact betweenness); as yardsticks, the agreement of the levels of two
   draws of 512 pivots, and of exact betweenness with 0.1 %, 1 % and 10 % Gaussian noise.
   Headline keys ``scale_1m_*``.

Outputs in ``--out-dir``: ``classify.json`` (machine, parameters, targets, every measurement),
``classify.csv`` (one row per timed stage), ``classify_fig6_partition.png`` (the T = 3, 4, 5
levels on the graph drawing), ``classify_fig5_quality.png`` (spectral vs k-means, four
measures, T = 3, 4, 5) and ``classify_timings.png``. ``--quick`` (about 90 s on an idle machine: one run per T
without warm-up, no reference, no command-line run, a 5k-node scaling graph) writes
``classify_quick.*`` instead.

Every timed run also records CPU seconds (this process, and the forked betweenness worker):
the machine is shared, and under load the wall-clock times grow while CPU times do not, so
both are reported.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

import benchkit
from crowdsense.data import sample_path

ROOT = Path(__file__).resolve().parent.parent

FACEBOOK = sample_path("facebook_combined.txt.gz")
EMAIL = sample_path("email-Eu-core.txt.gz")
EMAIL_LABELS = sample_path("email-Eu-core-department-labels.txt.gz")

TARGETS = {
    "facebook_T3_median_s": 3.0,
    "facebook_speedup_vs_networkx": 50.0,
    "scale_100k_s": 60.0,
    "scale_100k_peak_gb": 4.0,
    "scale_1m_s": 180.0,
    "scale_1m_peak_gb": 8.0,
    "balance_min": 0.3,
    "ari_min": 0.9,
}
#: Betweenness pivots at city scale (one Brandes pass over 10 million edges each).
CITY_PIVOTS = 32


# --------------------------------------------------------------------------------- helpers


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def peak_mb() -> dict[str, float]:
    """Peak resident memory, MB: this process (VmHWM of its own address space; ru_maxrss would
    also count the parent's memory at fork time, kept across exec) and its largest finished
    child (a forked betweenness worker: its shared copy-on-write pages are counted again, so
    self + children is an upper bound of the peak of both together)."""
    unit = 1024.0 if sys.platform != "darwin" else 1024.0 * 1024.0
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / unit
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                own = int(line.split()[1]) / 1024.0
    except OSError:  # pragma: no cover - not Linux
        pass
    return {"self_mb": own, "children_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / unit}


def cpu_seconds() -> tuple[float, float]:
    """CPU time (user + system) of this process and of its finished children."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


# ------------------------------------------------------------------------ our pipeline


def run_ours(path: Path, t: int, *, repeats: int, seed: int, jobs: int | None, pivots: str | int = "exact") -> dict:
    from crowdsense.pmcb.classify import classify_graph

    runs = []
    result = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(repeats):
            own, kids = cpu_seconds()
            result = classify_graph(path, n_levels=t, random_state=seed, n_jobs=jobs, betweenness=pivots)
            own2, kids2 = cpu_seconds()
            runs.append({**result.timings, "cpu_main": own2 - own, "cpu_workers": kids2 - kids})
    assert result is not None
    stages = list(runs[0])
    return {
        "runs": runs,
        "median": {s: statistics.median(r[s] for r in runs) for s in stages},
        "min_total": min(r["total"] for r in runs),
        "max_total": max(r["total"] for r in runs),
        "result": result,
    }


# ------------------------------------------------------------------- reference pipeline


def reference_features(path: Path) -> dict[str, Any]:
    """Node vectors with networkx only (the definitions of crowdsense.pmcb.features, written plainly)."""
    import networkx as nx

    timings: dict[str, float] = {}
    clock = time.perf_counter()
    g = nx.read_edgelist(path, nodetype=int)
    g.remove_edges_from(list(nx.selfloop_edges(g)))
    nodes = sorted(g.nodes())
    timings["load"] = time.perf_counter() - clock
    clock = time.perf_counter()
    bc = nx.betweenness_centrality(g)
    timings["betweenness"] = time.perf_counter() - clock
    clock = time.perf_counter()
    lc = nx.clustering(g)
    timings["clustering"] = time.perf_counter() - clock
    clock = time.perf_counter()
    entropy = {}
    for v in nodes:
        ego = g.subgraph([v, *g[v]])
        m = ego.number_of_edges()
        entropy[v] = 0.0 if m == 0 else math.log(2 * m) - sum(d * math.log(d) for _, d in ego.degree() if d) / (2 * m)
    timings["ego_entropy"] = time.perf_counter() - clock
    x = np.array([[g.degree(v), bc[v], lc[v], entropy[v]] for v in nodes], dtype=np.float64)
    return {"nodes": nodes, "x": x, "timings": timings}


def reference_partition(x: np.ndarray, t: int, *, k: int, seed: int) -> dict[str, Any]:
    """RatioCut spectral partition + levels with dense numpy/scipy algebra, networkx and sklearn."""
    import networkx as nx
    import scipy.linalg
    from sklearn.cluster import KMeans

    timings: dict[str, float] = {}
    clock = time.perf_counter()
    std = x.std(axis=0)
    z = np.round((x - x.mean(axis=0)) / np.where(std > 0, std, 1.0), 9) + 0.0
    points, inverse, counts = np.unique(z, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    p = len(points)
    # Brute-force distances (P x P, computed directly), K nearest with ties at the K-th.
    d = np.empty((p, p))
    for start in range(0, p, 256):
        d[start:start + 256] = np.sqrt(((points[start:start + 256, None, :] - points[None, :, :]) ** 2).sum(axis=2))
    np.fill_diagonal(d, np.inf)
    kth = np.partition(d, k - 1, axis=1)[:, k - 1]
    near = d <= kth[:, None] * (1 + 1e-9)
    sigma = float(d[near].max())
    w = np.where(near, np.maximum(np.exp(-d**2 / (2 * sigma**2)), np.finfo(float).tiny), 0.0)
    w = np.maximum(w, w.T)
    floor = w[w > 0].min()
    components = [np.array(sorted(c)) for c in nx.connected_components(nx.from_numpy_array(w))]
    first_components = len(components)
    while len(components) > 1:
        largest = max(range(len(components)), key=lambda c: len(components[c]))
        for c, members in enumerate(components):
            if c == largest:
                continue
            outside = np.setdiff1d(np.arange(p), members)
            block = d[np.ix_(members, outside)]
            r, s = np.unravel_index(np.argmin(block), block.shape)
            i, j = members[r], outside[s]
            bridge = max(math.exp(-block[r, s] ** 2 / (2 * sigma**2)), floor)
            w[i, j] = w[j, i] = max(w[i, j], bridge)
        components = [np.array(sorted(c)) for c in nx.connected_components(nx.from_numpy_array(w))]
    timings["similarity"] = time.perf_counter() - clock
    clock = time.perf_counter()
    lap = np.diag(w.sum(axis=1)) - w
    mass = np.diag(counts.astype(float))
    _, vecs = scipy.linalg.eigh(lap, mass, subset_by_index=[0, t - 1])
    timings["eigenvectors"] = time.perf_counter() - clock
    clock = time.perf_counter()
    seed_sp = int(np.random.default_rng(seed).integers(0, 2**31 - 1, size=2)[1])
    seed_km = int(np.random.default_rng(seed_sp).integers(0, 2**31 - 1, size=2)[1])
    labels = KMeans(n_clusters=t, n_init=10, random_state=seed_km).fit_predict(vecs, sample_weight=counts.astype(float))
    node_labels = labels[inverse]
    timings["k-means"] = time.perf_counter() - clock
    clock = time.perf_counter()
    influence = {c: x[node_labels == c].mean(axis=0).sum() for c in range(t)}
    first = {c: int(np.flatnonzero(node_labels == c)[0]) for c in range(t)}
    ranked = sorted(range(t), key=lambda c: (influence[c], first[c]))
    levels = np.array([ranked.index(c) + 1 for c in node_labels])
    timings["levels"] = time.perf_counter() - clock
    return {"levels": levels, "timings": timings, "knn_components": first_components, "sigma": sigma,
            "distinct_vectors": p}


# ------------------------------------------------------------------------------ scaling


def scale_worker(edge_file: str, pivots: int, t: int, seed: int, jobs: int | None) -> None:
    """Run in a fresh process: classify one generated graph, print JSON on stdout."""
    import networkx as nx

    from crowdsense.pmcb.classify import classify_graph
    from crowdsense.pmcb.graph_io import from_networkx

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Warm-up on a small graph: imports and first-call costs are not the pipeline's.
        classify_graph(from_networkx(nx.powerlaw_cluster_graph(300, 3, 0.3, seed=1)), n_levels=t,
                       betweenness=16, random_state=seed, n_jobs=jobs)
        own, kids = cpu_seconds()
        result = classify_graph(edge_file, n_levels=t, betweenness=pivots, random_state=seed, n_jobs=jobs)
        own2, kids2 = cpu_seconds()
    out = {
        "timings": result.timings,
        "cpu_main_s": own2 - own,
        "cpu_workers_s": kids2 - kids,
        "peak": peak_mb(),
        "nodes": result.graph.n_nodes,
        "edges": result.graph.n_edges,
        "sizes": [c.size for c in result.clusters],
        "betweenness_error": result.features.betweenness_estimate.error_summary(),
        "knn_components": result.partition.similarity.n_components,
        "distinct_vectors": result.partition.similarity.n_points,
        "eigensolver": result.partition.solver,
    }
    np.save(edge_file + ".bc.npy", result.features.betweenness)
    np.save(edge_file + ".levels.npy", result.levels)
    print(json.dumps(out))


def run_scaling(n: int, *, pivots: int, seed: int, jobs: int | None, exact: bool, workdir: Path) -> dict[str, Any]:
    import networkx as nx
    from scipy.stats import spearmanr
    from sklearn.metrics import adjusted_rand_score

    log(f"scaling: generating Holme-Kim graph, n={n}")
    clock = time.perf_counter()
    g = nx.powerlaw_cluster_graph(n, 10, 0.3, seed=seed)
    path = workdir / f"hk_{n}.txt"
    with open(path, "w") as fh:
        fh.write(f"# Holme-Kim powerlaw_cluster_graph(n={n}, m=10, p=0.3, seed={seed})\n")
        fh.writelines(f"{u} {v}\n" for u, v in g.edges())
    generated = time.perf_counter() - clock
    edges = g.number_of_edges()
    del g
    cmd = [sys.executable, str(Path(__file__).resolve()), "--scale-worker", str(path), "--pivots", str(pivots),
           "--seed", str(seed), "--levels", "3"] + (["--jobs", str(jobs)] if jobs else [])
    log(f"scaling: classifying n={n}, m={edges}, {pivots} pivots (fresh process)")
    clock = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - clock
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out.update({"n": n, "generated_s": generated, "process_wall_s": wall, "pivots": pivots})
    out["peak_total_mb_upper_bound"] = out["peak"]["self_mb"] + out["peak"]["children_mb"]
    if exact:
        from crowdsense.pmcb.features import betweenness_centrality
        from crowdsense.pmcb.graph_io import load_edge_list

        log(f"scaling: exact betweenness for n={n} (rank correlation)")
        graph = load_edge_list(path)
        clock = time.perf_counter()
        exact_bc = betweenness_centrality(graph, n_jobs=jobs).values
        out["exact_betweenness_s"] = time.perf_counter() - clock
        sampled = np.load(str(path) + ".bc.npy")
        top = max(1, n // 100)
        top_exact = set(np.argsort(exact_bc)[-top:].tolist())
        top_sampled = set(np.argsort(sampled)[-top:].tolist())
        out["spearman_sampled_vs_exact"] = float(spearmanr(sampled, exact_bc)[0])
        out["top1pct_overlap"] = len(top_exact & top_sampled) / top
        out["max_abs_error"] = float(np.abs(sampled - exact_bc).max())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from crowdsense.pmcb.classify import classify_graph

            exact_levels = classify_graph(graph, n_levels=3, random_state=seed, n_jobs=jobs).levels
        out["levels_ari_sampled_vs_exact"] = float(adjusted_rand_score(exact_levels, np.load(str(path) + ".levels.npy")))
        out["levels_identical_fraction"] = float(np.mean(exact_levels == np.load(str(path) + ".levels.npy")))
    return out


# -------------------------------------------------------------------------- city scale


#: The city-scale graph, Holme-Kim style: preferential attachment (igraph's Barabasi-Albert
#: generator, CITY_ATTACH edges per new node: heavy-tailed degrees) plus triad formation
#: (CITY_TRIADS times per node, two random neighbours of the node are linked: clustering), about
#: 10 million edges on a million nodes. networkx's powerlaw_cluster_graph, used for the 10k and
#: 100k runs, would take minutes and tens of GB at this size; a forest-fire graph (igraph) of
#: 11 million edges has so many triangles that listing them took more than 11 GB.
CITY_ATTACH = 5
CITY_TRIADS = 5


def city_graph(n: int, seed: int) -> tuple[Any, float]:
    """The city-scale graph with n nodes as a :class:`Graph`, and the seconds it took to turn its
    edge array into one (what an edge list read from a file also needs)."""
    import igraph
    import scipy.sparse as sp

    from crowdsense.pmcb.graph_io import Graph

    random.seed(seed)
    igraph.set_random_number_generator(random)
    g = igraph.Graph.Barabasi(n, CITY_ATTACH, directed=False)
    pairs = np.array(g.get_edgelist(), dtype=np.int64)
    del g
    # Triad formation: node v links two distinct random neighbours of its own.
    adjacency = sp.csr_array((np.ones(2 * len(pairs), dtype=np.int8),
                              (np.r_[pairs[:, 0], pairs[:, 1]], np.r_[pairs[:, 1], pairs[:, 0]])), shape=(n, n))
    degree = np.diff(adjacency.indptr)
    centre = np.repeat(np.flatnonzero(degree >= 2), CITY_TRIADS)
    rng = np.random.default_rng(seed)
    first = rng.integers(0, degree[centre])
    second = rng.integers(0, degree[centre] - 1)
    second += second >= first
    start = adjacency.indptr[centre]
    triads = np.column_stack([adjacency.indices[start + first], adjacency.indices[start + second]])
    pairs = np.vstack([pairs, triads.astype(np.int64)])
    del adjacency, triads
    clock = time.perf_counter()
    lo, hi = pairs.min(axis=1), pairs.max(axis=1)
    del pairs
    keys = np.unique((lo * n + hi)[lo != hi])  # one edge per pair, no self-loop: a simple graph
    edges = np.column_stack(np.divmod(keys, n))
    edges.setflags(write=False)
    graph = Graph(node_ids=tuple(range(n)), edges=edges,
                  source=f"Barabasi({n}, {CITY_ATTACH}) + {CITY_TRIADS} triads per node, seed {seed}")
    return graph, time.perf_counter() - clock


def city_worker(n: int, pivots: int, seed: int, jobs: int | None) -> None:
    """Run in a fresh process: generate the city graph, classify it (T = 3), print JSON.

    Besides the wall seconds of each stage (``timings``), the CPU seconds of each stage are
    recorded (``cpu_by_stage``: this process, and the forked betweenness workers once they
    have finished): on a shared machine the wall times grow with the load, the CPU times
    much less.
    """
    from crowdsense.pmcb.classify import classify_graph

    clock = time.perf_counter()
    cpu_start = time.process_time()
    graph, build_s = city_graph(n, seed)
    generated_s = time.perf_counter() - clock - build_s
    generate_and_build_cpu_s = time.process_time() - cpu_start
    cpu_by_stage: dict[str, dict[str, float]] = {}
    last = list(cpu_seconds())

    def stage_cpu(stage: str) -> None:
        now = cpu_seconds()
        cpu_by_stage[stage] = {"main": now[0] - last[0], "workers": now[1] - last[1]}
        last[:] = now

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        own, kids = cpu_seconds()
        last[:] = [own, kids]
        result = classify_graph(graph, n_levels=3, betweenness=pivots, random_state=seed, n_jobs=jobs,
                                progress=stage_cpu)
        own2, kids2 = cpu_seconds()
    sizes = [c.size for c in result.clusters]
    print(json.dumps({
        "nodes": graph.n_nodes, "edges": graph.n_edges, "generated_s": generated_s, "graph_build_s": build_s,
        "generate_and_build_cpu_s": generate_and_build_cpu_s,
        "timings": result.timings, "cpu_by_stage": cpu_by_stage, "pipeline_s": build_s + result.timings["total"],
        "cpu_main_s": own2 - own, "cpu_workers_s": kids2 - kids, "peak": peak_mb(),
        "sizes_by_level": sizes, "balance": min(sizes) / max(sizes),
        "betweenness_error": result.features.betweenness_estimate.error_summary(),
        "neighbors_used": result.partition.similarity.n_neighbors,
        "knn_components_at_requested": result.partition.similarity.components_at_requested,
        "distinct_vectors": result.partition.similarity.n_points,
        "grid_step": result.partition.similarity.grid_step,
        "eigensolver": result.partition.solver,
    }))


def run_with_memory_sampler(cmd: list[str], interval: float = 0.2) -> tuple[str, float, float]:
    """Run ``cmd``; return its stdout, wall seconds and the peak of the summed resident memory
    (bytes) of it and all its descendants, sampled every ``interval`` seconds (forked workers
    share copy-on-write pages, which the sum counts once per process: an upper bound)."""
    import psutil

    clock = time.perf_counter()
    with tempfile.TemporaryFile(mode="w+") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, text=True)
        root = psutil.Process(proc.pid)
        peak = 0
        while proc.poll() is None:
            total = 0
            try:
                family = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            for member in family:
                try:
                    total += member.memory_info().rss
                except psutil.NoSuchProcess:
                    pass
            peak = max(peak, total)
            time.sleep(interval)
        stderr = proc.stderr.read() if proc.stderr else ""
        if proc.wait() != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {stderr[-2000:]}")
        out.seek(0)
        return out.read(), time.perf_counter() - clock, float(peak)


#: Pivot counts at which the sampling error is measured against exact betweenness.
ERROR_PIVOTS = (32, 128, 512)


def betweenness_sampling_error(n: int, pivots: int, seed: int, jobs: int | None) -> dict[str, Any]:
    """Sampled against exact betweenness on an n-node graph of the city family.

    For ``pivots`` and each count of :data:`ERROR_PIVOTS`: Spearman rank correlation over all
    nodes, overlap of the top 1 % and relative error there; and what the error does to the
    levels: T = 3 levels from the node vectors with the sampled betweenness against those with
    the exact one (same graph, same seed; adjusted Rand index and the fraction of nodes whose
    level is the same).
    """
    from dataclasses import replace

    from scipy.stats import spearmanr
    from sklearn.metrics import adjusted_rand_score

    from crowdsense.pmcb.features import betweenness_centrality, node_features
    from crowdsense.pmcb.levels import assign_levels
    from crowdsense.pmcb.spectral import spectral_partition

    graph, _ = city_graph(n, seed)
    clock = time.perf_counter()
    cpu = sum(cpu_seconds())
    exact_feats = node_features(graph, n_jobs=jobs)
    exact = exact_feats.betweenness
    exact_s = time.perf_counter() - clock
    exact_cpu_s = sum(cpu_seconds()) - cpu

    def levels(feats: Any) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            part = spectral_partition(feats, n_clusters=3, random_state=seed)
        return assign_levels(feats, part.labels).levels

    exact_levels = levels(exact_feats)
    top = max(1, n // 100)
    top_exact = np.argsort(exact)[-top:]
    by_pivots = {}
    for k in sorted({pivots, *ERROR_PIVOTS}):
        sampled = betweenness_centrality(graph, pivots=k, random_state=seed, n_jobs=jobs).values
        top_sampled = np.argsort(sampled)[-top:]
        relative = np.abs(sampled[top_exact] - exact[top_exact]) / exact[top_exact]
        sampled_levels = levels(replace(exact_feats, betweenness=sampled))
        by_pivots[str(k)] = {
            "spearman_all_nodes": float(spearmanr(sampled, exact)[0]),
            "top1pct_overlap": len(set(top_exact.tolist()) & set(top_sampled.tolist())) / top,
            "top1pct_median_relative_error": float(np.median(relative)),
            "top1pct_p90_relative_error": float(np.quantile(relative, 0.9)),
            "top10_max_relative_error": float(relative[-10:].max()),
            "levels_T3_ari_vs_exact": float(adjusted_rand_score(exact_levels, sampled_levels)),
            "levels_T3_same_level_fraction": float(np.mean(exact_levels == sampled_levels)),
        }
    # How sensitive the levels are: to a second draw of the largest pivot count, and to small
    # multiplicative noise on the exact values (a yardstick for the sampling error).
    largest = max(ERROR_PIVOTS)
    draws = [betweenness_centrality(graph, pivots=largest, random_state=s, n_jobs=jobs).values
             for s in (seed, seed + 1)]
    draw_levels = [levels(replace(exact_feats, betweenness=b)) for b in draws]
    rng = np.random.default_rng(seed)
    noise = {}
    for eps in (0.001, 0.01, 0.1):
        noisy = exact * (1.0 + eps * rng.standard_normal(n))
        noise[str(eps)] = float(adjusted_rand_score(exact_levels, levels(replace(exact_feats, betweenness=noisy))))
    sensitivity = {f"levels_T3_ari_two_draws_of_{largest}_pivots": float(adjusted_rand_score(*draw_levels)),
                   "levels_T3_ari_exact_vs_exact_times_1_plus_eps_gaussian": noise}
    return {"graph": graph.source, "nodes": n, "edges": graph.n_edges, "pivots": pivots,
            "exact_s": exact_s, "exact_cpu_s": exact_cpu_s, "top1pct_nodes": top,
            **by_pivots[str(pivots)], "by_pivots": by_pivots, "levels_sensitivity": sensitivity}


def run_city(n: int, *, pivots: int, seed: int, jobs: int | None, error_nodes: int) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--city-worker", str(n), "--pivots", str(pivots),
           "--seed", str(seed)] + (["--jobs", str(jobs)] if jobs else [])
    load_start = benchkit.load_average()
    log(f"city scale: n={n}, {pivots} pivots (fresh process, memory sampled)")
    stdout, wall, peak = run_with_memory_sampler(cmd)
    out = json.loads(stdout.strip().splitlines()[-1])
    out.update({"process_wall_s": wall, "peak_sampled_gb": peak / 2**30, "pivots": pivots,
                "peak_ru_maxrss_gb_upper_bound": (out["peak"]["self_mb"] + out["peak"]["children_mb"]) / 1024,
                "load_average_start": load_start, "load_average_end": benchkit.load_average()})
    log(f"city scale: betweenness error at {pivots} pivots on {error_nodes} nodes (exact)")
    out["betweenness_error_vs_exact"] = betweenness_sampling_error(error_nodes, pivots, seed, jobs)
    return out


def city_headline(city: dict[str, Any]) -> dict[str, Any]:
    return {
        "scale_1m_s": city["pipeline_s"],
        "scale_1m_peak_gb": max(city["peak_sampled_gb"], city["peak_ru_maxrss_gb_upper_bound"]),
        "scale_1m_graph": {"nodes": city["nodes"], "edges": city["edges"],
                           "generator": f"igraph.Graph.Barabasi(n, {CITY_ATTACH}) + {CITY_TRIADS} triads per node"},
        "scale_1m_levels": city["sizes_by_level"],
        "scale_1m_balance": city["balance"],
        "scale_1m_betweenness_pivots": city["pivots"],
        "scale_1m_betweenness_error": city["betweenness_error_vs_exact"],
        "scale_1m_load_average_start_end": [city["load_average_start"], city["load_average_end"]],
        # CPU seconds of classify_graph (main process + forked betweenness workers), and of the
        # generation and Graph construction before it (main process): wall seconds grow with
        # the machine's load, these much less.
        "scale_1m_classify_cpu_s": city["cpu_main_s"] + city["cpu_workers_s"],
        "scale_1m_generate_and_build_cpu_s": city.get("generate_and_build_cpu_s"),
    }


# ------------------------------------------------------------------------------ quality


def quality(result: Any, t: int, seed: int) -> dict[str, Any]:
    """Spectral levels vs k-means on one and the same similarity graph (the spectral run's).

    k-means gets the same chance as the spectral partition's own k-means: 10 k-means++
    restarts, best inertia kept. RatioCut is the spectral method's objective; silhouette (in
    the scaled feature space), balance and stability across seeds are optimised by neither.
    """
    from crowdsense.pmcb.classify import kmeans_baseline, partition_quality
    from crowdsense.pmcb.kmeans import kmeans
    from crowdsense.pmcb.spectral import spectral_partition, standardize
    from sklearn.metrics import adjusted_rand_score

    sim = result.partition.similarity
    raw = kmeans_baseline(result.features, n_clusters=t, random_state=seed)
    standardized = kmeans_baseline(result.features, n_clusters=t, random_state=seed, standardize_features=True)
    z = standardize(result.features)
    scaled = kmeans(z, t, random_state=seed, n_init=10).labels
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unbounded = spectral_partition(result.features, n_clusters=t, random_state=seed, min_share=0.0).labels
    out = {
        "kmeans_scaled": partition_quality(sim, result.features, scaled),
        "spectral": partition_quality(sim, result.features, result.levels),
        "spectral_min_share_0": partition_quality(sim, result.features, unbounded),
        "kmeans_raw": partition_quality(sim, result.features, raw),
        "kmeans_standardized": partition_quality(sim, result.features, standardized),
        "kmeans_raw_labels": raw,
        "kmeans_scaled_labels": scaled,
    }
    seeds = range(seed, seed + 5)
    for key, make in (("kmeans_scaled", lambda s: kmeans(z, t, random_state=s, n_init=10).labels),
                      ("kmeans_raw", lambda s: kmeans_baseline(result.features, n_clusters=t, random_state=s))):
        runs = [make(s) for s in seeds]
        out[key]["min_ari_across_5_seeds"] = min(float(adjusted_rand_score(runs[0], r)) for r in runs[1:])
    return out


def seed_stability(result: Any, t: int, seeds: range) -> dict[str, Any]:
    """Adjusted Rand index between the levels of seed 0 and those of every other seed (same
    node vectors, exact betweenness: only the eigensolver start and k-means depend on it)."""
    from sklearn.metrics import adjusted_rand_score

    from crowdsense.pmcb.spectral import spectral_partition

    labels = [spectral_partition(result.features, n_clusters=t, random_state=s).labels for s in seeds]
    scores = [float(adjusted_rand_score(labels[0], other)) for other in labels[1:]]
    return {"seeds": list(seeds), "ari_vs_first": scores, "min_ari": min(scores)}


GENERATED = {
    "powerlaw_cluster_3000": ("networkx.powerlaw_cluster_graph(3000, 5, 0.3, seed=1)",
                              lambda nx: nx.powerlaw_cluster_graph(3000, 5, 0.3, seed=1)),
    "watts_strogatz_2000": ("networkx.connected_watts_strogatz_graph(2000, 10, 0.1, seed=1)",
                            lambda nx: nx.connected_watts_strogatz_graph(2000, 10, 0.1, seed=1)),
    "barabasi_albert_5000": ("networkx.barabasi_albert_graph(5000, 4, seed=1)",
                             lambda nx: nx.barabasi_albert_graph(5000, 4, seed=1)),
}


def other_graphs(ts: list[int], seed: int, jobs: int | None) -> dict[str, Any]:
    """Level sizes, balance and seed stability on email-Eu-core and three generated families."""
    import networkx as nx
    from sklearn.metrics import adjusted_rand_score

    from crowdsense.pmcb.features import node_features
    from crowdsense.pmcb.graph_io import from_networkx, load_edge_list
    from crowdsense.pmcb.kmeans import kmeans
    from crowdsense.pmcb.spectral import ratiocut, spectral_partition, standardize

    graphs: dict[str, tuple[str, Any]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graphs["email_eu_core"] = ("SNAP email-Eu-core, symmetrised", load_edge_list(EMAIL, directed="symmetrize"))
    for name, (how, make) in GENERATED.items():
        graphs[name] = (how, from_networkx(make(nx)))
    out: dict[str, Any] = {}
    for name, (how, graph) in graphs.items():
        log(f"other graphs: {name}")
        feats = node_features(graph, n_jobs=jobs)
        entry: dict[str, Any] = {"graph": how, "nodes": graph.n_nodes, "edges": graph.n_edges, "by_T": {}}
        for t in ts:
            clock = time.perf_counter()
            parts = [spectral_partition(feats, n_clusters=t, random_state=seed + s) for s in range(5)]
            sizes = np.bincount(parts[0].labels)
            sim = parts[0].similarity
            km = kmeans(standardize(feats), t, random_state=seed, n_init=10).labels
            km_sizes = np.bincount(km)

            def cut(node_labels: np.ndarray) -> float:
                point_labels = np.empty(sim.n_points, dtype=np.int64)
                point_labels[sim.point_of_node] = node_labels  # nodes of one point share a label
                return ratiocut(sim.weights, point_labels, sizes_weight=sim.multiplicity)

            entry["by_T"][str(t)] = {
                "sizes": sorted(sizes.tolist(), reverse=True),
                "balance": float(sizes.min() / sizes.max()),
                "min_ari_across_5_seeds": min(float(adjusted_rand_score(parts[0].labels, p.labels)) for p in parts[1:]),
                "ratiocut_spectral": cut(parts[0].labels),
                "ratiocut_kmeans_scaled": cut(km),
                "balance_kmeans_scaled": float(km_sizes.min() / km_sizes.max()),
                "neighbors_used": parts[0].similarity.n_neighbors,
                "knn_components_at_requested": parts[0].similarity.components_at_requested,
                "partition_s_per_seed": (time.perf_counter() - clock) / 5,
            }
        out[name] = entry
    return out


def k_sweep(result: Any, ks: list[int], t: int, seed: int) -> list[dict[str, Any]]:
    """Effect of K on the kNN graph and the partition (same node vectors, T fixed)."""
    from crowdsense.pmcb.classify import partition_quality
    from crowdsense.pmcb.levels import assign_levels
    from crowdsense.pmcb.spectral import spectral_partition

    out = []
    for k in ks:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            part = spectral_partition(result.features, n_clusters=t, n_neighbors=k, random_state=seed)
        levels = assign_levels(result.features, part.labels)
        q = partition_quality(part.similarity, result.features, part.labels)
        out.append({"K": k, "knn_components": part.similarity.n_components, "sizes_by_level":
                    [c.size for c in levels.clusters], "mean_degree_by_level": [c.AD for c in levels.clusters],
                    "balance": q["balance"], "ratiocut": q["ratiocut"], "silhouette": q["silhouette"],
                    "eigenvalues": part.eigenvalues.tolist()})
    return out


def email_check(ts: list[int], seed: int, jobs: int | None) -> dict[str, Any]:
    import gzip

    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from crowdsense.pmcb.classify import classify_graph, kmeans_baseline
    from crowdsense.pmcb.graph_io import load_edge_list

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = load_edge_list(EMAIL, directed="symmetrize")
    labels = {}
    for line in gzip.decompress(EMAIL_LABELS.read_bytes()).decode().split("\n"):
        if line.strip():
            node, dept = line.split()
            labels[node] = int(dept)
    truth = np.array([labels[str(v)] for v in graph.node_ids])
    out: dict[str, Any] = {"nodes": graph.n_nodes, "edges": graph.n_edges, "departments": len(set(labels.values())),
                           "self_loops_dropped": graph.self_loops_dropped, "runs": []}
    for t in ts:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = classify_graph(graph, n_levels=t, random_state=seed, n_jobs=jobs)
            km = kmeans_baseline(result.features, n_clusters=t, random_state=seed)
        out["runs"].append({
            "T": t,
            "spectral_ari": float(adjusted_rand_score(truth, result.levels)),
            "spectral_nmi": float(normalized_mutual_info_score(truth, result.levels)),
            "kmeans_ari": float(adjusted_rand_score(truth, km)),
            "kmeans_nmi": float(normalized_mutual_info_score(truth, km)),
        })
    return out


# -------------------------------------------------------------------------------- plots


def plot_partition(results: dict[int, Any], path: Path, seed: int) -> None:
    """Paper Fig. 6: the levels on a drawing of the graph, one panel per T (one layout for all)."""
    import igraph
    from matplotlib.collections import LineCollection

    plt = benchkit.pyplot()

    ts = sorted(results)
    first = results[ts[0]]
    g = first.graph.igraph
    random.seed(seed)
    igraph.set_random_number_generator(random)
    layout = np.array(g.layout_fruchterman_reingold(niter=300).coords)
    segments = layout[first.graph.edges]
    fig, axes = plt.subplots(1, len(ts), figsize=(7 * len(ts), 7.4))
    for ax, t in zip(np.atleast_1d(axes), ts):
        result = results[t]
        levels = result.levels
        colours = plt.get_cmap("viridis", t)
        ax.add_collection(LineCollection(segments, colors="0.6", linewidths=0.1, alpha=0.25, zorder=1))
        for level in range(1, t + 1):
            mask = levels == level
            info = result.clusters[level - 1]
            ax.scatter(layout[mask, 0], layout[mask, 1], s=4, color=colours(level - 1), zorder=2 + level,
                       label=f"level {level}: {info.size} nodes, I = {info.I:.1f}")
        sizes = [c.size for c in result.clusters]
        ax.set_title(f"T = {t} (balance {min(sizes) / max(sizes):.2f})")
        ax.legend(loc="upper right", markerscale=3, fontsize=8)
        ax.set_axis_off()
        ax.autoscale()
    fig.suptitle(f"ego-Facebook classified into T security levels (RatioCut spectral, K >= "
                 f"{first.parameters['neighbors']}, levels of comparable size) - paper Fig. 6")
    benchkit.save_figure(fig, path, dpi=110)


def plot_quality(qualities: dict[int, dict[str, Any]], stability: dict[str, Any], path: Path) -> None:
    """Paper Fig. 5 without circularity: spectral levels vs k-means on the same similarity graph.

    RatioCut is the spectral method's own objective (shown, but not the only measure);
    silhouette in the scaled feature space, balance and stability across seeds are
    optimised by neither method.
    """
    plt = benchkit.pyplot()

    ts = sorted(qualities)
    methods = (("spectral", "RatioCut spectral (levels)"), ("kmeans_scaled", "k-means, scaled vectors"),
               ("kmeans_raw", "k-means, raw vectors (paper)"))
    panels = (("ratiocut", "RatioCut on the similarity graph\n(lower is better; spectral's objective)"),
              ("silhouette", "silhouette, scaled feature space\n(higher is better; neither optimises)"),
              ("balance", "balance smallest / largest\n(higher is better; neither optimises)"),
              ("min_ari_across_5_seeds", "smallest ARI of 4 seeds vs seed 0\n(higher is better; neither optimises)"))
    fig, axes = plt.subplots(1, len(panels), figsize=(18, 4.6))
    width = 0.27
    for ax, (key, title) in zip(axes, panels):
        for m, (method, label) in enumerate(methods):
            if key == "min_ari_across_5_seeds" and method == "spectral":
                values = [stability[str(t)]["min_ari"] for t in ts]
            else:
                values = [qualities[t][method][key] for t in ts]
            xs = [i + (m - 1) * width for i in range(len(ts))]
            bars = ax.bar(xs, values, width=width, label=label)
            for bar, v in zip(bars, values):
                ax.annotate(f"{v:.2f}", (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center",
                            va="bottom", fontsize=7)
        if key == "ratiocut":
            ax.set_yscale("log")
        ax.set_xticks(range(len(ts)), [f"T = {t}" for t in ts])
        ax.set_title(title, fontsize=9)
    axes[0].legend(fontsize=8, loc="upper left")
    fig.suptitle("ego-Facebook: spectral levels vs k-means, all measured on the same partitions (paper Fig. 5)")
    benchkit.save_figure(fig, path, dpi=120)


def plot_timings(fb: dict[int, Any], reference: dict[str, Any] | None, scaling: list[dict], path: Path) -> None:
    plt = benchkit.pyplot()

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    ax = axes[0]
    ts = sorted(fb)
    ours = [fb[t]["median"]["total"] for t in ts]
    ax.bar([i - 0.2 for i in range(len(ts))], ours, width=0.4, label="this project (median)")
    if reference:
        ref = [reference["total_by_T"][str(t)] for t in ts]
        ax.bar([i + 0.2 for i in range(len(ts))], ref, width=0.4, label="networkx + scikit-learn reference")
    ax.set_yscale("log")
    ax.set_ylim(bottom=0.5)
    ax.set_xticks(range(len(ts)), [f"T = {t}" for t in ts])
    ax.set_ylabel("seconds (log)")
    ax.set_title("ego-Facebook, full pipeline (wall clock)")
    ax.legend(loc="center left", fontsize=8)
    ax = axes[1]
    if scaling:
        stages = [s for s in scaling[0]["timings"] if s != "total"]
        bottom = np.zeros(len(scaling))
        for stage in stages:
            vals = np.array([c["timings"][stage] for c in scaling])
            ax.bar(range(len(scaling)), vals, bottom=bottom, label=stage)
            bottom += vals
        ax.set_xticks(range(len(scaling)), [f"{c['n'] // 1000}k nodes\n{c['edges'] // 1000}k edges" for c in scaling])
        ax.set_ylabel("seconds")
        ax.set_title(f"generated graphs, sampled betweenness ({scaling[0]['pivots']} pivots)")
        ax.legend(fontsize=8)
    benchkit.save_figure(fig, path, dpi=120)


# --------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="< 60 s: T = 3, no reference, small scaling graph")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per T (default 5, quick 1)")
    parser.add_argument("--pivots", type=int, default=256, help="betweenness pivots of the scaling runs")
    parser.add_argument("--levels", type=int, default=3, help=argparse.SUPPRESS)
    parser.add_argument("--jobs", type=int, default=None, help="betweenness processes (default: all cores)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--neighbors", type=int, default=10)
    parser.add_argument("--skip-reference", action="store_true", help="do not run the networkx reference")
    parser.add_argument("--scale-1m", action="store_true",
                        help="also classify a generated 1,000,000-node / 10,000,000-edge graph (not with --quick)")
    parser.add_argument("--scale-1m-only", action="store_true",
                        help="run only the city-scale measurement and add it to the existing classify.json")
    parser.add_argument("--city-nodes", type=int, default=1_000_000, help="nodes of the city-scale graph")
    parser.add_argument("--city-pivots", type=int, default=CITY_PIVOTS, help="betweenness pivots at city scale")
    parser.add_argument("--city-error-nodes", type=int, default=10_000,
                        help="nodes of the graph on which sampled betweenness is checked against exact")
    parser.add_argument("--scale-worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--city-worker", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.scale_worker:
        scale_worker(args.scale_worker, args.pivots, args.levels, args.seed, args.jobs)
        return 0
    if args.city_worker:
        city_worker(args.city_worker, args.pivots, args.seed, args.jobs)
        return 0
    for name in ("city_nodes", "city_pivots", "city_error_nodes"):
        if getattr(args, name) < 3:
            print(f"error: --{name.replace('_', '-')} must be an integer >= 3, got {getattr(args, name)}",
                  file=sys.stderr)
            return 2
    if args.quick and (args.scale_1m or args.scale_1m_only):
        print("error: --scale-1m with --quick: the city-scale run is not part of the quick mode; drop one of them",
              file=sys.stderr)
        return 2
    if args.scale_1m_only:
        return city_only(args)

    quick = args.quick
    repeats = args.repeats or (1 if quick else 5)
    ts = [3, 4, 5]
    sizes = [5_000] if quick else [10_000, 100_000]
    out_dir: Path = args.out_dir
    name = benchkit.output_stem(out_dir, "classify", quick=quick)
    started = time.perf_counter()
    machine = benchkit.machine_info(
        {"numpy": "numpy", "scipy": "scipy", "scikit-learn": "scikit-learn", "networkx": "networkx",
         "python-igraph": "igraph"},
        load_key="load_average_at_start", processor_key="cpu_model")
    rows: list[dict[str, Any]] = []
    report: dict[str, Any] = {
        "benchmark": "classify",
        "date": benchkit.utc_timestamp(),
        "quick": quick,
        "machine": machine,
        "parameters": {"T": ts, "repeats": repeats, "neighbors": args.neighbors, "seed": args.seed,
                       "jobs": args.jobs, "scaling_sizes": sizes, "scaling_pivots": args.pivots,
                       "scaling_generator": "networkx.powerlaw_cluster_graph(n, m=10, p=0.3)"},
        "targets": TARGETS,
    }

    # 1. ego-Facebook, ours ----------------------------------------------------------------
    from crowdsense.pmcb.classify import classify_graph

    if not quick:  # quick: the single timed run includes imports and first-call costs
        log("ego-Facebook: warm-up run")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            classify_graph(FACEBOOK, n_levels=3, random_state=args.seed, n_jobs=args.jobs)
    fb: dict[int, Any] = {}
    for t in ts:
        log(f"ego-Facebook: T={t}, {repeats} timed run(s)")
        fb[t] = run_ours(FACEBOOK, t, repeats=repeats, seed=args.seed, jobs=args.jobs)
        for i, run in enumerate(fb[t]["runs"]):
            for stage, sec in run.items():
                rows.append({"dataset": "ego-Facebook", "T": t, "pipeline": "ours", "run": i, "stage": stage,
                             "seconds": round(sec, 6)})
    cli_wall = None
    if not quick:
        log("ego-Facebook: cold command-line run (interpreter start and imports included)")
        with tempfile.TemporaryDirectory() as tmp:
            clock = time.perf_counter()
            subprocess.run([str(Path(sys.executable).parent / "crowdsense"), "classify", "--graph", str(FACEBOOK),
                            "--levels", "3", "--out", str(Path(tmp) / "levels.json"), "--no-progress"],
                           check=True, capture_output=True)
            cli_wall = time.perf_counter() - clock
    report["facebook"] = {
        "nodes": fb[ts[0]]["result"].graph.n_nodes,
        "edges": fb[ts[0]]["result"].graph.n_edges,
        "cli_cold_wall_s_T3": cli_wall,
        "by_T": {str(t): {"median_s": fb[t]["median"], "min_total_s": fb[t]["min_total"],
                          "max_total_s": fb[t]["max_total"], "runs": fb[t]["runs"],
                          "cluster_sizes": [c.size for c in fb[t]["result"].clusters],
                          "knn_components": fb[t]["result"].partition.similarity.n_components,
                          "distinct_vectors": fb[t]["result"].partition.similarity.n_points,
                          "sigma": fb[t]["result"].partition.similarity.sigma,
                          "eigenvalues": fb[t]["result"].partition.eigenvalues.tolist()}
                  for t in ts},
        "peak_memory": peak_mb(),
    }

    # 1b. reference ----------------------------------------------------------------------------
    reference = None
    if not quick and not args.skip_reference:
        log("reference: networkx features (betweenness takes minutes)")
        own = cpu_seconds()[0]
        feats = reference_features(FACEBOOK)
        ref_feature_cpu = cpu_seconds()[0] - own
        ours_x = fb[3]["result"].features.matrix()
        node_ids = [int(v) for v in fb[3]["result"].graph.node_ids]
        assert node_ids == feats["nodes"], "node order differs"
        reference = {"features_s": feats["timings"], "features_total_s": sum(feats["timings"].values()),
                     "features_cpu_s": ref_feature_cpu,
                     "max_abs_feature_difference": dict(zip(("D", "BC", "Lc", "I_f"),
                                                            np.abs(ours_x - feats["x"]).max(axis=0).tolist())),
                     "by_T": {}, "total_by_T": {}, "speedup_by_T": {}, "cpu_speedup_by_T": {}}
        for stage, sec in feats["timings"].items():
            rows.append({"dataset": "ego-Facebook", "T": "", "pipeline": "reference", "run": 0, "stage": stage,
                         "seconds": round(sec, 6)})
        for t in ts:
            log(f"reference: partition T={t}")
            own = cpu_seconds()[0]
            part = reference_partition(feats["x"], t, k=args.neighbors, seed=args.seed)
            part_cpu = cpu_seconds()[0] - own
            total = reference["features_total_s"] + sum(part["timings"].values())
            # The reference implements the pipeline as published (z-scores of the raw features,
            # sigma = longest kNN edge, components bridged, RatioCut sizes): ours, run with those
            # settings, must give exactly its levels; the default differs by design (docs/pmcb.md).
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                published = classify_graph(FACEBOOK, n_levels=t, n_neighbors=args.neighbors, sigma="max-knn",
                                           connect="bridge", scaling="none", min_share=0.0,
                                           random_state=args.seed, n_jobs=args.jobs).levels
            ours_levels = fb[t]["result"].levels
            reference["by_T"][str(t)] = {
                "partition_s": part["timings"],
                "partition_cpu_s": part_cpu,
                "identical_levels": bool(np.array_equal(part["levels"], published)),
                "identical_fraction": float(np.mean(part["levels"] == published)),
                "identical_fraction_default_pipeline": float(np.mean(part["levels"] == ours_levels)),
                "knn_components": part["knn_components"],
                "distinct_vectors": part["distinct_vectors"],
            }
            reference["total_by_T"][str(t)] = total
            reference["speedup_by_T"][str(t)] = total / fb[t]["median"]["total"]
            ours_cpu = fb[t]["median"]["cpu_main"] + fb[t]["median"]["cpu_workers"]
            reference["cpu_speedup_by_T"][str(t)] = (ref_feature_cpu + part_cpu) / ours_cpu
            for stage, sec in part["timings"].items():
                rows.append({"dataset": "ego-Facebook", "T": t, "pipeline": "reference", "run": 0, "stage": stage,
                             "seconds": round(sec, 6)})
    report["reference"] = reference

    # 2. scaling ---------------------------------------------------------------------------
    scaling = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            case = run_scaling(n, pivots=args.pivots if not quick else 64, seed=args.seed, jobs=args.jobs,
                               exact=(n <= 10_000 and not quick), workdir=Path(tmp))
            scaling.append(case)
            for stage, sec in case["timings"].items():
                rows.append({"dataset": f"holme-kim-{n}", "T": 3, "pipeline": "ours", "run": 0, "stage": stage,
                             "seconds": round(sec, 6)})
    report["scaling"] = scaling

    # 3. quality --------------------------------------------------------------------------------
    log("quality vs k-means baseline")
    qualities = {}
    for t in ts:
        q = quality(fb[t]["result"], t, args.seed)
        qualities[t] = q
    report["quality"] = {str(t): {k: v for k, v in q.items() if not k.endswith("_labels")} for t, q in qualities.items()}
    log("stability across 5 seeds")
    stability = {str(t): seed_stability(fb[t]["result"], t, range(args.seed, args.seed + 5)) for t in ts}
    report["stability"] = stability
    report["other_graphs"] = others = other_graphs([3, 4, 5], args.seed, args.jobs)
    if not quick:
        log("K sweep (T = 3)")
        report["k_sweep_T3"] = k_sweep(fb[3]["result"], [5, 10, 20, 30, 50], 3, args.seed)

    # 4. email-Eu-core ---------------------------------------------------------------------
    log("email-Eu-core vs departments")
    report["email_eu_core"] = email_check([3] if quick else [3, 42], args.seed, args.jobs)

    # 5. city scale (optional) -----------------------------------------------------------
    city = None
    if args.scale_1m:
        city = run_city(args.city_nodes, pivots=args.city_pivots, seed=args.seed, jobs=args.jobs,
                        error_nodes=args.city_error_nodes)
        report["city_scale"] = city

    # plots -----------------------------------------------------------------------------------
    log("plots")
    plot_partition({t: fb[t]["result"] for t in ts}, out_dir / f"{name}_fig6_partition.png", args.seed)
    plot_quality(qualities, stability, out_dir / f"{name}_fig5_quality.png")
    plot_timings(fb, reference, scaling, out_dir / f"{name}_timings.png")

    # headline ------------------------------------------------------------------------------
    machine["load_average_at_end"] = benchkit.load_average()
    loads = (machine["load_average_at_start"], machine["load_average_at_end"])
    head: dict[str, Any] = {
        "facebook_T3_median_s": fb[3]["median"]["total"],
        "facebook_T3_median_cpu_s": fb[3]["median"]["cpu_main"] + fb[3]["median"]["cpu_workers"],
        "load_average_1min_start_end": [load[0] if load else None for load in loads],
    }
    if reference:
        head["facebook_speedup_vs_networkx"] = {t: reference["speedup_by_T"][t] for t in reference["speedup_by_T"]}
        head["facebook_cpu_speedup_vs_networkx"] = reference["cpu_speedup_by_T"]
        head["identical_levels_vs_reference"] = {t: reference["by_T"][t]["identical_levels"] for t in reference["by_T"]}
    big = [c for c in scaling if c["n"] == 100_000]
    if big:
        head["scale_100k_s"] = big[0]["timings"]["total"]
        head["scale_100k_process_wall_s"] = big[0]["process_wall_s"]
        head["scale_100k_peak_gb_upper_bound"] = big[0]["peak_total_mb_upper_bound"] / 1024
    checks = {"facebook_T3_median_s": head["facebook_T3_median_s"] <= TARGETS["facebook_T3_median_s"]}
    if reference:
        checks["facebook_speedup_T3"] = reference["speedup_by_T"]["3"] >= TARGETS["facebook_speedup_vs_networkx"]
        checks["identical_levels"] = all(reference["by_T"][t]["identical_levels"] for t in reference["by_T"])
    if big:
        checks["scale_100k_s"] = head["scale_100k_s"] <= TARGETS["scale_100k_s"]
        checks["scale_100k_peak"] = head["scale_100k_peak_gb_upper_bound"] <= TARGETS["scale_100k_peak_gb"]
    head["balance_by_T"] = {str(t): min(c.size for c in fb[t]["result"].clusters)
                            / max(c.size for c in fb[t]["result"].clusters) for t in ts}
    head["ari_across_seeds_by_T"] = {t: stability[t]["min_ari"] for t in stability}
    head["ratiocut_spectral_vs_kmeans_same_graph_by_T"] = {
        str(t): {"spectral": q["spectral"]["ratiocut"], "kmeans_raw": q["kmeans_raw"]["ratiocut"],
                 "kmeans_scaled": q["kmeans_scaled"]["ratiocut"]} for t, q in qualities.items()}
    head["fig5_by_T"] = {
        str(t): {method: {"ratiocut": q[method]["ratiocut"], "silhouette": q[method]["silhouette"],
                          "balance": q[method]["balance"],
                          "min_ari_across_5_seeds": stability[str(t)]["min_ari"] if method == "spectral"
                          else q[method]["min_ari_across_5_seeds"]}
                 for method in ("spectral", "kmeans_scaled", "kmeans_raw")}
        for t, q in qualities.items()}
    head["balance_other_graphs"] = {name: {t: v["balance"] for t, v in g["by_T"].items()} for name, g in others.items()}
    head["ratiocut_other_graphs"] = {
        name: {t: {"spectral": v["ratiocut_spectral"], "kmeans_scaled": v["ratiocut_kmeans_scaled"],
                   "balance_kmeans_scaled": v["balance_kmeans_scaled"]} for t, v in g["by_T"].items()}
        for name, g in others.items()}
    head["ari_other_graphs"] = {name: {t: v["min_ari_across_5_seeds"] for t, v in g["by_T"].items()}
                                for name, g in others.items()}
    checks["balance_facebook"] = all(v >= TARGETS["balance_min"] for v in head["balance_by_T"].values())
    checks["balance_other_graphs"] = all(v >= TARGETS["balance_min"] for g in head["balance_other_graphs"].values()
                                         for v in g.values())
    checks["ari_across_seeds_facebook"] = all(v >= TARGETS["ari_min"] for v in head["ari_across_seeds_by_T"].values())
    checks["ari_other_graphs"] = all(v >= TARGETS["ari_min"] for g in head["ari_other_graphs"].values()
                                     for v in g.values())
    checks["spectral_ratiocut_not_above_kmeans"] = all(
        v["spectral"] <= min(v["kmeans_raw"], v["kmeans_scaled"])
        for v in head["ratiocut_spectral_vs_kmeans_same_graph_by_T"].values())
    if city:
        head.update(city_headline(city))
        checks["scale_1m_s"] = head["scale_1m_s"] <= TARGETS["scale_1m_s"]
        checks["scale_1m_peak"] = head["scale_1m_peak_gb"] <= TARGETS["scale_1m_peak_gb"]
    head["targets_met"] = checks
    report["headline"] = head
    report["wall_s"] = time.perf_counter() - started

    json_path = out_dir / f"{name}.json"
    benchkit.write_json(json_path, report, indent=1)
    with open(out_dir / f"{name}.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["dataset", "T", "pipeline", "run", "stage", "seconds"])
        writer.writeheader()
        writer.writerows(rows)
    log(f"wrote {json_path} in {report['wall_s']:.1f} s")
    print(json.dumps(benchkit.jsonable(head), indent=1))
    return 0


def city_only(args: argparse.Namespace) -> int:
    """``--scale-1m-only``: the city-scale measurement alone, merged into an existing classify.json."""
    json_path = args.out_dir / "classify.json"
    try:
        report = json.loads(json_path.read_text())
    except (OSError, ValueError) as exc:
        print(f"error: cannot read {json_path} ({exc}): run the full benchmark first, or use --scale-1m",
              file=sys.stderr)
        return 2
    city = run_city(args.city_nodes, pivots=args.city_pivots, seed=args.seed, jobs=args.jobs,
                    error_nodes=args.city_error_nodes)
    report["city_scale"] = city
    report.setdefault("targets", {}).update({k: TARGETS[k] for k in ("scale_1m_s", "scale_1m_peak_gb")})
    head = report.setdefault("headline", {})
    head.update(city_headline(city))
    checks = head.setdefault("targets_met", {})
    checks["scale_1m_s"] = head["scale_1m_s"] <= TARGETS["scale_1m_s"]
    checks["scale_1m_peak"] = head["scale_1m_peak_gb"] <= TARGETS["scale_1m_peak_gb"]
    benchkit.write_json(json_path, report, indent=1)
    log(f"added the city-scale run to {json_path}")
    print(json.dumps(benchkit.jsonable(city_headline(city)), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
