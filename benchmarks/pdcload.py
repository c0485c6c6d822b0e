"""A PDC round over HTTP with N receivers: what ``benchmarks/services.py`` measures of the platform.

Everything is real: an Anvil node with the contracts, ``crowdsense service serve --pdc-key`` as
a process of its own (its CPU time read from the process), N receivers with their own accounts
(funded through the node) and one journal for all (keys name the account), commitments and
openings on chain, well-formedness proofs with every query. Phases:

1. *Receivers prepare* (their own devices in reality; here worker processes draw the offline
   part of each proof): the operator opens the task; each receiver fetches it, places its
   location on the grid, computes its query and commits to r on chain. Not the platform's work.
2. *Queries* (timed): every receiver posts its query, W at a time; the platform verifies the
   proof, checks the commitment on chain, decrypts and records the pending answer.
3. *Receivers finish* (their work again): each checks its decryption and opens r on chain.
4. *Reveals* (timed): every receiver posts its opening; the platform checks it against the
   chain and the proof's mask commitments and accepts the distance.

``receivers_per_s`` = N / (wall time of phase 2 + phase 4): the rate at which the platform gets
a round through, its own work only. Every accepted distance must equal the Manhattan distance
of the receiver's grid point to the centre's, computed here independently.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parent.parent


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _timed_phase(items: list[Any], work: Callable[[Any], Any], workers: int) -> tuple[list[Any], float, list[float]]:
    """``work`` over ``items``, ``workers`` at a time: results, wall seconds, latency of each."""
    latencies: list[float] = []

    def one(item: Any) -> Any:
        started = time.perf_counter()
        out = work(item)
        latencies.append(time.perf_counter() - started)
        return out

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(one, items))
    return results, time.perf_counter() - started, latencies


def process_cpu_s(pid: int) -> float:
    """CPU seconds of process ``pid`` and of its live children (a service's worker processes)."""
    process = psutil.Process(pid)
    return float(sum(sum(p.cpu_times()[:2]) for p in (process, *process.children(recursive=True))))


def _percentile_ms(values: list[float], q: float) -> float:
    return float(np.percentile(values, q) * 1e3) if values else float("nan")


def protocol_ms_per_receiver(private_key: Any, grid: Any, message: Any, centre: Any, queries: list[Any],
                             reveals: list[Any], board: Any) -> dict[str, float]:
    """CPU milliseconds per receiver of the protocol's own work, measured in this process on a
    sample of the round's messages, with no HTTP, signature or database around it:

    * ``crypto``: the query's cryptography, exactly the calls :meth:`Platform.handle_query` makes
      (ciphertext check, well-formedness proofs, decryption with its proof);
    * ``protocol``: that, plus reading the messages (their JSON, curve points checked on the
      way), the reveal's mask opening, and the two reads of the public record the platform makes
      (the commitment before decrypting, its opening at the reveal) through ``board``.

    What the service spends beyond ``protocol`` is HTTP, authentication and its database: the
    overhead the issue bounds."""
    from crowdsense.commitments import MemoryCommitmentBoard
    from crowdsense.ldpf.pdc.ledger import MemoryLedger
    from crowdsense.ldpf.pdc.messages import QueryMessage, RevealMessage
    from crowdsense.ldpf.pdc.platform import Platform
    from crowdsense.ldpf.pdc.proofs import open_masks

    platform = Platform(private_key, grid, board=MemoryCommitmentBoard(), ledger=MemoryLedger())
    query_texts = [q.to_json() for q in queries]
    reveal_texts = [r.to_json() for r in reveals]
    cpu = time.process_time()
    masks = []
    for query in queries:
        assert platform.engine.is_ciphertext(query.z)
        masks.append(platform._check_proof(query, message, centre))  # noqa: SLF001 - the measured part itself
        platform.engine.decrypt_with_proof(query.z)
    crypto = time.process_time() - cpu
    cpu = time.process_time()
    for text in query_texts:
        QueryMessage.from_json(text)
    for text in reveal_texts:
        RevealMessage.from_json(text)
    for query, reveal, (u, v) in zip(queries, reveals, masks):
        assert board.blinding_record(query.receiver, query.commitment) is not None
        assert board.check_blinding(reveal.receiver, reveal.commitment, reveal.r, reveal.salt)
        assert open_masks(u, v, reveal.r, reveal.mask_opening)
    rest = time.process_time() - cpu
    return {"crypto": crypto * 1e3 / len(queries), "protocol": (crypto + rest) * 1e3 / len(queries)}


def run(folder: Path, *, receivers: int, key_bits: int, workers: int, database_url: str | None, seed: int,
        free_port: Callable[[], int], start_service: Callable[..., tuple[subprocess.Popen, str]],
        grid: int = 100) -> dict[str, Any]:
    """One round (module docstring); returns its measurements. ``start_service(database_url,
    folder, *options)`` starts the service process (benchmarks/services.py's)."""
    from crowdsense.chain.accounts import dev_signer, simulation_signer
    from crowdsense.chain.boards import ChainCommitmentBoard, JournalSecretStore
    from crowdsense.chain.connection import connect, deploy_contracts, open_connection
    from crowdsense.chain.journal import Journal
    from crowdsense.chain.node import LocalNode
    from crowdsense.chain.registration import fund_dev_accounts
    from crowdsense.ldpf.pdc.errors import WeakKeyWarning
    from crowdsense.ldpf.pdc.keys import generate_keypair, write_private_key
    from crowdsense.ldpf.pdc.receiver import Receiver
    from crowdsense.ldpf.city import EARTH_RADIUS_M
    from crowdsense.ldpf.pdc.region import GridRegion
    from crowdsense.runs.pdc_round import precompute_proofs
    from crowdsense.services.pdc_client import PdcClient

    warnings.simplefilter("ignore", WeakKeyWarning)  # --quick uses 1024 bits
    node = LocalNode("anvil", port=free_port()).start()
    proc = None
    try:
        w3 = connect(node.url)
        deployment = folder / "deployment.json"
        deploy_contracts(w3, dev_signer(0), 3, path=deployment)
        conn = open_connection(node.url, deployment)
        _log(f"PDC: generating a {key_bits}-bit Paillier key")
        _, private_key = generate_keypair(key_bits)
        key_file = write_private_key(private_key, folder / "pdc-key.json")
        operator = dev_signer(0)
        database = database_url or f"sqlite:///{folder / 'pdc-service.sqlite'}"
        proc, url = start_service(database, folder, "--pdc-key", str(key_file), "--pdc-operator", operator.address,
                                  "--rpc-url", node.url, "--deployment", str(deployment))
        region = GridRegion(origin=(-22.95, -43.30), step=10.0, width=grid, height=grid)
        rng = np.random.default_rng(seed)
        # positions inside the region: a random cell each, placed back on the map through the same projection
        lat0, lon0 = region.origin
        metres_per_degree = EARTH_RADIUS_M * np.pi / 180
        cells = rng.integers(0, grid, size=(receivers + 1, 2))
        latlon = [f"{lat0 + y * region.step / metres_per_degree:.7f},"
                  f"{lon0 + x * region.step / (metres_per_degree * np.cos(np.radians(lat0))):.7f}" for x, y in cells]
        centre, locations = latlon[0], latlon[1:]
        with PdcClient(url, operator, timeout=120) as client:
            message, _ = client.open_task("bench", region, centre)
        signers = [simulation_signer(f"pdc-bench-{i}") for i in range(receivers)]
        fund_dev_accounts(w3, [s.address for s in signers], wei=10**18, chain_id=conn.chain_id)
        journal = Journal(folder / "receivers.sqlite")
        store = JournalSecretStore(journal, conn)
        board = ChainCommitmentBoard(conn)
        parties = [Receiver(region.point(loc), region.grid, board=board.as_account(s, journal), secret_store=store)
                   for s, loc in zip(signers, locations)]
        _log(f"PDC: {receivers} receivers draw their proofs' offline part and commit on chain (their own work)")
        started = time.perf_counter()
        precompute_proofs(parties, message.public_key_n, workers=psutil.cpu_count() or 2)
        queries, commit_s, _ = _timed_phase(parties, lambda r: r.respond(message), workers)
        prepare_s = time.perf_counter() - started
        clients = {s.address: PdcClient(url, s, timeout=120) for s in signers}
        cpu = process_cpu_s(proc.pid)
        _log(f"PDC: {receivers} queries to the platform, {workers} at a time")
        decryptions, query_s, query_lat = _timed_phase(queries, lambda q: clients[q.receiver].query(q), workers)
        query_cpu = process_cpu_s(proc.pid) - cpu
        reveals, finish_s, _ = _timed_phase(list(zip(parties, decryptions)), lambda pd: pd[0].finish(pd[1]),
                                            workers)
        cpu = process_cpu_s(proc.pid)
        _log(f"PDC: {receivers} reveals to the platform")
        distances, reveal_s, reveal_lat = _timed_phase(reveals, lambda rv: clients[rv.receiver].reveal(rv), workers)
        reveal_cpu = process_cpu_s(proc.pid) - cpu
        c = region.point(centre)
        own = protocol_ms_per_receiver(private_key, region.grid, message, c, queries[:20], reveals[:20], board)
        expected = [abs(r.location[0] - c[0]) + abs(r.location[1] - c[1]) for r in parties]
        with PdcClient(url, operator, timeout=120) as client:
            accepted = client.answers("bench")["accepted"]
        correct = distances == expected and accepted == {s.address: d for s, d in zip(signers, expected)}
        for each in clients.values():
            each.close()
        journal.close()
        platform_s = query_s + reveal_s
        return {
            "receivers": receivers, "key_bits": key_bits, "grid": [grid, grid], "workers": workers,
            "engine": "postgresql" if database_url else "sqlite",
            "receivers_per_s": receivers / platform_s,
            "queries_per_s": receivers / query_s, "reveals_per_s": receivers / reveal_s,
            "query_phase_s": query_s, "reveal_phase_s": reveal_s,
            "query_p50_ms": _percentile_ms(query_lat, 50), "query_p95_ms": _percentile_ms(query_lat, 95),
            "reveal_p50_ms": _percentile_ms(reveal_lat, 50), "reveal_p95_ms": _percentile_ms(reveal_lat, 95),
            "service_cpu_ms_per_query": query_cpu * 1e3 / receivers,
            "service_cpu_ms_per_reveal": reveal_cpu * 1e3 / receivers,
            "crypto_cpu_ms_per_query": own["crypto"], "protocol_cpu_ms_per_receiver": own["protocol"],
            "service_cpu_ms_per_receiver": (query_cpu + reveal_cpu) * 1e3 / receivers,
            # HTTP, authentication and database: what the service spends beyond the protocol
            "service_overhead_fraction": 1 - own["protocol"] / ((query_cpu + reveal_cpu) * 1e3 / receivers),
            "receivers_prepare_s": prepare_s, "receivers_commit_s": commit_s, "receivers_finish_s": finish_s,
            "round_s": prepare_s + query_s + finish_s + reveal_s,
            "distances_correct": bool(correct), "median_distance": statistics.median(expected),
        }
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=60)
        node.stop()
