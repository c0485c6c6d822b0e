"""The deployment file: round trip, atomic write, a clear error for every defect, where the
files live, and the check that the code at a deployed address is the shipped contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crowdsense.chain.connection import open_connection
from crowdsense.chain.deployment import (
    CONTRACT_NAMES,
    ENV_DEPLOYMENTS,
    ContractInfo,
    Deployment,
    deployment_path,
    deployments_dir,
    load_abi,
    load_artifact,
    runtime_code_matches,
)
from crowdsense.errors import DeploymentError

ADDR = "0x" + "ab" * 20


def make() -> Deployment:
    return Deployment(
        network="development",
        chain_id=31337,
        deployer=ADDR,
        block_number=5,
        num_levels=3,
        contracts={n: ContractInfo(address=ADDR, abi_path=f"crowdsense/chain/artifacts/{n}.json") for n in CONTRACT_NAMES},
    )


def test_save_and_load_round_trip(tmp_path):
    path = make().save(tmp_path / "31337.json")
    assert Deployment.load(path) == make()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_deployment_path_is_per_chain(tmp_path):
    assert deployment_path(5, tmp_path) == tmp_path / "5.json"


def test_missing_file_says_deploy_first(tmp_path):
    with pytest.raises(DeploymentError, match="not found: deploy first"):
        Deployment.load(tmp_path / "none.json")


def test_truncated_file_is_rejected(tmp_path):
    path = make().save(tmp_path / "d.json")
    path.write_text(path.read_text()[:40])
    with pytest.raises(DeploymentError, match="not valid JSON"):
        Deployment.load(path)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.pop("chainId"), "missing or has a malformed field"),
        (lambda d: d.update(format=99), "format 99, expected 1"),
        (lambda d: d["contracts"].pop("TaskRegistry"), "missing or has a malformed field"),
        (lambda d: d["contracts"]["CommitmentVerifier"].update(address="0x12"), "is not an address"),
        (lambda d: d.update(blockNumber="soon"), "missing or has a malformed field"),
    ],
)
def test_malformed_fields_are_rejected(tmp_path, mutate, message):
    raw = make().to_json()
    mutate(raw)
    path = tmp_path / "d.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(DeploymentError, match=message):
        Deployment.load(path)


def test_unknown_contract_address_is_an_error():
    with pytest.raises(DeploymentError, match="no contract 'Nope'"):
        make().address("Nope")


def test_packaged_artifacts_have_abi_and_bytecode():
    for name in CONTRACT_NAMES:
        artifact = load_artifact(name)
        assert artifact["contractName"] == name
        assert artifact["bytecode"].startswith("0x") and len(artifact["bytecode"]) > 1000
        assert any(item.get("name") == "numLevels" or item.get("name") == "minAge" for item in artifact["abi"])
        assert load_abi(name) == artifact["abi"]


def test_unknown_artifact_is_an_error():
    with pytest.raises(DeploymentError, match="unknown contract"):
        load_abi("Token")


# ------------------------------------------------------------------------- where the files live


def test_deployments_default_to_the_current_directory(monkeypatch):
    monkeypatch.delenv(ENV_DEPLOYMENTS, raising=False)
    assert deployments_dir() == Path("deployments")
    assert deployment_path(31337) == Path("deployments") / "31337.json"


def test_environment_variable_overrides_the_deployments_folder(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_DEPLOYMENTS, str(tmp_path))
    assert deployment_path(5) == tmp_path / "5.json"
    assert deployments_dir() == tmp_path  # read at each call, not frozen at import


# ---------------------------------------------------------------------- code at an address


def runtime_template(name: str) -> bytes:
    """The runtime code inside the shipped creation bytecode, as the compiler emitted it."""
    creation = bytes.fromhex(load_artifact(name)["bytecode"].removeprefix("0x"))
    # the constructor comes first; the runtime code starts with its own free-memory-pointer prologue
    start = creation.find(bytes.fromhex("6080604052"), 1)
    assert start > 0
    return creation[start:]


def zero_push32_offsets(code: bytes) -> list[int]:
    return [i + 1 for i in range(len(code) - 33) if code[i] == 0x7F and not any(code[i + 1:i + 33])]


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_runtime_code_with_immutables_filled_in_matches(name):
    code = bytearray(runtime_template(name))
    slots = zero_push32_offsets(bytes(code))
    assert slots, f"{name} reads its immutables through PUSH32 placeholders"
    for start in slots:
        code[start + 31] = 7  # a constructor argument, e.g. numLevels = 7
    assert runtime_code_matches(name, bytes(code))


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_runtime_code_that_differs_outside_the_immutables_is_refused(name):
    code = bytearray(runtime_template(name))
    code[10] ^= 0xFF
    assert not runtime_code_matches(name, bytes(code))


def test_runtime_code_of_the_other_contract_is_refused():
    assert not runtime_code_matches("TaskRegistry", runtime_template("CommitmentVerifier"))
    assert not runtime_code_matches("CommitmentVerifier", runtime_template("TaskRegistry"))
    assert not runtime_code_matches("TaskRegistry", b"")


def test_runtime_code_with_another_metadata_hash_matches():
    code = bytearray(runtime_template("TaskRegistry"))
    code[-20] ^= 0xFF  # inside the CBOR tail: the source fingerprint, never executed
    assert runtime_code_matches("TaskRegistry", bytes(code))


def test_deployment_whose_registry_address_holds_the_verifier_is_refused(env, tmp_path):
    raw = json.loads(env.deployment_path.read_text())
    raw["contracts"]["TaskRegistry"]["address"] = raw["contracts"]["CommitmentVerifier"]["address"]
    swapped = tmp_path / "swapped.json"
    swapped.write_text(json.dumps(raw))
    with pytest.raises(DeploymentError) as caught:
        open_connection(env.url, swapped, retries=1, backoff=0.05)
    message = str(caught.value)
    assert "\n" not in message
    assert f"the code at {raw['contracts']['TaskRegistry']['address']} is not the shipped TaskRegistry" in message


def test_deployment_of_the_shipped_contracts_is_accepted(env):
    conn = open_connection(env.url, env.deployment_path, retries=1, backoff=0.05)
    assert conn.registry.functions.numLevels().call() == env.conn.registry.functions.numLevels().call()
