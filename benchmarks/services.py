"""Load on the services: the blob store, the PDC platform, the CTBC edge and platform, over HTTP.

    python benchmarks/services.py [--quick] [--out-dir benchmarks/results] [--receivers N]
                                  [--data-bytes B] [--workers W] [--database-url URL] [--seed 0]
                                  [--pdc-receivers N] [--ctbc-users U] [--clients C] [--skip-pdc] [--skip-ctbc]

1. **Service**: ``crowdsense service serve`` as a process of its own on a free loopback port,
   on a fresh SQLite file (default), or on the PostgreSQL database ``--database-url`` names
   (emptied first: give it a scratch database). Its CPU time is read from the process.
2. **Deliveries** (the load generator): N receivers, each its own account, deliver B bytes of
   data as ``crowdsense submit --deliver`` does off chain: ECIES to the releaser's encryption
   key with the data's associated data, then a signed ``PUT /v1/blobs/<keccak>`` (EIP-191
   signature, single-use nonce), W receivers at a time (threads; one HTTP session each).
   ``deliveries_per_s`` = N / wall time; latency per delivery (p50, p95).
3. **Collection**: the releaser fetches every ciphertext by its hash (``GET``, checked against
   the hash) and opens it, W at a time: ``collections_per_s``. Every opened reading must equal
   what was delivered.
4. **Baselines, in the same run**: the same deliveries and collection through the folder store
   (``crowdsense.chain.store.SubtaskStore``, what parties on one machine share), and unsigned
   ``GET /v1/health`` requests (the HTTP stack alone): ``health_requests_per_s``.

No chain is involved in these: the chain step of a delivery (``submitData``) costs the same
whichever store holds the ciphertext.

5. **A PDC round over HTTP** (``benchmarks/pdcload.py``): the service as the PDC platform, an
   Anvil node, ``--pdc-receivers`` receivers (default 1,000) with their own accounts answering a
   task on a 100 x 100 grid with a ``--pdc-key-bits`` key (default 2048), proofs and on-chain
   commitments included. ``pdc_receivers_per_s``: receivers the platform gets through per
   second of its own phases (queries and reveals; the receivers' own work is timed apart).

6. **A CTBC epoch over HTTP** (``benchmarks/ctbcload.py``): the edge, the anonymizer and the CTBC
   platform as three service processes, ``--ctbc-users`` users (default 10,000) posting positions,
   committing on chain and uploading; the platform ranks them for a task; the anonymizer and the
   platform are killed with SIGKILL mid-round and restarted. ``ctbc_10k_users_s``: the uploads and
   the matching, wall time; ``lost_after_kill``: acknowledged positions and uploads missing after
   the restarts.
7. **Concurrent clients**: ``--clients`` clients at once (default 200), each fetching a stored
   blob ``--requests-each`` times: ``p95_ms_at_200_clients``, the p95 latency of one request.

Writes ``services.json`` (``services_postgresql.json`` with ``--database-url``; ``_quick`` with
``--quick``: N = 60 deliveries, a PDC round of 20 receivers with a 1024-bit key, a CTBC epoch of 100
users and 50 concurrent clients, a few minutes).
"""

from __future__ import annotations

import argparse
import functools
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import requests
from eth_utils import keccak

import benchkit
import ctbcload
import pdcload
from crowdsense import ecies
from crowdsense.chain.accounts import simulation_signer
from crowdsense.chain.store import SubtaskStore
from crowdsense.pmcb.sealing import data_aad
from crowdsense.services.client import ServiceClient

ROOT = Path(__file__).resolve().parent.parent
CHAIN_ID = 31337
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
TASK_ID = 0


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_service(database_url: str, folder: Path, *options: str, port: int | None = None, workers: int = 1
                  ) -> tuple[subprocess.Popen, str]:
    """``crowdsense service serve`` as a process of its own (``options`` added) with ``workers``
    worker processes, once it answers; on ``port`` (a restart after a kill keeps its URL), else a
    free one."""
    port = port or free_port()
    proc = subprocess.Popen([sys.executable, "-m", "crowdsense.cli.main", "service", "serve", "--port", str(port),
                             "--database-url", database_url, "--log-level", "warning",
                             "--max-blob-bytes", str(16 << 20), "--workers", str(workers), *options], cwd=folder)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/v1/health", timeout=1).status_code == 200:
                return proc, url
        except requests.RequestException:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"error: the service did not answer on {url} within 120 s: expected it to start")


def empty_postgres(url: str) -> None:
    """Drop the service's tables in a scratch database so that every run starts empty."""
    from crowdsense.services.db import metadata, open_database

    engine = open_database(url)
    metadata.drop_all(engine)
    engine.dispose()


def seal(releaser_key: bytes, index: int, account: str, reading: bytes) -> bytes:
    return ecies.ecies_encrypt(releaser_key, reading, aad=data_aad(CHAIN_ID, REGISTRY, TASK_ID, index, account))


def run_load(put: Any, get: Any, readings: list[bytes], accounts: list[Any], releaser: Any,
             workers: int) -> dict[str, Any]:
    """Deliver every reading through ``put(signer, blob) -> hash``, then collect it through
    ``get(hash) -> blob`` and open it; timings and a check of every reading."""
    key = releaser.encryption_key
    latencies: list[float] = []

    def deliver(i: int) -> bytes:
        started = time.perf_counter()
        digest = put(accounts[i], seal(key, i, accounts[i].address, readings[i]))
        latencies.append(time.perf_counter() - started)
        return digest

    cpu, wall = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        hashes = list(pool.map(deliver, range(len(readings))))
    delivered_s, delivered_cpu = time.perf_counter() - wall, time.process_time() - cpu

    def collect(i: int) -> bytes:
        blob = get(hashes[i])
        aad = data_aad(CHAIN_ID, REGISTRY, TASK_ID, i, accounts[i].address)
        return releaser.ecies_decrypt(blob, aad=aad, what="data")

    cpu, wall = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        opened = list(pool.map(collect, range(len(readings))))
    collected_s, collected_cpu = time.perf_counter() - wall, time.process_time() - cpu
    if opened != readings:
        raise SystemExit("error: the releaser opened other data than was delivered: expected every reading back")
    ms = [x * 1e3 for x in latencies]
    return {"deliveries": len(readings), "deliver_s": delivered_s, "deliver_client_cpu_s": delivered_cpu,
            "deliveries_per_s": len(readings) / delivered_s, "delivery_p50_ms": statistics.median(ms),
            "delivery_p95_ms": float(np.percentile(ms, 95)), "collect_s": collected_s,
            "collect_client_cpu_s": collected_cpu, "collections_per_s": len(readings) / collected_s}


def concurrent_p95(url: str, blob_hash: bytes, clients: int, each: int) -> dict[str, Any]:
    """``clients`` clients at once, each fetching a stored blob ``each`` times: the p50 and p95
    latency of one request. With ApacheBench (``ab``, Debian's apache2-utils) when installed: a
    C client, so that the numbers are the server's; else Python threads (a thread and an HTTP
    session per client), whose own contention adds to every latency."""
    import shutil
    import threading

    if shutil.which("ab"):
        # Three rounds, the median's p95 reported (all three kept): one round's p95 is its 50
        # slowest requests, which a single pause of the machine decides.
        runs = [_ab_p95(f"{url}/v1/blobs/0x{blob_hash.hex()}", clients, each) for _ in range(3)]
        middle = sorted(runs, key=lambda r: r["p95_ms"])[1]
        return {**middle, "p95_runs_ms": [r["p95_ms"] for r in runs],
                "requests": sum(r["requests"] for r in runs), "errors": sum(r["errors"] for r in runs)}

    path = f"{url}/v1/blobs/0x{blob_hash.hex()}"
    latencies: list[float] = []
    errors: list[str] = []
    start = threading.Barrier(clients)

    def client() -> None:
        session = requests.Session()
        start.wait()
        for _ in range(each):
            began = time.perf_counter()
            response = session.get(path, timeout=60)
            latencies.append(time.perf_counter() - began)
            if response.status_code != 200:
                errors.append(str(response.status_code))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    wall = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - wall
    ms = [x * 1e3 for x in latencies]
    return {"clients": clients, "requests": len(ms), "errors": len(errors), "requests_per_s": len(ms) / wall,
            "p50_ms": statistics.median(ms), "p95_ms": float(np.percentile(ms, 95)), "tool": "python threads"}


def _ab_p95(url: str, clients: int, each: int) -> dict[str, Any]:
    import re

    done = subprocess.run(["ab", "-q", "-n", str(clients * each), "-c", str(clients), url], capture_output=True,
                          text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise SystemExit(f"error: ab failed: {done.stderr.strip()[:200]}")

    def number(pattern: str) -> float:
        found = re.search(pattern, done.stdout, re.MULTILINE)
        if found is None:
            raise SystemExit(f"error: ab printed no {pattern!r}: expected ApacheBench's report")
        return float(found.group(1))

    failed = number(r"^Failed requests:\s+(\d+)") + number(r"^Non-2xx responses:\s+(\d+)") \
        if "Non-2xx" in done.stdout else number(r"^Failed requests:\s+(\d+)")
    return {"clients": clients, "requests": clients * each, "errors": int(failed),
            "requests_per_s": number(r"^Requests per second:\s+([\d.]+)"), "p50_ms": number(r"^\s+50%\s+(\d+)"),
            "p95_ms": number(r"^\s+95%\s+(\d+)"), "tool": "ab (ApacheBench)"}


def health_rate(url: str, count: int, workers: int) -> float:
    sessions = [requests.Session() for _ in range(workers)]
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda i: sessions[i % workers].get(url + "/v1/health", timeout=10).raise_for_status(),
                      range(count)))
    return count / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="60 receivers (seconds)")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--receivers", type=int, default=None, help="receivers delivering (default 1000; quick 60)")
    parser.add_argument("--data-bytes", type=int, default=4096, help="bytes of each reading")
    parser.add_argument("--workers", type=int, default=8, help="receivers delivering at once")
    parser.add_argument("--database-url", default=None,
                        help="a scratch PostgreSQL database (emptied first); default: a fresh SQLite file")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pdc-receivers", type=int, default=None, help="receivers of the PDC round (1000; quick 20)")
    parser.add_argument("--pdc-key-bits", type=int, default=None, help="Paillier key of the PDC round (2048; quick 1024)")
    parser.add_argument("--skip-pdc", action="store_true", help="leave out the PDC round")
    parser.add_argument("--pdc-from", type=Path, default=None,
                        help="instead of running the PDC round, carry its results over from an earlier services.json "
                             "(marked with that run's date)")
    parser.add_argument("--ctbc-users", type=int, default=None, help="users of the CTBC epoch (10000; quick 100)")
    parser.add_argument("--skip-ctbc", action="store_true", help="leave out the CTBC epoch")
    parser.add_argument("--clients", type=int, default=None, help="clients at once fetching a blob (200; quick 50)")
    parser.add_argument("--requests-each", type=int, default=5, help="blob fetches per concurrent client")
    parser.add_argument("--service-workers", type=int, default=psutil.cpu_count() or 1,
                        help="worker processes of each service (default: one per core)")
    args = parser.parse_args(argv)
    n = args.receivers or (60 if args.quick else 1000)
    args.clients = args.clients or (50 if args.quick else 200)
    if n < 1 or args.data_bytes < 1 or args.workers < 1 or args.service_workers < 1:
        parser.error("--receivers, --data-bytes, --workers and --service-workers must be positive")
    start = functools.partial(start_service, workers=args.service_workers)
    stem = benchkit.output_stem(args.out_dir, "services_postgresql" if args.database_url else "services",
                                quick=args.quick)
    machine = benchkit.machine_info(["fastapi", "uvicorn", "sqlalchemy", "requests"], processor_key="cpu_model")
    rng = np.random.default_rng(args.seed)
    readings = [rng.bytes(args.data_bytes) for _ in range(n)]
    accounts = [simulation_signer(f"bench-receiver-{i}") for i in range(n)]
    releaser = simulation_signer("bench-releaser")
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.database_url:
            empty_postgres(args.database_url)
        database = args.database_url or f"sqlite:///{folder / 'service.sqlite'}"
        engine = "postgresql" if args.database_url else "sqlite"
        proc, url = start(database, folder)
        try:
            clients = {a.address: ServiceClient(url, a, timeout=30) for a in accounts}
            reader = ServiceClient(url, timeout=30)
            cpu_before = pdcload.process_cpu_s(proc.pid)
            log(f"{n} receivers deliver {args.data_bytes} bytes each to the service ({engine}), {args.workers} at once")
            over_http = run_load(lambda a, blob: clients[a.address].put_blob(blob), reader.get_blob, readings,
                                 accounts, releaser, args.workers)
            over_http["service_cpu_s"] = pdcload.process_cpu_s(proc.pid) - cpu_before
            over_http["engine"] = engine
            results["service"] = over_http
            log(f"  {over_http['deliveries_per_s']:.0f} deliveries/s, {over_http['collections_per_s']:.0f} "
                f"collections/s")
            results["health_requests_per_s"] = health_rate(url, max(200, n), args.workers)
            log(f"{args.clients} clients at once each fetch a stored blob {args.requests_each} times")
            blob = seal(releaser.encryption_key, 0, accounts[0].address, readings[0])
            clients[accounts[0].address].put_blob(blob)
            results["concurrent"] = concurrent_p95(url, keccak(blob), args.clients, args.requests_each)
            log(f"  p95 {results['concurrent']['p95_ms']:.0f} ms at {args.clients} clients")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        store = SubtaskStore(folder / "store")
        log("baseline: the same through the folder store")
        results["folder"] = run_load(lambda a, blob: store.put_blob(blob), store.get_blob, readings, accounts,
                                     releaser, args.workers)
        if args.pdc_from is not None:
            earlier = json.loads(args.pdc_from.read_text())
            results["pdc"] = {**earlier["results"]["pdc"], "measured_in_run_of": earlier["date"]}
        elif not args.skip_pdc:
            if args.database_url:
                empty_postgres(args.database_url)
            results["pdc"] = pdcload.run(folder, receivers=args.pdc_receivers or (20 if args.quick else 1000),
                                         key_bits=args.pdc_key_bits or (1024 if args.quick else 2048),
                                         workers=args.workers, database_url=args.database_url, seed=args.seed,
                                         free_port=free_port, start_service=start)
        if not args.skip_ctbc:
            if args.database_url:
                empty_postgres(args.database_url)
            results["ctbc"] = ctbcload.run(folder, users=args.ctbc_users or (100 if args.quick else 10_000), k=5,
                                           n_required=10, workers=args.workers, database_url=args.database_url,
                                           seed=args.seed, start_service=start, free_port=free_port)
            ctbc = results["ctbc"]
            log(f"  CTBC: {ctbc['users']} users' uploads and the matching in {ctbc['upload_and_match_s']:.1f} s "
                f"({ctbc['platform_cpu_ms_per_upload']:.1f} ms of platform CPU per upload); lost after SIGKILL: "
                f"{ctbc['anonymizer_lost_after_kill']} (anonymizer), {ctbc['platform_lost_after_kill']} (platform)")
        if "pdc" in results:
            pdc = results["pdc"]
            log(f"  PDC: {pdc['receivers_per_s']:.1f} receivers/s through the platform "
                f"({pdc['service_cpu_ms_per_query']:.0f} + {pdc['service_cpu_ms_per_reveal']:.0f} ms of service CPU "
                f"per query and reveal); distances correct: {pdc['distances_correct']}")
    http, local, ctbc = results["service"], results["folder"], results.get("ctbc", {})
    headline = {
        "deliveries_per_s": http["deliveries_per_s"], "collections_per_s": http["collections_per_s"],
        "delivery_p95_ms": http["delivery_p95_ms"], "service_cpu_ms_per_delivery_and_collection":
            http["service_cpu_s"] * 1e3 / n, "engine": http["engine"],
        "folder_deliveries_per_s": local["deliveries_per_s"], "folder_collections_per_s": local["collections_per_s"],
        "health_requests_per_s": results["health_requests_per_s"],
        "pdc_receivers_per_s": results["pdc"]["receivers_per_s"] if "pdc" in results else None,
        "pdc_receivers": results["pdc"]["receivers"] if "pdc" in results else None,
        "pdc_key_bits": results["pdc"]["key_bits"] if "pdc" in results else None,
        "pdc_distances_correct": results["pdc"]["distances_correct"] if "pdc" in results else None,
        "service_overhead_fraction": results["pdc"].get("service_overhead_fraction") if "pdc" in results else None,
        "pdc_measured_in_run_of": results["pdc"].get("measured_in_run_of") if "pdc" in results else None,
        "concurrent_clients": args.clients, "concurrent_p95_ms": results["concurrent"]["p95_ms"],
        "p95_ms_at_200_clients": results["concurrent"]["p95_ms"] if args.clients == 200 else None,
        "ctbc_users": ctbc.get("users"), "ctbc_upload_and_match_s": ctbc.get("upload_and_match_s"),
        "ctbc_10k_users_s": ctbc.get("upload_and_match_s") if ctbc.get("users") == 10_000 else None,
        "ctbc_uploads_per_s": ctbc.get("uploads_per_s"),
        "ctbc_platform_cpu_ms_per_upload": ctbc.get("platform_cpu_ms_per_upload"),
        "lost_after_kill": (ctbc["anonymizer_lost_after_kill"] + ctbc["platform_lost_after_kill"]) if ctbc else None,
        "load_average_start_end": [machine.get("loadavg_at_start"), benchkit.load_average()],
    }
    out = {"benchmark": "services", "date": benchkit.utc_timestamp(), "quick": args.quick, "machine": machine,
           "parameters": {"receivers": n, "data_bytes": args.data_bytes, "workers": args.workers,
                          "service_workers": args.service_workers, "seed": args.seed}, "results": results, "headline": headline}
    benchkit.write_json(args.out_dir / f"{stem}.json", out)
    log(f"wrote {args.out_dir / (stem + '.json')}")
    if "pdc" in results and not results["pdc"]["distances_correct"]:
        log("error: the PDC round accepted distances other than the receivers' true ones")
        return 1
    if ctbc and (not ctbc["selection_complete"] or headline["lost_after_kill"]):
        log("error: the CTBC epoch lost acknowledged data to SIGKILL, or its selection is incomplete")
        return 1
    if results["concurrent"]["errors"]:
        log("error: concurrent blob fetches failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
