"""CommitmentVerifierClient: LDPF's on-chain commitments, with openings that cannot be lost.

The CTBC and PDC rounds build on four calls. Each *commit* journals the full opening
(``r1, r2, payload`` or ``r, salt``; fsynced) before the commit transaction is sent, so a
crash can never leave a commitment on chain that its owner cannot open; each *reveal* reads
the opening back from the journal. Journal keys::

    bit-opening/<chainId>/<verifier>/<commitment>        {"r1", "r2", "payload", "label"}
    blinding-opening/<chainId>/<verifier>/<commitment>   {"r", "salt", "label"}

Intent ids: ``commitBit|revealBit|commitBlinding|revealBlinding/<chainId>/<verifier>/<commitment>/<account>``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from web3 import Web3

from crowdsense.chain.accounts import Signer
from crowdsense.chain.connection import Connection
from crowdsense.chain.errors import (
    AlreadyRevealedError,
    CommitmentNotFoundError,
    NodeUnavailableError,
    NotCommitterError,
    revert_from_exception,
)
from crowdsense.chain.journal import Journal
from crowdsense.chain.txsend import TxResult, TxSender
from crowdsense.commitments import BitOpening, BlindingOpening
from crowdsense.errors import InputError

__all__ = ["CommitmentRecord", "CommitmentVerifierClient"]

_ZERO_ADDRESS = "0x" + "0" * 40


def _commitment(value: Any) -> bytes:
    """A commitment hash as 32 bytes (InputError otherwise, before any call to the node)."""
    if not isinstance(value, (bytes, bytearray)) or len(value) != 32:
        got = f"{len(value)} bytes" if isinstance(value, (bytes, bytearray)) else type(value).__name__
        raise InputError(f"a commitment must be 32 bytes, got {got}")
    return bytes(value)


@dataclass(frozen=True)
class CommitmentRecord:
    """On-chain record of a commitment (``committer`` None when there is none)."""

    commitment: bytes
    committer: str | None
    committed_at: int
    revealed: bool
    r1: bytes | None = None  # bit commitments only

    def to_json(self) -> dict[str, Any]:
        return {"commitment": "0x" + self.commitment.hex(), "committer": self.committer,
                "committedAt": self.committed_at, "revealed": self.revealed,
                "r1": None if self.r1 is None else "0x" + self.r1.hex()}


class CommitmentVerifierClient:
    """Typed access to ``CommitmentVerifier`` for one account (see the module docstring).

    Parameters are as for :class:`~crowdsense.chain.registry.TaskRegistryClient`; pass the
    same ``sender`` to share nonces with a registry client of the same account.
    """

    def __init__(
        self,
        conn: Connection,
        signer: Signer | None = None,
        *,
        journal: Journal | None = None,
        sender: TxSender | None = None,
        receipt_timeout: float = 120.0,
    ) -> None:
        self.conn = conn
        self.contract = conn.verifier
        self.signer = signer
        self.journal = journal
        self._tx_sender = sender
        self._sender_lock = threading.Lock()
        self._receipt_timeout = receipt_timeout

    @property
    def sender(self) -> TxSender | None:
        """The account's sender (made on first use)."""
        with self._sender_lock:
            if self._tx_sender is None and self.signer is not None:
                self._tx_sender = TxSender(self.conn.w3, self.signer, journal=self.journal, chain_id=self.conn.chain_id,
                                           receipt_timeout=self._receipt_timeout)
        return self._tx_sender

    @property
    def address(self) -> str:
        return self.contract.address

    def _prefix(self) -> str:
        return f"{self.conn.chain_id}/{self.address}"

    def _me(self) -> str:
        if self.signer is None or self.sender is None or self.journal is None:
            raise InputError("commitments need an account and a journal")
        return self.signer.address

    def _read(self, fn: Any) -> Any:
        try:
            return fn.call()
        except NodeUnavailableError:
            raise
        except Exception as exc:
            revert = revert_from_exception(exc)
            if revert is not None:
                raise revert from None
            raise

    def _send(self, fn: Any, kind: str, commitment: bytes) -> TxResult:
        me = self._me()
        assert self.sender is not None
        return self.sender.send({"to": self.address, "data": fn._encode_transaction_data()},
                                intent_id=f"{kind}/{self._prefix()}/0x{commitment.hex()}/{me}", kind=kind)

    # ------------------------------------------------------------------ reads

    @property
    def age_window(self) -> tuple[int, int]:
        """(minAge, maxAge) in seconds."""
        return int(self._read(self.contract.functions.minAge())), int(self._read(self.contract.functions.maxAge()))

    def bit_record(self, commitment: bytes) -> CommitmentRecord:
        commitment = _commitment(commitment)
        committer, at, r1, revealed = self._read(self.contract.functions.bitCommitment(commitment))
        return CommitmentRecord(bytes(commitment), None if committer == _ZERO_ADDRESS else
                                Web3.to_checksum_address(committer), int(at), bool(revealed), bytes(r1))

    def blinding_record(self, commitment: bytes) -> CommitmentRecord:
        commitment = _commitment(commitment)
        committer, at, revealed = self._read(self.contract.functions.blindingCommitment(commitment))
        return CommitmentRecord(bytes(commitment), None if committer == _ZERO_ADDRESS else
                                Web3.to_checksum_address(committer), int(at), bool(revealed))

    def bit_opening(self, commitment: bytes) -> BitOpening | None:
        """The journaled opening of one of this journal's bit commitments."""
        commitment = _commitment(commitment)
        if self.journal is None:
            return None
        v = self.journal.get(f"bit-opening/{self._prefix()}/0x{commitment.hex()}")
        return None if v is None else BitOpening(v["r1"], v["r2"], v["payload"])

    def blinding_opening(self, commitment: bytes) -> BlindingOpening | None:
        commitment = _commitment(commitment)
        if self.journal is None:
            return None
        v = self.journal.get(f"blinding-opening/{self._prefix()}/0x{commitment.hex()}")
        return None if v is None else BlindingOpening(int(v["r"]), v["salt"])

    # ------------------------------------------------------------------ CTBC

    def commit_bit(self, opening: BitOpening, *, label: str = "") -> TxResult:
        """Journal ``opening``, then publish its commitment with r1."""
        self._me()
        assert self.journal is not None
        c = opening.commitment
        self.journal.put(f"bit-opening/{self._prefix()}/0x{c.hex()}",
                         {"r1": opening.r1, "r2": opening.r2, "payload": opening.payload, "label": label})
        return self._send(self.contract.functions.commitBit(c, opening.r1), "commitBit", c)

    def reveal_bit(self, commitment: bytes) -> TxResult:
        """Open one of this account's bit commitments with the journaled r2 and payload."""
        me = self._me()
        opening = self.bit_opening(commitment)
        if opening is None:
            raise InputError(f"no opening of bit commitment 0x{bytes(commitment).hex()} in the journal")
        self._check_openable(self.bit_record(commitment), me, "revealBit")
        return self._send(self.contract.functions.revealBit(bytes(commitment), opening.r2, opening.payload),
                          "revealBit", bytes(commitment))

    # ------------------------------------------------------------------ PDC

    def commit_blinding(self, opening: BlindingOpening, *, label: str = "") -> TxResult:
        """Journal ``(r, salt)``, then publish the blinding commitment."""
        self._me()
        assert self.journal is not None
        c = opening.commitment
        self.journal.put(f"blinding-opening/{self._prefix()}/0x{c.hex()}",
                         {"r": opening.r, "salt": opening.salt, "label": label})
        return self._send(self.contract.functions.commitBlinding(c), "commitBlinding", c)

    def reveal_blinding(self, commitment: bytes) -> TxResult:
        """Open one of this account's blinding commitments with the journaled r and salt."""
        me = self._me()
        opening = self.blinding_opening(commitment)
        if opening is None:
            raise InputError(f"no opening of blinding commitment 0x{bytes(commitment).hex()} in the journal")
        self._check_openable(self.blinding_record(commitment), me, "revealBlinding")
        return self._send(self.contract.functions.revealBlinding(bytes(commitment), opening.r, opening.salt),
                          "revealBlinding", bytes(commitment))

    def _check_openable(self, record: CommitmentRecord, me: str, kind: str) -> None:
        assert self.journal is not None
        intent = self.journal.intent(f"{kind}/{self._prefix()}/0x{record.commitment.hex()}/{me}")
        if intent is not None and intent.status in ("prepared", "sent", "confirmed"):
            return  # resuming our own reveal
        if record.committer is None:
            raise CommitmentNotFoundError(record.commitment, pre_check=True)
        if record.committer != me:
            raise NotCommitterError(record.commitment, me, pre_check=True)
        if record.revealed:
            raise AlreadyRevealedError(record.commitment, pre_check=True)
