"""`crowdsense edge ...` and `crowdsense ctbc keygen / join / commit / reveal / open / selection`:
the CTBC parties from the command line, the edge, the anonymizer and the platform each a service
process of its own, killed with SIGKILL mid-round and restarted."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from crowdsense.chain.accounts import dev_signer
from crowdsense.ldpf.city import project_lonlat

ORIGIN = "-22.90,-43.20"
CENTRE = "-22.9010,-43.2010"
#: dev account -> location: 3, 4 and 5 within about 100 m of the task; 6 and 7 about 3 km away.
LOCATIONS = {3: "-22.9012,-43.2011", 4: "-22.9008,-43.2009", 5: "-22.9011,-43.2006",
             6: "-22.8740,-43.2200", 7: "-22.8742,-43.2205"}


def one_error_line(result: Any) -> str:
    assert result.code != 0, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def _near(index: int) -> bool:
    pts = project_lonlat(np.array([[float(v) for v in s.split(",")] for s in (LOCATIONS[index], CENTRE)]),
                         origin=(-22.90, -43.20))
    return float(np.hypot(*(pts[0] - pts[1]))) < 150


def test_keygen_writes_a_key_file_once(run_cli, tmp_path):
    out = tmp_path / "ctbc.json"
    made = run_cli("ctbc", "keygen", "--out", out)
    assert made.code == 0 and stat.S_IMODE(out.stat().st_mode) == 0o600
    before = out.read_bytes()
    assert "already exists" in one_error_line(run_cli("ctbc", "keygen", "--out", out)) and out.read_bytes() == before


def test_one_service_may_not_be_both_halves_of_the_edge(run_cli, tmp_path):
    both = run_cli("service", "serve", "--edge-operator", dev_signer(0).address, "--anonymizer-operator",
                   dev_signer(1).address, "--database-url", f"sqlite:///{tmp_path}/s.sqlite")
    assert both.code == 2 and "real positions" in both.stderr and not (tmp_path / "s.sqlite").exists()
    half = run_cli("service", "serve", "--ctbc-key", tmp_path / "k.json")
    assert half.code == 2 and "--ctbc-key and --ctbc-operator go together" in half.stderr


def test_a_round_from_the_command_line_survives_sigkill_of_the_edge_and_the_platform(
        run_cli, service_process, database_url, fresh_env, tmp_path):
    env = fresh_env
    key = tmp_path / "ctbc.json"
    assert run_cli("ctbc", "keygen", "--out", key).code == 0
    edge = service_process(database_url, "--edge-operator", dev_signer(0).address)
    anonymizer = service_process(database_url, "--anonymizer-operator", dev_signer(1).address)
    platform = service_process(database_url, "--ctbc-key", str(key), "--ctbc-operator", dev_signer(2).address,
                               "--rpc-url", env.url, "--deployment", str(env.deployment_path))
    node = ("--rpc-url", env.url)
    chain = (*node, "--deployment", env.deployment_path)

    opened = run_cli("edge", "open-epoch", "--service", edge.url, "--origin", ORIGIN, "--dev-account", "0", *node,
                     "--json")
    assert opened.code == 0, opened.stderr
    epoch = str(opened.json()["epoch"])
    registered = run_cli("edge", "register", "--service", edge.url, "--dev-account", "0",
                         *[dev_signer(i).address for i in [*LOCATIONS, 2]], *node, "--json")
    assert registered.json()["registered"] == len(LOCATIONS) + 1

    edge.kill()  # the edge dies after registering: a restart keeps the epoch's transform and the parties
    edge.start()
    for i, location in LOCATIONS.items():
        joined = run_cli("ctbc", "join", "--edge", edge.url, "--anonymizer", anonymizer.url, "--epoch", epoch,
                         "--location", location, "--dev-account", i, *node)
        assert joined.code == 0, joined.stderr
    grouped = run_cli("edge", "group", "--service", anonymizer.url, "--epoch", epoch, "--k", "2",
                      "--dev-account", "1", *node, "--json")
    assert grouped.code == 0 and grouped.json()["users"] == len(LOCATIONS), grouped.stderr
    for i in LOCATIONS:
        committed = run_cli("ctbc", "commit", "--anonymizer", anonymizer.url, "--service", platform.url,
                            "--epoch", epoch, "--dev-account", i, "--journal", tmp_path / f"u{i}.sqlite", *chain)
        assert committed.code == 0, committed.stderr

    task = run_cli("ctbc", "open", "t1", "--service", platform.url, "--edge", edge.url, "--epoch", epoch,
                   "--centre", CENTRE, "--half-width", "1000", "--n", "2", "--k", "2", "--dev-account", "2", *node,
                   "--json")
    assert task.code == 0, task.stderr
    assert task.json()["candidates"] == sum(_near(i) for i in LOCATIONS) and task.json()["asked"] == 2

    platform.kill()  # mid-round: the asked have not revealed yet
    platform.start()
    states = {}
    for i in LOCATIONS:
        revealed = run_cli("ctbc", "reveal", "t1", "--service", platform.url, "--dev-account", i,
                           "--journal", tmp_path / f"u{i}.sqlite", *chain, "--json")
        assert revealed.code == 0, revealed.stderr
        states[i] = revealed.json()["state"]
    selected = {i for i, s in states.items() if s == "selected"}
    assert len(selected) == 2 and all(_near(i) for i in selected)
    assert {states[i] for i in LOCATIONS if not _near(i)} == {"not a candidate"}

    accounts = tmp_path / "selected.txt"
    final = run_cli("ctbc", "selection", "t1", "--service", platform.url, "--dev-account", "2",
                    "--accounts-out", accounts, *node, "--json")
    assert final.code == 0 and final.json()["complete"], final.stderr
    assert sorted(accounts.read_text().split()) == sorted(dev_signer(i).address for i in selected)

    stranger = run_cli("ctbc", "selection", "t1", "--service", platform.url, "--dev-account", "3", *node)
    assert "(403)" in one_error_line(stranger)
    unregistered = run_cli("ctbc", "join", "--edge", edge.url, "--anonymizer", anonymizer.url, "--epoch", epoch,
                           "--location", CENTRE, "--dev-account", "8", *node)
    assert "(403)" in one_error_line(unregistered) and "not registered" in unregistered.stderr


@pytest.mark.parametrize("location", ["north of the lake", "-122.9,-43.3"])
def test_a_bad_location_is_refused_before_anything_is_sent(run_cli, location):
    bad = run_cli("ctbc", "join", "--edge", "http://127.0.0.1:9", "--anonymizer", "http://127.0.0.1:9",
                  "--epoch", "1", "--location", location, "--dev-account", "3")
    assert "--location" in one_error_line(bad)


def test_an_incomplete_selection_is_not_written(run_cli, tmp_path: Path):
    # nothing listens on port 9: the one-line error names the service, and no file appears
    out = tmp_path / "sel.txt"
    gone = run_cli("ctbc", "selection", "t1", "--service", "http://127.0.0.1:9", "--dev-account", "2",
                   "--accounts-out", out, "--timeout", "1", "--retries", "0")
    assert "unavailable" in one_error_line(gone) and not out.exists()
