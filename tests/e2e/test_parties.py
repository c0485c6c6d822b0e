"""`crowdsense demo --parties`: the one task flow with every service and every party's command a
process of its own. What it claims is checked against the chain and the files the parties wrote,
not against its summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crowdsense.errors import InputError
from crowdsense.runs.parties import PartiesOptions, run_parties


def test_only_the_users_ctbc_selected_claim_at_their_level_and_their_readings_reach_the_releaser(node_url, tmp_path):
    from crowdsense.chain.connection import open_connection
    from crowdsense.chain.registry import TaskRegistryClient

    out = tmp_path / "parties"
    summary = run_parties(PartiesOptions(out=out, rpc_url=node_url, users=5, near=3, n=2, seed=3))
    conn = open_connection(node_url, out / "deployment.json")
    registry = TaskRegistryClient(conn)
    task_id = summary["taskId"]
    has_selection, root = registry.task_selection(task_id)
    assert has_selection and root is not None
    selected = set((out / "selected.txt").read_text().split())
    assert len(selected) == 2
    claimed = [s for s in registry.subtasks(task_id) if s.claimant is not None]
    assert claimed and {s.claimant for s in claimed} <= selected
    for sub in claimed:
        assert registry.level_of(sub.claimant) == sub.level  # each at its own level
    outsider = summary["notSelectedClaim"]["account"]
    assert outsider not in selected and outsider not in {s.claimant for s in claimed}
    # each claimant's reading, delivered encrypted to the releaser, collected and opened by it
    for sub in claimed:
        reading = json.loads((out / "collected" / f"task-{task_id}-subtask-{sub.index}.bin").read_text())
        assert reading["user"] == sub.claimant and sub.data_hash is not None
    # the parties were processes of their own: one journal each, none holding another's secrets
    journals = sorted(p.stem for p in (out / "journals").glob("*.sqlite"))
    assert {"admin", "platform", "releaser"} <= set(journals) and sum(j.startswith("user-") for j in journals) == 5


@pytest.mark.parametrize("changes", [{"users": 2}, {"near": 1}, {"n": 4}, {"k": 11}])
def test_options_out_of_range_are_refused_before_anything_runs(changes, tmp_path: Path):
    with pytest.raises(InputError):
        run_parties(PartiesOptions(out=tmp_path / "p", **changes))
    assert not (tmp_path / "p").exists()


def test_a_folder_holding_something_else_is_never_replaced(node_url, tmp_path: Path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match=r"holds something else than a parties run"):
        run_parties(PartiesOptions(out=out, rpc_url=node_url))
    assert (out / "notes.txt").read_text() == "keep me"

