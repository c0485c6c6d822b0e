"""Plain-text reports of the rounds and of the main job (:mod:`crowdsense.runs.demo`).

Input is the public summary dict of a round result or of the main job, so a report never shows
a coordinate, a blinding value or a distance of a receiver that was not selected.
"""

from __future__ import annotations

import json
from pathlib import Path
from collections.abc import Iterable
from typing import Any

from crowdsense.atomicfile import write_atomic

__all__ = ["SECRET_BANNER", "short_address", "gas_table", "format_ctbc", "format_pdc", "format_gas",
           "format_summary", "write_secret_json"]

#: First entry of every audit file.
SECRET_BANNER = (
    "SECRET TEST MATERIAL of a simulation: real and transformed locations, blinding values, distances, "
    "plaintexts and keys. It exists so that a privacy audit can check none of it reached the chain. "
    "Never share it; delete it with the simulation."
)


def short_address(address: str) -> str:
    """``0x1234..abcd`` (enough to tell accounts apart in a table)."""
    return f"{address[:6]}..{address[-4:]}" if isinstance(address, str) and len(address) > 12 else str(address)


def gas_table(transactions: Iterable[tuple[str, bool, int]]) -> dict[str, dict[str, int]]:
    """``{kind: {"count", "reverted", "gas"}}`` from each transaction's ``(kind, ok, gas used)``.

    The gas part of every summary (rounds and main job), printed by :func:`format_gas`.
    """
    rows: dict[str, dict[str, int]] = {}
    for kind, ok, gas in transactions:
        row = rows.setdefault(kind, {"count": 0, "reverted": 0, "gas": 0})
        row["count"] += 1
        row["reverted"] += 0 if ok else 1
        row["gas"] += gas
    return rows


def format_gas(rows: dict[str, dict[str, int]]) -> list[str]:
    """Lines ``kind  count  reverted  mean gas  total gas``, one per transaction kind."""
    width = max([24] + [len(k) for k in rows])
    out = [f"  {'transaction':<{width}} {'count':>6} {'reverted':>8} {'mean gas':>10} {'total gas':>12}"]
    for kind in sorted(rows):
        r = rows[kind]
        mean = r["gas"] / r["count"] if r["count"] else 0
        out.append(f"  {kind:<{width}} {r['count']:>6} {r['reverted']:>8} {mean:>10,.0f} {r['gas']:>12,}")
    return out


def format_ctbc(s: dict[str, Any]) -> str:
    """A CTBC round summary as lines of text."""
    d = s["drift"]
    lines = [
        f"CTBC round, epoch {s['epoch']}: {s['users']} users committed on chain ({s['uploads']} uploads), "
        f"k = {s['k']}, {s['groups']} groups ({s['groupsInRegion']} in the region of interest, "
        f"{s['candidates']} candidates)",
        f"  task needs N = {s['nRequired']} (case {s['case']}); asked {s['asked']} to reveal, "
        f"{len(s['selected'])} verified on chain, {len(s['failed'])} replaced",
    ]
    for f in s["failed"]:
        lines.append(f"    replaced {short_address(f['account'])}: {f['fault']}")
    lines.append("  selected: " + ", ".join(short_address(a) for a in s["selected"]))
    lines.append(f"  drift (m): mean {d['mean']:.1f}, std {d['std']:.1f}, min {d['min']:.1f}, max {d['max']:.1f}")
    lines += format_gas(s["transactions"])
    lines.append("  time (s): " + ", ".join(f"{k} {v:.2f}" for k, v in s["timings"].items()))
    return "\n".join(lines)


def format_pdc(s: dict[str, Any]) -> str:
    """A PDC round summary as lines of text."""
    statuses = ", ".join(f"{v} {k}" for k, v in sorted(s["statuses"].items()))
    lines = [
        f"PDC round {s['taskId']}: {s['receivers']} receivers ({statuses}), grid {s['grid'][0]} x {s['grid'][1]}, "
        f"Paillier {s['keyBits']} bits, r of {s['rBits']} bits",
        f"  task needs N = {s['nRequired']}"
        + (f" within {s['maxDistance']} grid steps" if s["maxDistance"] is not None else "")
        + "; selected (account: Manhattan distance in grid steps):",
    ]
    lines += [f"    {short_address(x['account'])}: {x['distance']}" for x in s["selected"]]
    for r in s["rejected"]:
        lines.append(f"  {r['status']} {short_address(r['account'])}: {r['reason']}")
    for w in s["warnings"]:
        lines.append(f"  note: {w}")
    lines += format_gas(s["transactions"])
    sizes = s["messageBytes"]
    lines.append(f"  messages (JSON bytes): task {sizes['task']:,} (sent once), queries {sizes['queries']:,}, "
                 f"decryptions {sizes['decryptions']:,}, reveals {sizes['reveals']:,}")
    lines.append("  time (s): " + ", ".join(f"{k} {v:.2f}" for k, v in s["timings"].items()))
    return "\n".join(lines)


def format_summary(summary: dict[str, Any]) -> str:
    """The summary table printed by ``crowdsense demo``."""
    c = summary["chain"]
    cl = summary["classification"]
    node = str(c.get("client") or "node").split("/")[0]  # "anvil/v1.2.3" or "Ganache/v7.9.2/EthereumJS ..."
    lines = [
        "=" * 100,
        "crowdsense main job: PMCB security levels + LDPF location privacy on a local chain",
        "=" * 100,
        f"chain        {c['rpcUrl']} (chain id {c['chainId']}, "
        + (f"{node} started by the demo" + (f", left running as pid {c['nodePid']}" if c["nodeKeptRunning"]
                                            else ", stopped at the end")
           if c["startedNode"] else f"existing {node}") + ")",
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
        f"registration {reg['receivers']} receivers' levels published as the Merkle root of epoch {reg['epoch']} "
        f"(one setLevelsRoot transaction; proofs of depth <= {reg['depth']}, tree {reg['treeBytes']:,} bytes)",
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
              f"{pdc['region']['gridStepMetres']} m)", format_pdc(pdc), ""]
    flow = summary.get("selectedTask")
    if flow:
        lines += [f"task {flow['taskId']} for selection \"{flow['title']}\": {flow['selected']} receivers selected by "
                  f"{flow['selectedBy']}, fixed on chain as root {flow['selectionRoot'][:10]}..",
                  f"  claimed at their level: {', '.join(str(c['level']) for c in flow['claimed']) or 'none'}"
                  f" ({flow['selectedWithoutSubtask']} selected without a subtask of their level); data delivered "
                  f"encrypted to the releaser {flow['delivered']}, collected {flow['collected']}", ""]
    lines += ["gas per transaction type (all transactions of the run, from the chain)"]
    lines += format_gas(summary["gas"])
    t = summary["timings"]
    lines += ["", "time (s): " + ", ".join(f"{k} {v:.1f}" for k, v in t.items()),
              f"wall time: {summary['wallSeconds']:.1f} s", "",
              "files: " + ", ".join(f"{Path(p).name}" for p in summary["files"].values())
              + f" in {Path(summary['files']['summary']).parent}",
              "audit.json holds the run's SECRET test material (mode 0600): never share it"]
    return "\n".join(lines)


def write_secret_json(path: str | Path, data: Any, *, banner: str = SECRET_BANNER) -> Path:
    """Write ``data`` as JSON readable by the owner only (mode 0600), atomically.

    The object gets a ``"_warning"`` entry first, saying that the file holds secret test
    material (real locations, blinding values, plaintexts) and must never be shared.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"_warning": banner, **data} if isinstance(data, dict) else {"_warning": banner, "data": data}
    text = json.dumps(body, indent=1, sort_keys=False, default=_default) + "\n"
    write_atomic(path, text, mode=0o600)
    return path


def _default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot write a {type(value).__name__} as JSON")
