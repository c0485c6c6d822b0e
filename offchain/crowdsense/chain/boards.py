"""The LDPF commitment board on chain: ``CommitmentVerifier`` behind the protocols' board interface.

The protocol code of :mod:`crowdsense.ldpf.ctbc` and :mod:`crowdsense.ldpf.pdc` talks to a *board* (where
commitments are published and opened) and a *secret store* (where a party keeps its openings),
both defined in :mod:`crowdsense.commitments`. This module supplies the on-chain versions, built on
the client library:

* :class:`ChainCommitmentBoard` implements the board for both kinds of commitment
  (``commitBit`` / ``revealBit`` / ``bitCommitment`` / ``checkBitOpening`` and
  ``commitBlinding`` / ``revealBlinding`` / ``blindingCommitment`` / ``checkBlindingOpening``);
* :class:`JournalSecretStore` is the client :class:`~crowdsense.chain.journal.Journal` as the
  protocols' secret store.

Each party acts with its own :class:`~crowdsense.chain.accounts.Signer` through its own
:class:`~crowdsense.chain.verifier.CommitmentVerifierClient` (own nonces, journaled intents, so
a crash never sends a commitment twice).

Why an opening can never be lost. The protocol code writes an opening to its secret store
*before* it asks the board to publish the commitment. :class:`JournalSecretStore` files every
opening it is given twice, both fsynced before ``put`` returns: under the protocol's own key
and under the key the verifier client reads (``bit-opening/...`` or ``blinding-opening/...``,
by commitment; see :mod:`crowdsense.chain.verifier`). The board publishes a commitment only by
reading its opening back from that journal (:class:`UnjournaledOpeningError` otherwise), so no
commitment reaches the chain that its owner cannot open, whatever the caller does.

Rule violations are the client's typed reverts of ``CommitmentVerifier``, which derive from the
errors of :mod:`crowdsense.commitments.errors` (for example
:class:`~crowdsense.commitments.errors.OpeningMismatchError`): protocol code catches the same
class on chain as in memory. The contract's age window (``TooNew`` / ``TooOld``), which the
in-memory board does not model, comes back as the client's own typed error.

An opening that differs from the journaled one (a cheating party in a simulation) is sent
unchecked (:func:`~crowdsense.chain.txlog.send_unchecked`): it is mined and the *chain* refuses it.
"""

from __future__ import annotations

import threading
from typing import Any

from web3.logs import DISCARD

from crowdsense.chain.accounts import Signer
from crowdsense.chain.addresses import parse_address
from crowdsense.chain.connection import Connection
from crowdsense.chain.journal import Journal
from crowdsense.chain.verifier import CommitmentVerifierClient, opening_key
from crowdsense.chain.txlog import TxLog
from crowdsense.commitments import (
    BitOpening,
    BlindingOpening,
    BoardRecord,
    as_bytes32,
    bit_commitment,
    blinding_commitment,
    keccak256,
    valid_bit_opening,
    valid_blinding,
)
from crowdsense.errors import CrowdsenseError, InputError

__all__ = [
    "UnjournaledOpeningError",
    "JournalSecretStore",
    "bit_opening_key",
    "blinding_opening_key",
    "ChainCommitmentBoard",
]


class UnjournaledOpeningError(CrowdsenseError, RuntimeError):
    """A board was asked to publish a commitment whose opening is not in the party's journal."""

    def __init__(self, commitment: bytes, journal: Journal) -> None:
        self.commitment = bytes(commitment)
        super().__init__(
            f"refusing to publish commitment 0x{self.commitment.hex()}: its opening is not in the journal "
            f"{journal.path or ':memory:'} (store the opening first, through JournalSecretStore)"
        )


def bit_opening_key(conn: Connection, commitment: bytes) -> str:
    """Journal key of a bit commitment's opening, as :class:`CommitmentVerifierClient` reads it."""
    return opening_key(conn, "bit", commitment)


def blinding_opening_key(conn: Connection, commitment: bytes) -> str:
    """Journal key of a blinding commitment's opening, as :class:`CommitmentVerifierClient` reads it."""
    return opening_key(conn, "blinding", commitment)


def _hex_bytes(value: Any, name: str) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        try:
            return bytes.fromhex(value.removeprefix("0x"))
        except ValueError:
            pass
    raise InputError(f"{name} must be bytes or a hex string, got {value!r:.80}")


class JournalSecretStore:
    """The client journal as the secret store of the CTBC and PDC protocol code.

    ``put(key, value)`` stores ``value`` under ``key``; when ``value`` is an opening record of
    either protocol (CTBC: ``{"kind": "ctbc-bit-opening", "r1", "r2", "payload", "commitment"}``,
    PDC: ``{"r", "salt", "commitment", ...}``) it first checks that the parts hash to the
    commitment and files them under the verifier client's key as well. Both writes are durable
    (fsynced) when ``put`` returns.

    Parameters
    ----------
    journal : Journal
        The party's journal.
    conn : Connection
        Fixes the chain id and verifier address of the verifier-client keys.
    """

    def __init__(self, journal: Journal, conn: Connection) -> None:
        if not isinstance(journal, Journal):
            raise InputError(f"journal must be a Journal, got {type(journal).__name__}")
        self.journal = journal
        self.conn = conn

    def __repr__(self) -> str:
        return f"JournalSecretStore({self.journal!r})"

    def put(self, key: str, value: dict[str, Any]) -> None:
        if not isinstance(value, dict):
            raise InputError(f"a secret value must be a dict, got {type(value).__name__}")
        mirror = self._mirror(key, value)
        if mirror is not None:
            self.journal.put(*mirror)
        self.journal.put(key, value)

    def get(self, key: str) -> dict[str, Any] | None:
        return self.journal.get(key)

    def _mirror(self, key: str, value: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        if value.get("kind") == "ctbc-bit-opening":
            r1, r2 = _hex_bytes(value["r1"], "r1"), _hex_bytes(value["r2"], "r2")
            payload = _hex_bytes(value["payload"], "payload")
            commitment = _hex_bytes(value["commitment"], "commitment")
            if bit_commitment(r1, r2, payload) != commitment:
                raise InputError(f"opening record {key!r} does not hash to its commitment 0x{commitment.hex()}")
            return bit_opening_key(self.conn, commitment), {"r1": r1, "r2": r2, "payload": payload, "label": key}
        if {"r", "salt", "commitment"} <= value.keys():
            r = int(value["r"])
            salt = _hex_bytes(value["salt"], "salt")
            commitment = _hex_bytes(value["commitment"], "commitment")
            if blinding_commitment(r, salt) != commitment:
                raise InputError(f"opening record {key!r} does not hash to its commitment 0x{commitment.hex()}")
            return blinding_opening_key(self.conn, commitment), {"r": r, "salt": salt, "label": key}
        return None


class _Parties:
    """Verifier clients by account, shared by the views of one board."""

    def __init__(self, conn: Connection, receipt_timeout: float) -> None:
        self.conn = conn
        self.receipt_timeout = receipt_timeout
        self.clients: dict[str, CommitmentVerifierClient] = {}
        self.lock = threading.Lock()

    def add(self, signer: Signer, journal: Journal) -> CommitmentVerifierClient:
        if not isinstance(signer, Signer):
            raise InputError(f"signer must be a Signer, got {type(signer).__name__}")
        if not isinstance(journal, Journal):
            raise InputError(f"journal must be a Journal, got {type(journal).__name__}")
        with self.lock:
            client = self.clients.get(signer.address.lower())
            if client is None:
                client = CommitmentVerifierClient(self.conn, signer, journal=journal,
                                                  receipt_timeout=self.receipt_timeout)
                self.clients[signer.address.lower()] = client
            elif client.journal is not journal:
                raise InputError(f"account {signer.address} is already on this board with another journal")
            return client

    def get(self, account: str) -> CommitmentVerifierClient:
        with self.lock:
            client = self.clients.get(str(account).lower())
        if client is None:
            raise InputError(f"account {account} has no signer on this board (add it with add_party)")
        return client


class ChainCommitmentBoard:
    """:class:`~crowdsense.commitments.CommitmentBoard` on ``CommitmentVerifier``, seen from one account.

    A party acts with its signer and journal. A view made with ``signer`` (or by
    :meth:`as_account`) acts as that account; a view can also act for every account added with
    :meth:`add_party`, named per call with ``sender`` (a CTBC round's users, all through one
    board). A view without a signer is read-only (the platform's): reads, record and opening
    checks need no party; commits and reveals without ``sender`` are refused.

    Parameters
    ----------
    conn : Connection
        Node and deployment.
    signer : Signer, optional
        The acting account.
    journal : Journal, optional
        The acting account's journal (required with ``signer``).
    account : str, optional
        Identity of a read-only view (default ``"platform"``).
    log : TxLog, optional
        Where every commit and reveal transaction is recorded (a new one by default).
    receipt_timeout : float
        Seconds to wait for each receipt.

    Examples
    --------
    >>> platform_view = ChainCommitmentBoard(conn)                        # doctest: +SKIP
    >>> alice_view = platform_view.as_account(alice_signer, journal)     # doctest: +SKIP
    """

    def __init__(
        self,
        conn: Connection,
        signer: Signer | None = None,
        *,
        journal: Journal | None = None,
        account: str | None = None,
        log: TxLog | None = None,
        receipt_timeout: float = 120.0,
        _parties: _Parties | None = None,
    ) -> None:
        self.conn = conn
        self.log = TxLog() if log is None else log
        self._parties = _parties if _parties is not None else _Parties(conn, receipt_timeout)
        self._reader = CommitmentVerifierClient(conn)
        self._client: CommitmentVerifierClient | None = None
        # (committer lowercased, commitment) -> payload, from BitRevealed events
        self._payloads: dict[tuple[str, bytes], bytes] = {}
        self._lock = threading.Lock()
        if signer is not None:
            if journal is None:
                raise InputError("a party's board view needs its journal")
            self._client = self._parties.add(signer, journal)
            self._account = signer.address
        else:
            self._account = account or "platform"

    def add_party(self, signer: Signer, journal: Journal) -> str:
        """Let ``signer`` act on the board with ``journal``; returns its address (the ``sender``)."""
        return self._parties.add(signer, journal).me

    def as_account(self, signer: Signer, journal: Journal) -> ChainCommitmentBoard:
        """A view of the same board acting as ``signer`` (sharing this view's parties and log)."""
        return ChainCommitmentBoard(self.conn, signer, journal=journal, log=self.log, _parties=self._parties)

    @property
    def account(self) -> str:
        return self._account

    def _acting(self, sender: str | None) -> CommitmentVerifierClient:
        """The client of ``sender`` (a party of the board), or of this view's own account."""
        if sender is not None:
            return self._parties.get(sender)
        if self._client is None:
            raise InputError(f"the board view of {self._account!r} is read-only (no signer)")
        return self._client

    def _journaled(self, client: CommitmentVerifierClient, key: str, commitment: bytes) -> dict[str, Any]:
        """The opening the party journaled for ``commitment``: nothing is published without one."""
        assert client.journal is not None
        stored = client.journal.get(key)
        if stored is None:
            raise UnjournaledOpeningError(commitment, client.journal)
        return stored

    def _send_other(self, client: CommitmentVerifierClient, fn: Any, kind: str, commitment: bytes,
                    opening: bytes) -> Any:
        """Send an opening other than the journaled one, unchecked, so that the chain judges it.

        Returns the receipt of the mined transaction; a refusal raises the chain's typed error.
        """
        subject = "0x" + commitment.hex()
        digest = keccak256(opening).hex()[:16]
        intent_id = f"{kind}/{client.prefix}/{subject}/{client.me}/other-{digest}"
        outcome = client.send_unchecked(fn, intent_id=intent_id, kind=kind, subject=subject)
        self.log.add(outcome.record)
        if outcome.error is not None:
            raise outcome.error
        return outcome.record.receipt

    # ------------------------------------------------------------------ bit commitments (CTBC)

    def commit_bit(self, commitment: bytes, r1: bytes, *, sender: str | None = None) -> None:
        """Publish ``commitment`` with ``r1``, from the opening in the acting party's journal."""
        commitment, r1 = as_bytes32(commitment, "commitment"), as_bytes32(r1, "r1")
        client = self._acting(sender)
        stored = self._journaled(client, bit_opening_key(self.conn, commitment), commitment)
        if bytes(stored["r1"]) != r1:
            raise InputError(f"r1 given for 0x{commitment.hex()} differs from the journaled opening's r1")
        opening = BitOpening(bytes(stored["r1"]), bytes(stored["r2"]), bytes(stored["payload"]))
        self.log.add(client.commit_bit(opening, label=str(stored.get("label", ""))))

    def reveal_bit(self, commitment: bytes, r2: bytes, payload: bytes, *, sender: str | None = None) -> None:
        """Open ``commitment`` on chain.

        An opening equal to the journaled one goes through the verifier client (with its
        checks); any other opening is sent unchecked, so that the chain itself judges it.
        """
        commitment, r2 = as_bytes32(commitment, "commitment"), as_bytes32(r2, "r2")
        if not isinstance(payload, (bytes, bytearray)):
            raise InputError(f"payload must be bytes, got {type(payload).__name__}")
        payload = bytes(payload)
        client = self._acting(sender)
        opening = client.bit_opening(commitment)
        if opening is not None and opening.r2 == r2 and opening.payload == payload:
            tx = self.log.add(client.reveal_bit(commitment))
            receipt = tx.receipt
        else:
            receipt = self._send_other(client, client.contract.functions.revealBit(commitment, r2, payload),
                                       "revealBit", commitment, r2 + payload)
        for event in self._reader.contract.events.BitRevealed().process_receipt(receipt, errors=DISCARD):
            key = (str(event["args"]["committer"]).lower(), bytes(event["args"]["commitment"]))
            with self._lock:
                self._payloads[key] = bytes(event["args"]["payload"])

    def bit_record(self, committer: str, commitment: bytes) -> BoardRecord | None:
        """``committer``'s on-chain record; once opened, with the payload of its ``BitRevealed`` event."""
        rec = self._reader.bit_record(committer, as_bytes32(commitment, "commitment"))
        if rec.committer is None:
            return None
        payload = self._revealed_payload(rec.committer, rec.commitment) if rec.revealed else None
        return BoardRecord(rec.committer, rec.revealed, r1=rec.r1 or bytes(32), payload=payload)

    def check_bit_opening(self, committer: str, commitment: bytes, r2: bytes, payload: bytes) -> bool:
        """``checkBitOpening`` (a view): whether (r1 on record, r2, payload) opens ``committer``'s ``commitment``."""
        account, commitment = parse_address(committer, "committer"), as_bytes32(commitment, "commitment")
        if not valid_bit_opening(r2, payload):
            return False
        return bool(self._reader.call_view("checkBitOpening", account, commitment, bytes(r2), bytes(payload))[0])

    # ------------------------------------------------------------------ blinding commitments (PDC)

    def commit_blinding(self, commitment: bytes, *, sender: str | None = None) -> None:
        """Publish ``commitment``, from the opening in the acting party's journal."""
        commitment = as_bytes32(commitment, "commitment")
        client = self._acting(sender)
        stored = self._journaled(client, blinding_opening_key(self.conn, commitment), commitment)
        opening = BlindingOpening(int(stored["r"]), bytes(stored["salt"]))
        self.log.add(client.commit_blinding(opening, label=str(stored.get("label", ""))))

    def reveal_blinding(self, commitment: bytes, r: int, salt: bytes, *, sender: str | None = None) -> None:
        """Open ``commitment`` on chain with ``(r, salt)``.

        The journaled opening goes through the verifier client; any other ``(r, salt)`` (a
        lying receiver) is sent unchecked and refused by the chain.
        """
        commitment, salt = as_bytes32(commitment, "commitment"), as_bytes32(salt, "salt")
        if not valid_blinding(r, salt):
            raise InputError(f"r must be an int in [0, 2**256 - 1], got {r!r}")
        client = self._acting(sender)
        opening = client.blinding_opening(commitment)
        if opening is not None and opening.r == r and opening.salt == salt:
            self.log.add(client.reveal_blinding(commitment))
        else:
            self._send_other(client, client.contract.functions.revealBlinding(commitment, r, salt),
                             "revealBlinding", commitment, r.to_bytes(32, "big") + salt)

    def blinding_record(self, committer: str, commitment: bytes) -> BoardRecord | None:
        rec = self._reader.blinding_record(committer, as_bytes32(commitment, "commitment"))
        if rec.committer is None:
            return None
        return BoardRecord(rec.committer, rec.revealed)

    def check_blinding(self, committer: str, commitment: bytes, r: int, salt: bytes) -> bool:
        """``checkBlindingOpening`` (a view): ``committer`` recorded it, and ``keccak256(abi.encode(r, salt))`` matches."""
        account, commitment = parse_address(committer, "committer"), as_bytes32(commitment, "commitment")
        if not valid_blinding(r, salt):
            return False
        return bool(self._reader.call_view("checkBlindingOpening", account, commitment, r, bytes(salt))[0])

    def _revealed_payload(self, committer: str, commitment: bytes) -> bytes | None:
        key = (committer.lower(), commitment)
        with self._lock:
            cached = self._payloads.get(key)
        if cached is not None:
            return cached
        logs = self._reader.contract.events.BitRevealed().get_logs(
            from_block=self.conn.deployment.block_number, to_block="latest",
            argument_filters={"commitment": commitment, "committer": committer})
        if not logs:
            return None
        payload = bytes(logs[-1]["args"]["payload"])
        with self._lock:
            self._payloads[key] = payload
        return payload
