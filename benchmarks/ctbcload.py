"""A CTBC epoch over HTTP with U users: what ``benchmarks/services.py`` measures of the edge and the platform.

Everything is real: an Anvil node with the contracts, the edge's parameter generator, the
anonymizer and the CTBC platform as three ``crowdsense service serve`` processes (their CPU
time read from the processes), U users with their own accounts (funded through the node),
commitments on chain, every request signed. Phases:

1. *Edge* (setup): the operator opens an epoch and registers the users; the users' positions
   (uniform in a 4 km square) are transformed with the epoch's parameters, fetched once by a
   registered account (every user would fetch the same).
2. *Positions* (timed): every user posts its transformed position to the anonymizer, W at a
   time. Then the anonymizer is killed with SIGKILL and restarted, and groups the epoch (timed):
   ``anonymizer_lost_after_kill`` = acknowledged positions missing from the grouping.
3. *Users commit* (their own work): each fetches its UD, seals it to the platform, commits on
   chain (the opening journaled first).
4. *Uploads and matching* (timed): every user uploads (commitment, UD, sealed UD); the platform
   checks the sealed UD opens to the UD and the commitment is on chain under the uploader, and
   records it. Then the operator opens a task (the platform ranks every upload).
   ``upload_and_match_s`` = wall time of both: ``ctbc_10k_users_s`` when U = 10,000.
5. *Reveals* (timed): the asked users open on chain and post their openings; the platform is
   killed with SIGKILL halfway and restarted; the rest reveal; the selection must be complete and
   every acknowledged upload still there: ``platform_lost_after_kill``.

The selected users are checked against the users whose real positions are nearest the task,
computed here from the positions (the platform never sees them).
"""

from __future__ import annotations

import math
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import numpy as np

from pdcload import _log, _percentile_ms, _timed_phase, process_cpu_s


def _cpu(proc: subprocess.Popen) -> float:
    return process_cpu_s(proc.pid)


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def run(folder: Path, *, users: int, k: int, n_required: int, workers: int, database_url: str | None, seed: int,
        start_service: Callable[..., tuple[subprocess.Popen, str]], free_port: Callable[[], int]) -> dict[str, Any]:
    """One epoch and task (module docstring); returns its measurements."""
    from sqlalchemy import create_engine, func, select

    from crowdsense.chain.accounts import dev_signer, simulation_signer
    from crowdsense.chain.boards import ChainCommitmentBoard, JournalSecretStore
    from crowdsense.chain.connection import connect, deploy_contracts, open_connection
    from crowdsense.chain.journal import Journal
    from crowdsense.chain.node import LocalNode
    from crowdsense.chain.registration import fund_dev_accounts
    from crowdsense.ldpf.ctbc.geometry import Region, Task
    from crowdsense.ldpf.ctbc.protocol import CTBCUser
    from crowdsense.services.ctbc_client import AnonymizerClient, CtbcClient, EdgeClient
    from crowdsense.ldpf.ctbc.sealed import write_platform_key
    from crowdsense.services.db import ctbc_uploads, engine_url

    node = LocalNode("anvil", port=free_port()).start()
    procs: dict[str, subprocess.Popen] = {}
    try:
        w3 = connect(node.url)
        deployment = folder / "ctbc-deployment.json"
        deploy_contracts(w3, dev_signer(0), 3, path=deployment)
        conn = open_connection(node.url, deployment)
        key_file = folder / "ctbc-key.json"
        write_platform_key(key_file)
        edge_op, anon_op, platform_op = dev_signer(0), dev_signer(1), dev_signer(2)
        databases = {name: database_url or f"sqlite:///{folder / name}.sqlite" for name in ("edge", "anon", "ctbc")}
        options = {"edge": ("--edge-operator", edge_op.address), "anon": ("--anonymizer-operator", anon_op.address),
                   "ctbc": ("--ctbc-key", str(key_file), "--ctbc-operator", platform_op.address, "--rpc-url",
                            node.url, "--deployment", str(deployment))}
        urls: dict[str, str] = {}
        for name in ("edge", "anon", "ctbc"):
            procs[name], urls[name] = start_service(databases[name], folder, *options[name])

        signers = [simulation_signer(f"ctbc-bench-{i}") for i in range(users)]
        rng = np.random.default_rng(seed)
        real = rng.uniform(-2000.0, 2000.0, size=(users, 2))
        with EdgeClient(urls["edge"], edge_op, timeout=120) as edge:
            epoch = int(edge.open_epoch((-22.90, -43.20))["epoch"])
            for start in range(0, users, 5000):
                edge.register([s.address for s in signers[start:start + 5000]] + [platform_op.address])
        with EdgeClient(urls["edge"], platform_op, timeout=120) as edge:
            params = edge.epoch(epoch)
        transformed = params.transform.forward(real)

        anon_clients = {s.address: AnonymizerClient(urls["anon"], s, timeout=120, retries=20, backoff=0.2)
                        for s in signers}
        cpu = _cpu(procs["anon"])
        _log(f"CTBC: {users} users post their transformed positions to the anonymizer, {workers} at a time")
        _, positions_s, position_lat = _timed_phase(
            list(range(users)), lambda i: anon_clients[signers[i].address].send_position(epoch, transformed[i]),
            workers)
        positions_cpu = _cpu(procs["anon"]) - cpu
        procs["anon"].kill()  # SIGKILL: nothing of the service's shutdown runs
        procs["anon"].wait(timeout=30)
        procs["anon"], _ = start_service(databases["anon"], folder, *options["anon"], port=_port(urls["anon"]))
        started = time.perf_counter()
        with AnonymizerClient(urls["anon"], anon_op, timeout=600) as anonymizer:
            grouped = anonymizer.group(epoch, k)
        group_s = time.perf_counter() - started
        anonymizer_lost = users - int(grouped["users"])

        fund_dev_accounts(w3, [s.address for s in signers], wei=10**18, chain_id=conn.chain_id)
        journal = Journal(folder / "ctbc-users.sqlite")
        store = JournalSecretStore(journal, conn)
        board = ChainCommitmentBoard(conn)
        with CtbcClient(urls["ctbc"], timeout=60) as anyone:
            platform_key = anyone.encryption_key()
        parties = {s.address: CTBCUser(s.address, sender=s.address, board=board.as_account(s, journal), store=store)
                   for s in signers}
        _log(f"CTBC: {users} users fetch their UD, seal it and commit on chain (their own work)")

        def commit(i: int) -> Any:
            who = signers[i].address
            # the anonymizer's last use by this user: its connection closed, or 10,000 users keep
            # 10,000 of them open into the upload phase and run the load generator out of files
            with anon_clients.pop(who) as anonymizer:
                payload = anonymizer.ud(epoch)
            parties[who].commit(epoch=epoch, payload=payload, platform_key=platform_key)
            return parties[who].upload(0, epoch=epoch)

        uploads, commit_s, _ = _timed_phase(list(range(users)), commit, workers)
        platform_clients = {s.address: CtbcClient(urls["ctbc"], s, timeout=120, retries=20, backoff=0.2)
                            for s in signers}
        cpu = _cpu(procs["ctbc"])
        _log(f"CTBC: {users} uploads to the platform, {workers} at a time, then the task's matching")
        _, upload_s, upload_lat = _timed_phase(
            uploads, lambda u: platform_clients[u.sender].upload(epoch, u.commitment, u.payload, u.sealed), workers)
        upload_cpu = _cpu(procs["ctbc"]) - cpu
        centre = (float(rng.uniform(-1000, 1000)), float(rng.uniform(-1000, 1000)))
        task = Task(centre, n_required, Region(centre, 1500.0, 1500.0))
        started = time.perf_counter()
        with CtbcClient(urls["ctbc"], platform_op, timeout=600) as operator:
            opened = operator.open_task("bench", epoch=epoch, k=k, task=params.transform.forward_task(task))
            asked = operator.selection("bench")["asked"]
        match_s = time.perf_counter() - started

        def reveal(address: str) -> dict[str, Any]:
            user = parties[address]
            opening = user.reveal(epoch=epoch)
            assert opening is not None
            return platform_clients[address].reveal("bench", opening.commitment, opening.r2, opening.payload)

        half = len(asked) // 2
        started = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            first = list(pool.map(reveal, asked[:half]))
        procs["ctbc"].kill()  # SIGKILL mid-round: half the asked have revealed
        procs["ctbc"].wait(timeout=30)
        procs["ctbc"], _ = start_service(databases["ctbc"], folder, *options["ctbc"], port=_port(urls["ctbc"]))
        with ThreadPoolExecutor(workers) as pool:
            rest = list(pool.map(reveal, asked[half:]))
        reveal_s = time.perf_counter() - started
        with CtbcClient(urls["ctbc"], platform_op, timeout=600) as operator:
            final = operator.selection("bench")
        engine = create_engine(engine_url(databases["ctbc"]))
        with engine.connect() as db:
            stored = int(db.execute(select(func.count()).select_from(ctbc_uploads)
                                    .where(ctbc_uploads.c.epoch == epoch)).scalar() or 0)
        engine.dispose()
        journal.close()
        # who should be selected: the platform ranks k-anonymous groups by their centre, so the
        # selected must be members of groups whose centre is near the task; checked loosely here by
        # distance of the members' real positions (a group's members lie near its centre)
        index = {s.address: i for i, s in enumerate(signers)}
        distances = {a: float(math.dist(real[index[a]], centre)) for a in final["selected"]}
        return {
            "users": users, "k": k, "n_required": n_required, "workers": workers,
            "engine": "postgresql" if database_url else "sqlite", "groups": int(grouped["groups"]),
            "positions_per_s": users / positions_s, "position_p95_ms": _percentile_ms(position_lat, 95),
            "anonymizer_cpu_ms_per_position": positions_cpu * 1e3 / users, "group_s": group_s,
            "anonymizer_lost_after_kill": anonymizer_lost,
            "users_commit_s": commit_s,
            "upload_s": upload_s, "uploads_per_s": users / upload_s, "upload_p50_ms": _percentile_ms(upload_lat, 50),
            "upload_p95_ms": _percentile_ms(upload_lat, 95), "platform_cpu_ms_per_upload": upload_cpu * 1e3 / users,
            "match_s": match_s, "upload_and_match_s": upload_s + match_s, "candidates": int(opened["candidates"]),
            "case": int(opened["case"]), "reveal_s": reveal_s,
            "verdicts": sorted({r["state"] for r in first + rest}),
            "selection_complete": bool(final["complete"]), "selected": len(final["selected"]),
            "max_selected_metres_from_task": max(distances.values()) if distances else None,
            "platform_acknowledged_uploads": users, "platform_uploads_after_kill": stored,
            "platform_lost_after_kill": users - stored,
        }
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=60)
        node.stop()
