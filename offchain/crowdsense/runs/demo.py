"""The main job: PMCB and LDPF end to end on a local chain, from one command (``make demo``).

Steps, every one real (a real node, the real contracts, the real classifier, real Paillier):

1. **Node**: attach to a node answering on 127.0.0.1:``port`` (8545) or start one there (Anvil,
   or Ganache with ``node="ganache"``; stopped at the end unless ``keep_node``), or use
   ``rpc_url``. Local development chains only: the simulated parties use publicly known keys.
   Every party, the three roles included, is funded through the node itself (its balance
   method, else its unlocked accounts), so Anvil and Ganache with their defaults both do.
2. **Deploy** TaskRegistry (T levels) and CommitmentVerifier with plain web3, writing
   ``deployments/<chainId>.json``; admin, registrar and releaser are three dev accounts.
3. **Classify** the bundled ego-Facebook graph into T security levels (PMCB) and write
   ``levels.json`` to the output folder.
4. **Receivers**: ``receivers`` graph nodes drawn from every level get simulation accounts,
   funded on the dev chain; the registrar registers their levels in gas-sized batches.
5. **Tasks**: the releaser releases ``tasks`` tasks, each decomposed into T parts ranked by
   sensitivity (levels 1..T) and encrypted off chain (only hashes and levels on chain).
6. **Claims**: for every subtask a receiver of its level claims it; the releaser hands the keys
   over; each claimant fetches, decrypts and checks its subtask, and submits a data hash.
7. **Refusals**, sent with the client's pre-check disabled so that the *chain* reverts: a
   second claim in the same task and a cross-level claim (plus a claim on a closed task), each
   printed with its decoded typed error; and off chain, a receiver that cannot open the key of
   a subtask it did not claim.
8. **LDPF**: one CTBC round in a popular region and one PDC round in a remote region of the
   synthetic city, with their commitments on chain (:mod:`crowdsense.runs`); by default the
   first two users asked in CTBC fail (one silent, one forging its opening) and are replaced,
   and one PDC receiver lies about r and is caught. The PDC candidates are the registered
   receivers (and simulated accounts without a level when more candidates are asked for).
   **One task flow**: a task in the remote region, released for selection; the platform (a
   fourth dev account, granted the selector role) fixes the receivers the PDC round selected as
   its selection on chain; each selected receiver claims a subtask of its own level with its
   selection proof, gets its key, and delivers its reading encrypted to the releaser, who
   collects and checks every delivery.
9. **Report**: a summary table (or JSON), gas per transaction type read back from the chain,
   plots, ``summary.json``, and ``audit.json`` (mode 0600): the secret material of the run
   (plaintext subtasks and keys, real and transformed coordinates, the CTBC parameters, PDC
   locations, distances and r values with their reveal blocks) for privacy audits that scan
   the chain for it.

Each step is a function of one :class:`DemoRun`, which holds the options, the connection, the
simulated parties and what the earlier steps produced; :func:`run_demo` runs them in this order.

Layout of the output folder (default ``out/demo``)::

    summary.json   the public summary (what --json prints)
    audit.json     SECRET test material of the run (mode 0600)
    levels.json    the classifier's levels (the registrar's input)
    levels.png, ctbc_selection.png, pdc_distances.png, gas.png
    state/         the simulated parties' journals and the ciphertext store (recreated each run)
"""

from __future__ import annotations

import json
import shutil
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
from web3 import Web3

from crowdsense.chain.accounts import Signer, dev_signer, require_dev_chain, simulation_signer
from crowdsense.chain.connection import Connection, DeployResult, connect, deploy_contracts, open_connection
from crowdsense.chain.delivery import collect_data, deliver_data
from crowdsense.chain.deployment import deployments_dir
from crowdsense.chain.journal import Journal
from crowdsense.chain.node import NODE_KINDS, LocalNode, NodeKind
from crowdsense.chain.registration import fund_dev_accounts
from crowdsense.chain.registry import Handover, ReleasedTask, TaskRegistryClient
from crowdsense.chain.store import SubtaskStore
from crowdsense.data import sample_path
from crowdsense.errors import CrowdsenseError, InputError
from crowdsense.ldpf.selection import Selection
from crowdsense.pmcb.classify import Classification, classify_graph, write_levels_json
from crowdsense.pmcb.levels_tree import LevelsTree
from crowdsense.pmcb.tasks import TaskPlan, decompose
from crowdsense.runs import demo_report
from crowdsense.runs._parallel import thread_map
from crowdsense.runs.chain_gas import chain_gas
from crowdsense.runs.ctbc_round import CTBCRoundResult, run_ctbc_round
from crowdsense.runs.pdc_round import PDCRoundResult, run_pdc_round
from crowdsense.runs.refusals import refused_claim, refused_key
from crowdsense.runs.report import format_summary, write_secret_json
from crowdsense.runs.scenario import CityScenario, PDCSetup, city_scenario, ctbc_setup, pdc_setup

__all__ = ["DEFAULT_GRAPH", "DemoOptions", "DemoResult", "DemoRun", "run_demo", "format_summary",
           "options_fields"]

#: The bundled social graph (SNAP ego-Facebook, 4039 nodes).
DEFAULT_GRAPH = sample_path("facebook_combined.txt.gz")
#: Balance of every simulated account (1 ETH pays for thousands of transactions).
_SIM_BALANCE = 10**18
#: Balance the admin, registrar and releaser are topped up to (they send the most transactions).
_ROLE_BALANCE = 10 * 10**18
#: Dev accounts (by index) of the three roles of the deployment, and of the sensing platform.
_ADMIN, _REGISTRAR, _RELEASER, _PLATFORM = 0, 1, 2, 3

#: Task catalogue: a title and five parts of increasing sensitivity (T parts are picked evenly).
_TOPICS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Urban noise map", ("street noise at the nearest crossing (dB, one minute)",
                         "noise in the stairwell of your building", "noise inside your flat during the day",
                         "noise in your bedroom at night", "sleep interruptions you noticed last night")),
    ("Air quality survey", ("PM2.5 on your street", "PM2.5 at the entrance of your workplace",
                            "indoor air quality at your workplace", "indoor air quality at home",
                            "your breathing symptoms today")),
    ("Commuting study", ("crowding at your bus stop", "delay of your usual bus line",
                         "districts where your commute starts and ends", "your home and work departure times",
                         "your full trajectory of the day")),
    ("Heat stress watch", ("street temperature at noon", "temperature in a public building you visit",
                           "temperature at your workplace", "temperature in your bedroom",
                           "your heart rate during the afternoon heat")),
    ("Wi-Fi coverage", ("signal strength in the nearest square", "signal strength at your bus stop",
                        "signal strength at your workplace", "signal strength at home",
                        "the networks your phone joined today")),
)


@dataclass(frozen=True)
class DemoOptions:
    """Options of :func:`run_demo` (the ``crowdsense demo`` options, same names)."""

    rpc_url: str | None = None
    port: int = 8545
    node: NodeKind = "anvil"
    keep_node: bool = False
    levels: int = 3
    tasks: int = 4
    receivers: int = 30
    graph: Path = DEFAULT_GRAPH
    betweenness: str | int = "exact"
    ctbc_users: int = 60
    k: int = 5
    n: int = 5
    pdc_receivers: int = 10
    pdc_n: int = 3
    grid: int = 100
    key_bits: int = 2048
    allow_insecure_key: bool = False
    faults: bool = True
    seed: int = 0
    out: Path = Path("out/demo")
    deployments_dir: Path | None = None
    workers: int = 8
    plots: bool = True

    def validate(self) -> DemoOptions:
        def count(name: str, minimum: int) -> None:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
                raise InputError(f"{name} must be an int >= {minimum}, got {v!r}")

        count("levels", 2)
        if self.levels > 255:
            raise InputError(f"levels must be at most 255, got {self.levels}")
        for name, minimum in (("tasks", 1), ("ctbc_users", 2), ("k", 2), ("n", 1), ("pdc_receivers", 1),
                              ("pdc_n", 1), ("grid", 2), ("key_bits", 128), ("workers", 1), ("port", 1)):
            count(name, minimum)
        if self.receivers < self.levels:
            raise InputError(f"receivers must be at least levels ({self.levels}) so that every level has one, "
                             f"got {self.receivers}")
        if self.k > self.ctbc_users:
            raise InputError(f"k = {self.k} exceeds ctbc_users = {self.ctbc_users}")
        if self.node not in NODE_KINDS:
            raise InputError(f"node must be one of {', '.join(NODE_KINDS)}, got {self.node!r}")
        if self.rpc_url is not None and not self.rpc_url.startswith(("http://", "https://")):
            raise InputError(f"rpc_url must start with http:// or https://, got {self.rpc_url!r}")
        if not Path(self.graph).is_file():
            raise InputError(f"graph file {self.graph} not found")
        return self


@dataclass
class DemoResult:
    """What :func:`run_demo` produced: the public summary, the audit, and where files went."""

    summary: dict[str, Any]
    audit: dict[str, Any] = field(repr=False)
    out: Path
    files: dict[str, str]
    wall_seconds: float


class _StepClock:
    """Times each step and reports it (``echo`` gets one line per finished step)."""

    def __init__(self, echo: Callable[[str], None] | None) -> None:
        self.echo = echo
        self.timings: dict[str, float] = {}
        self.start = time.perf_counter()

    @contextmanager
    def __call__(self, name: str, what: str) -> Iterator[None]:
        t = time.perf_counter()
        yield
        self.timings[name] = time.perf_counter() - t
        if self.echo:
            self.echo(f"[{time.perf_counter() - self.start:6.1f} s] {what} ({self.timings[name]:.1f} s)")

    def note(self, text: str) -> None:
        if self.echo:
            self.echo(f"[{time.perf_counter() - self.start:6.1f} s]   {text}")


#: A claim job: (task index, subtask index, level, node id of the receiver that claims it).
Job = tuple[int, int, int, str]


@dataclass(eq=False, repr=False)
class DemoRun:
    """One run of the main job, filled in step by step (each step reads what earlier ones set).

    The fields after ``node`` are set by the step named in their comment; reading one before
    its step has run is an AttributeError.
    """

    opts: DemoOptions
    clock: _StepClock
    rng: np.random.Generator
    journals: list[Journal] = field(default_factory=list)
    node: LocalNode | None = None
    # node
    url: str = field(init=False)
    w3: Web3 = field(init=False)
    chain_id: int = field(init=False)
    client: str = field(init=False)
    # deploy
    deployed: DeployResult = field(init=False)
    conn: Connection = field(init=False)
    # classify
    classification: Classification = field(init=False)
    classify_warnings: list[str] = field(init=False)
    levels_path: Path = field(init=False)
    # register: the receivers (graph node id -> level), their accounts and clients
    picked: dict[str, int] = field(init=False)
    signers: dict[str, Signer] = field(init=False)
    by_level: dict[int, list[str]] = field(init=False)
    store: SubtaskStore = field(init=False)
    registration: dict[str, Any] = field(init=False)  # the levels root published, its tree
    level_salts: dict[str, bytes] = field(init=False)  # node id -> the secret salt of its leaf
    clients: dict[str, TaskRegistryClient] = field(init=False)
    # release
    releaser: TaskRegistryClient = field(init=False)
    released: list[ReleasedTask] = field(init=False)
    plans: list[TaskPlan] = field(init=False)
    # claim
    jobs: list[Job] = field(init=False)
    handovers: list[Handover] = field(init=False)
    readings: dict[tuple[int, int], bytes] = field(init=False)
    # refusals
    probe: ReleasedTask = field(init=False)
    probe_plan: TaskPlan = field(init=False)
    refusals: list[dict[str, Any]] = field(init=False)
    # ctbc, pdc
    scenario: CityScenario = field(init=False)
    ctbc_users: list[Signer] = field(init=False)
    ctbc: CTBCRoundResult = field(init=False)
    pdc_setup: PDCSetup = field(init=False)
    pdc_signers: list[Signer] = field(init=False)
    pdc: PDCRoundResult = field(init=False)
    # one task flow: the task released for selection, its selection, claims and deliveries
    flow_task: ReleasedTask = field(init=False)
    flow_plan: TaskPlan = field(init=False)
    flow: dict[str, Any] = field(init=False)
    flow_salts: dict[str, bytes] = field(init=False)  # selected account -> the secret salt of its leaf
    flow_jobs: list[Job] = field(init=False)  # (task position, index, level, node id)
    delivered: dict[tuple[int, int], bytes] = field(init=False)  # (task position, index) -> on-chain data hash
    # gas
    last_block: int = field(init=False)
    gas: dict[str, dict[str, int]] = field(init=False)
    n_txs: int = field(init=False)

    @classmethod
    def start(cls, opts: DemoOptions, echo: Callable[[str], None] | None) -> DemoRun:
        """A new run writing into ``opts.out`` (created by :func:`_make_folders`, once the node is accepted)."""
        return cls(opts, _StepClock(echo), np.random.default_rng(opts.seed))

    @property
    def out(self) -> Path:
        return Path(self.opts.out)

    @property
    def state(self) -> Path:
        """The simulated parties' journals and the ciphertext store."""
        return self.out / "state"

    @property
    def owned(self) -> bool:
        """Whether the run started its node."""
        return self.node is not None and self.node.owned

    @property
    def first_block(self) -> int:
        return self.deployed.deployment.block_number

    @property
    def run_id(self) -> str:
        """Unique per deployment: makes the release ids (idempotency keys) of this run distinct."""
        return f"{self.chain_id}-{self.first_block}"

    def journal(self, name: str) -> Journal:
        j = Journal(self.state / f"{name}.sqlite")
        self.journals.append(j)
        return j

    def funded(self, prefix: str, count: int) -> list[Signer]:
        """``count`` simulation accounts ``<prefix>-<i>``, funded on the dev chain."""
        signers = [simulation_signer(f"{prefix}-{i}") for i in range(count)]
        fund_dev_accounts(self.w3, [s.address for s in signers], wei=_SIM_BALANCE, chain_id=self.chain_id)
        return signers

    def close(self) -> None:
        """Close the journals; stop the node if the run started it and was not asked to keep it."""
        for j in self.journals:
            try:
                j.close()
            except CrowdsenseError:
                pass
        if self.node is not None and self.node.owned and not self.opts.keep_node:
            self.node.stop()


def _task_parts(topic: int, num_levels: int) -> tuple[str, list[dict[str, Any]]]:
    """Title and T parts (sensitivity = tier) of the topic-th catalogue task."""
    title, tiers = _TOPICS[topic % len(_TOPICS)]
    if num_levels <= len(tiers):
        picks = [round(j * (len(tiers) - 1) / (num_levels - 1)) for j in range(num_levels)]
        parts = [{"text": tiers[p], "sensitivity": float(j)} for j, p in enumerate(picks)]
    else:
        parts = [{"text": f"{title}: reading {j + 1} of {num_levels} (sensitivity {j + 1})", "sensitivity": float(j)}
                 for j in range(num_levels)]
    return title, parts


def _pick_receivers(levels_by_node: dict[str, int], t: int, count: int, rng: np.random.Generator) -> dict[str, int]:
    """``count`` nodes drawn from every level: count // T each, the remainder to the lowest levels."""
    by_level: dict[int, list[str]] = {lvl: [] for lvl in range(1, t + 1)}
    for node, lvl in levels_by_node.items():
        by_level[lvl].append(node)
    chosen: dict[str, int] = {}
    for lvl in range(1, t + 1):
        want = count // t + (1 if lvl <= count % t else 0)
        pool = by_level[lvl]
        if len(pool) < want:
            raise InputError(f"level {lvl} has only {len(pool)} nodes, fewer than the {want} receivers wanted")
        for node in rng.choice(np.array(pool, dtype=object), size=want, replace=False).tolist():
            chosen[str(node)] = lvl
    return chosen


def _raise_first_failure(results: list[Any]) -> None:
    """Raise the first error :func:`thread_map` returned in place of a result."""
    failed = [r for r in results if isinstance(r, CrowdsenseError)]
    if failed:
        raise failed[0]


# ------------------------------------------------------------------------------- steps


def _start_node(run: DemoRun) -> None:
    """1. Attach to the node (or start one) and fund the three roles; local development chains only."""
    opts = run.opts
    with run.clock("node", "node ready"):
        if opts.rpc_url:
            run.url = opts.rpc_url
        else:
            run.node = LocalNode(opts.node, port=opts.port, attach=True).start()
            run.url = run.node.url
        run.w3 = connect(run.url)
        run.chain_id = int(run.w3.eth.chain_id)
        require_dev_chain(run.chain_id, "the demo's simulated accounts")
        run.client = str(run.w3.client_version)
        fund_dev_accounts(run.w3, [dev_signer(i).address for i in (_ADMIN, _REGISTRAR, _RELEASER, _PLATFORM)],
                          wei=_ROLE_BALANCE, chain_id=run.chain_id)
    run.clock.note(f"{run.url} ({run.client}, chain id {run.chain_id}, "
                   f"{'started ' + opts.node if run.owned else 'attached'})")


def _make_folders(run: DemoRun) -> None:
    """``out`` with an empty ``state/``, made only after the node is accepted: a refused run leaves no file."""
    run.out.mkdir(parents=True, exist_ok=True)
    if run.state.exists():
        shutil.rmtree(run.state)  # a run's journals belong to its chain; the secrets are in audit.json
    run.state.mkdir(mode=0o700)


def _deploy(run: DemoRun) -> None:
    """2. Deploy both contracts and write the deployment file."""
    opts = run.opts
    with run.clock("deploy", "contracts deployed"):
        run.deployed = deploy_contracts(run.w3, dev_signer(_ADMIN), opts.levels,
                                        registrar=dev_signer(_REGISTRAR).address,
                                        releaser=dev_signer(_RELEASER).address,
                                        directory=Path(opts.deployments_dir) if opts.deployments_dir else deployments_dir())
        run.conn = open_connection(run.url, run.deployed.path)
    run.clock.note(f"TaskRegistry {run.conn.registry_address}, CommitmentVerifier {run.conn.verifier_address}, "
                   f"file {run.deployed.path}")


def _classify(run: DemoRun) -> None:
    """3. Classify the graph into T levels and write ``levels.json``."""
    opts = run.opts
    with run.clock("classify", f"classified {Path(opts.graph).name} into T = {opts.levels} levels"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run.classification = classify_graph(opts.graph, n_levels=opts.levels, random_state=opts.seed,
                                                betweenness=opts.betweenness)
        run.levels_path = write_levels_json(run.classification, run.out / "levels.json")
    run.classify_warnings = [str(w.message) for w in caught]
    c = run.classification
    run.clock.note(f"{c.graph.n_nodes} nodes, {c.graph.n_edges} edges; level sizes {[x.size for x in c.clusters]}")


def _register(run: DemoRun) -> None:
    """4. Draw receivers from every level, fund them and publish their levels as a Merkle root:
    nothing on chain names a receiver's level until it claims; each receiver's client keeps its
    own proof in its journal."""
    opts = run.opts
    with run.clock("register", f"published the levels root of {opts.receivers} receivers"):
        run.picked = _pick_receivers(run.classification.levels_by_node(), opts.levels, opts.receivers, run.rng)
        run.signers = {node_id: simulation_signer(node_id) for node_id in run.picked}
        fund_dev_accounts(run.w3, [s.address for s in run.signers.values()], wei=_SIM_BALANCE,
                          chain_id=run.chain_id)
        run.store = SubtaskStore(run.state / "store")
        registrar = TaskRegistryClient(run.conn, dev_signer(_REGISTRAR), journal=run.journal("registrar"))
        tree = LevelsTree.build({run.signers[n].address: lvl for n, lvl in run.picked.items()},
                                chain_id=run.chain_id, registry=run.conn.registry_address)
        tree_path = tree.save(run.state / "levels.tree")
        epoch, tx = registrar.publish_levels_root(tree.root)
        run.registration = {"mode": "levels root", "epoch": epoch, "root": "0x" + tree.root.hex(),
                            "receivers": tree.count, "depth": tree.depth, "tree": str(tree_path),
                            "treeBytes": tree_path.stat().st_size, "tx": None if tx is None else tx.tx_hash}
    run.by_level = {lvl: [] for lvl in range(1, opts.levels + 1)}
    for node_id, lvl in run.picked.items():
        run.by_level[lvl].append(node_id)
    journal = run.journal("receivers")
    run.clients = {node_id: TaskRegistryClient(run.conn, run.signers[node_id], journal=journal, store=run.store)
                   for node_id in run.picked}
    run.level_salts = {}
    for node_id, client in run.clients.items():
        proof = tree.proof_of(client.me)
        client.remember_proof(proof)
        run.level_salts[node_id] = proof.salt


def _release(run: DemoRun) -> None:
    """5. Release the tasks, each decomposed into T subtasks encrypted off chain."""
    opts = run.opts
    run.releaser = TaskRegistryClient(run.conn, dev_signer(_RELEASER), journal=run.journal("releaser"),
                                      store=run.store)
    run.released, run.plans = [], []
    with run.clock("release", f"released {opts.tasks} tasks of {opts.levels} subtasks each"):
        for i in range(opts.tasks):
            title, parts = _task_parts(i, opts.levels)
            plan = decompose(f"{title} #{i + 1}", parts, num_levels=opts.levels)
            run.plans.append(plan)
            run.released.append(run.releaser.release_task(plan, release_id=f"demo-{run.run_id}-{i}"))


def _claim(run: DemoRun) -> None:
    """6a. A receiver of its level claims every subtask; the releaser hands the keys over."""
    run.jobs = []
    for ti, task in enumerate(run.released):
        for index, lvl in enumerate(task.levels):
            pool = run.by_level[lvl]
            run.jobs.append((ti, index, lvl, pool[ti % len(pool)]))
    with run.clock("claim", f"{len(run.jobs)} subtasks claimed by receivers of their level"):
        _raise_first_failure(thread_map(lambda job: run.clients[job[3]].claim(run.released[job[0]].task_id, job[1]),
                                        run.jobs, workers=run.opts.workers))
        run.handovers = run.releaser.hand_over_keys([t.task_id for t in run.released])
        failed = [h for h in run.handovers if h.error]
        if failed:
            raise CrowdsenseError(f"the hand-over skipped {len(failed)} subtask(s), e.g. task "
                                   f"{failed[0].task_id} subtask {failed[0].index}: {failed[0].error}")
    run.readings = {}
    for ti, index, _, node_id in run.jobs:
        run.readings[(ti, index)] = json.dumps(
            {"task": run.released[ti].task_id, "index": index, "node": node_id,
             "reading": round(float(run.rng.normal(50, 10)), 2)}, sort_keys=True).encode()


def _submit(run: DemoRun) -> None:
    """6b. Each claimant fetches, decrypts and checks its subtask, then submits a data hash."""
    def fetch_and_submit(job: Job) -> Any:
        ti, index, _, node_id = job
        task_id = run.released[ti].task_id
        got = run.clients[node_id].fetch_subtask(task_id, index)
        if got.text != run.plans[ti].subtasks[index].text:
            raise InputError(f"subtask {index} of task {task_id} decrypted to unexpected text")
        return run.clients[node_id].submit_data(task_id, index, data=run.readings[(ti, index)])

    with run.clock("submit", f"{len(run.jobs)} subtasks fetched, decrypted, checked and answered with a data hash"):
        _raise_first_failure(thread_map(fetch_and_submit, run.jobs, workers=run.opts.workers))


def _refuse(run: DemoRun) -> None:
    """7. Claims the chain refuses (second claim, cross-level, closed task), and a foreign key."""
    level1 = run.by_level[1]
    other = next((n for lvl in range(2, run.opts.levels + 1) for n in run.by_level[lvl]), None)
    a = level1[0]
    with run.clock("refusals", "refusals demonstrated on chain"):
        run.probe_plan = decompose("Refusal probe: two parts of level 1",
                                   [{"text": "outdoor reading A (level 1)", "level": 1},
                                    {"text": "outdoor reading B (level 1)", "level": 1}], num_levels=run.opts.levels)
        run.probe = run.releaser.release_task(run.probe_plan, release_id=f"demo-{run.run_id}-probe")
        task_id = run.probe.task_id
        run.clients[a].claim(task_id, 0)
        run.refusals = [refused_claim(run.conn, run.clients[a], task_id, 1, f"second claim in task {task_id} "
                                      "(level-1 receiver already holds subtask 0, claims subtask 1)")]
        if other is not None:
            run.refusals.append(refused_claim(run.conn, run.clients[other], task_id, 1,
                                              f"cross-level claim (level-{run.picked[other]} receiver claims "
                                              f"the level-1 subtask 1 of task {task_id})"))
        run.releaser.hand_over_keys([task_id])
        run.releaser.close_task(task_id)
        late = level1[1] if len(level1) > 1 else other or a
        run.refusals.append(refused_claim(run.conn, run.clients[late], task_id, 1,
                                          f"claim in closed task {task_id}"))
        intruder = other or (level1[1] if len(level1) > 1 else None)
        if intruder is not None:
            run.refusals.append(refused_key(run.store, run.probe.subtask_hashes[0], run.signers[a].address,
                                            run.signers[intruder], f"non-claimant opens the key of subtask 0 "
                                            f"of task {task_id} (off chain)"))
    for r in run.refusals:
        run.clock.note(f"{r['attempt']}: {r['error']}: {r['message']}")


def _ctbc_round(run: DemoRun) -> None:
    """8a. One CTBC round in a popular region of the synthetic city."""
    opts = run.opts
    run.scenario = city_scenario(population=max(1000, 6 * opts.ctbc_users), random_state=opts.seed)
    with run.clock("ctbc", "CTBC round in a popular region"):
        setup = ctbc_setup(run.scenario, users=opts.ctbc_users, n_required=opts.n, k=opts.k,
                           spare=2 if opts.faults else 0, random_state=opts.seed + 1)
        run.ctbc_users = run.funded("ctbc-user", opts.ctbc_users)
        run.ctbc = run_ctbc_round(run.conn, setup.positions, setup.task, k=opts.k, signers=run.ctbc_users,
                                  journal=run.journal("ctbc-users"),
                                  asked_faults=("absent", "tamper") if opts.faults else (),
                                  random_state=opts.seed, workers=opts.workers)


def _pdc_round(run: DemoRun) -> None:
    """8b. One PDC round in a remote region of the synthetic city."""
    opts = run.opts
    with run.clock("pdc", f"PDC round in a remote region ({opts.key_bits}-bit Paillier)"):
        setup = run.pdc_setup = pdc_setup(run.scenario, receivers=opts.pdc_receivers, grid=opts.grid,
                                          random_state=opts.seed + 2)
        # the registered receivers are the candidates (so the selected ones can claim at their level)
        receivers = [run.signers[n] for n in run.picked][:opts.pdc_receivers]
        run.pdc_signers = receivers + run.funded("pdc-receiver", opts.pdc_receivers - len(receivers))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a weak key is reported in the summary
            run.pdc = run_pdc_round(run.conn, setup.locations, setup.centre, grid=opts.grid, n_select=opts.pdc_n,
                                    signers=run.pdc_signers, journal=run.journal("pdc-receivers"),
                                    key_bits=opts.key_bits, allow_insecure=opts.allow_insecure_key,
                                    faults={0: "liar"} if opts.faults and opts.pdc_receivers > 1 else {},
                                    random_state=opts.seed, workers=opts.workers, positions=setup.positions,
                                    centre_position=setup.centre_position)


def _selected_task(run: DemoRun) -> None:
    """8c. One task flow: PDC selects, the selection is fixed on chain, only the selected claim,
    each delivers its data to the releaser, who collects it."""
    opts = run.opts
    position = len(run.released) + 1  # after the tasks and the refusal probe
    with run.clock("selected task", "a task claimed only by the receivers PDC selected, data delivered"):
        admin = TaskRegistryClient(run.conn, dev_signer(_ADMIN), journal=run.journal("admin"))
        admin.grant_role("selector", dev_signer(_PLATFORM).address)
        platform = TaskRegistryClient(run.conn, dev_signer(_PLATFORM), journal=run.journal("platform"))
        title, parts = _task_parts(opts.tasks, opts.levels)
        run.flow_plan = decompose(f"{title} in the remote region", parts, num_levels=opts.levels)
        run.flow_task = task = run.releaser.release_task(run.flow_plan, release_id=f"demo-{run.run_id}-selected",
                                                         for_selection=True)
        selected = [s.receiver for s in run.pdc.selected]
        chosen = Selection.build(selected, chain_id=run.chain_id, registry=run.conn.registry_address,
                                 task_id=task.task_id)
        platform.set_selection(chosen)
        run.flow_salts = {account: chosen.proof_of(account).salt for account in selected}
        node_of = {signer.address: node for node, signer in run.signers.items()}
        free = {index: level for index, level in enumerate(task.levels)}
        run.flow_jobs, unplaced, run.delivered = [], [], {}
        for account in selected:
            node = node_of.get(account)
            index = next((i for i, lvl in free.items() if node is not None and lvl == run.picked[node]), None)
            if node is None or index is None:  # no level, or its level's subtask went to a nearer receiver
                unplaced.append(account)
                continue
            del free[index]
            run.clients[node].claim(task.task_id, index, selection=chosen.proof_of(account))
            run.flow_jobs.append((position, index, run.picked[node], node))
        run.releaser.hand_over_keys([task.task_id])
        for _, index, _, node in run.flow_jobs:
            reading = json.dumps({"task": task.task_id, "index": index, "node": node,
                                  "reading": round(float(run.rng.normal(50, 10)), 2)}, sort_keys=True).encode()
            run.readings[(position, index)] = reading
            run.delivered[(position, index)] = deliver_data(run.clients[node], task.task_id, index, reading).data_hash
        collected = collect_data(run.releaser, task.task_id)
        wrong = [c.index for c in collected if c.data_hash is not None and c.data != run.readings[(position, c.index)]]
        if wrong:
            raise CrowdsenseError(f"the releaser collected other data than was delivered for subtask(s) {wrong} of "
                                  f"task {task.task_id}")
        run.flow = {"taskId": task.task_id, "title": run.flow_plan.title, "levels": list(task.levels),
                    "selectedBy": "PDC", "selectionRoot": "0x" + chosen.root.hex(), "selected": len(selected),
                    "claimed": [{"index": i, "level": lvl} for _, i, lvl, _ in run.flow_jobs],
                    "selectedWithoutSubtask": len(unplaced),
                    "delivered": len(run.flow_jobs), "collected": sum(c.data is not None for c in collected)}
    run.clock.note(f"task {task.task_id}: {len(selected)} selected by PDC, {len(run.flow_jobs)} claimed at their "
                   f"level and delivered their data to the releaser")


def _read_gas(run: DemoRun) -> None:
    """9a. Gas per transaction type, read back from the chain."""
    run.last_block = int(run.w3.eth.block_number)
    with run.clock("gas", "gas per transaction type read back from the chain"):
        run.gas, run.n_txs = chain_gas(run.w3, run.conn, run.first_block, run.last_block)


#: The steps of :func:`run_demo`, in order (module docstring).
_STEPS: tuple[Callable[[DemoRun], None], ...] = (
    _start_node, _make_folders, _deploy, _classify, _register, _release, _claim, _submit, _refuse, _ctbc_round,
    _pdc_round, _selected_task, _read_gas,
)


def run_demo(options: DemoOptions | None = None, *, echo: Callable[[str], None] | None = None) -> DemoResult:
    """Run the main job (module docstring) and return its summary; files go to ``options.out``.

    ``echo`` receives one progress line per step (the CLI prints them on stderr).

    Raises
    ------
    InputError
        Bad options, or a node that is not a local development chain.
    CrowdsenseError
        Any step failing (node, transactions, protocols), with a one-line message.
    """
    run = DemoRun.start((options or DemoOptions()).validate(), echo)
    try:
        for step in _STEPS:
            step(run)
        return _write_files(run)
    finally:
        run.close()


# ------------------------------------------------------------------------------- report


def _write_files(run: DemoRun) -> DemoResult:
    """9b. The summary, the audit (0600) and the plots, into the output folder."""
    summary, audit = demo_report.summary(run), demo_report.audit(run)
    out = run.out
    files = {"summary": str(out / "summary.json"), "audit": str(out / "audit.json"), "levels": str(run.levels_path)}
    with run.clock("plots", "plots written" if run.opts.plots else "plots skipped"):
        if run.opts.plots:
            # imported here: matplotlib takes about a second to load, and runs without plots never need it
            from crowdsense.runs.demo_plots import write_plots

            files.update(write_plots(out, run.classification, run.ctbc, run.pdc, run.gas))
    summary["files"] = files
    summary["timings"] = {k: round(v, 2) for k, v in run.clock.timings.items()}
    wall = time.perf_counter() - run.clock.start
    summary["wallSeconds"] = round(wall, 2)
    write_secret_json(out / "audit.json", audit)
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str) + "\n")
    return DemoResult(summary, audit, out, files, wall)


def options_fields() -> list[str]:
    """Names of :class:`DemoOptions` (the CLI maps its options onto them)."""
    return [f.name for f in fields(DemoOptions)]
