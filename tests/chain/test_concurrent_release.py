"""Two `crowdsense release` processes of one task file sharing a journal and a store.

They run against a node slowed down by a proxy, released at the same moment (each child
imports everything, says it is ready and waits for the go), so both look for the release
record before either has written it. One wins; the other must use the winner's keys and
ciphertexts, so that the journal, the store and the chain agree and the claimant can decrypt.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from crowdsense.chain.journal import Journal
from crowdsense.chain.registry import TaskRegistryClient
from crowdsense.chain.store import SubtaskStore

PROJECT_ROOT = Path(__file__).resolve().parents[2]

#: A CLI run that starts only when told: argv = ready-file, go-file, crowdsense arguments...
RUN_CLI_ON_GO = r"""
import sys, time
from pathlib import Path
from crowdsense.cli.main import main

ready, go, *args = sys.argv[1:]
Path(ready).touch()
while not Path(go).exists():
    time.sleep(0.005)
main(args)
"""


def _start_together(args: list[str], tmp: Path, count: int) -> list[subprocess.CompletedProcess]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROWDSENSE_")}
    go = tmp / "go"
    ready = [tmp / f"ready-{i}" for i in range(count)]
    children = [subprocess.Popen([sys.executable, "-c", RUN_CLI_ON_GO, str(r), str(go), *args],
                                 cwd=PROJECT_ROOT, env=env, text=True, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
                for r in ready]
    deadline = time.monotonic() + 120
    while not all(r.exists() for r in ready) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()
    results = []
    for child in children:
        out, err = child.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(child.args, child.returncode, out, err))
    return results


def test_concurrent_releases_of_one_task_use_the_winners_secrets(env, flaky_proxy, tmp_path):
    parts = ["race street noise", "race flat noise", "race bedroom noise"]
    task_file = tmp_path / "task.json"
    task_file.write_text(json.dumps({"title": "race", "parts": parts}))
    journal_path, store = tmp_path / "releaser.sqlite", SubtaskStore(tmp_path / "store")
    reader = TaskRegistryClient(env.conn)
    count_before = reader.task_count()
    flaky_proxy.delay = 0.7

    runs = _start_together(["release", str(task_file), "--json", "--rpc-url", flaky_proxy.url,
                            "--deployment", str(env.deployment_path), "--dev-account", "2",
                            "--journal", str(journal_path), "--store", str(store.root)], tmp_path, 2)
    flaky_proxy.delay = 0.0

    assert [r.returncode for r in runs] == [0, 0], [r.stderr[-2000:] for r in runs]
    reports = [json.loads(r.stdout) for r in runs]
    assert reader.task_count() == count_before + 1 and {r["taskId"] for r in reports} == {count_before}
    assert sorted(r["resumed"] for r in reports) == [False, True]  # one sent it, the other took it up
    task_id = count_before
    on_chain = [s.subtask_hash for s in reader.subtasks(task_id)]
    with Journal(journal_path) as journal:
        (record_key,) = journal.keys("release/")
        for record in [journal.get(record_key), *journal.history(record_key)]:
            assert [bytes(h) for h in record["hashes"]] == on_chain
        (task_key,) = journal.keys("task/")
        assert [bytes(h) for h in journal.get(task_key)["hashes"]] == on_chain
        for h in on_chain:
            assert journal.get(f"subtask-key/{reader.prefix}/0x{h.hex()}") is not None

    dave = TaskRegistryClient(env.conn, env.roles.dave, journal=Journal(env.journal_path("dave-race")),
                              store=store)
    dave.claim(task_id, 2)
    releaser = TaskRegistryClient(env.conn, env.roles.releaser, journal=Journal(journal_path), store=store)
    releaser.hand_over_keys([task_id])
    assert dave.fetch_subtask(task_id, 2).text == parts[2]
