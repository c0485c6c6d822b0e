"""Sensing data delivered to the releaser: encrypted to it, stored by hash, the hash on chain.

Without delivery a claimant records only ``keccak256(data)`` and the data itself travels some
other way. With it (``crowdsense submit --deliver``, ``crowdsense collect``):

1. The claimant reads the releaser's encryption key from its subtask's description
   (``replyTo``; the description's hash is on chain, so the key is the releaser's own, not one
   the store or anybody else slipped in), encrypts the data to it (ECIES, associated data
   binding chain, registry, task, subtask and claimant: :func:`~crowdsense.pmcb.sealing.data_aad`),
   puts the ciphertext in the store (a folder, or a service over HTTP) and records
   ``keccak256(ciphertext)`` with ``submitData``.
2. The releaser reads each subtask's data hash from the chain, fetches the ciphertext by it
   (checked against the hash), and opens it with its own key. Only it can: the store, the
   other receivers and a chain observer see a ciphertext and its hash.

ECIES is randomised, so the ciphertext is kept in the claimant's journal before anything is
stored or sent: a rerun after a crash stores and submits the same bytes, never a second
ciphertext that the chain would refuse as other data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils import keccak

from crowdsense import ecies
from crowdsense.chain.errors import NotClaimantError, NotReleaserError, StoreError
from crowdsense.chain.registry import TaskRegistryClient
from crowdsense.chain.txsend import TxRecord
from crowdsense.errors import DecryptionError, InputError
from crowdsense.pmcb.sealing import data_aad

__all__ = ["Delivered", "Collected", "deliver_data", "collect_data"]


@dataclass(frozen=True)
class Delivered:
    """A claimant's delivery: the ciphertext's hash (what the chain records) and the transaction
    (resumed on a rerun; None when the chain already had this hash)."""

    task_id: int
    index: int
    data_hash: bytes
    size: int
    tx: TxRecord | None

    def to_json(self) -> dict[str, Any]:
        return {"taskId": self.task_id, "index": self.index, "dataHash": "0x" + self.data_hash.hex(),
                "ciphertextBytes": self.size, "tx": self.tx.tx_hash if self.tx else None,
                "block": self.tx.block_number if self.tx else None, "resumed": bool(self.tx and self.tx.resumed),
                "alreadySubmitted": self.tx is None}


@dataclass(frozen=True)
class Collected:
    """One subtask's data as the releaser collects it: ``data`` once opened, else ``error``
    (None for both: nothing submitted yet)."""

    task_id: int
    index: int
    claimant: str | None
    data_hash: bytes | None
    data: bytes | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"taskId": self.task_id, "index": self.index, "claimant": self.claimant,
                "dataHash": None if self.data_hash is None else "0x" + self.data_hash.hex(),
                "bytes": None if self.data is None else len(self.data), "error": self.error}


def deliver_data(client: TaskRegistryClient, task_id: int, index: int, data: bytes) -> Delivered:
    """Encrypt ``data`` to the releaser of ``task_id``, store it and record its hash (claimant).

    Raises
    ------
    NotClaimantError
        This account is not the subtask's claimant.
    InputError
        The subtask's description names no releaser key (released before delivery existed), or
        other data was delivered for this subtask before (its ciphertext is in the journal).
    KeyNotHandedOverError, DecryptionError, StoreError
        As for ``fetch``: the claimant must be able to read its subtask first.
    """
    if not isinstance(data, (bytes, bytearray)):
        raise InputError(f"data must be bytes, got {type(data).__name__}")
    journal, store, me = client._journal(), client._store(), client.me
    sub = client.subtask(task_id, index)
    if sub.claimant != me:
        raise NotClaimantError(task_id, index, me, pre_check=True)
    key = f"delivery/{client.prefix}/{task_id}/{index}"
    record = journal.get(key)
    if record is None:
        fetched = client.fetch_subtask(task_id, index)
        if fetched.reply_to is None:
            raise InputError(f"subtask {index} of task {task_id} names no key of its releaser to deliver data to "
                             "(it was released by an earlier client): expected a task released with one, or "
                             "`crowdsense submit` without --deliver (only the data's hash)")
        sealed = ecies.ecies_encrypt(fetched.reply_to, bytes(data),
                                     aad=data_aad(client.conn.chain_id, client.address, task_id, index, me))
        record, _ = journal.put_first(key, {"ciphertext": sealed, "dataKeccak": keccak(bytes(data))})
    if bytes(record["dataKeccak"]) != keccak(bytes(data)):
        raise InputError(f"other data was delivered for subtask {index} of task {task_id} from this journal: "
                         "expected the same data again (a subtask's data is delivered once)")
    sealed = bytes(record["ciphertext"])
    digest = store.put_blob(sealed)
    tx = client.submit_data(task_id, index, data_hash=digest)
    return Delivered(task_id, index, digest, len(sealed), tx)


def collect_data(client: TaskRegistryClient, task_ids: int | list[int]) -> list[Collected]:
    """Fetch and open the data delivered for every subtask of ``task_ids`` (the releaser).

    One subtask that cannot be opened (its ciphertext missing from the store, altered, or
    not encrypted to this releaser: data whose hash was submitted without ``--deliver``) is
    reported with its ``error``; the others are collected.

    Raises
    ------
    NotReleaserError
        This account did not release the task.
    """
    out = []
    store, signer = client._store(), client.signer
    for task_id in [task_ids] if isinstance(task_ids, int) else list(task_ids):
        task = client.task(task_id)
        if signer is None or task.releaser != signer.address:
            raise NotReleaserError(task_id, client.me, pre_check=True)
        for sub in client.subtasks(task_id):
            if sub.data_hash is None:
                out.append(Collected(task_id, sub.index, sub.claimant, None))
                continue
            assert sub.claimant is not None  # data is submitted by the claimant
            try:
                blob = store.get_blob(sub.data_hash)
                aad = data_aad(client.conn.chain_id, client.address, task_id, sub.index, sub.claimant)
                data = signer.ecies_decrypt(blob, aad=aad, what=f"data of subtask {sub.index}")
            except (StoreError, DecryptionError) as exc:
                out.append(Collected(task_id, sub.index, sub.claimant, sub.data_hash, error=str(exc)))
                continue
            out.append(Collected(task_id, sub.index, sub.claimant, sub.data_hash, data))
    return out
