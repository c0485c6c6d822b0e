"""scripts/deploy.py on the development chain, and the packaged artifacts vs the compiler.

The live-network branch (deployer from a key or a keystore, confirmation first) is exercised on
the same chain by removing the ``cmd`` of the active network from brownie's configuration,
which is what tells the script that brownie did not launch the node.
"""

import io
import json
import secrets
import sys

import brownie
import pytest
from brownie import CommitmentVerifier, TaskRegistry, accounts, network, rpc, run, web3
from eth_account import Account

from crowdsense.chain.deployment import ARTIFACTS_DIR, Deployment


@pytest.fixture
def deployments_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CROWDSENSE_DEPLOYMENTS", str(tmp_path))
    return tmp_path


@pytest.fixture
def live_network(monkeypatch):
    """The active network seen as live: no ``cmd``, so the deployer comes from the environment."""
    # `import brownie` and attribute access: brownie's test runner hashes the source of every
    # module imported by name here, and brownie._config is a compiled extension.
    networks = brownie._config.CONFIG.networks
    active = network.show_active()
    without_cmd = {key: value for key, value in networks[active].items() if key != "cmd"}
    monkeypatch.setitem(networks, active, without_cmd)
    for name in ("DEPLOYER_KEY", "KEYSTORE", "KEYSTORE_PASSWORD", "YES"):
        monkeypatch.delenv(f"CROWDSENSE_{name}", raising=False)
    before = list(accounts)
    yield
    for account in list(accounts):
        if account not in before:
            accounts.remove(account)


@pytest.fixture
def funded_key():
    """A fresh private key whose account holds 1 ether on the test chain."""
    key = "0x" + secrets.token_hex(32)
    accounts[0].transfer(Account.from_key(key).address, "1 ether")
    return key


def test_packaged_artifacts_match_compiled_contracts():
    for container in (TaskRegistry, CommitmentVerifier):
        shipped = json.loads((ARTIFACTS_DIR / f"{container._name}.json").read_text())
        refresh = f"run `brownie run scripts/deploy.py` to refresh {container._name}"
        assert shipped["abi"] == container.abi, refresh
        assert shipped["bytecode"].removeprefix("0x") == container.bytecode.removeprefix("0x")


def test_deploy_script_deploys_and_writes_deployment_file(deployments_dir, monkeypatch):
    monkeypatch.setenv("CROWDSENSE_LEVELS", "4")
    deployment = run("scripts/deploy.py", "main")
    loaded = Deployment.load(deployments_dir / f"{web3.chain_id}.json")
    assert loaded == deployment
    assert loaded.num_levels == 4
    assert loaded.deployer == accounts[0].address
    assert TaskRegistry.at(loaded.address("TaskRegistry")).numLevels() == 4
    assert CommitmentVerifier.at(loaded.address("CommitmentVerifier")).maxAge() == 86400
    assert loaded.block_number <= web3.eth.block_number


def test_deploy_script_rejects_non_integer_setting(monkeypatch):
    monkeypatch.setenv("CROWDSENSE_LEVELS", "three")
    with pytest.raises(SystemExit, match="CROWDSENSE_LEVELS must be an integer"):
        run("scripts/deploy.py", "main")


@pytest.mark.parametrize("launched_by_brownie", [True, False])
def test_deploy_script_says_when_brownie_will_stop_the_node(deployments_dir, monkeypatch, capsys,
                                                            launched_by_brownie):
    monkeypatch.setattr(rpc, "is_child", lambda: launched_by_brownie)
    run("scripts/deploy.py", "main")
    out = capsys.readouterr().out
    path = deployments_dir / f"{web3.chain_id}.json"
    remedy = "brownie networks add Development" in out
    assert remedy == launched_by_brownie
    assert out.count(str(path)) == (2 if launched_by_brownie else 1)  # the summary, then the note


def test_live_deploy_uses_key_from_environment(live_network, deployments_dir, funded_key, monkeypatch):
    monkeypatch.setenv("CROWDSENSE_DEPLOYER_KEY", funded_key)
    monkeypatch.setenv("CROWDSENSE_YES", "1")
    deployment = run("scripts/deploy.py", "main")
    deployer = Account.from_key(funded_key).address
    assert deployment.deployer == deployer
    registry = TaskRegistry.at(deployment.address("TaskRegistry"))
    assert registry.hasRole(registry.REGISTRAR_ROLE(), deployer)
    assert Deployment.load(deployments_dir / f"{web3.chain_id}.json") == deployment


def test_live_deploy_uses_keystore_with_password(live_network, deployments_dir, funded_key, tmp_path,
                                                  monkeypatch):
    keystore = tmp_path / "deployer.json"
    keystore.write_text(json.dumps(Account.encrypt(funded_key, "s3cret")))
    monkeypatch.setenv("CROWDSENSE_KEYSTORE", str(keystore))
    monkeypatch.setenv("CROWDSENSE_KEYSTORE_PASSWORD", "s3cret")
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    deployment = run("scripts/deploy.py", "main")
    assert deployment.deployer == Account.from_key(funded_key).address


@pytest.mark.parametrize(
    "env, stdin, message",
    [
        ({}, "", "no deployer account for a live network"),
        ({"CROWDSENSE_DEPLOYER_KEY": "0xnothex"}, "", "CROWDSENSE_DEPLOYER_KEY is not a private key"),
        ({"CROWDSENSE_KEYSTORE": "no-such-account"}, "", "no keystore 'no-such-account'"),
        ({"CROWDSENSE_DEPLOYER_KEY": "0x" + "11" * 32}, "", "no answer to the confirmation"),
        ({"CROWDSENSE_DEPLOYER_KEY": "0x" + "11" * 32}, "n\n", "aborted"),
    ],
)
def test_live_deploy_refuses_without_usable_account_or_consent(live_network, deployments_dir, monkeypatch,
                                                               env, stdin, message):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    with pytest.raises(SystemExit, match=message):
        run("scripts/deploy.py", "main")
    assert not list(deployments_dir.iterdir())


def test_live_deploy_reports_wrong_keystore_password(live_network, deployments_dir, tmp_path, monkeypatch):
    keystore = tmp_path / "deployer.json"
    keystore.write_text(json.dumps(Account.encrypt("0x" + "22" * 32, "right")))
    monkeypatch.setenv("CROWDSENSE_KEYSTORE", str(keystore))
    monkeypatch.setenv("CROWDSENSE_KEYSTORE_PASSWORD", "wrong")
    with pytest.raises(SystemExit, match="wrong password"):
        run("scripts/deploy.py", "main")
