"""Gas per transaction type of one deployment, read back from the chain (not from a client's log).

Reading the blocks, rather than a client's record of what it sent, counts every transaction of
the deployment in the range, whoever sent it; blocks and receipts are fetched in JSON-RPC batches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from web3 import Web3

from crowdsense.chain.connection import Connection
from crowdsense.runs.report import gas_table

__all__ = ["chain_gas"]


def _batched(w3: Web3, items: Sequence[Any], request: Callable[[Any], Any], size: int = 200) -> list[Any]:
    """``[request(item) for item in items]`` sent as JSON-RPC batches of ``size``."""
    out: list[Any] = []
    for start in range(0, len(items), size):
        with w3.batch_requests() as batch:
            for item in items[start : start + size]:
                batch.add(request(item))
            out.extend(batch.execute())
    return out


def chain_gas(w3: Web3, conn: Connection, first: int, last: int) -> tuple[dict[str, dict[str, int]], int]:
    """Gas per transaction type of the deployment's transactions in blocks first..last, from the chain.

    Only transactions that create or call the two contracts of ``conn`` count (a shared node may
    carry others). Returns ``({type: {count, reverted, gas}}, number of transactions)``; types are
    ``Contract.function`` (decoded from the call data's selector) or ``deploy Contract``, and
    reverted transactions form their own type (``... (reverted)``: they stop early and cost less).
    """
    contracts = {conn.registry.address.lower(): ("TaskRegistry", conn.registry),
                 conn.verifier.address.lower(): ("CommitmentVerifier", conn.verifier)}
    blocks = _batched(w3, list(range(first, last + 1)), lambda b: w3.eth.get_block(b, True))
    txs = [tx for block in blocks for tx in block["transactions"]]
    receipts = _batched(w3, txs, lambda tx: w3.eth.get_transaction_receipt(tx["hash"]))
    counted: list[tuple[str, bool, int]] = []
    for tx, receipt in zip(txs, receipts):
        if tx["to"] is None:
            created = (receipt.get("contractAddress") or "").lower()
            if created not in contracts:
                continue  # someone else's deployment on a shared node
            kind = f"deploy {contracts[created][0]}"
        elif tx["to"].lower() in contracts:
            name, contract = contracts[tx["to"].lower()]
            try:
                kind = f"{name}.{contract.get_function_by_selector(bytes(tx['input'])[:4]).fn_name}"
            except ValueError:
                kind = f"{name}.<unknown>"
        else:
            continue  # not about this deployment
        ok = int(receipt["status"]) == 1
        counted.append((kind if ok else f"{kind} (reverted)", ok, int(receipt["gasUsed"])))
    return gas_table(counted), len(counted)
