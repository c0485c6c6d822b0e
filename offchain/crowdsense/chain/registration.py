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
  optionally funded with :func:`fund_dev_accounts` so that they can pay for their claims
  (through the node's balance method, or from its unlocked accounts).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Iterable, Mapping

from web3 import Web3

from crowdsense.chain.accounts import require_dev_chain, simulation_signer
from crowdsense.chain.addresses import parse_address
from crowdsense.chain.errors import FundingError, NodeUnavailableError, TransactionError
from crowdsense.errors import InputError
from crowdsense.inputfile import DOCUMENT_LIMIT, open_input_text
from crowdsense.jsonfile import read_json_file

__all__ = ["read_levels", "read_address_csv", "levels_by_address", "write_address_csv", "simulated_addresses",
           "fund_dev_accounts", "SET_BALANCE_METHODS"]


def read_levels(path: str | Path) -> dict[str, int]:
    """``{node id (str): level}`` from a levels JSON file written by ``crowdsense classify``.

    Accepted layouts (other keys, such as diagnostics, are ignored):

    * ``{"levels": {node: level, ...}, ...}`` (or that object alone);
    * ``{"nodes": [node, ...], "levels": [level, ...], ...}`` (parallel lists);
    * ``{"levels": [{"node": node, "level": level}, ...], ...}``.

    Node ids are strings or integers (``7`` and ``"7"`` are the same node), each given once:
    a node listed twice would get whichever level comes last. Levels must be integers >= 1.
    """
    path = Path(path)
    raw = read_json_file(path, "levels file", missing_hint=" (run `crowdsense classify` first)")
    levels: object = raw.get("levels", raw) if isinstance(raw, dict) else None
    pairs: Iterable[tuple[object, object]] = ()
    if isinstance(levels, list) and isinstance(raw, dict) and isinstance(raw.get("nodes"), list):
        if len(raw["nodes"]) != len(levels):
            raise InputError(f"levels file {path}: {len(raw['nodes'])} nodes but {len(levels)} levels")
        pairs = zip(raw["nodes"], levels)
    elif isinstance(levels, list) and all(isinstance(r, dict) and {"node", "level"} <= r.keys() for r in levels):
        pairs = ((r["node"], r["level"]) for r in levels)
    elif isinstance(levels, dict):
        pairs = levels.items()
    out: dict[str, int] = {}
    for node, level in pairs:
        if isinstance(node, bool) or not isinstance(node, (str, int)):
            raise InputError(f"levels file {path}: node id {node!r} is not a string or an integer")
        if isinstance(level, bool) or not isinstance(level, int) or level < 1:
            raise InputError(f"levels file {path}: node {node!r} has level {level!r}, expected an int >= 1")
        if str(node) in out:
            raise InputError(f"levels file {path}: node {str(node)!r} appears twice: expected each node once")
        out[str(node)] = level
    if not out:
        raise InputError(f"levels file {path} must map node ids to levels under 'levels'; see `crowdsense register --help`")
    return out


def read_address_csv(path: str | Path) -> dict[str, str]:
    """``{node id: checksummed address}`` from a CSV with a ``node,address`` header.

    Each node once; each address as :func:`~crowdsense.chain.addresses.parse_address` accepts
    it (a mixed-case address with a wrong EIP-55 checksum is a typo and is refused).
    """
    path = Path(path)
    out: dict[str, str] = {}
    with open_input_text(path, "address file", limit=DOCUMENT_LIMIT) as fh:
        reader = csv.DictReader(fh)
        try:
            if reader.fieldnames is None or not {"node", "address"} <= set(reader.fieldnames):
                raise InputError(f"address file {path} needs a header 'node,address', got {reader.fieldnames}")
            for row in reader:
                line = reader.line_num
                node, address = (row.get("node") or "").strip(), (row.get("address") or "").strip()
                if not node or not address:
                    raise InputError(f"address file {path}, line {line}: need a node id and an address, got {row}")
                if node in out:
                    raise InputError(f"address file {path}, line {line}: node {node!r} appears twice")
                out[node] = parse_address(address, f"address file {path}, line {line}, node {node!r}")
        except UnicodeDecodeError:
            raise InputError(f"address file {path} is not UTF-8 text: expected a CSV file") from None
        except csv.Error as exc:
            raise InputError(f"address file {path}, line {reader.reader.line_num}: {exc}: expected a CSV file") \
                from None
    return out


def levels_by_address(levels: Mapping[str, int], addresses: Mapping[str, str]) -> dict[str, int]:
    """``{checksummed address: level}`` of the nodes in both ``levels`` and ``addresses``.

    An account is one receiver with one level. Two nodes mapped to one address with different
    levels (a slip in the address file) are refused, naming both: left alone, the level that
    comes last would win. Nodes mapped to one address with the same level register it once.
    """
    out: dict[str, int] = {}
    owner: dict[str, str] = {}
    for node, address in addresses.items():
        if node not in levels:
            continue
        address = parse_address(address, f"address of node {node!r}")
        level = levels[node]
        if address in out and out[address] != level:
            raise InputError(f"nodes {owner[address]!r} and {node!r} both map to {address}, with levels "
                             f"{out[address]} and {level}: expected one level per account")
        out.setdefault(address, level)
        owner.setdefault(address, node)
    return out


def write_address_csv(path: str | Path, mapping: dict[str, str]) -> Path:
    """Write ``node,address`` rows (the format :func:`read_address_csv` reads)."""
    path = Path(path)
    rows = [(node, parse_address(address, f"cannot write {path}: node {node!r}"))
            for node, address in mapping.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["node", "address"])
        writer.writerows(rows)
    return path


def simulated_addresses(nodes: Iterable[str], *, seed: str = "crowdsense-simulation") -> dict[str, str]:
    """Deterministic simulation account of every node (local development chains only)."""
    return {str(n): simulation_signer(n, seed=seed).address for n in nodes}


#: Node methods that set an account's balance without a transaction, tried in this order
#: (Anvil, Hardhat, Ganache).
SET_BALANCE_METHODS = ("anvil_setBalance", "hardhat_setBalance", "evm_setAccountBalance")
#: Requests per JSON-RPC batch.
_BATCH = 500
#: Gas of a plain ether transfer (what one funding transaction from an unlocked account costs).
_TRANSFER_GAS = 21_000


def fund_dev_accounts(w3: Web3, addresses: Iterable[str], *, wei: int, chain_id: int | None = None) -> int:
    """Give each address at least ``wei`` on a local development chain; returns the count.

    Addresses that already hold ``wei`` are left alone, so the node's own funded accounts keep
    their balance and a repeated run sends nothing. The others are funded the cheapest way the
    node offers, because development nodes differ: a balance method
    (:data:`SET_BALANCE_METHODS`: Anvil, Hardhat, Ganache; no transaction), else transfers from
    the node's unlocked accounts (``eth_accounts`` + ``eth_sendTransaction``, e.g. ``geth --dev``).
    A node with neither raises :class:`FundingError`, whose one line says what to do. Refused on
    any chain but a local development chain.
    """
    require_dev_chain(int(chain_id if chain_id is not None else w3.eth.chain_id), "simulated accounts")
    if wei < 0:
        raise InputError(f"a balance must be >= 0 wei, got {wei}")
    todo = list(addresses)
    bad = [a for a in todo if not isinstance(a, str) or not Web3.is_address(a)]
    if bad:
        raise InputError(f"cannot fund {bad[0]!r}: not a 0x-prefixed 20-byte address")
    todo = list(dict.fromkeys(Web3.to_checksum_address(a) for a in todo))
    short = {a: wei - held for a, held in zip(todo, _balances(w3, todo)) if held < wei}
    if short and not _set_balances(w3, list(short), wei):
        _transfer_from_unlocked(w3, short, wei)
    return len(todo)


def _batch(w3: Web3, method: str, params: list[list[Any]]) -> list[Any]:
    """``method`` called with each of ``params``, in JSON-RPC batches; the results in order."""
    provider = w3.provider
    results: list[Any] = []
    for start in range(0, len(params), _BATCH):
        answers = provider.make_batch_request([(method, p) for p in params[start : start + _BATCH]])  # type: ignore[attr-defined, misc]
        if not isinstance(answers, list):
            raise NodeUnavailableError(str(getattr(provider, "endpoint_uri", "?")), f"batch refused: {answers}")
        failed = [a for a in answers if "error" in a]
        if failed:
            raise TransactionError(f"{method} failed: {failed[0]['error']}")
        results.extend(a["result"] for a in answers)
    return results


def _balances(w3: Web3, addresses: list[str]) -> list[int]:
    return [int(b, 16) if isinstance(b, str) else int(b) for b in _batch(w3, "eth_getBalance",
                                                                           [[a, "latest"] for a in addresses])]


def _set_balances(w3: Web3, addresses: list[str], wei: int) -> bool:
    """Set the balances with the first of :data:`SET_BALANCE_METHODS` the node answers; False if none."""
    value = hex(wei)
    for method in SET_BALANCE_METHODS:
        if "error" not in w3.provider.make_request(method, [addresses[0], value]):  # type: ignore[arg-type]
            _batch(w3, method, [[a, value] for a in addresses[1:]])
            return True
    return False


def _transfer_from_unlocked(w3: Web3, short: dict[str, int], wei: int) -> None:
    """Send each address what it lacks from the node's unlocked accounts, richest first.

    The whole plan is made before anything is sent, so a node that cannot pay for every
    address moves no ether and raises :class:`FundingError`.
    """
    answer = w3.provider.make_request("eth_accounts", [])  # type: ignore[arg-type]
    unlocked = [Web3.to_checksum_address(a) for a in answer.get("result") or [] if Web3.is_address(a)]
    unlocked = [a for a in unlocked if a not in short]
    spare = dict(zip(unlocked, _balances(w3, unlocked)))
    fee = 2 * _TRANSFER_GAS * int(w3.eth.gas_price)
    plan: list[tuple[str, str, int]] = []
    for address, need in short.items():
        funder = max(spare, key=spare.__getitem__, default=None)
        if funder is None or spare[funder] < need + fee:
            raise FundingError(_no_funding_message(w3, list(short), wei))
        spare[funder] -= need + fee
        plan.append((funder, address, need))
    sent = []
    for funder, address, need in plan:
        answer = w3.provider.make_request("eth_sendTransaction",  # type: ignore[arg-type]
                                          [{"from": funder, "to": address, "value": hex(need)}])
        if "error" in answer:
            raise TransactionError(f"eth_sendTransaction from unlocked account {funder} failed: {answer['error']}")
        sent.append(answer["result"])
    for tx_hash in sent:
        if w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120, poll_latency=0.1)["status"] != 1:
            raise TransactionError(f"funding transaction {tx_hash} failed on chain")


def _no_funding_message(w3: Web3, addresses: list[str], wei: int) -> str:
    url = getattr(w3.provider, "endpoint_uri", "the node")
    shown = ", ".join(addresses[:3]) + (f" and {len(addresses) - 3} more" if len(addresses) > 3 else "")
    return (f"cannot fund {len(addresses)} account(s) with {Web3.from_wei(wei, 'ether')} ETH at {url}: the node has "
            f"no balance method ({', '.join(SET_BALANCE_METHODS)}) and no unlocked account (eth_accounts) that "
            f"holds enough: use a development node such as Anvil or Ganache, or send the ETH to {shown} yourself")
