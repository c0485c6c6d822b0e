"""Deploy TaskRegistry and CommitmentVerifier and write the deployment file.

    brownie run scripts/deploy.py                       # local Anvil (started or attached)
    brownie run scripts/deploy.py --network sepolia     # any network brownie knows

Settings come from environment variables (all optional):

* ``CROWDSENSE_LEVELS``       number of security levels T (default 3)
* ``CROWDSENSE_MIN_AGE``      CommitmentVerifier minimum opening age in seconds (default 0)
* ``CROWDSENSE_MAX_AGE``      CommitmentVerifier maximum opening age in seconds (default 86400)
* ``CROWDSENSE_DEPLOYER_KEY`` private key of the deployer on live networks (never stored), or
  ``CROWDSENSE_KEYSTORE`` (+ password prompt) for an encrypted keystore file
* ``CROWDSENSE_DEPLOYMENTS``  folder of deployment files (default ``deployments/``)

The deployer becomes admin, registrar and releaser; the admin grants the roles to other
accounts afterwards (see README). On a live network the script shows the network and asks for
confirmation first.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from brownie import CommitmentVerifier, TaskRegistry, accounts, network, web3
from brownie._config import CONFIG

from crowdsense.chain.deployment import ARTIFACTS_DIR, CONTRACT_NAMES, DEFAULT_DIR, ContractInfo, Deployment, deployment_path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"error: {name} must be an integer, got {raw!r}") from None


def _is_local(name: str) -> bool:
    """A network brownie launches itself (Anvil, Ganache...): it has a ``cmd``."""
    return bool(CONFIG.networks.get(name, {}).get("cmd"))


def _deployer():
    if _is_local(network.show_active()):
        return accounts[0]
    key = os.environ.get("CROWDSENSE_DEPLOYER_KEY")
    if key:
        return accounts.add(key)
    keystore = os.environ.get("CROWDSENSE_KEYSTORE")
    if keystore:
        return accounts.load(keystore)
    raise SystemExit(
        "error: no deployer account for a live network: set CROWDSENSE_DEPLOYER_KEY or CROWDSENSE_KEYSTORE"
    )


def export_artifacts() -> None:
    """Copy the compiled ABIs and bytecode into the package (they ship with the client)."""
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    for name, container in (("TaskRegistry", TaskRegistry), ("CommitmentVerifier", CommitmentVerifier)):
        build = container._build
        artifact = {
            "contractName": name,
            "compiler": build["compiler"]["version"],
            "abi": build["abi"],
            "bytecode": "0x" + build["bytecode"].removeprefix("0x"),
        }
        text = json.dumps(artifact, indent=1, sort_keys=True) + "\n"
        path = ARTIFACTS_DIR / f"{name}.json"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)


def deploy(
    *,
    num_levels: int | None = None,
    min_age: int | None = None,
    max_age: int | None = None,
    directory: Path | None = None,
    quiet: bool = False,
) -> Deployment:
    """Deploy both contracts from the deployer account and write the deployment file."""
    num_levels = num_levels if num_levels is not None else _env_int("CROWDSENSE_LEVELS", 3)
    min_age = min_age if min_age is not None else _env_int("CROWDSENSE_MIN_AGE", 0)
    max_age = max_age if max_age is not None else _env_int("CROWDSENSE_MAX_AGE", 86400)
    if directory is None:
        directory = Path(os.environ.get("CROWDSENSE_DEPLOYMENTS", DEFAULT_DIR))
    active = network.show_active()
    deployer = _deployer()
    if not network.is_connected() or not active:
        raise SystemExit("error: not connected to a network")
    if not _is_local(active) and not os.environ.get("CI"):
        answer = input(f"Deploy to network {active!r} (chain id {web3.chain_id}) from {deployer}? [y/N] ")
        if answer.strip().lower() != "y":
            raise SystemExit("aborted")
    export_artifacts()
    tx_params: dict = {"from": deployer}
    base_fee = web3.eth.get_block("latest").get("baseFeePerGas") or 0
    if base_fee:  # an attached node that charges fees (brownie's own Anvil runs with base fee 0)
        tx_params["gas_price"] = max(web3.eth.gas_price, 2 * base_fee)
    registry = TaskRegistry.deploy(num_levels, deployer, deployer, deployer, tx_params, silent=quiet)
    verifier = CommitmentVerifier.deploy(min_age, max_age, tx_params, silent=quiet)
    block = min(registry.tx.block_number, verifier.tx.block_number)
    contracts = {
        name: ContractInfo(address=str(c.address), abi_path=f"crowdsense/chain/artifacts/{name}.json")
        for name, c in zip(CONTRACT_NAMES, (registry, verifier))
    }
    deployment = Deployment(
        network=active,
        chain_id=web3.chain_id,
        deployer=str(deployer),
        block_number=block,
        num_levels=num_levels,
        contracts=contracts,
    )
    path = deployment.save(deployment_path(web3.chain_id, directory))
    if not quiet:
        print(f"Network:            {active} (chain id {web3.chain_id})")
        print(f"TaskRegistry:       {registry.address}  (T = {num_levels})")
        print(f"CommitmentVerifier: {verifier.address}  (ages {min_age}..{max_age} s)")
        print(f"Deployment file:    {path}")
    return deployment


def main() -> Deployment:
    return deploy()
