"""The LDPF commitment boards on chain: CTBC's and PDC's board interfaces over ``CommitmentVerifier``.

The protocol code of :mod:`crowdsense.ldpf.ctbc` and :mod:`crowdsense.ldpf.pdc` talks to a *board* (where
commitments are published and opened) and a *secret store* (where a party keeps its openings).
This module supplies the on-chain versions, built on the client library:

* :class:`ChainBitBoard` implements :class:`crowdsense.ldpf.ctbc.board.BitCommitmentBoard`
  (``commitBit`` / ``revealBit`` / ``bitCommitment`` / ``checkBitOpening``);
* :class:`ChainBlindingBoard` implements :class:`crowdsense.ldpf.pdc.board.CommitmentBoard`
  (``commitBlinding`` / ``revealBlinding`` / ``blindingCommitment`` / ``checkBlindingOpening``);
* :class:`JournalSecretStore` is the client :class:`~crowdsense.chain.journal.Journal` as the
  protocols' secret store.

Each party acts with its own :class:`~crowdsense.chain.accounts.Signer` through its own
:class:`~crowdsense.chain.verifier.CommitmentVerifierClient` (own nonces, journaled intents, so
a crash never sends a commitment twice).

Why an opening can never be lost. The protocol code writes an opening to its secret store
*before* it asks the board to publish the commitment. :class:`JournalSecretStore` files every
opening it is given twice, both fsynced before ``put`` returns: under the protocol's own key
and under the key the verifier client reads (``bit-opening/...`` or ``blinding-opening/...``,
by commitment; see :mod:`crowdsense.chain.verifier`). The boards publish a commitment only by
reading its opening back from that journal (:class:`UnjournaledOpeningError` otherwise), so no
commitment reaches the chain that its owner cannot open, whatever the caller does.

Rule violations come back as the protocol package's own board errors (for example
:class:`~crowdsense.ldpf.ctbc.errors.BitOpeningMismatchError` or
:class:`~crowdsense.ldpf.pdc.errors.OpeningMismatch`), decoded from the contract's revert, with the
client's typed revert as ``__cause__``; the contract's age window (``TooNew`` / ``TooOld``), which
the in-memory boards do not model, comes back as the client's typed error.

An opening that differs from the journaled one (a cheating party in a simulation) is sent
unchecked (:func:`~crowdsense.chain.txlog.send_unchecked`): it is mined and the *chain* refuses it.
"""

from __future__ import annotations

import threading
from typing import Any

from eth_utils import keccak
from web3 import Web3
from web3.logs import DISCARD

from crowdsense.chain.accounts import Signer
from crowdsense.chain.connection import Connection
from crowdsense.chain.errors import (
    AlreadyCommittedError,
    AlreadyRevealedError,
    CommitmentNotFoundError,
    ContractRevertError,
    InvalidPayloadLengthError,
    NodeUnavailableError,
    NotCommitterError,
    OpeningMismatchError,
    ZeroCommitmentError,
    revert_from_exception,
)
from crowdsense.chain.journal import Journal
from crowdsense.chain.verifier import CommitmentVerifierClient
from crowdsense.commitments import MAX_PAYLOAD, BitOpening, BlindingOpening, bit_commitment, blinding_commitment
from crowdsense.ldpf.ctbc import errors as ctbc_errors
from crowdsense.ldpf.ctbc.board import BitRecord
from crowdsense.errors import CrowdsenseError, InputError
from crowdsense.chain.txlog import TxLog, TxRecord, send_unchecked
from crowdsense.ldpf.pdc import errors as pdc_errors
from crowdsense.ldpf.pdc.board import BlindingRecord

__all__ = [
    "UnjournaledOpeningError",
    "JournalSecretStore",
    "bit_opening_key",
    "blinding_opening_key",
    "ChainBitBoard",
    "ChainBlindingBoard",
]

_UINT256_MAX = 2**256 - 1


class UnjournaledOpeningError(CrowdsenseError, RuntimeError):
    """A board was asked to publish a commitment whose opening is not in the party's journal."""

    def __init__(self, commitment: bytes, journal: Journal) -> None:
        self.commitment = bytes(commitment)
        super().__init__(
            f"refusing to publish commitment 0x{self.commitment.hex()}: its opening is not in the journal "
            f"{journal.path or ':memory:'} (store the opening first, through JournalSecretStore)"
        )


def _prefix(conn: Connection) -> str:
    return f"{conn.chain_id}/{conn.verifier.address}"


def bit_opening_key(conn: Connection, commitment: bytes) -> str:
    """Journal key of a bit commitment's opening, as :class:`CommitmentVerifierClient` reads it."""
    return f"bit-opening/{_prefix(conn)}/0x{bytes(commitment).hex()}"


def blinding_opening_key(conn: Connection, commitment: bytes) -> str:
    """Journal key of a blinding commitment's opening, as :class:`CommitmentVerifierClient` reads it."""
    return f"blinding-opening/{_prefix(conn)}/0x{bytes(commitment).hex()}"


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


# ------------------------------------------------------------------------------- CTBC


def _bit_error(exc: ContractRevertError) -> Exception:
    """The :mod:`crowdsense.ldpf.ctbc.errors` class that mirrors a CommitmentVerifier revert."""
    if isinstance(exc, AlreadyCommittedError):
        return ctbc_errors.BitCommitmentExistsError(exc.commitment)
    if isinstance(exc, CommitmentNotFoundError):
        return ctbc_errors.BitCommitmentNotFoundError(exc.commitment)
    if isinstance(exc, NotCommitterError):
        return ctbc_errors.BitNotCommitterError(exc.commitment, exc.caller)
    if isinstance(exc, AlreadyRevealedError):
        return ctbc_errors.BitAlreadyRevealedError(exc.commitment)
    if isinstance(exc, OpeningMismatchError):
        return ctbc_errors.BitOpeningMismatchError(exc.commitment, exc.computed)
    if isinstance(exc, InvalidPayloadLengthError):
        return ctbc_errors.BitPayloadLengthError(exc.length, exc.maximum)
    if isinstance(exc, ZeroCommitmentError):
        return ctbc_errors.BitZeroCommitmentError()
    return exc


def _mirrored(exc: ContractRevertError, mirror: Any) -> Exception:
    """The protocol's own error for ``exc`` (with ``exc`` as its cause), or ``exc`` itself."""
    mapped = mirror(exc)
    if mapped is not exc:
        mapped.__cause__ = exc
    return mapped


def _call(fn: Any) -> Any:
    """``fn.call()`` with reverts decoded into the client's typed errors."""
    try:
        return fn.call()
    except NodeUnavailableError:
        raise
    except Exception as exc:
        revert = revert_from_exception(exc)
        if revert is not None:
            raise revert from None
        raise


def _b32(value: Any, name: str) -> bytes:
    if not isinstance(value, (bytes, bytearray)) or len(value) != 32:
        raise InputError(f"{name} must be 32 bytes, got {value!r:.80}")
    return bytes(value)


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


class ChainBitBoard:
    """:class:`~crowdsense.ldpf.ctbc.board.BitCommitmentBoard` on ``CommitmentVerifier``.

    ``sender`` in the protocol calls is an account address; each account must first be added
    with :meth:`add_party` (its signer and journal). Reads (:meth:`bit_record`,
    :meth:`check_bit_opening`) need no party: the platform uses them.

    Parameters
    ----------
    conn : Connection
        Node and deployment.
    log : TxLog, optional
        Where every commit and reveal transaction is recorded (a new one by default).
    receipt_timeout : float
        Seconds to wait for each receipt.
    """

    def __init__(self, conn: Connection, *, log: TxLog | None = None, receipt_timeout: float = 120.0) -> None:
        self.conn = conn
        self.log = TxLog() if log is None else log
        self._parties = _Parties(conn, receipt_timeout)
        self._reader = CommitmentVerifierClient(conn)
        self._payloads: dict[bytes, bytes] = {}  # commitment -> payload, from BitRevealed events
        self._lock = threading.Lock()

    def add_party(self, signer: Signer, journal: Journal) -> str:
        """Let ``signer`` act on the board with ``journal``; returns its address (the ``sender``)."""
        return self._parties.add(signer, journal).signer.address  # type: ignore[union-attr]

    # ------------------------------------------------------------------ protocol

    def commit_bit(self, commitment: bytes, r1: bytes, *, sender: str) -> None:
        """Publish ``commitment`` with ``r1`` from ``sender``, from the opening in its journal."""
        commitment, r1 = _b32(commitment, "commitment"), _b32(r1, "r1")
        client = self._parties.get(sender)
        assert client.journal is not None
        stored = client.journal.get(bit_opening_key(self.conn, commitment))
        if stored is None:
            raise UnjournaledOpeningError(commitment, client.journal)
        if bytes(stored["r1"]) != r1:
            raise InputError(f"r1 given for 0x{commitment.hex()} differs from the journaled opening's r1")
        opening = BitOpening(bytes(stored["r1"]), bytes(stored["r2"]), bytes(stored["payload"]))
        try:
            tx = client.commit_bit(opening, label=str(stored.get("label", "")))
        except ContractRevertError as exc:
            raise _mirrored(exc, _bit_error)
        self.log.add(TxRecord.from_result("commitBit", client.signer.address, tx,  # type: ignore[union-attr]
                                          subject="0x" + commitment.hex()))

    def reveal_bit(self, commitment: bytes, r2: bytes, payload: bytes, *, sender: str) -> bool:
        """Open ``commitment`` on chain; True when the chain accepted it, else the mirrored error.

        An opening equal to the journaled one goes through the verifier client (with its
        checks); any other opening is sent unchecked, so that the chain itself judges it.
        """
        commitment, r2 = _b32(commitment, "commitment"), _b32(r2, "r2")
        if not isinstance(payload, (bytes, bytearray)):
            raise InputError(f"payload must be bytes, got {type(payload).__name__}")
        payload = bytes(payload)
        client = self._parties.get(sender)
        me = client.signer.address  # type: ignore[union-attr]
        opening = client.bit_opening(commitment)
        subject = "0x" + commitment.hex()
        if opening is not None and opening.r2 == r2 and opening.payload == payload:
            try:
                tx = client.reveal_bit(commitment)
            except ContractRevertError as exc:
                raise _mirrored(exc, _bit_error)
            self.log.add(TxRecord.from_result("revealBit", me, tx, subject=subject))
            receipt = tx.receipt
        else:
            assert client.sender is not None
            data = client.contract.functions.revealBit(commitment, r2, payload)._encode_transaction_data()
            digest = keccak(r2 + payload).hex()[:16]
            outcome = send_unchecked(client.sender, client.address, data, kind="revealBit", subject=subject,
                                     intent_id=f"revealBit/{_prefix(self.conn)}/{subject}/{me}/other-{digest}")
            self.log.add(outcome.record)
            if outcome.error is not None:
                raise _mirrored(outcome.error, _bit_error)
            receipt = client.conn.w3.eth.get_transaction_receipt(outcome.record.tx_hash)  # type: ignore[arg-type]
        for event in self._reader.contract.events.BitRevealed().process_receipt(receipt, errors=DISCARD):
            with self._lock:
                self._payloads[bytes(event["args"]["commitment"])] = bytes(event["args"]["payload"])
        return True

    def bit_record(self, commitment: bytes) -> BitRecord | None:
        """The on-chain record; for an opened commitment, the payload of its ``BitRevealed`` event."""
        rec = self._reader.bit_record(_b32(commitment, "commitment"))
        if rec.committer is None:
            return None
        payload = self._revealed_payload(rec.commitment) if rec.revealed else None
        return BitRecord(rec.committer, rec.r1 or bytes(32), rec.revealed, payload)

    def check_bit_opening(self, commitment: bytes, r2: bytes, payload: bytes) -> bool:
        """``checkBitOpening`` (a view): whether (r1 on record, r2, payload) opens ``commitment``."""
        if len(r2) != 32 or not isinstance(payload, (bytes, bytearray)) or not 1 <= len(payload) <= MAX_PAYLOAD:
            return False
        fn = self._reader.contract.functions.checkBitOpening(bytes(commitment), bytes(r2), bytes(payload))
        return bool(_call(fn))

    def _revealed_payload(self, commitment: bytes) -> bytes | None:
        with self._lock:
            cached = self._payloads.get(commitment)
        if cached is not None:
            return cached
        logs = self._reader.contract.events.BitRevealed().get_logs(
            from_block=self.conn.deployment.block_number, to_block="latest",
            argument_filters={"commitment": commitment})
        if not logs:
            return None
        payload = bytes(logs[-1]["args"]["payload"])
        with self._lock:
            self._payloads[commitment] = payload
        return payload


# -------------------------------------------------------------------------------- PDC


def _blinding_error(exc: ContractRevertError) -> Exception:
    """The :mod:`crowdsense.ldpf.pdc.errors` class that mirrors a CommitmentVerifier revert."""
    for client_cls, pdc_cls in ((AlreadyCommittedError, pdc_errors.CommitmentAlreadyRecorded),
                                (CommitmentNotFoundError, pdc_errors.CommitmentNotFound),
                                (NotCommitterError, pdc_errors.NotCommitter),
                                (AlreadyRevealedError, pdc_errors.CommitmentAlreadyRevealed),
                                (OpeningMismatchError, pdc_errors.OpeningMismatch)):
        if isinstance(exc, client_cls):
            return pdc_cls(str(exc))
    return exc


class ChainBlindingBoard:
    """:class:`~crowdsense.ldpf.pdc.board.CommitmentBoard` on ``CommitmentVerifier``, seen from one account.

    Parameters
    ----------
    conn : Connection
        Node and deployment.
    signer : Signer, optional
        The acting account (a receiver). Without it the view is read-only (the platform's):
        commits and reveals are refused.
    journal : Journal, optional
        The receiver's journal (required with ``signer``).
    account : str, optional
        Identity of a read-only view (default ``"platform"``).
    log : TxLog, optional
        Where commit and reveal transactions are recorded.

    Examples
    --------
    >>> platform_view = ChainBlindingBoard(conn)                          # doctest: +SKIP
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
        if signer is not None:
            if journal is None:
                raise InputError("a receiver's board view needs its journal")
            self._client = self._parties.add(signer, journal)
            self._account = signer.address
        else:
            self._account = account or "platform"

    def as_account(self, signer: Signer, journal: Journal) -> ChainBlindingBoard:
        """A view of the same board acting as ``signer`` (sharing this view's log)."""
        return ChainBlindingBoard(self.conn, signer, journal=journal, log=self.log, _parties=self._parties)

    @property
    def account(self) -> str:
        return self._account

    def _acting(self) -> CommitmentVerifierClient:
        if self._client is None:
            raise InputError(f"the board view of {self._account!r} is read-only (no signer)")
        return self._client

    def commit_blinding(self, commitment: bytes) -> None:
        """Publish ``commitment`` from this account, from the opening in its journal."""
        commitment = _b32(commitment, "commitment")
        client = self._acting()
        assert client.journal is not None
        stored = client.journal.get(blinding_opening_key(self.conn, commitment))
        if stored is None:
            raise UnjournaledOpeningError(commitment, client.journal)
        opening = BlindingOpening(int(stored["r"]), bytes(stored["salt"]))
        try:
            tx = client.commit_blinding(opening, label=str(stored.get("label", "")))
        except ContractRevertError as exc:
            raise _mirrored(exc, _blinding_error)
        self.log.add(TxRecord.from_result("commitBlinding", self._account, tx, subject="0x" + commitment.hex()))

    def reveal_blinding(self, commitment: bytes, r: int, salt: bytes) -> None:
        """Open this account's ``commitment`` on chain with ``(r, salt)``.

        The journaled opening goes through the verifier client; any other ``(r, salt)`` (a
        lying receiver) is sent unchecked and refused by the chain.
        """
        commitment, salt = _b32(commitment, "commitment"), _b32(salt, "salt")
        if isinstance(r, bool) or not isinstance(r, int) or not 0 <= r <= _UINT256_MAX:
            raise InputError(f"r must be an int in [0, 2**256 - 1], got {r!r}")
        client = self._acting()
        subject = "0x" + commitment.hex()
        opening = client.blinding_opening(commitment)
        if opening is not None and opening.r == r and opening.salt == salt:
            try:
                tx = client.reveal_blinding(commitment)
            except ContractRevertError as exc:
                raise _mirrored(exc, _blinding_error)
            self.log.add(TxRecord.from_result("revealBlinding", self._account, tx, subject=subject))
            return
        assert client.sender is not None
        data = client.contract.functions.revealBlinding(commitment, r, salt)._encode_transaction_data()
        digest = keccak(r.to_bytes(32, "big") + salt).hex()[:16]
        outcome = send_unchecked(client.sender, client.address, data, kind="revealBlinding", subject=subject,
                                 intent_id=f"revealBlinding/{_prefix(self.conn)}/{subject}/{self._account}/other-{digest}")
        self.log.add(outcome.record)
        if outcome.error is not None:
            raise _mirrored(outcome.error, _blinding_error)

    def check_blinding(self, commitment: bytes, r: int, salt: bytes) -> bool:
        """``checkBlindingOpening`` (a view): recorded, and ``keccak256(abi.encode(r, salt))`` matches."""
        commitment = _b32(commitment, "commitment")
        if isinstance(r, bool) or not isinstance(r, int) or not 0 <= r <= _UINT256_MAX:
            return False
        if not isinstance(salt, (bytes, bytearray)) or len(salt) != 32:
            return False
        fn = self._reader.contract.functions.checkBlindingOpening(commitment, r, bytes(salt))
        return bool(_call(fn))

    def blinding_record(self, commitment: bytes) -> BlindingRecord | None:
        rec = self._reader.blinding_record(_b32(commitment, "commitment"))
        if rec.committer is None:
            return None
        return BlindingRecord(committer=Web3.to_checksum_address(rec.committer), revealed=rec.revealed)
