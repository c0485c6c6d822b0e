"""Refusals the main job demonstrates, each as one JSON row of its summary.

On chain, a claim is sent *past* the client's pre-check (:func:`~crowdsense.chain.txlog.send_unchecked`),
so that it is the contract that refuses it: the row carries the mined, reverted transaction and
the typed error decoded from it, and what the pre-check would have said. Off chain, a receiver
tries to open the key envelope sealed for another claimant.
"""

from __future__ import annotations

from typing import Any

from crowdsense.chain.accounts import Signer
from crowdsense.chain.connection import Connection
from crowdsense.chain.errors import ContractRevertError, DecryptionError
from crowdsense.chain.registry import TaskRegistryClient
from crowdsense.chain.store import SubtaskStore
from crowdsense.chain.txlog import send_unchecked
from crowdsense.pmcb.tasks import open_key

__all__ = ["refused_claim", "refused_key"]


def _error_name(exc: Exception) -> str:
    return getattr(exc, "solidity_name", type(exc).__name__)


def refused_claim(conn: Connection, client: TaskRegistryClient, task_id: int, index: int,
                  attempt: str) -> dict[str, Any]:
    """``client`` claims subtask ``index`` of ``task_id`` on chain without the pre-check (by
    proof when its level is published as a root and its journal holds the proof)."""
    pre: Exception | None = None
    proof = client.claim_proof(task_id)
    try:
        client.check_claim(task_id, index, proof=proof)
    except ContractRevertError as exc:
        pre = exc
    registry = conn.registry
    fn = client.claim_function(task_id, index, proof)
    data = fn._encode_transaction_data()
    outcome = send_unchecked(
        client.sender, registry.address, data, kind=fn.fn_name,  # type: ignore[arg-type]
        intent_id=f"claim-unchecked/{conn.chain_id}/{registry.address}/{task_id}/{index}/{client.me}",
        subject=f"task {task_id} subtask {index}")
    err = outcome.error
    return {
        "attempt": attempt,
        "account": client.me,
        "refusedOnChain": outcome.reverted,
        "error": _error_name(err) if err is not None else None,
        "message": str(err) if err is not None else "accepted (unexpected)",
        "args": err.to_json()["args"] if err is not None else None,
        "tx": outcome.record.tx_hash,
        "block": outcome.record.block_number,
        "gasUsed": outcome.record.gas_used,
        "clientPreCheck": None if pre is None else _error_name(pre),
    }


def refused_key(store: SubtaskStore, subtask_hash: bytes, claimant: str, intruder: Signer,
                attempt: str) -> dict[str, Any]:
    """``intruder`` tries to open the key envelope of ``subtask_hash`` sealed for ``claimant``."""
    envelope = store.get_envelope(subtask_hash, claimant)
    try:
        open_key(intruder, envelope, subtask_hash=subtask_hash, claimant=claimant)
        message, error = "opened (unexpected)", None
    except DecryptionError as exc:
        message, error = str(exc), "DecryptionError"
    return {"attempt": attempt, "account": intruder.address, "refusedOnChain": False, "error": error,
            "message": message, "args": None, "tx": None, "block": None, "gasUsed": None, "clientPreCheck": None}
