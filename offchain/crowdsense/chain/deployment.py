"""The deployment file: where the contracts live on one chain, readable without brownie.

``crowdsense deploy`` (and ``scripts/deploy.py``) write ``<dir>/<chainId>.json``::

    {
      "format": 1,
      "network": "development",
      "chainId": 31337,
      "deployer": "0x...",
      "blockNumber": 1,
      "numLevels": 3,
      "contracts": {
        "TaskRegistry": {"address": "0x...", "abi": "crowdsense/chain/artifacts/TaskRegistry.json"},
        "CommitmentVerifier": {"address": "0x...", "abi": "crowdsense/chain/artifacts/CommitmentVerifier.json"}
      }
    }

``<dir>`` is ``$CROWDSENSE_DEPLOYMENTS`` when set, else ``deployments/`` of the current
directory: an installed client has no project folder to write into, and a user keeps one folder
of deployment files per working directory. ABI paths name the artifact inside the package.

The artifacts (ABI + creation bytecode) ship inside this package (``crowdsense/chain/artifacts``),
so a client installed elsewhere needs only the deployment file, and tools can deploy with plain
web3. A test keeps the packaged artifacts identical to the compiler's output;
:func:`runtime_code_matches` checks that the code found at a deployed address is the code of the
artifact.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crowdsense.chain.addresses import parse_address
from crowdsense.errors import DeploymentError
from crowdsense.jsonfile import read_json_file

__all__ = [
    "CONTRACT_NAMES",
    "ARTIFACTS_DIR",
    "ENV_DEPLOYMENTS",
    "load_artifact",
    "deployments_dir",
    "runtime_code_matches",
    "ContractInfo",
    "Deployment",
    "load_abi",
    "deployment_path",
]

CONTRACT_NAMES = ("TaskRegistry", "CommitmentVerifier")
_PACKAGE_DIR = Path(__file__).resolve().parent
ARTIFACTS_DIR = _PACKAGE_DIR / "artifacts"
#: Environment variable naming the folder of deployment files.
ENV_DEPLOYMENTS = "CROWDSENSE_DEPLOYMENTS"
_CWD_DIR = Path("deployments")
FORMAT = 1


def deployments_dir() -> Path:
    """Folder of the deployment files: ``$CROWDSENSE_DEPLOYMENTS``, else ``./deployments``.

    Read on every call, so a variable set after import (a test, a script) is honoured.
    """
    return Path(os.environ.get(ENV_DEPLOYMENTS) or _CWD_DIR)


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
    """``<directory>/<chainId>.json``; ``directory`` defaults to :func:`deployments_dir`."""
    return Path(directory or deployments_dir()) / f"{chain_id}.json"


_PUSH1, _PUSH32 = 0x60, 0x7F
_CBOR_LENGTH_BYTES = 2


def _immutable_slots(code: bytes) -> list[tuple[int, int]]:
    """(start, end) of the immediates of ``PUSH32 0`` in ``code``: where solc puts immutables.

    solc compiles a read of an ``immutable`` into ``PUSH32`` with a zero placeholder that the
    constructor overwrites with the value before returning the runtime code; nothing else in the
    contracts' code is a zero ``PUSH32`` (the compiler emits ``PUSH0``/``PUSH1 0`` for zero).
    The walk skips push data, so bytes inside another push never count as opcodes.
    """
    slots, i = [], 0
    while i < len(code):
        op = code[i]
        width = op - _PUSH1 + 1 if _PUSH1 <= op <= _PUSH32 else 0
        if op == _PUSH32 and i + 33 <= len(code) and not any(code[i + 1:i + 33]):
            slots.append((i + 1, i + 33))
        i += 1 + width
    return slots


def _strip_metadata(code: bytes) -> bytes:
    """``code`` without solc's CBOR metadata tail (its length is in the last two bytes).

    The metadata only fingerprints the source text and compiler settings (a changed comment
    changes it); it is never executed, so it does not decide whether two codes behave the same.
    """
    if len(code) < _CBOR_LENGTH_BYTES:
        return code
    size = int.from_bytes(code[-_CBOR_LENGTH_BYTES:], "big") + _CBOR_LENGTH_BYTES
    return code[:-size] if size < len(code) else code


def runtime_code_matches(name: str, code: bytes) -> bool:
    """Whether ``code`` (read at an address with ``eth_getCode``) is the runtime code of the
    shipped artifact ``name``.

    The artifact holds the creation bytecode, whose tail is the runtime code as the compiler
    emitted it: compared byte for byte, except the immutable placeholders (which hold the
    constructor's arguments on chain, e.g. TaskRegistry's ``numLevels``) and the metadata tail.
    """
    creation = bytes.fromhex(load_artifact(name)["bytecode"].removeprefix("0x"))
    if not code or len(code) >= len(creation):
        return False
    template = creation[-len(code):]
    actual, expected = bytearray(code), bytearray(template)
    for start, end in _immutable_slots(template):
        actual[start:end] = expected[start:end]
    return _strip_metadata(bytes(actual)) == _strip_metadata(bytes(expected))


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
        raw = read_json_file(path, "deployment file", error=DeploymentError,
                             missing_hint=": deploy first (`crowdsense deploy`)")
        try:
            if raw.get("format") != FORMAT:
                raise DeploymentError(f"deployment file {path}: format {raw.get('format')!r}, expected {FORMAT}")
            contracts = {
                name: ContractInfo(address=str(raw["contracts"][name]["address"]),
                                   abi_path=str(raw["contracts"][name]["abi"]))
                for name in CONTRACT_NAMES
            }
            for name, info in contracts.items():
                parse_address(info.address, f"deployment file {path}: {name} address", error=DeploymentError)
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
