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

from dataclasses import dataclass
from typing import Any, Literal

from web3.contract import Contract
from web3.contract.contract import ContractFunction

from crowdsense.chain.addresses import parse_address
from crowdsense.chain.connection import Connection
from crowdsense.chain.contract import ContractClient
from crowdsense.chain.errors import AlreadyRevealedError, CommitmentNotFoundError
from crowdsense.chain.txsend import TxRecord
from crowdsense.commitments import BitOpening, BlindingOpening
from crowdsense.errors import InputError

__all__ = ["CommitmentRecord", "CommitmentVerifierClient", "opening_key"]

OpeningKind = Literal["bit", "blinding"]


def opening_key(conn: Connection, kind: OpeningKind, commitment: bytes) -> str:
    """Journal key under which the opening of a ``kind`` commitment is kept (module docstring)."""
    return f"{kind}-opening/{conn.chain_id}/{conn.verifier.address}/0x{bytes(commitment).hex()}"


def _commitment(value: Any) -> bytes:
    """A commitment hash as 32 bytes (InputError otherwise, before any call to the node)."""
    if not isinstance(value, (bytes, bytearray)) or len(value) != 32:
        got = f"{len(value)} bytes" if isinstance(value, (bytes, bytearray)) else type(value).__name__
        raise InputError(f"a commitment must be 32 bytes, got {got}")
    return bytes(value)


@dataclass(frozen=True)
class CommitmentRecord:
    """On-chain record of one account's commitment (``committer`` None when it has none).

    The verifier keys records by (committer, commitment): the same hash committed by another
    account is another record.
    """

    commitment: bytes
    committer: str | None
    committed_at: int
    revealed: bool
    r1: bytes | None = None  # bit commitments only

    def to_json(self) -> dict[str, Any]:
        return {"commitment": "0x" + self.commitment.hex(), "committer": self.committer,
                "committedAt": self.committed_at, "revealed": self.revealed,
                "r1": None if self.r1 is None else "0x" + self.r1.hex()}


class CommitmentVerifierClient(ContractClient):
    """Typed access to ``CommitmentVerifier`` for one account (see the module docstring).

    Parameters are those of :class:`~crowdsense.chain.contract.ContractClient`; pass the same
    ``sender`` to share nonces with a registry client of the same account.
    """

    @staticmethod
    def _deployed(conn: Connection) -> Contract:
        return conn.verifier

    # ------------------------------------------------------------------ reads

    @property
    def age_window(self) -> tuple[int, int]:
        """(minAge, maxAge) in seconds."""
        functions = self.contract.functions
        return int(self._read(functions.minAge())), int(self._read(functions.maxAge()))

    def bit_record(self, committer: str, commitment: bytes) -> CommitmentRecord:
        """``committer``'s bit commitment ``commitment`` (``bitCommitment``)."""
        account, commitment = parse_address(committer, "committer"), _commitment(commitment)
        recorded, at, r1, revealed = self.call_view("bitCommitment", account, commitment)
        return CommitmentRecord(commitment, account if recorded else None, int(at), bool(revealed), bytes(r1))

    def blinding_record(self, committer: str, commitment: bytes) -> CommitmentRecord:
        """``committer``'s blinding commitment ``commitment`` (``blindingCommitment``)."""
        account, commitment = parse_address(committer, "committer"), _commitment(commitment)
        recorded, at, revealed = self.call_view("blindingCommitment", account, commitment)
        return CommitmentRecord(commitment, account if recorded else None, int(at), bool(revealed))

    def bit_opening(self, commitment: bytes) -> BitOpening | None:
        """The journaled opening of one of this journal's bit commitments."""
        v = self._journaled_opening("bit", commitment)
        return None if v is None else BitOpening(v["r1"], v["r2"], v["payload"])

    def blinding_opening(self, commitment: bytes) -> BlindingOpening | None:
        """The journaled opening of one of this journal's blinding commitments."""
        v = self._journaled_opening("blinding", commitment)
        return None if v is None else BlindingOpening(int(v["r"]), v["salt"])

    def _journaled_opening(self, kind: OpeningKind, commitment: bytes) -> dict[str, Any] | None:
        key = opening_key(self.conn, kind, _commitment(commitment))
        return None if self.journal is None else self.journal.get(key)

    # ------------------------------------------------------------------ CTBC

    def commit_bit(self, opening: BitOpening, *, label: str = "") -> TxRecord:
        """Journal ``opening``, then publish its commitment with r1."""
        secret = {"r1": opening.r1, "r2": opening.r2, "payload": opening.payload, "label": label}
        return self._commit("bit", opening.commitment, secret,
                            self.contract.functions.commitBit(opening.commitment, opening.r1), "commitBit")

    def reveal_bit(self, commitment: bytes) -> TxRecord:
        """Open one of this account's bit commitments with the journaled r2 and payload."""
        v = self._revealable("bit", commitment)
        fn = self.contract.functions.revealBit(bytes(commitment), v["r2"], v["payload"])
        return self._send_about(fn, "revealBit", bytes(commitment))

    # ------------------------------------------------------------------ PDC

    def commit_blinding(self, opening: BlindingOpening, *, label: str = "") -> TxRecord:
        """Journal ``(r, salt)``, then publish the blinding commitment."""
        secret = {"r": opening.r, "salt": opening.salt, "label": label}
        return self._commit("blinding", opening.commitment, secret,
                            self.contract.functions.commitBlinding(opening.commitment), "commitBlinding")

    def reveal_blinding(self, commitment: bytes) -> TxRecord:
        """Open one of this account's blinding commitments with the journaled r and salt."""
        v = self._revealable("blinding", commitment)
        fn = self.contract.functions.revealBlinding(bytes(commitment), int(v["r"]), v["salt"])
        return self._send_about(fn, "revealBlinding", bytes(commitment))

    # ------------------------------------------------------------------ steps

    def _commit(self, kind: OpeningKind, commitment: bytes, secret: dict[str, Any], fn: ContractFunction,
                tx_kind: str) -> TxRecord:
        """Journal the opening (fsynced) before the commit is sent: no commitment without its opening."""
        self._sender()  # refuse without an account or a journal before journaling anything
        self._journal().put(opening_key(self.conn, kind, commitment), secret)
        return self._send_about(fn, tx_kind, commitment)

    def _revealable(self, kind: OpeningKind, commitment: bytes) -> dict[str, Any]:
        """The journaled opening of one of this account's commitments, checked like the contract would.

        Resuming this account's own reveal skips the checks (the chain may already show it opened).
        """
        me = self._sender().address
        opening = self._journaled_opening(kind, commitment)
        if opening is None:
            raise InputError(f"no opening of {kind} commitment 0x{bytes(commitment).hex()} in the journal")
        reveal = "revealBit" if kind == "bit" else "revealBlinding"
        if self._intent_stands(self._intent_id(reveal, f"0x{bytes(commitment).hex()}")):
            return opening
        record = self.bit_record(me, commitment) if kind == "bit" else self.blinding_record(me, commitment)
        if record.committer is None:
            raise CommitmentNotFoundError(record.commitment, pre_check=True)
        if record.revealed:
            raise AlreadyRevealedError(record.commitment, pre_check=True)
        return opening

    def _send_about(self, fn: ContractFunction, kind: str, commitment: bytes) -> TxRecord:
        subject = f"0x{commitment.hex()}"
        return self._send(fn, intent_id=self._intent_id(kind, subject), kind=kind, subject=subject)
