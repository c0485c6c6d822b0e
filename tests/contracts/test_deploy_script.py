"""scripts/deploy.py on the development chain, and the packaged artifacts vs the compiler."""

import json

import pytest
from brownie import CommitmentVerifier, TaskRegistry, run, web3

from crowdsense.chain.deployment import ARTIFACTS_DIR, Deployment


def test_packaged_artifacts_match_compiled_contracts():
    for container in (TaskRegistry, CommitmentVerifier):
        shipped = json.loads((ARTIFACTS_DIR / f"{container._name}.json").read_text())
        assert shipped["abi"] == container.abi, f"run `brownie run scripts/deploy.py` to refresh {container._name}"
        assert shipped["bytecode"].removeprefix("0x") == container.bytecode.removeprefix("0x")


def test_deploy_script_deploys_and_writes_deployment_file(tmp_path, monkeypatch):
    monkeypatch.setenv("CROWDSENSE_DEPLOYMENTS", str(tmp_path))
    monkeypatch.setenv("CROWDSENSE_LEVELS", "4")
    deployment = run("scripts/deploy.py", "main")
    loaded = Deployment.load(tmp_path / f"{web3.chain_id}.json")
    assert loaded == deployment
    assert loaded.num_levels == 4
    assert TaskRegistry.at(loaded.address("TaskRegistry")).numLevels() == 4
    assert CommitmentVerifier.at(loaded.address("CommitmentVerifier")).maxAge() == 86400
    assert loaded.block_number <= web3.eth.block_number


def test_deploy_script_rejects_non_integer_setting(monkeypatch):
    monkeypatch.setenv("CROWDSENSE_LEVELS", "three")
    with pytest.raises(SystemExit, match="CROWDSENSE_LEVELS must be an integer"):
        run("scripts/deploy.py", "main")
