"""Deploy TaskRegistry and CommitmentVerifier and write the deployment file.

    brownie run scripts/deploy.py                       # development: brownie's local Anvil
    brownie run scripts/deploy.py --network my-anvil    # a node added with `brownie networks add`

Settings come from environment variables (all optional):

* ``CROWDSENSE_LEVELS``       number of security levels T (default 3)
* ``CROWDSENSE_MIN_AGE``      CommitmentVerifier minimum opening age in seconds (default 0)
* ``CROWDSENSE_MAX_AGE``      CommitmentVerifier maximum opening age in seconds (default 86400)
* ``CROWDSENSE_DEPLOYMENTS``  folder of deployment files (default ``deployments/`` of the
  current directory)

The deployer is the node's first unlocked account on a network brownie launches (one with a
``cmd``). On a live network it is, in this order: ``CROWDSENSE_DEPLOYER_KEY`` (a hex private
key, never stored), or ``CROWDSENSE_KEYSTORE`` (a brownie account id from ``brownie accounts
new``, or a keystore file; password from ``CROWDSENSE_KEYSTORE_PASSWORD`` or a prompt). A live
network shows the network and asks for confirmation first (``CROWDSENSE_YES=1`` skips it).

The deployer becomes admin, registrar and releaser; the admin grants the roles to other
accounts afterwards (``crowdsense grant``).
"""

from __future__ import annotations

import binascii
import json
import os
from pathlib import Path
from typing import Any

from brownie import CommitmentVerifier, TaskRegistry, accounts, network, rpc, web3
from brownie._config import CONFIG

from crowdsense.chain.deployment import (
    ARTIFACTS_DIR,
    CONTRACT_NAMES,
    ContractInfo,
    Deployment,
    deployment_path,
    deployments_dir,
)


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"error: {name} must be an integer, got {raw!r}") from None


def _is_local(name: str) -> bool:
    """A network brownie launches or attaches to as a development chain: it has a ``cmd``."""
    return bool(CONFIG.networks.get(name, {}).get("cmd"))


def _deployer() -> Any:
    """The deploying account; every way it can fail is one ``error:`` line, never a traceback."""
    if _is_local(network.show_active()):
        return accounts[0]
    key = os.environ.get("CROWDSENSE_DEPLOYER_KEY")
    if key:
        try:
            return accounts.add(key.strip())
        except (ValueError, binascii.Error):
            raise SystemExit(
                "error: CROWDSENSE_DEPLOYER_KEY is not a private key: expected 64 hex digits"
            ) from None
    keystore = os.environ.get("CROWDSENSE_KEYSTORE")
    if keystore:
        try:
            return accounts.load(keystore, password=os.environ.get("CROWDSENSE_KEYSTORE_PASSWORD"))
        except FileNotFoundError:
            raise SystemExit(
                f"error: no keystore {keystore!r}: expected a file or an id listed by `brownie accounts list`"
            ) from None
        except ValueError:
            raise SystemExit(f"error: cannot decrypt keystore {keystore!r}: wrong password") from None
    raise SystemExit(
        "error: no deployer account for a live network: set CROWDSENSE_DEPLOYER_KEY or CROWDSENSE_KEYSTORE"
    )


def _confirm(active: str, deployer: Any) -> None:
    """Ask before spending on a live network; a closed stdin is a refusal, not a traceback."""
    if os.environ.get("CROWDSENSE_YES") == "1":
        return
    try:
        answer = input(f"Deploy to network {active!r} (chain id {web3.chain_id}) from {deployer}? [y/N] ")
    except EOFError:
        raise SystemExit("error: no answer to the confirmation: answer y, or set CROWDSENSE_YES=1") from None
    if answer.strip().lower() != "y":
        raise SystemExit("aborted")


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


def _deploy(container: Any, args: tuple[Any, ...], deployer: Any, gas_price: int | None, quiet: bool) -> Any:
    """Send the creation transaction and attach the contract, on every kind of network alike.

    ``Container.deploy`` records a live-network deployment in brownie's database from a
    background thread, and brownie 1.22 fails there for project contracts (a ``TypeError``
    traceback after a successful deployment). Attaching with ``persist=False`` skips only that
    record: the deployment is still kept in ``build/deployments/<chainId>/``, so
    ``TaskRegistry[-1]`` works in later scripts and the console. ``skip_undo`` leaves the
    deployment out of brownie's ``chain.undo`` buffer, which a deploy script never uses.
    """
    if not quiet:
        print(f"{container._name}: sending the creation transaction from {deployer}")
    data = container.deploy.encode_input(*args)
    receipt = deployer.transfer(data=data, gas_price=gas_price, silent=True, skip_undo=True)
    contract = container.at(receipt.contract_address, tx=receipt, persist=False)
    if not quiet:
        mined = f"block {receipt.block_number}, gas used {receipt.gas_used:,}"
        print(f"  deployed at {contract.address} ({mined})")
    return contract


def _lifetime_note(path: Path) -> str | None:
    """Why a deployment to a node brownie launched is lost, and what to do instead."""
    if not rpc.is_child():
        return None
    return (
        "Note: brownie started this node and stops it when the script ends, so the chain that\n"
        f"      {path} points at will be gone. To keep a deployment, start the node yourself\n"
        "      (`anvil --port 8545 &`: brownie then attaches to it and leaves it running) or add\n"
        "      a running node as a network (`brownie networks add Development NAME cmd=anvil\n"
        "      host=http://127.0.0.1 port=PORT`) and deploy with `--network NAME`."
    )


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
        directory = deployments_dir()
    active = network.show_active()
    if not network.is_connected() or not active:
        raise SystemExit("error: not connected to a network")
    deployer = _deployer()
    if not _is_local(active):
        _confirm(active, deployer)
    export_artifacts()
    gas_price = None
    base_fee = web3.eth.get_block("latest").get("baseFeePerGas") or 0
    if base_fee:  # a node that charges fees (brownie's own Anvil runs with base fee 0)
        gas_price = max(web3.eth.gas_price, 2 * base_fee)
    registry = _deploy(TaskRegistry, (num_levels, deployer, deployer, deployer), deployer, gas_price, quiet)
    verifier = _deploy(CommitmentVerifier, (min_age, max_age), deployer, gas_price, quiet)
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
    note = _lifetime_note(path)
    if note:
        print(note)
    return deployment


def main() -> Deployment:
    return deploy()
