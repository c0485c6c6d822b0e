"""The one task flow between separate parties: every service and every party's command a process of its own.

``crowdsense demo --parties`` runs what real parties on their own machines run, on one machine:
the same commands, each in a fresh process with its own account and journal, talking to the
services over HTTP and to the chain over JSON-RPC; nothing is shared but URLs, the deployment
file and the files one party hands another (the task file, the selection proofs). The steps:

1. **Chain.** The admin deploys the contracts (``crowdsense deploy``, another account the
   releaser) and grants the platform the selector role; as registrar it classifies the bundled
   social graph (``classify``) and registers the users' levels (``register``).
2. **Services**, three processes with three operators: the edge's parameter generator, the
   anonymizer, and the platform (the CTBC platform and the blob store in one service).
3. **CTBC**: the edge opens an epoch and registers the users and the platform's operator; each
   user joins from its own location (``ctbc join``), the anonymizer groups the epoch, each user
   commits and uploads (``ctbc commit``).
4. **One task**: the releaser releases a task for selection (``release --for-selection``); the
   platform opens it at the task's place (``ctbc open``); the users reveal when asked
   (``ctbc reveal``); the platform fixes the verified selection on chain (``ctbc selection``,
   ``selection publish``) and hands each selected user its proof.
5. **Claims and data**: the selected users claim at their own level (``claim --selection``); a
   user who was not selected tries and is refused by the contract; the releaser hands the keys
   over (``handover``); each claimant fetches its subtask, delivers its reading encrypted to the
   releaser (``fetch``, ``submit --deliver``); the releaser collects and checks every reading
   (``collect``).

Local development chains only (the parties are development accounts, funded through the node).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import requests

from crowdsense.chain.accounts import dev_signer
from crowdsense.chain.connection import connect
from crowdsense.chain.node import LocalNode, free_port
from crowdsense.chain.registration import fund_dev_accounts, require_dev_chain
from crowdsense.errors import CrowdsenseError, InputError
from crowdsense.ldpf.city import EARTH_RADIUS_M

__all__ = ["PartiesOptions", "run_parties"]

#: Development accounts of the roles (the admin is also the registrar); users are accounts
#: FIRST_USER, FIRST_USER + 1, ...
ADMIN, PLATFORM, ANONYMIZER, EDGE, RELEASER, FIRST_USER = 0, 1, 2, 3, 4, 5
#: Where the task is (Rio de Janeiro, Centro) and the epoch's origin.
TASK_CENTRE = (-22.9035, -43.1800)
_BALANCE = 10**20


@dataclass(frozen=True)
class PartiesOptions:
    """Options of :func:`run_parties`."""

    out: Path = Path("out/parties")
    rpc_url: str | None = None
    users: int = 8
    near: int = 5
    k: int = 2
    n: int = 3
    levels: int = 3
    seed: int = 0
    workers: int = 2

    def validate(self) -> PartiesOptions:
        for name, low, high in (("users", 3, 40), ("k", 2, 10), ("levels", 2, 8), ("workers", 1, 16)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise InputError(f"{name} {value!r} is out of range: expected an integer in {low}..{high}")
        if not self.k <= self.near <= self.users:
            raise InputError(f"near {self.near!r}: expected k <= near <= users (users near the task form a group)")
        if not 1 <= self.n <= min(self.near, self.levels):
            raise InputError(f"n {self.n!r}: expected 1..{min(self.near, self.levels)} (selected users near the "
                             "task, at most one per level's subtask)")
        return self


@dataclass
class _Run:
    opts: PartiesOptions
    echo: Callable[[str], None]
    out: Path
    env: dict[str, str]
    services: list[subprocess.Popen[bytes]] = field(default_factory=list)
    node: LocalNode | None = None
    timings: dict[str, float] = field(default_factory=dict)
    processes: int = 0

    def cli(self, party: str, *args: Any, check: bool = True, as_json: bool = True) -> dict[str, Any]:
        """Run ``crowdsense ARGS --json`` as ``party`` (its own journal) in a new process."""
        command = [sys.executable, "-m", "crowdsense.cli.main", *(str(a) for a in args), *(["--json"] * as_json)]
        env = {**self.env, "CROWDSENSE_JOURNAL": str(self.out / "journals" / f"{party}.sqlite")}
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
        self.processes += 1
        if done.returncode != 0:
            line = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
            if not check:
                return {"error": line}
            raise CrowdsenseError(f"{party} ran `crowdsense {' '.join(str(a) for a in args[:2])}`: {line}")
        return json.loads(done.stdout) if done.stdout.strip() else {}

    def each(self, users: Sequence[int], step: Callable[[int], dict[str, Any]]) -> dict[int, dict[str, Any]]:
        with ThreadPoolExecutor(self.opts.workers) as pool:
            return dict(zip(users, pool.map(step, users)))

    def serve(self, name: str, *args: str) -> str:
        port = free_port()
        log = open(self.out / "logs" / f"{name}.log", "wb")  # noqa: SIM115 - the process owns it
        process = subprocess.Popen(
            [sys.executable, "-m", "crowdsense.cli.main", "service", "serve", "--port", str(port), "--database-url",
             f"sqlite:///{self.out / 'services' / name}.sqlite", "--log-level", "warning", *args],
            env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.services.append(process)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise CrowdsenseError(f"the {name} service exited at start: see {self.out / 'logs' / name}.log")
            try:
                if requests.get(url + "/v1/health", timeout=1).ok:
                    return url
            except requests.RequestException:
                time.sleep(0.1)
        raise CrowdsenseError(f"the {name} service did not answer within 60 s: see {self.out / 'logs' / name}.log")

    def step(self, name: str, started: float) -> None:
        self.timings[name] = round(time.perf_counter() - started, 2)
        self.echo(f"[{sum(self.timings.values()):6.1f} s] {name}")

    def close(self) -> None:
        for process in self.services:
            if process.poll() is None:
                process.terminate()
        for process in self.services:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        if self.node is not None:
            self.node.stop()


def _location(rng: np.random.Generator, metres: float) -> str:
    """A point ``metres`` from the task centre in a random direction, as ``LAT,LON``."""
    angle = rng.uniform(0, 2 * np.pi)
    lat = TASK_CENTRE[0] + np.degrees(metres * np.sin(angle) / EARTH_RADIUS_M)
    lon = TASK_CENTRE[1] + np.degrees(metres * np.cos(angle) / (EARTH_RADIUS_M * np.cos(np.radians(TASK_CENTRE[0]))))
    return f"{lat:.6f},{lon:.6f}"


def _chain(run: _Run, users: list[int]) -> dict[str, int]:
    """Step 1: deploy, grant the selector role, classify, register the users' levels."""
    opts, out = run.opts, run.out
    run.cli("admin", "deploy", "--levels", opts.levels, "--releaser", dev_signer(RELEASER).address,
            "--dev-account", ADMIN, "--out", out / "deployment.json")
    run.env["CROWDSENSE_DEPLOYMENT"] = str(out / "deployment.json")
    run.cli("admin", "grant", "selector", dev_signer(PLATFORM).address, "--dev-account", ADMIN)
    levels_file = out / "levels.json"
    run.cli("admin", "classify", "--levels", opts.levels, "--seed", opts.seed, "--out", levels_file)
    levels = json.loads(levels_file.read_text())["levels"]
    # one user per level in turn, from the graph's nodes of that level
    by_level: dict[int, list[str]] = {}
    for node, level in sorted(levels.items(), key=lambda kv: int(kv[0])):
        by_level.setdefault(int(level), []).append(node)
    picks = {u: by_level[1 + i % opts.levels][i // opts.levels] for i, u in enumerate(users)}
    (out / "receivers.csv").write_text("node,address\n" + "".join(f"{node},{dev_signer(u).address}\n"
                                                                   for u, node in picks.items()))
    (out / "users-levels.json").write_text(json.dumps({"levels": {node: levels[node] for node in picks.values()}}))
    run.cli("admin", "register", out / "users-levels.json", "--addresses", out / "receivers.csv",
            "--dev-account", ADMIN)
    return {dev_signer(u).address: int(levels[node]) for u, node in picks.items()}


def run_parties(options: PartiesOptions | None = None, *, echo: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the flow (module docstring); returns its summary, also written to ``out/summary.json``."""
    opts = (options or PartiesOptions()).validate()
    echo = echo or (lambda _line: None)
    out = opts.out.resolve()
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / "journals").is_dir())):
        raise InputError(f"--out {out} exists and holds something else than a parties run: expected a new "
                         "folder, or one an earlier `demo --parties` wrote (it is replaced)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROWDSENSE_")}
    run = _Run(opts, echo, out, env)
    try:
        return _run(run)
    finally:
        run.close()


def _run(run: _Run) -> dict[str, Any]:
    opts, out = run.opts, run.out
    started = time.perf_counter()
    if opts.rpc_url is None:
        run.node = LocalNode("anvil", port=free_port()).start()
    url = opts.rpc_url or run.node.url  # type: ignore[union-attr]
    w3 = connect(url)
    chain_id = int(w3.eth.chain_id)
    require_dev_chain(chain_id, "the parties' development accounts")
    users = list(range(FIRST_USER, FIRST_USER + opts.users))
    fund_dev_accounts(w3, [dev_signer(i).address for i in (ADMIN, PLATFORM, RELEASER, *users)], wei=_BALANCE,
                      chain_id=chain_id)
    if out.exists():
        shutil.rmtree(out)  # a run's journals and databases belong to its chain
    for sub in ("journals", "services", "logs", "proofs", "data"):
        (out / sub).mkdir(parents=True, mode=0o700)
    run.env["CROWDSENSE_RPC_URL"] = url
    run.step("node", started)

    t = time.perf_counter()
    level_of = _chain(run, users)
    run.step("deploy, classify, register levels", t)

    t = time.perf_counter()
    key = out / "ctbc-key.json"
    run.cli("platform", "ctbc", "keygen", "--out", key, as_json=False)
    edge = run.serve("edge", "--edge-operator", dev_signer(EDGE).address)
    anonymizer = run.serve("anonymizer", "--anonymizer-operator", dev_signer(ANONYMIZER).address)
    platform = run.serve("platform", "--ctbc-key", str(key), "--ctbc-operator", dev_signer(PLATFORM).address,
                         "--rpc-url", url, "--deployment", str(out / "deployment.json"))
    run.step("services: edge, anonymizer, platform", t)

    t = time.perf_counter()
    rng = np.random.default_rng(opts.seed)
    distance = {u: float(rng.uniform(10, 150)) if i < opts.near else float(rng.uniform(3000, 6000))
                for i, u in enumerate(users)}
    where = {u: _location(rng, d) for u, d in distance.items()}
    centre = f"{TASK_CENTRE[0]},{TASK_CENTRE[1]}"
    epoch = run.cli("edge", "edge", "open-epoch", "--service", edge, "--origin", centre,
                    "--dev-account", EDGE)["epoch"]
    run.cli("edge", "edge", "register", "--service", edge, "--dev-account", EDGE,
            *[dev_signer(u).address for u in users], dev_signer(PLATFORM).address)
    run.each(users, lambda u: run.cli(f"user-{u}", "ctbc", "join", "--edge", edge, "--anonymizer", anonymizer,
                                      "--epoch", epoch, "--location", where[u], "--dev-account", u))
    grouped = run.cli("anonymizer", "edge", "group", "--service", anonymizer, "--epoch", epoch, "--k", opts.k,
                      "--dev-account", ANONYMIZER)
    run.each(users, lambda u: run.cli(f"user-{u}", "ctbc", "commit", "--anonymizer", anonymizer, "--service",
                                      platform, "--epoch", epoch, "--dev-account", u))
    run.step(f"CTBC epoch {epoch}: {opts.users} users joined, {grouped['groups']} groups, committed on chain", t)

    t = time.perf_counter()
    task_file = out / "task.json"
    task_file.write_text(json.dumps({"title": "Air quality at Praca XV", "parts": [
        {"text": f"reading {j + 1} of {opts.levels}", "sensitivity": float(j)} for j in range(opts.levels)]}))
    released = run.cli("releaser", "release", task_file, "--for-selection", "--store", platform,
                       "--dev-account", RELEASER)
    task_id = int(released["taskId"])
    opened = run.cli("platform", "ctbc", "open", str(task_id), "--service", platform, "--edge", edge,
                     "--epoch", epoch, "--centre", centre, "--half-width", 1000, "--n", opts.n, "--k", opts.k,
                     "--dev-account", PLATFORM)
    answers = run.each(users, lambda u: run.cli(f"user-{u}", "ctbc", "reveal", str(task_id), "--service", platform,
                                                "--dev-account", u))
    accounts = out / "selected.txt"
    selection = run.cli("platform", "ctbc", "selection", str(task_id), "--service", platform,
                        "--accounts-out", accounts, "--dev-account", PLATFORM)
    run.cli("platform", "selection", "publish", str(task_id), "--accounts-file", accounts,
            "--out-dir", out / "proofs", "--dev-account", PLATFORM)
    selected = [u for u in users if dev_signer(u).address in selection["selected"]]
    run.step(f"task {task_id}: {opened['candidates']} candidates, {len(selected)} selected by CTBC, on chain", t)

    t = time.perf_counter()
    claims = run.each(selected, lambda u: run.cli(f"user-{u}", "claim", str(task_id), "--selection",
                                                  out / "proofs" / f"{dev_signer(u).address}.json",
                                                  "--dev-account", u, check=False))
    outsider = next(u for u in users if u not in selected)
    refused = run.cli(f"user-{outsider}", "claim", str(task_id), "--dev-account", outsider, check=False)
    if "error" not in refused:
        raise CrowdsenseError(f"user {dev_signer(outsider).address}, not selected, claimed a subtask of task {task_id}")
    claimed = {u: c for u, c in claims.items() if "error" not in c}
    run.cli("releaser", "handover", "--store", platform, "--dev-account", RELEASER)
    readings = {u: json.dumps({"pm25": round(float(rng.normal(18, 4)), 1), "user": dev_signer(u).address})
                for u in claimed}

    def deliver(u: int) -> dict[str, Any]:
        index = claimed[u]["index"]
        run.cli(f"user-{u}", "fetch", str(task_id), index, "--store", platform, "--dev-account", u)
        reading = out / "data" / f"reading-{u}.json"
        reading.write_text(readings[u])
        return run.cli(f"user-{u}", "submit", str(task_id), index, "--data-file", reading, "--deliver",
                       "--store", platform, "--dev-account", u)

    run.each(list(claimed), deliver)
    collected = run.cli("releaser", "collect", str(task_id), "--out-dir", out / "collected", "--store", platform,
                        "--dev-account", RELEASER)
    got = {p.read_text() for p in (out / "collected").rglob("*") if p.is_file()}
    missing = [u for u in claimed if readings[u] not in got]
    if missing:
        raise CrowdsenseError(f"the releaser did not collect the readings of {[dev_signer(u).address for u in missing]}")
    run.step(f"{len(claimed)} claimed at their level, keys handed over, readings delivered and collected", t)

    summary = {
        "chainId": chain_id, "epoch": epoch, "taskId": task_id, "users": opts.users, "k": opts.k,
        "groups": grouped["groups"], "candidates": opened["candidates"], "nRequired": opts.n,
        "selected": [{"account": dev_signer(u).address, "metresFromTask": round(distance[u], 1),
                      "level": level_of[dev_signer(u).address],
                      "claimed": claimed[u]["index"] if u in claimed else None,
                      "claimRefused": claims[u].get("error")} for u in selected],
        "revealStates": {dev_signer(u).address: a.get("state") for u, a in answers.items()},
        "notSelectedClaim": {"account": dev_signer(outsider).address, "refused": refused["error"]},
        "delivered": len(claimed), "collected": sum(1 for c in collected if c.get("dataHash")),
        "processes": run.processes, "serviceProcesses": len(run.services), "timings": run.timings,
        "seconds": round(time.perf_counter() - started, 1),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary
