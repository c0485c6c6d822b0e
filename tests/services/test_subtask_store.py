"""The subtask store on a service: the folder store's interface and errors, and the release /
claim / hand-over / fetch flow of the CLI between parties that share no folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak

from crowdsense.chain.accounts import dev_signer
from crowdsense.chain.errors import KeyNotHandedOverError, StoreError
from crowdsense.chain.store import SubtaskStore
from crowdsense.services.client import ServiceClient
from crowdsense.services.subtask_store import ServiceSubtaskStore, is_service_url

RELEASER, ALICE, BOB = 2, 3, 4  # dev accounts of tests/conftest.py's roles (alice: level 1, bob: level 2)


def test_store_locations_are_told_apart():
    assert is_service_url("http://127.0.0.1:8600") and is_service_url("HTTPS://store.example")
    assert not is_service_url(".crowdsense/store") and not is_service_url("/srv/http:/x") and not is_service_url(None)


def test_same_interface_and_errors_as_the_folder_store(serve_in_thread, tmp_path):
    server = serve_in_thread(database_url=f"sqlite:///{tmp_path}/s.sqlite")
    claimant = dev_signer(ALICE).address
    for store in (SubtaskStore(tmp_path / "folder"), ServiceSubtaskStore(server.url, dev_signer(RELEASER))):
        digest = store.put_blob(b"ciphertext")
        assert digest == keccak(b"ciphertext") and store.has_blob(digest) and store.get_blob(digest) == b"ciphertext"
        assert not store.has_envelope(digest, claimant)
        with pytest.raises(KeyNotHandedOverError, match=f"no key for subtask 0x{digest.hex()} has been handed over"):
            store.get_envelope(digest, claimant)
        store.put_envelope(digest, claimant, b"envelope")
        assert store.has_envelope(digest, claimant) and store.get_envelope(digest, claimant) == b"envelope"
        with pytest.raises(StoreError, match=f"ciphertext of subtask 0x{keccak(b'absent').hex()} is not in the"):
            store.get_blob(keccak(b"absent"))


def crowdsense(cwd: Path, *args: Any, env: dict[str, str]) -> subprocess.CompletedProcess:
    """``crowdsense ARGS`` as its own process in ``cwd`` (a party on its own machine)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CROWDSENSE_")}
    return subprocess.run([sys.executable, "-m", "crowdsense.cli.main", *map(str, args)], cwd=cwd,
                          env={**clean, **env}, capture_output=True, text=True, timeout=300, check=False)


def test_release_claim_handover_fetch_through_a_service(env, service_process, database_url, tmp_path):
    service = service_process(database_url)
    chain = {"CROWDSENSE_RPC_URL": env.url, "CROWDSENSE_DEPLOYMENT": str(env.deployment_path)}
    releaser, receiver = tmp_path / "releaser-machine", tmp_path / "receiver-machine"
    releaser.mkdir()
    receiver.mkdir()
    parts = ["street noise at 8 am", "noise at home", "noise in the bedroom"]
    (releaser / "task.json").write_text(json.dumps({"title": f"via {database_url.split(':')[0]}", "parts": parts}))
    as_releaser = ("--dev-account", RELEASER, "--json")

    # the releaser names the service with --store; the receiver with $CROWDSENSE_STORE
    released = crowdsense(releaser, "release", "task.json", "--store", service.url, *as_releaser, env=chain)
    assert released.returncode == 0, released.stderr
    release = json.loads(released.stdout)
    task = release["taskId"]
    receiver_env = {**chain, "CROWDSENSE_STORE": service.url}
    claimed = crowdsense(receiver, "claim", task, "0", "--dev-account", ALICE, "--json", env=receiver_env)
    assert claimed.returncode == 0, claimed.stderr

    early = crowdsense(receiver, "fetch", task, "0", "--dev-account", ALICE, env=receiver_env)
    assert early.returncode == 1 and early.stderr.startswith("error: no key for subtask 0x"), early.stderr
    # another account writes a garbage envelope for alice's subtask before the releaser does:
    # it is filed under that account, and alice reads the releaser's
    subtask = bytes.fromhex(release["subtaskHashes"][0][2:])
    ServiceClient(service.url, dev_signer(BOB)).put_envelope(subtask, dev_signer(ALICE).address, b"garbage")

    handed = crowdsense(releaser, "handover", task, "--store", service.url, *as_releaser, env=chain)
    assert handed.returncode == 0, handed.stderr
    fetched = crowdsense(receiver, "fetch", task, "0", "--dev-account", ALICE, "--out", "subtask.txt", "--json",
                         env=receiver_env)
    assert fetched.returncode == 0, fetched.stderr
    assert json.loads(fetched.stdout)["part"] == parts[0]
    assert (receiver / "subtask.txt").read_text() == parts[0] + "\n"

    other = crowdsense(receiver, "fetch", task, "0", "--dev-account", BOB, env=receiver_env)
    assert other.returncode == 1 and "is not the claimant of subtask 0" in other.stderr

    # the data goes back the same way, encrypted to the releaser; the chain holds its hash
    (receiver / "reading.csv").write_bytes(b"time,dB\n08:00,52.1\n08:05,61.3\n")
    delivered = crowdsense(receiver, "submit", task, "0", "--deliver", "--data-file", "reading.csv",
                           "--dev-account", ALICE, "--json", env=receiver_env)
    assert delivered.returncode == 0, delivered.stderr
    data_hash = json.loads(delivered.stdout)["dataHash"]
    assert b"52.1" not in ServiceClient(service.url).get_blob(data_hash)  # the service holds only ciphertext
    collected = crowdsense(releaser, "collect", task, "--out-dir", "data", "--store", service.url, *as_releaser,
                           env=chain)
    assert collected.returncode == 0, collected.stderr
    report = json.loads(collected.stdout)
    assert [(c["index"], c["dataHash"], c["error"]) for c in report] == [(0, data_hash, None), (1, None, None),
                                                                          (2, None, None)]
    assert (releaser / "data" / f"task-{task}-subtask-0.bin").read_bytes() == (receiver / "reading.csv").read_bytes()
    # nothing went through a folder: neither machine has a store folder
    assert not (releaser / ".crowdsense" / "store").exists() and not (receiver / ".crowdsense" / "store").exists()
    reader = ServiceClient(service.url)
    assert [keccak(reader.get_blob(h)) for h in release["subtaskHashes"]] == \
        [bytes.fromhex(h[2:]) for h in release["subtaskHashes"]]
