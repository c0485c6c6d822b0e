"""The main job: PMCB and LDPF end to end on a local chain, from one command (``make demo``).

Steps, every one real (a real node, the real contracts, the real classifier, real Paillier):

1. **Node**: attach to a node answering on 127.0.0.1:``port`` (8545) or start Anvil there
   (stopped at the end unless ``keep_node``), or use ``rpc_url``. Local development chains only:
   the simulated parties use publicly known keys.
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
   and one PDC receiver lies about r and is caught.
9. **Report**: a summary table (or JSON), gas per transaction type read back from the chain,
   plots, ``summary.json``, and ``audit.json`` (mode 0600): the secret material of the run
   (plaintext subtasks and keys, real and transformed coordinates, the CTBC parameters, PDC
   locations, distances and r values with their reveal blocks) for privacy audits that scan
   the chain for it.

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
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Iterator

import numpy as np
from eth_utils import keccak
from web3 import Web3

from crowdsense.errors import CrowdsenseError, InputError

__all__ = ["DEFAULT_GRAPH", "DemoOptions", "DemoResult", "run_demo", "format_summary"]

_ROOT = Path(__file__).resolve().parents[3]
#: The bundled social graph (SNAP ego-Facebook, 4039 nodes).
DEFAULT_GRAPH = _ROOT / "data" / "facebook_combined.txt.gz"
#: Balance of every simulated account (1 ETH pays for thousands of transactions).
_SIM_BALANCE = 10**18

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


class _Steps:
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


def _refusal(label: str, account: str, outcome: Any, pre_check_error: Exception | None) -> dict[str, Any]:
    """A JSON row for an on-chain refusal (``outcome`` from send_unchecked)."""
    err = outcome.error
    return {
        "attempt": label,
        "account": account,
        "refusedOnChain": outcome.reverted,
        "error": getattr(err, "solidity_name", type(err).__name__) if err is not None else None,
        "message": str(err) if err is not None else "accepted (unexpected)",
        "args": err.to_json()["args"] if err is not None else None,
        "tx": outcome.record.tx_hash,
        "block": outcome.record.block,
        "gasUsed": outcome.record.gas_used,
        "clientPreCheck": None if pre_check_error is None else
        getattr(pre_check_error, "solidity_name", type(pre_check_error).__name__),
    }


def _chain_gas(w3: Web3, conn: Any, first: int, last: int) -> tuple[dict[str, dict[str, int]], int]:
    """Gas per transaction type of the deployment's transactions in blocks first..last, from the chain.

    Only transactions that create or call the two contracts of ``conn`` count (a shared node may
    carry others). Returns ``({type: {count, reverted, gas}}, number of transactions)``; types are
    ``Contract.function`` (decoded from the call data's selector) or ``deploy Contract``, and
    reverted transactions form their own type (``... (reverted)``: they stop early and cost less).
    """
    contracts = {conn.registry.address.lower(): ("TaskRegistry", conn.registry),
                 conn.verifier.address.lower(): ("CommitmentVerifier", conn.verifier)}
    txs: list[Any] = []
    numbers = list(range(first, last + 1))
    for start in range(0, len(numbers), 200):
        with w3.batch_requests() as batch:
            for b in numbers[start : start + 200]:
                batch.add(w3.eth.get_block(b, True))
            for block in batch.execute():
                txs.extend(block["transactions"])
    receipts: list[Any] = []
    for start in range(0, len(txs), 200):
        with w3.batch_requests() as batch:
            for tx in txs[start : start + 200]:
                batch.add(w3.eth.get_transaction_receipt(tx["hash"]))
            receipts.extend(batch.execute())
    rows: dict[str, dict[str, int]] = {}
    counted = 0
    for tx, receipt in zip(txs, receipts):
        if tx["to"] is None:
            created = (receipt.get("contractAddress") or "").lower()
            if created not in contracts:
                continue  # someone else's deployment on a shared node
            kind = f"deploy {contracts[created][0]}"
        elif tx["to"].lower() in contracts:
            name, contract = contracts[tx["to"].lower()]
            try:
                fn = contract.get_function_by_selector(bytes(tx["input"])[:4])
                kind = f"{name}.{fn.fn_name}"
            except ValueError:
                kind = f"{name}.<unknown>"
        else:
            continue  # not about this deployment
        counted += 1
        ok = int(receipt["status"]) == 1
        row = rows.setdefault(kind if ok else f"{kind} (reverted)", {"count": 0, "reverted": 0, "gas": 0})
        row["count"] += 1
        row["reverted"] += 0 if ok else 1
        row["gas"] += int(receipt["gasUsed"])
    return rows, counted


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
    from crowdsense.chain.accounts import dev_signer, require_dev_chain, simulation_signer
    from crowdsense.chain.connection import connect, deploy_contracts, open_connection
    from crowdsense.chain.errors import ContractRevertError, DecryptionError
    from crowdsense.chain.journal import Journal
    from crowdsense.chain.registration import fund_dev_accounts
    from crowdsense.chain.registry import TaskRegistryClient
    from crowdsense.chain.store import SubtaskStore
    from crowdsense.pmcb.tasks import decompose, open_key, subtask_plaintext
    from crowdsense.chain.deployment import DEFAULT_DIR
    from crowdsense.runs._parallel import thread_map
    from crowdsense.runs.ctbc_round import run_ctbc_round
    from crowdsense.runs.pdc_round import run_pdc_round
    from crowdsense.runs.report import write_secret_json
    from crowdsense.runs.scenario import city_scenario, ctbc_setup, pdc_setup
    from crowdsense.chain.txlog import send_unchecked
    from crowdsense.chain.node import LocalNode

    opts = (options or DemoOptions()).validate()
    steps = _Steps(echo)
    rng = np.random.default_rng(opts.seed)
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    state = out / "state"
    if state.exists():
        shutil.rmtree(state)  # a run's journals belong to its chain; the secrets are in audit.json
    state.mkdir(mode=0o700)
    node: LocalNode | None = None
    summary: dict[str, Any] = {}
    audit: dict[str, Any] = {}
    journals: list[Journal] = []

    def journal(name: str) -> Journal:
        j = Journal(state / f"{name}.sqlite")
        journals.append(j)
        return j

    try:
        # 1. node -----------------------------------------------------------------------
        with steps("node", "node ready"):
            if opts.rpc_url:
                url = opts.rpc_url
            else:
                node = LocalNode(port=opts.port, attach=True).start()
                url = node.url
            w3 = connect(url)
            chain_id = int(w3.eth.chain_id)
            require_dev_chain(chain_id, "the demo's simulated accounts")
        owned = node is not None and node.owned
        steps.note(f"{url} (chain id {chain_id}, {'started Anvil' if owned else 'attached'})")

        # 2. deploy ---------------------------------------------------------------------
        admin, registrar_signer, releaser_signer = dev_signer(0), dev_signer(1), dev_signer(2)
        with steps("deploy", "contracts deployed"):
            deployed = deploy_contracts(w3, admin, opts.levels, registrar=registrar_signer.address,
                                        releaser=releaser_signer.address,
                                        directory=Path(opts.deployments_dir) if opts.deployments_dir else DEFAULT_DIR)
            conn = open_connection(url, deployed.path)
        first_block = deployed.deployment.block_number
        steps.note(f"TaskRegistry {conn.registry_address}, CommitmentVerifier {conn.verifier_address}, "
                   f"file {deployed.path}")

        # 3. classify -------------------------------------------------------------------
        from crowdsense.pmcb.classify import classify_graph, write_levels_json

        with steps("classify", f"classified {Path(opts.graph).name} into T = {opts.levels} levels"):
            with warnings.catch_warnings(record=True) as classify_warnings:
                warnings.simplefilter("always")
                classification = classify_graph(opts.graph, n_levels=opts.levels, random_state=opts.seed,
                                                betweenness=opts.betweenness)
            levels_path = write_levels_json(classification, out / "levels.json")
        levels_by_node = classification.levels_by_node()
        sizes = [c.size for c in classification.clusters]
        steps.note(f"{classification.graph.n_nodes} nodes, {classification.graph.n_edges} edges; level sizes {sizes}")

        # 4. receivers and registration ----------------------------------------------------
        with steps("register", f"registered {opts.receivers} receivers' levels on chain"):
            picked = _pick_receivers(levels_by_node, opts.levels, opts.receivers, rng)
            signers = {node_id: simulation_signer(node_id) for node_id in picked}
            fund_dev_accounts(w3, [s.address for s in signers.values()], wei=_SIM_BALANCE, chain_id=chain_id)
            store = SubtaskStore(state / "store")
            registrar = TaskRegistryClient(conn, registrar_signer, journal=journal("registrar"))
            report = registrar.register_levels({signers[n].address: lvl for n, lvl in picked.items()})
        by_level: dict[int, list[str]] = {lvl: [] for lvl in range(1, opts.levels + 1)}
        for node_id, lvl in picked.items():
            by_level[lvl].append(node_id)
        receivers_journal = journal("receivers")
        clients = {node_id: TaskRegistryClient(conn, signers[node_id], journal=receivers_journal, store=store)
                   for node_id in picked}

        # 5. release ---------------------------------------------------------------------------
        releaser = TaskRegistryClient(conn, releaser_signer, journal=journal("releaser"), store=store)
        run_id = f"{chain_id}-{first_block}"
        released, plans = [], []
        with steps("release", f"released {opts.tasks} tasks of {opts.levels} subtasks each"):
            for i in range(opts.tasks):
                title, parts = _task_parts(i, opts.levels)
                plan = decompose(f"{title} #{i + 1}", parts, num_levels=opts.levels)
                plans.append(plan)
                released.append(releaser.release_task(plan, release_id=f"demo-{run_id}-{i}"))

        # 6. claims, hand-over, fetch, submit -------------------------------------------------------
        jobs = []  # (task index, subtask index, level, node id)
        for ti, task in enumerate(released):
            for index, lvl in enumerate(task.levels):
                pool = by_level[lvl]
                jobs.append((ti, index, lvl, pool[ti % len(pool)]))
        with steps("claim", f"{len(jobs)} subtasks claimed by receivers of their level"):
            claims = thread_map(lambda job: clients[job[3]].claim(released[job[0]].task_id, job[1]), jobs,
                                workers=opts.workers)
            failed = [(job, c) for job, c in zip(jobs, claims) if isinstance(c, CrowdsenseError)]
            if failed:
                raise failed[0][1]
            handovers = releaser.hand_over_keys([t.task_id for t in released])
        readings: dict[tuple[int, int], bytes] = {}
        for ti, index, lvl, node_id in jobs:
            readings[(ti, index)] = json.dumps(
                {"task": released[ti].task_id, "index": index, "node": node_id,
                 "reading": round(float(rng.normal(50, 10)), 2)}, sort_keys=True).encode()

        def fetch_and_submit(job: tuple[int, int, int, str]) -> Any:
            ti, index, lvl, node_id = job
            got = clients[node_id].fetch_subtask(released[ti].task_id, index)
            if got.text != plans[ti].subtasks[index].text:
                raise InputError(f"subtask {index} of task {released[ti].task_id} decrypted to unexpected text")
            return clients[node_id].submit_data(released[ti].task_id, index, data=readings[(ti, index)])

        with steps("submit", f"{len(jobs)} subtasks fetched, decrypted, checked and answered with a data hash"):
            submitted = thread_map(fetch_and_submit, jobs, workers=opts.workers)
            failed = [s for s in submitted if isinstance(s, CrowdsenseError)]
            if failed:
                raise failed[0]

        # 7. refusals ---------------------------------------------------------------------------
        refusals: list[dict[str, Any]] = []
        with steps("refusals", "refusals demonstrated on chain"):
            level1 = by_level[1]
            other = next((n for lvl in range(2, opts.levels + 1) for n in by_level[lvl]), None)
            a = level1[0]
            probe_plan = decompose("Refusal probe: two parts of level 1",
                                   [{"text": "outdoor reading A (level 1)", "level": 1},
                                    {"text": "outdoor reading B (level 1)", "level": 1}], num_levels=opts.levels)
            probe = releaser.release_task(probe_plan, release_id=f"demo-{run_id}-probe")
            clients[a].claim(probe.task_id, 0)
            registry = conn.registry

            def unchecked_claim(node_id: str, task_id: int, index: int, label: str) -> dict[str, Any]:
                client = clients[node_id]
                pre: Exception | None = None
                try:
                    client.check_claim(task_id, index)
                except ContractRevertError as exc:
                    pre = exc
                data = registry.functions.claimSubtask(task_id, index)._encode_transaction_data()
                outcome = send_unchecked(
                    client.sender, registry.address, data, kind="claimSubtask",  # type: ignore[arg-type]
                    intent_id=f"claim-unchecked/{chain_id}/{registry.address}/{task_id}/{index}/{client.me}",
                    subject=f"task {task_id} subtask {index}")
                return _refusal(label, client.me, outcome, pre)

            refusals.append(unchecked_claim(a, probe.task_id, 1,
                                            f"second claim in task {probe.task_id} (level-1 receiver already "
                                            f"holds subtask 0, claims subtask 1)"))
            if other is not None:
                refusals.append(unchecked_claim(other, probe.task_id, 1,
                                                f"cross-level claim (level-{picked[other]} receiver claims the "
                                                f"level-1 subtask 1 of task {probe.task_id})"))
            releaser.hand_over_keys([probe.task_id])
            releaser.close_task(probe.task_id)
            late = level1[1] if len(level1) > 1 else other or a
            refusals.append(unchecked_claim(late, probe.task_id, 1, f"claim in closed task {probe.task_id}"))
            # off chain: a receiver cannot open the key of a subtask it did not claim
            intruder = other or (level1[1] if len(level1) > 1 else None)
            if intruder is not None:
                h = probe.subtask_hashes[0]
                envelope = store.get_envelope(h, signers[a].address)
                try:
                    open_key(signers[intruder], envelope, subtask_hash=h, claimant=signers[a].address)
                    msg, err_name = "opened (unexpected)", None
                except DecryptionError as exc:
                    msg, err_name = str(exc), "DecryptionError"
                refusals.append({"attempt": f"non-claimant opens the key of subtask 0 of task {probe.task_id} "
                                            "(off chain)", "account": signers[intruder].address,
                                 "refusedOnChain": False, "error": err_name, "message": msg, "args": None,
                                 "tx": None, "block": None, "gasUsed": None, "clientPreCheck": None})
        for r in refusals:
            steps.note(f"{r['attempt']}: {r['error']}: {r['message']}")

        # 8. LDPF ---------------------------------------------------------------------------------------
        scenario = city_scenario(population=max(1000, 6 * opts.ctbc_users), random_state=opts.seed)
        with steps("ctbc", "CTBC round in a popular region"):
            setup = ctbc_setup(scenario, users=opts.ctbc_users, n_required=opts.n, k=opts.k,
                               spare=2 if opts.faults else 0, random_state=opts.seed + 1)
            users = [simulation_signer(f"ctbc-user-{i}") for i in range(opts.ctbc_users)]
            fund_dev_accounts(w3, [s.address for s in users], wei=_SIM_BALANCE, chain_id=chain_id)
            ctbc = run_ctbc_round(conn, setup.positions, setup.task, k=opts.k, signers=users,
                                  journal=journal("ctbc-users"),
                                  asked_faults=("absent", "tamper") if opts.faults else (),
                                  random_state=opts.seed, workers=opts.workers)
        with steps("pdc", f"PDC round in a remote region ({opts.key_bits}-bit Paillier)"):
            psetup = pdc_setup(scenario, receivers=opts.pdc_receivers, grid=opts.grid, random_state=opts.seed + 2)
            pdc_signers = [simulation_signer(f"pdc-receiver-{i}") for i in range(opts.pdc_receivers)]
            fund_dev_accounts(w3, [s.address for s in pdc_signers], wei=_SIM_BALANCE, chain_id=chain_id)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a weak key is reported in the summary
                pdc = run_pdc_round(conn, psetup.locations, psetup.centre, grid=opts.grid, n_select=opts.pdc_n,
                                    signers=pdc_signers, journal=journal("pdc-receivers"), key_bits=opts.key_bits,
                                    allow_insecure=opts.allow_insecure_key,
                                    faults={0: "liar"} if opts.faults and opts.pdc_receivers > 1 else {},
                                    random_state=opts.seed, workers=opts.workers, positions=psetup.positions,
                                    centre_position=psetup.centre_position)

        # 9. report -------------------------------------------------------------------------------------
        last_block = int(w3.eth.block_number)
        with steps("gas", "gas per transaction type read back from the chain"):
            gas, n_txs = _chain_gas(w3, conn, first_block, last_block)

        level_rows = [{**c.as_dict(), "receivers": len(by_level[c.level])} for c in classification.clusters]
        summary = {
            "chain": {"rpcUrl": url, "chainId": chain_id, "startedNode": owned,
                      "nodeKeptRunning": bool(owned and opts.keep_node),
                      "nodePid": node.process.pid if owned and node is not None and node.process else None,
                      "deployment": str(deployed.path), "taskRegistry": conn.registry_address,
                      "commitmentVerifier": conn.verifier_address, "fromBlock": first_block, "toBlock": last_block,
                      "transactions": n_txs},
            "classification": {"graph": str(opts.graph), "nodes": classification.graph.n_nodes,
                               "edges": classification.graph.n_edges, "levels": level_rows,
                               "betweenness": classification.parameters["betweenness"],
                               "seconds": round(classification.timings.get("total", 0.0), 2),
                               "warnings": [str(w.message) for w in classify_warnings]},
            "registration": report.to_json(),
            "tasks": [{"taskId": t.task_id, "title": p.title, "levels": list(t.levels)} for t, p in zip(released, plans)],
            "claims": {"subtasks": len(jobs), "claimed": len(jobs), "keysHandedOver": sum(h.written for h in handovers),
                       "fetchedAndDecrypted": len(jobs), "dataSubmitted": len(jobs)},
            "refusals": refusals,
            "ctbc": {"region": {"kind": "popular", "density": round(scenario.popular_density, 2)}, **ctbc.summary()},
            "pdc": {"region": {"kind": "remote", "density": round(scenario.remote_density, 2),
                               "gridStepMetres": round(psetup.step, 3),
                               "receiversFromPopulation": psetup.from_population}, **pdc.summary()},
            "gas": gas,
        }
        audit = _audit(conn, url, first_block, last_block, picked, signers, released, plans, jobs, readings,
                       releaser, store, subtask_plaintext, ctbc, pdc, users, pdc_signers, probe, probe_plan)

        # 10. files ----------------------------------------------------------------------------------------
        files = {"summary": str(out / "summary.json"), "audit": str(out / "audit.json"), "levels": str(levels_path)}
        with steps("plots", "plots written" if opts.plots else "plots skipped"):
            if opts.plots:
                files.update(_plots(out, classification, ctbc, pdc, gas))
        summary["files"] = files
        summary["timings"] = {k: round(v, 2) for k, v in steps.timings.items()}
        wall = time.perf_counter() - steps.start
        summary["wallSeconds"] = round(wall, 2)
        write_secret_json(out / "audit.json", audit)
        (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str) + "\n")
        return DemoResult(summary, audit, out, files, wall)
    finally:
        for j in journals:
            try:
                j.close()
            except CrowdsenseError:
                pass
        if node is not None and node.owned and not opts.keep_node:
            node.stop()


def _audit(conn: Any, url: str, first_block: int, last_block: int, picked: dict[str, int], signers: dict[str, Any],
           released: list[Any], plans: list[Any], jobs: list[tuple[int, int, int, str]],
           readings: dict[tuple[int, int], bytes], releaser: Any, store: Any, subtask_plaintext: Any, ctbc: Any,
           pdc: Any, users: list[Any], pdc_signers: list[Any], probe: Any, probe_plan: Any) -> dict[str, Any]:
    """The run's secret material (see the module docstring)."""
    prefix = f"{conn.chain_id}/{conn.registry_address}"
    claimant = {(ti, index): signers[node_id].address for ti, index, _, node_id in jobs}
    probe_holder = conn.registry.functions.getSubtask(probe.task_id, 0).call()[2]
    claimant[(len(released), 0)] = Web3.to_checksum_address(probe_holder)
    tasks = []
    for ti, (task, plan) in enumerate(list(zip(released, plans)) + [(probe, probe_plan)]):
        subtasks = []
        for sub, h in zip(plan.subtasks, task.subtask_hashes):
            secret = releaser.journal.get(f"subtask-key/{prefix}/0x{bytes(h).hex()}") or {}
            data = readings.get((ti, sub.index))
            subtasks.append({
                "index": sub.index, "level": sub.level, "text": sub.text,
                "plaintext": subtask_plaintext(plan, sub).decode(),
                "subtaskHash": "0x" + bytes(h).hex(),
                "key": "0x" + bytes(secret["key"]).hex() if "key" in secret else None,
                "claimant": claimant.get((ti, sub.index)),
                "data": data.decode() if data else None,
                "dataHash": "0x" + keccak(data).hex() if data else None,
            })
        tasks.append({"taskId": task.task_id, "title": plan.title, "subtasks": subtasks})
    return {
        "chain": {"rpcUrl": url, "chainId": conn.chain_id, "fromBlock": first_block, "toBlock": last_block,
                  "taskRegistry": conn.registry_address, "commitmentVerifier": conn.verifier_address},
        "formats": {
            "coordinates": "metres in a local plane (x east, y north); *Fixed values are micrometre integers "
                           "as encoded in CTBC payloads (abi.encode int256)",
            "pdc": "grid indices; distances in grid steps; r as a decimal int and as a 32-byte hex word",
            "plaintext": "the exact UTF-8 JSON encrypted for each subtask (AES-GCM, key per subtask)",
        },
        "expectedOnChain": (
            "by design the chain carries: subtask hashes and levels, data hashes, claimants; CTBC commitments, r1, "
            "and for selected users r2 and their payload (group centre, transformed); PDC commitments and, once "
            "each receiver knows its distance, r. Faulty simulated parties publish forged openings in reverted "
            "transactions: the CTBC 'tamper' user's payload with its last byte flipped, and the PDC 'liar' value "
            "r + max(dist, 1) (its s when dist > 0). Nothing else of this file may appear on chain."
        ),
        "receivers": [{"node": n, "address": signers[n].address, "level": lvl} for n, lvl in picked.items()],
        "tasks": tasks,
        "ctbcUsers": [s.address for s in users],
        "pdcReceivers": [s.address for s in pdc_signers],
        "ctbc": ctbc.audit(),
        "pdc": pdc.audit(),
    }


# ------------------------------------------------------------------------------- plots


def _plots(out: Path, classification: Any, ctbc: Any, pdc: Any, gas: dict[str, dict[str, int]]) -> dict[str, str]:
    """Write the four PNG plots; returns ``{name: path}``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files: dict[str, str] = {}
    colours = plt.get_cmap("viridis")

    # the T-level partition
    f = classification.features
    levels = classification.levels
    t = classification.n_levels
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
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
    fig.tight_layout()
    files["plotLevels"] = str(_save(fig, out / "levels.png"))

    # the CTBC selection (real coordinates: the simulation's view) and the platform's view
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 6.5))
    real = ctbc.positions
    selected, failed = ctbc.selected, np.asarray(ctbc.failed, dtype=np.int64)
    centres_real = ctbc.transform.inverse(ctbc.grouping.centres)
    ax1.scatter(real[:, 0], real[:, 1], s=10, color="0.7", label="users (real positions, never published)")
    ax1.scatter(centres_real[:, 0], centres_real[:, 1], s=25, marker="+", color="tab:blue", label="group centres (k-anonymous)")
    box = ctbc.task.region.corners()
    ax1.fill(box[:, 0], box[:, 1], alpha=0.12, color="tab:orange", label="region of interest")
    ax1.scatter(*ctbc.task.center, marker="*", s=200, color="tab:orange", label="task centre")
    ax1.scatter(real[selected, 0], real[selected, 1], s=40, facecolors="none", edgecolors="tab:green",
                linewidths=1.5, label="selected (revealed on chain)")
    if failed.size:
        ax1.scatter(real[failed, 0], real[failed, 1], s=50, marker="x", color="tab:red", label="failed reveal, replaced")
    ax1.set_aspect("equal")
    ax1.set_title(f"CTBC in a popular region: N = {ctbc.task.n_required}, k = {ctbc.k}")
    ax1.set_xlabel("x (m)")
    ax1.set_ylabel("y (m)")
    ax1.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0.0, -0.12), ncol=2)
    tbox = ctbc.task_transformed.region.corners()
    ax2.scatter(ctbc.grouping.centres[:, 0], ctbc.grouping.centres[:, 1], s=25, marker="+", color="tab:blue",
                label="UD: group centres (committed)")
    ax2.fill(tbox[:, 0], tbox[:, 1], alpha=0.12, color="tab:orange", label="task region (transformed)")
    ax2.scatter(*ctbc.task_transformed.center, marker="*", s=200, color="tab:orange", label="task centre (transformed)")
    chosen_groups = np.unique(ctbc.grouping.labels[selected])
    ax2.scatter(ctbc.grouping.centres[chosen_groups, 0], ctbc.grouping.centres[chosen_groups, 1], s=90,
                facecolors="none", edgecolors="tab:green", linewidths=1.5, label="groups of the selected users")
    ax2.set_aspect("equal")
    ax2.set_title("what the platform sees: committed group centres, transformed")
    ax2.set_xlabel("x' (m)")
    ax2.set_ylabel("y' (m)")
    ax2.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0.0, -0.12), ncol=2)
    fig.tight_layout()
    files["plotCtbc"] = str(_save(fig, out / "ctbc_selection.png"))

    # the PDC distances
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 5))
    locs = np.array(pdc.locations)
    chosen = {s.receiver for s in pdc.selected}
    status = {o.account: o for o in pdc.outcomes}
    for account, (x, y) in zip(pdc.accounts, locs.tolist()):
        o = status[account]
        colour = "tab:green" if account in chosen else "tab:red" if o.status != "accepted" else "0.5"
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
    fig.tight_layout()
    files["plotPdc"] = str(_save(fig, out / "pdc_distances.png"))

    # gas per transaction type
    kinds = sorted(gas, key=lambda k: gas[k]["gas"] / gas[k]["count"])
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(kinds) + 1.5))
    means = [gas[k]["gas"] / gas[k]["count"] for k in kinds]
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
    fig.tight_layout()
    files["plotGas"] = str(_save(fig, out / "gas.png"))
    return files


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ------------------------------------------------------------------------------ summary


def format_summary(summary: dict[str, Any]) -> str:
    """The summary table printed by ``crowdsense demo``."""
    from crowdsense.runs.report import format_ctbc, format_gas, format_pdc, short_address

    c = summary["chain"]
    cl = summary["classification"]
    lines = [
        "=" * 100,
        "crowdsense main job: PMCB security levels + LDPF location privacy on a local chain",
        "=" * 100,
        f"chain        {c['rpcUrl']} (chain id {c['chainId']}, "
        + ("Anvil started by the demo" + (f", left running as pid {c['nodePid']}" if c["nodeKeptRunning"]
                                          else ", stopped at the end")
           if c["startedNode"] else "existing node") + ")",
        f"contracts    TaskRegistry {c['taskRegistry']}, CommitmentVerifier {c['commitmentVerifier']}",
        f"             deployment file {c['deployment']}; blocks {c['fromBlock']}..{c['toBlock']}, "
        f"{c['transactions']} transactions",
        "",
        f"PMCB classification of {Path(cl['graph']).name}: {cl['nodes']} nodes, {cl['edges']} edges, "
        f"{len(cl['levels'])} levels in {cl['seconds']} s (betweenness {cl['betweenness']})",
        f"  {'level':>5} {'nodes':>7} {'AD':>9} {'ALC':>7} {'ABC':>10} {'AIF':>7} {'I':>9} {'receivers':>10}",
    ]
    for r in cl["levels"]:
        lines.append(f"  {r['level']:>5} {r['size']:>7} {r['AD']:>9.2f} {r['ALC']:>7.3f} {r['ABC']:>10.2e} "
                     f"{r['AIF']:>7.3f} {r['I']:>9.2f} {r['receivers']:>10}")
    reg, cm = summary["registration"], summary["claims"]
    lines += [
        f"registration {reg['registered']} receivers registered in {len(reg['transactions'])} setLevels "
        f"transaction(s) (batch size {reg['batchSize']})",
        f"tasks        {len(summary['tasks'])} released: "
        + "; ".join(f"#{t['taskId']} {t['title']} (levels {t['levels']})" for t in summary["tasks"]),
        f"claims       {cm['claimed']} of {cm['subtasks']} subtasks claimed at their level, {cm['keysHandedOver']} keys "
        f"handed over, {cm['fetchedAndDecrypted']} fetched + decrypted, {cm['dataSubmitted']} data hashes submitted",
        "",
        "refusals (sent without the client's pre-check: the chain reverts and the error is decoded from it)",
    ]
    for r in summary["refusals"]:
        where = (f"reverted on chain in block {r['block']} (tx {r['tx'][:12]}.., gas {r['gasUsed']:,})"
                 if r["refusedOnChain"] else "refused off chain" if r["error"] else "NOT refused")
        lines.append(f"  - {r['attempt']}, by {short_address(r['account'])}:")
        lines.append(f"      {where}")
        lines.append(f"      {r['error']}: {r['message']}")
        if r.get("clientPreCheck"):
            lines.append(f"      (the client's pre-check refuses it too, before sending: {r['clientPreCheck']})")
    ctbc, pdc = summary["ctbc"], summary["pdc"]
    lines += ["", f"popular region: {ctbc['region']['density']} users/km^2 -> CTBC", format_ctbc(ctbc), "",
              f"remote region: {pdc['region']['density']} users/km^2 -> PDC (one grid step = "
              f"{pdc['region']['gridStepMetres']} m)", format_pdc(pdc), "",
              "gas per transaction type (all transactions of the run, from the chain)"]
    lines += format_gas(summary["gas"])
    t = summary["timings"]
    lines += ["", "time (s): " + ", ".join(f"{k} {v:.1f}" for k, v in t.items()),
              f"wall time: {summary['wallSeconds']:.1f} s", "",
              "files: " + ", ".join(f"{Path(p).name}" for p in summary["files"].values())
              + f" in {Path(summary['files']['summary']).parent}",
              "audit.json holds the run's SECRET test material (mode 0600): never share it"]
    return "\n".join(lines)


def options_fields() -> list[str]:
    """Names of :class:`DemoOptions` (the CLI maps its options onto them)."""
    return [f.name for f in fields(DemoOptions)]

