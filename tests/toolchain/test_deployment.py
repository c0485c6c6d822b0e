"""The deployment file: round trip, atomic write, and a clear error for every defect."""

from __future__ import annotations

import json

import pytest

from crowdsense.chain.deployment import (
    CONTRACT_NAMES,
    ContractInfo,
    Deployment,
    deployment_path,
    load_abi,
    load_artifact,
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
