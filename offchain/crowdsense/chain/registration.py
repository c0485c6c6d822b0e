"""Inputs of the registrar: the classifier's levels and the node -> address mapping.

``crowdsense classify`` writes a JSON file that maps each node id of the social graph to its
security level; :func:`read_levels` is the one place that knows the file's layout (other
keys, such as the clustering diagnostics, are ignored).

Node ids are graph vertices, not accounts; a registrar needs a mapping to addresses, from one
of two sources:

* a CSV file with a header ``node,address`` (:func:`read_address_csv`), one row per receiver
  that has enrolled; nodes without a row are not registered;
* for a simulation on a local development chain, deterministic accounts derived from the
  node id (:func:`simulated_addresses`, see :func:`crowdsense.chain.accounts.simulation_signer`),
  optionally funded with :func:`fund_dev_accounts` so that they can pay for their claims.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterable

from web3 import Web3

from crowdsense.chain.accounts import require_dev_chain, simulation_signer
from crowdsense.chain.errors import NodeUnavailableError, TransactionError
from crowdsense.errors import InputError
from crowdsense.jsonfile import read_json_file

__all__ = ["read_levels", "read_address_csv", "write_address_csv", "simulated_addresses", "fund_dev_accounts"]


def read_levels(path: str | Path) -> dict[str, int]:
    """``{node id (str): level}`` from a levels JSON file written by ``crowdsense classify``.

    Accepted layouts (other keys, such as diagnostics, are ignored):

    * ``{"levels": {node: level, ...}, ...}`` (or that object alone);
    * ``{"nodes": [node, ...], "levels": [level, ...], ...}`` (parallel lists);
    * ``{"levels": [{"node": node, "level": level}, ...], ...}``.

    Levels must be integers >= 1.
    """
    path = Path(path)
    raw = read_json_file(path, "levels file", missing_hint=" (run `crowdsense classify` first)")
    levels: object = raw.get("levels", raw) if isinstance(raw, dict) else None
    if isinstance(levels, list) and isinstance(raw, dict) and isinstance(raw.get("nodes"), list):
        if len(raw["nodes"]) != len(levels):
            raise InputError(f"levels file {path}: {len(raw['nodes'])} nodes but {len(levels)} levels")
        levels = dict(zip(raw["nodes"], levels))
    elif isinstance(levels, list) and all(isinstance(r, dict) and {"node", "level"} <= r.keys() for r in levels):
        levels = {r["node"]: r["level"] for r in levels}
    if not isinstance(levels, dict) or not levels:
        raise InputError(f"levels file {path} must map node ids to levels under 'levels'; see `crowdsense register --help`")
    out: dict[str, int] = {}
    for node, level in levels.items():
        if isinstance(level, bool) or not isinstance(level, int) or level < 1:
            raise InputError(f"levels file {path}: node {node!r} has level {level!r}, expected an int >= 1")
        out[str(node)] = level
    return out


def read_address_csv(path: str | Path) -> dict[str, str]:
    """``{node id: checksummed address}`` from a CSV with a ``node,address`` header."""
    path = Path(path)
    try:
        with open(path, newline="") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None or not {"node", "address"} <= set(reader.fieldnames):
                raise InputError(f"address file {path} needs a header 'node,address', got {reader.fieldnames}")
            out: dict[str, str] = {}
            for line, row in enumerate(reader, start=2):
                node, address = (row.get("node") or "").strip(), (row.get("address") or "").strip()
                if not node or not Web3.is_address(address):
                    raise InputError(f"address file {path}, line {line}: need a node id and an address, got {row}")
                if node in out:
                    raise InputError(f"address file {path}, line {line}: node {node!r} appears twice")
                out[node] = Web3.to_checksum_address(address)
    except FileNotFoundError:
        raise InputError(f"address file {path} not found") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"address file {path} is not text: {exc}") from None
    return out


def write_address_csv(path: str | Path, mapping: dict[str, str]) -> Path:
    """Write ``node,address`` rows (the format :func:`read_address_csv` reads)."""
    path = Path(path)
    bad = [(n, a) for n, a in mapping.items() if not Web3.is_address(a)]
    if bad:
        raise InputError(f"cannot write {path}: node {bad[0][0]!r} has no valid address, got {bad[0][1]!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["node", "address"])
        writer.writerows(mapping.items())
    return path


def simulated_addresses(nodes: Iterable[str], *, seed: str = "crowdsense-simulation") -> dict[str, str]:
    """Deterministic simulation account of every node (local development chains only)."""
    return {str(n): simulation_signer(n, seed=seed).address for n in nodes}


def fund_dev_accounts(w3: Web3, addresses: Iterable[str], *, wei: int, chain_id: int | None = None) -> int:
    """Set each address's balance to ``wei`` on a local Anvil/Hardhat node; returns the count.

    Uses ``anvil_setBalance`` (falling back to ``hardhat_setBalance``), sent in JSON-RPC
    batches; refused on any chain but a local development chain.
    """
    require_dev_chain(int(chain_id if chain_id is not None else w3.eth.chain_id), "simulated accounts")
    if wei < 0:
        raise InputError(f"a balance must be >= 0 wei, got {wei}")
    todo = list(addresses)
    bad = [a for a in todo if not isinstance(a, str) or not Web3.is_address(a)]
    if bad:
        raise InputError(f"cannot fund {bad[0]!r}: not a 0x-prefixed 20-byte address")
    todo = [Web3.to_checksum_address(a) for a in todo]
    value = hex(wei)
    provider = w3.provider
    for method in ("anvil_setBalance", "hardhat_setBalance"):
        response = provider.make_request(method, [todo[0], value]) if todo else {"result": None}  # type: ignore[arg-type]
        if "error" not in response:
            break
    else:
        raise TransactionError("the node supports neither anvil_setBalance nor hardhat_setBalance")
    for start in range(1, len(todo), 500):
        answers = provider.make_batch_request([(method, [a, value]) for a in todo[start : start + 500]])  # type: ignore[arg-type, misc]
        if not isinstance(answers, list):
            raise NodeUnavailableError(str(getattr(provider, "endpoint_uri", "?")), f"batch refused: {answers}")
        failed = [a for a in answers if "error" in a]
        if failed:
            raise TransactionError(f"{method} failed: {failed[0]['error']}")
    return len(todo)
