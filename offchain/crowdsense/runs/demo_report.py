"""What the main job reports: its public summary and the secret material of the run (the audit).

Both are read from a finished :class:`~crowdsense.runs.demo.DemoRun`; :mod:`crowdsense.runs.demo`
writes them (``summary.json``, ``audit.json`` with mode 0600).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eth_utils import keccak
from web3 import Web3

from crowdsense.pmcb.tasks import subtask_plaintext

if TYPE_CHECKING:
    from crowdsense.runs.demo import DemoRun

__all__ = ["audit", "summary"]


def summary(run: DemoRun) -> dict[str, Any]:
    """The public summary (what ``--json`` prints), without the files and timings."""
    opts, c = run.opts, run.classification
    node_pid = run.node.process.pid if run.owned and run.node is not None and run.node.process else None
    jobs = len(run.jobs)
    return {
        "chain": {"rpcUrl": run.url, "chainId": run.chain_id, "client": run.client, "startedNode": run.owned,
                  "nodeKeptRunning": bool(run.owned and opts.keep_node), "nodePid": node_pid,
                  "deployment": str(run.deployed.path), "taskRegistry": run.conn.registry_address,
                  "commitmentVerifier": run.conn.verifier_address, "fromBlock": run.first_block,
                  "toBlock": run.last_block, "transactions": run.n_txs},
        "classification": {"graph": str(opts.graph), "nodes": c.graph.n_nodes, "edges": c.graph.n_edges,
                           "levels": [{**x.as_dict(), "receivers": len(run.by_level[x.level])} for x in c.clusters],
                           "betweenness": c.parameters["betweenness"],
                           "seconds": round(c.timings.get("total", 0.0), 2), "warnings": run.classify_warnings},
        "registration": run.registration,
        "tasks": [{"taskId": t.task_id, "title": p.title, "levels": list(t.levels)}
                  for t, p in zip(run.released, run.plans)],
        "claims": {"subtasks": jobs, "claimed": jobs, "keysHandedOver": sum(h.written for h in run.handovers),
                   "fetchedAndDecrypted": jobs, "dataSubmitted": jobs},
        "refusals": run.refusals,
        "ctbc": {"region": {"kind": "popular", "density": round(run.scenario.popular_density, 2)},
                 **run.ctbc.summary()},
        "pdc": {"region": {"kind": "remote", "density": round(run.scenario.remote_density, 2),
                           "gridStepMetres": round(run.pdc_setup.step, 3),
                           "receiversFromPopulation": run.pdc_setup.from_population}, **run.pdc.summary()},
        "selectedTask": run.flow,
        "gas": run.gas,
    }


def audit(run: DemoRun) -> dict[str, Any]:
    """The run's secret material (:mod:`crowdsense.runs.demo`, step 9), for audits that scan the chain for it."""
    conn = run.conn
    claimant = {(ti, index): run.signers[node_id].address for ti, index, _, node_id in run.jobs + run.flow_jobs}
    probe_holder = conn.registry.functions.getSubtask(run.probe.task_id, 0).call()[2]
    claimant[(len(run.released), 0)] = Web3.to_checksum_address(probe_holder)
    reply_to = run.releaser.signer.encryption_key  # named in every description
    prefix = f"{conn.chain_id}/{conn.registry_address}"
    # every receiver that sent a claim (mined or refused): its claims carry its level salt
    senders = set(claimant.values()) | {r["account"] for r in run.refusals if r["tx"] is not None}
    claimants = {n for n, signer in run.signers.items() if signer.address in senders}
    tasks = []
    everything = list(zip(run.released, run.plans)) + [(run.probe, run.probe_plan), (run.flow_task, run.flow_plan)]
    for ti, (task, plan) in enumerate(everything):
        subtasks = []
        for sub, h in zip(plan.subtasks, task.subtask_hashes):
            secret = run.releaser.journal.get(f"subtask-key/{prefix}/0x{bytes(h).hex()}") or {}
            data = run.readings.get((ti, sub.index))
            # on chain: the hash of the data, or of its ciphertext when it was delivered
            on_chain = run.delivered.get((ti, sub.index)) or (keccak(data) if data else None)
            subtasks.append({
                "index": sub.index, "level": sub.level, "text": sub.text,
                "plaintext": subtask_plaintext(plan, sub, reply_to=reply_to).decode(),
                "subtaskHash": "0x" + bytes(h).hex(),
                "key": "0x" + bytes(secret["key"]).hex() if "key" in secret else None,
                "claimant": claimant.get((ti, sub.index)),
                "data": data.decode() if data else None,
                "dataHash": "0x" + on_chain.hex() if on_chain else None,
                "delivered": (ti, sub.index) in run.delivered,
            })
        tasks.append({"taskId": task.task_id, "title": plan.title, "subtasks": subtasks})
    return {
        "chain": {"rpcUrl": run.url, "chainId": conn.chain_id, "fromBlock": run.first_block,
                  "toBlock": run.last_block, "taskRegistry": conn.registry_address,
                  "commitmentVerifier": conn.verifier_address},
        "formats": {
            "coordinates": "metres in a local plane (x east, y north); *Fixed values are micrometre integers "
                           "as encoded in CTBC payloads (abi.encode int256)",
            "pdc": "grid indices; distances in grid steps; r as a decimal int and as a 32-byte hex word",
            "plaintext": "the exact UTF-8 JSON encrypted for each subtask (AES-GCM, key per subtask)",
        },
        "expectedOnChain": (
            "by design the chain carries: subtask hashes and levels, data hashes (of the ciphertext, for delivered "
            "data), claimants, the selection root of the task for selection; CTBC commitments, r1, "
            "and for selected users r2 and their UD sealed to the platform (an ECIES ciphertext: no coordinate); "
            "PDC commitments and, once "
            "each receiver knows its distance, r. Faulty simulated parties publish forged openings in reverted "
            "transactions: the CTBC 'tamper' user's sealed UD with its last byte flipped, and the PDC 'liar' value "
            "r + max(dist, 1) (its s when dist > 0). A receiver's level salt appears only in its own "
            "claims (by proof, or of the task for selection), a selected receiver's selection salt only in its own "
            "claim of that task. "
            "Nothing else of this file may appear on chain."
        ),
        "receivers": [{"node": n, "address": run.signers[n].address, "level": lvl,
                       "levelSalt": "0x" + run.level_salts[n].hex(), "claimed": n in claimants}
                      for n, lvl in run.picked.items()],
        "tasks": tasks,
        "selection": {"taskId": run.flow_task.task_id, "root": run.flow["selectionRoot"],
                      "receivers": [{"address": a, "salt": "0x" + salt.hex(),
                                     "claimed": any(run.signers[n].address == a for *_, n in run.flow_jobs)}
                                    for a, salt in run.flow_salts.items()]},
        "ctbcUsers": [s.address for s in run.ctbc_users],
        "pdcReceivers": [s.address for s in run.pdc_signers],
        "ctbc": run.ctbc.audit(),
        "pdc": run.pdc.audit(),
    }
