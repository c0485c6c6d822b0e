#!/usr/bin/env python3
"""Run slither over the contracts and fail on any untriaged High or Medium finding.

    make slither            # = .venv/bin/python tools/slither_check.py

slither compiles through brownie (``--compile-force-framework brownie``), which uses the same
solc as everything else (native or the npm shim). OpenZeppelin sources are filtered out. The
full JSON report goes to ``reports/slither.json``. A High/Medium finding can be accepted only by
listing its ``id`` in ``tools/slither-triage.json`` with a reason (see docs/security.md).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "reports" / "slither.json"
TRIAGE = ROOT / "tools" / "slither-triage.json"
BLOCKING = {"High", "Medium"}


def main() -> int:
    slither = shutil.which("slither") or str(ROOT / ".venv" / "bin" / "slither")
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.unlink(missing_ok=True)
    cmd = [slither, ".", "--compile-force-framework", "brownie", "--filter-paths", "node_modules",
           "--json", str(REPORT)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if not REPORT.exists():
        print(f"error: slither produced no report (exit {proc.returncode}):\n{proc.stderr[-2000:]}", file=sys.stderr)
        return 2
    report = json.loads(REPORT.read_text())
    if not report.get("success"):
        print(f"error: slither failed: {report.get('error')}", file=sys.stderr)
        return 2
    triaged = {entry["id"]: entry["reason"] for entry in json.loads(TRIAGE.read_text())}
    findings = report.get("results", {}).get("detectors", [])
    counts: dict[str, int] = {}
    untriaged = []
    for finding in findings:
        counts[finding["impact"]] = counts.get(finding["impact"], 0) + 1
        if finding["impact"] in BLOCKING and finding["id"] not in triaged:
            untriaged.append(finding)
    summary = ", ".join(f"{counts.get(k, 0)} {k.lower()}" for k in ("High", "Medium", "Low", "Informational", "Optimization"))
    print(f"slither: {len(findings)} findings ({summary}); {len(untriaged)} untriaged high/medium")
    for finding in findings:
        mark = "UNTRIAGED " if finding in untriaged else ""
        first = finding["description"].strip().splitlines()[0]
        print(f"  {mark}[{finding['impact']}/{finding['confidence']}] {finding['check']}: {first}")
    return 1 if untriaged else 0


if __name__ == "__main__":
    sys.exit(main())
