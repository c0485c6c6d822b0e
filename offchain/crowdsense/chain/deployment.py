"""The deployment file: where the contracts live on one chain, readable without brownie.

``scripts/deploy.py`` writes ``deployments/<chainId>.json``::

    {
      "format": 1,
      "network": "development",
      "chainId": 31337,
      "deployer": "0x...",
      "blockNumber": 1,
      "numLevels": 3,
      "contracts": {
        "TaskRegistry": {"address": "0x...", "abi": "crowdsense/crowdsense/chain/artifacts/TaskRegistry.json"},
        "CommitmentVerifier": {"address": "0x...", "abi": "crowdsense/crowdsense/chain/artifacts/CommitmentVerifier.json"}
      }
    }

ABI paths are relative to the project root. The artifacts (ABI + creation bytecode) ship inside
this package (``crowdsense/artifacts``), so a client installed elsewhere needs only the deployment
file, and tools can deploy with plain web3. A test keeps the packaged artifacts identical to the
compiler's output.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crowdsense.errors import DeploymentError

__all__ = [
    "CONTRACT_NAMES",
    "ARTIFACTS_DIR",
    "load_artifact",
    "DEFAULT_DIR",
    "ContractInfo",
    "Deployment",
    "load_abi",
    "deployment_path",
]

CONTRACT_NAMES = ("TaskRegistry", "CommitmentVerifier")
_PACKAGE_DIR = Path(__file__).resolve().parent
ARTIFACTS_DIR = _PACKAGE_DIR / "artifacts"
DEFAULT_DIR = _PACKAGE_DIR.parents[2] / "deployments"
FORMAT = 1


def load_artifact(name: str) -> dict[str, Any]:
    """``{"contractName", "abi", "bytecode", "compiler"}`` of ``name`` as shipped in the package."""
    if name not in CONTRACT_NAMES:
        raise DeploymentError(f"unknown contract {name!r}; expected one of {', '.join(CONTRACT_NAMES)}")
    path = ARTIFACTS_DIR / f"{name}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DeploymentError(f"cannot read the artifact of {name} at {path}: {exc}") from exc


def load_abi(name: str) -> list[dict[str, Any]]:
    """ABI of ``name`` as shipped in the package."""
    return load_artifact(name)["abi"]


def deployment_path(chain_id: int, directory: Path | None = None) -> Path:
    return (directory or DEFAULT_DIR) / f"{chain_id}.json"


@dataclass(frozen=True)
class ContractInfo:
    address: str
    abi_path: str


@dataclass(frozen=True)
class Deployment:
    network: str
    chain_id: int
    deployer: str
    block_number: int
    num_levels: int
    contracts: dict[str, ContractInfo]

    def address(self, name: str) -> str:
        try:
            return self.contracts[name].address
        except KeyError:
            raise DeploymentError(f"the deployment has no contract {name!r}") from None

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "network": self.network,
            "chainId": self.chain_id,
            "deployer": self.deployer,
            "blockNumber": self.block_number,
            "numLevels": self.num_levels,
            "contracts": {
                name: {"address": info.address, "abi": info.abi_path} for name, info in self.contracts.items()
            },
        }

    def save(self, path: Path) -> Path:
        """Write atomically (temporary file + rename): a crash never leaves half a file."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: Path | str) -> "Deployment":
        """Read and validate a deployment file; every problem is a :class:`DeploymentError`."""
        path = Path(path)
        try:
            raw = json.loads(path.read_text())
        except FileNotFoundError:
            raise DeploymentError(
                f"deployment file {path} not found: deploy first (`brownie run scripts/deploy.py`)"
            ) from None
        except (OSError, ValueError) as exc:
            raise DeploymentError(f"deployment file {path} is not valid JSON: {exc}") from exc
        try:
            if raw.get("format") != FORMAT:
                raise DeploymentError(f"deployment file {path}: format {raw.get('format')!r}, expected {FORMAT}")
            contracts = {
                name: ContractInfo(address=str(raw["contracts"][name]["address"]),
                                   abi_path=str(raw["contracts"][name]["abi"]))
                for name in CONTRACT_NAMES
            }
            for name, info in contracts.items():
                if not (info.address.startswith("0x") and len(info.address) == 42):
                    raise DeploymentError(f"deployment file {path}: {name} address {info.address!r} is not an address")
            return cls(
                network=str(raw["network"]),
                chain_id=int(raw["chainId"]),
                deployer=str(raw["deployer"]),
                block_number=int(raw["blockNumber"]),
                num_levels=int(raw["numLevels"]),
                contracts=contracts,
            )
        except DeploymentError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DeploymentError(f"deployment file {path} is missing or has a malformed field: {exc!r}") from exc
