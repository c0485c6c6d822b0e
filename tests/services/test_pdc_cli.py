"""`crowdsense pdc keygen / open / answer / answers`: the PDC parties from the command line,
each with its own account and journal, against a platform service and a chain."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from crowdsense.chain.accounts import dev_signer
from crowdsense.ldpf.pdc.region import GridRegion
from crowdsense.services.pdc_routes import PdcConfig

pytestmark = pytest.mark.filterwarnings("ignore::crowdsense.ldpf.pdc.errors.WeakKeyWarning")

REGION = ("--origin", "-22.95,-43.30", "--cell", "50", "--width", "40", "--height", "30")
CENTRE = "-22.942,-43.291"


def one_error_line(result: Any) -> str:
    assert result.code == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_keygen_writes_a_private_key_file_once(run_cli, tmp_path):
    out = tmp_path / "key.json"
    # a process of its own, as users run it: the short key's warning is one line too
    made = subprocess.run([sys.executable, "-m", "crowdsense.cli.main", "pdc", "keygen", "--out", str(out),
                           "--key-bits", "1024"], capture_output=True, text=True, timeout=300, check=False)
    assert made.returncode == 0 and stat.S_IMODE(out.stat().st_mode) == 0o600
    assert made.stderr.splitlines() == ["warning: Paillier key has 1024 bits, below the recommended 2048",
                                        f"wrote a 1024-bit Paillier key to {out} (mode 0600): keep it secret and "
                                        "backed up"]
    before = out.read_bytes()
    again = run_cli("pdc", "keygen", "--out", out, "--key-bits", "1024")
    assert "already exists" in one_error_line(again) and out.read_bytes() == before  # the key in use is kept


def test_operator_and_receivers_run_a_round_from_the_command_line(run_cli, serve_in_thread, fresh_env,
                                                                   pdc_key_file, tmp_path):
    env = fresh_env
    server = serve_in_thread(database_url=f"sqlite:///{tmp_path}/svc.sqlite",
                             pdc=PdcConfig(pdc_key_file, env.roles.admin.address, rpc_url=env.url,
                                           deployment=env.deployment_path))
    node = ("--rpc-url", env.url)  # the operator's commands need no deployment; a receiver's do
    chain = (*node, "--deployment", env.deployment_path)
    opened = run_cli("pdc", "open", "t1", "--service", server.url, "--dev-account", "0", *REGION,
                     "--centre", CENTRE, *node, "--json")
    assert opened.code == 0, opened.stderr
    assert opened.json()["region"] == {"origin": [-22.95, -43.3], "stepMetres": 50.0, "width": 40, "height": 30}

    region = GridRegion(origin=(-22.95, -43.30), step=50.0, width=40, height=30)
    centre = region.point(CENTRE)
    where = {3: "-22.945,-43.295", 4: "-22.937,-43.282"}
    for index, location in where.items():
        answered = run_cli("pdc", "answer", "t1", "--service", server.url, "--dev-account", index,
                           "--journal", tmp_path / f"r{index}.sqlite", "--location", location, *chain, "--json")
        assert answered.code == 0, answered.stderr
        point = region.point(location)
        assert answered.json()["distance"] == abs(point[0] - centre[0]) + abs(point[1] - centre[1])

    outside = run_cli("pdc", "answer", "t1", "--service", server.url, "--dev-account", "5",
                      "--journal", tmp_path / "r5.sqlite", "--location", "-22.80,-43.10", *chain)
    assert "outside the task's region" in one_error_line(outside)
    assert not (tmp_path / "r5.sqlite").exists()  # refused on the receiver's machine: nothing journaled or sent
    listed = run_cli("pdc", "answers", "t1", "--service", server.url, "--dev-account", "0", *node, "--json")
    assert dev_signer(5).address not in {*listed.json()["accepted"], *listed.json()["pending"]}

    accounts = tmp_path / "selected.txt"
    chosen = run_cli("pdc", "answers", "t1", "--service", server.url, "--dev-account", "0", "--n", "1",
                     "--accounts-out", accounts, *node, "--json")
    assert chosen.code == 0, chosen.stderr
    distances = chosen.json()["accepted"]
    nearest = min(distances, key=distances.get)
    assert accounts.read_text() == f"{nearest}\n" and chosen.json()["selected"][0]["receiver"] == nearest

    stranger = run_cli("pdc", "open", "t2", "--service", server.url, "--dev-account", "4", *REGION,
                       "--centre", CENTRE, *node)
    assert "(403)" in one_error_line(stranger) and "not this platform's operator" in stranger.stderr

    # a second task of the same platform on the same day: two distances would locate the receiver
    assert run_cli("pdc", "open", "t2", "--service", server.url, "--dev-account", "0", *REGION, "--centre",
                   "-22.949,-43.299", *node).code == 0
    second = ("pdc", "answer", "t2", "--service", server.url, "--dev-account", "3", "--journal", tmp_path / "r3.sqlite",
              "--location", where[3], *chain)
    assert "answer budget exhausted" in one_error_line(run_cli(*second))
    assert run_cli(*second, "--answer-budget", "2").code == 0  # the receiver's own choice


def test_bad_positions_are_refused_before_anything_is_sent(run_cli, tmp_path):
    bad = run_cli("pdc", "open", "t1", "--service", "http://127.0.0.1:9", "--dev-account", "0",
                  "--origin", "-122.9,-43.3", "--cell", "50", "--width", "40", "--centre", CENTRE)
    assert "is not on Earth" in one_error_line(bad)
    odd = run_cli("pdc", "answer", "t1", "--service", "http://127.0.0.1:9", "--dev-account", "3",
                  "--location", "north of the lake")
    assert "is not a position: expected LAT,LON" in one_error_line(odd)


def test_a_service_half_configured_as_platform_is_refused(run_cli, tmp_path: Path):
    half = run_cli("service", "serve", "--pdc-key", tmp_path / "missing.json")
    assert half.code == 2 and half.stderr.strip() == ("error: --pdc-key and --pdc-operator go together: the "
                                                     "platform's key and the account that opens its tasks")
    missing = run_cli("service", "serve", "--pdc-key", tmp_path / "missing.json", "--pdc-operator",
                      dev_signer(0).address, "--database-url", f"sqlite:///{tmp_path}/s.sqlite")
    assert "Paillier key file" in one_error_line(missing) and "crowdsense pdc keygen" in missing.stderr
