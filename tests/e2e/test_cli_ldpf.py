"""``crowdsense ctbc round`` and ``crowdsense pdc round`` through the CLI (in-process, CliRunner)."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest


def _common(deployed: Any, tmp_path: Path) -> list[str]:
    return ["--rpc-url", deployed.url, "--deployment", str(deployed.deployment_path),
            "--journal", str(tmp_path / "journal.sqlite"), "--sim-seed", f"cli-{tmp_path.name}"]


def test_ctbc_round_json_reports_replacements_and_writes_a_private_audit(deployed: Any, run_cli: Any,
                                                                       tmp_path: Path) -> None:
    audit = tmp_path / "ctbc-audit.json"
    res = run_cli("ctbc", "round", "--users", 12, "--k", 3, "--n", 3, "--absent", 1, "--seed", 3, "--workers", 4,
                  "--json", "--audit", audit, *_common(deployed, tmp_path))
    assert res.code == 0, res.stderr
    out = res.json()
    assert len(out["selected"]) == 3
    assert [f["fault"] for f in out["failed"]] == ["absent"]
    assert out["transactions"]["commitBit"]["count"] == 12
    assert out["transactions"]["revealBit"]["count"] == 3
    assert out["region"]["kind"] == "popular"
    assert stat.S_IMODE(audit.stat().st_mode) == 0o600
    import json

    secret = json.loads(audit.read_text())
    assert "SECRET" in secret["_warning"]
    assert len(secret["ctbc"]["users"]) == 12
    assert sum(u["selected"] for u in secret["ctbc"]["users"]) == 3


def test_ctbc_round_table_names_the_case_and_drift(deployed: Any, run_cli: Any, tmp_path: Path) -> None:
    res = run_cli("ctbc", "round", "--users", 8, "--k", 2, "--n", 2, "--seed", 4, *_common(deployed, tmp_path))
    assert res.code == 0, res.stderr
    assert "CTBC round" in res.stdout and "drift (m)" in res.stdout and "commitBit" in res.stdout


def test_pdc_round_json_with_a_1024_bit_key_catches_the_liar(deployed: Any, run_cli: Any, tmp_path: Path) -> None:
    res = run_cli("pdc", "round", "--receivers", 5, "--grid", 20, "--key-bits", 1024, "--n", 2, "--liars", 1,
                  "--json", *_common(deployed, tmp_path))
    assert res.code == 0, res.stderr
    out = res.json()
    assert out["keyBits"] == 1024
    assert out["statuses"] == {"accepted": 4, "rejected": 1}
    assert len(out["selected"]) == 2
    assert out["selected"][0]["distance"] <= out["selected"][1]["distance"]
    assert any("below the recommended 2048" in w for w in out["warnings"])
    assert out["transactions"]["commitBlinding"]["count"] == 5


def test_pdc_round_refuses_short_keys_without_the_test_flag(deployed: Any, run_cli: Any, tmp_path: Path) -> None:
    res = run_cli("pdc", "round", "--receivers", 2, "--grid", 10, "--key-bits", 512, *_common(deployed, tmp_path))
    assert res.code == 1
    assert res.stderr.startswith("error: ") and len(res.stderr.strip().splitlines()) == 1
    assert "1024" in res.stderr


@pytest.mark.parametrize("group", ["ctbc", "pdc"])
def test_round_help_lists_the_options(run_cli: Any, group: str) -> None:
    res = run_cli(group, "round", "--help")
    assert res.code == 0
    assert "--json" in res.stdout and "--rpc-url" in res.stdout and "--audit" in res.stdout


def test_ctbc_round_refuses_k_above_users(run_cli: Any) -> None:
    res = run_cli("ctbc", "round", "--users", 3, "--k", 4)
    assert res.code == 2
    assert "k = 4 exceeds the number of users 3" in res.stderr


def test_round_on_a_down_node_is_one_line(run_cli: Any, unused_url: str, tmp_path: Path) -> None:
    res = run_cli("pdc", "round", "--rpc-url", unused_url, "--retries", 0, "--journal", tmp_path / "j.sqlite")
    assert res.code == 1
    assert res.stderr.startswith("error: node at") and len(res.stderr.strip().splitlines()) == 1
