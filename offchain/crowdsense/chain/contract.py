"""What every contract client shares: one account, its sender, and reads with typed reverts.

A client (:class:`~crowdsense.chain.registry.TaskRegistryClient`,
:class:`~crowdsense.chain.verifier.CommitmentVerifierClient`) is one account's view of one
deployed contract. :class:`ContractClient` holds the parts that do not depend on the contract:

* the connection, the optional signer and journal, and a :class:`~crowdsense.chain.txsend.TxSender`
  made on first use (so read-only work never touches a journal), or one shared with another
  client of the same account so both draw from one nonce sequence;
* the scope of the client's journal keys and intent ids, ``<chainId>/<contract address>``;
* reads through :func:`~crowdsense.chain.reverts.call_decoded`, so a view that reverts raises
  the contract's typed error;
* sends as journaled intents, either checked (gas estimated first: a doomed call raises its
  typed error before anything is signed) or unchecked (mined even if the contract refuses it).
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any, TypedDict

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import function_signature_to_4byte_selector
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.types import RPCEndpoint

from crowdsense.chain.accounts import Signer
from crowdsense.chain.connection import Connection
from crowdsense.chain.errors import ClientError
from crowdsense.chain.reverts import call_decoded, revert_from_rpc_error
from crowdsense.chain.journal import Journal
from crowdsense.chain.txlog import UncheckedOutcome, send_unchecked
from crowdsense.chain.txsend import TxRecord, TxSender, standing_intent
from crowdsense.errors import InputError

__all__ = ["ClientOptions", "ContractClient", "optional_account"]

_NEEDS_ACCOUNT = "this operation needs an account (--keystore, $CROWDSENSE_PRIVATE_KEY or --dev-account)"


def optional_account(address: str) -> str | None:
    """An address field read from a contract: checksummed, or None when unset (the zero address)."""
    return None if int(address, 16) == 0 else Web3.to_checksum_address(address)


class ClientOptions(TypedDict, total=False):
    """The keyword options of every client (see :class:`ContractClient`)."""

    journal: Journal | None
    sender: TxSender | None
    receipt_timeout: float


class ContractClient:
    """One account's typed access to one deployed contract; subclasses name the contract.

    Parameters
    ----------
    conn : Connection
        From :func:`crowdsense.chain.connection.open_connection`.
    signer : Signer, optional
        Needed for anything that sends or decrypts; reads work without.
    journal : Journal, optional
        Needed to send (every transaction is a journaled intent) and for the client's secrets.
    sender : TxSender, optional
        A sender shared with another client of the same account, else one is made from
        ``signer`` and ``journal`` on first use.
    receipt_timeout : float
        Seconds to wait for each receipt.
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
        self.w3: Web3 = conn.w3
        self.contract: Contract = self._deployed(conn)
        self.signer = signer
        self.journal = journal
        self._tx_sender = sender
        self._sender_lock = threading.Lock()
        self._receipt_timeout = receipt_timeout
        self._views: dict[str, tuple[bytes, list[str], list[str]]] = {}  # name -> selector, inputs, outputs

    @staticmethod
    def _deployed(conn: Connection) -> Contract:
        """This client's contract among the connection's deployed ones."""
        raise NotImplementedError

    def __repr__(self) -> str:
        who = self.signer.address if self.signer else "read-only"
        return f"{type(self).__name__}({self.address} on chain {self.conn.chain_id}, {who})"

    @property
    def address(self) -> str:
        return self.contract.address

    @property
    def prefix(self) -> str:
        """``<chainId>/<contract address>``: the scope of this client's journal keys and intent ids."""
        return f"{self.conn.chain_id}/{self.address}"

    @property
    def sender(self) -> TxSender | None:
        """The account's sender (made on first use, so read-only work touches no journal)."""
        with self._sender_lock:
            if self._tx_sender is None and self.signer is not None:
                self._tx_sender = TxSender(self.w3, self.signer, journal=self.journal,
                                           chain_id=self.conn.chain_id, receipt_timeout=self._receipt_timeout)
        return self._tx_sender

    @property
    def me(self) -> str:
        """This client's account."""
        if self.signer is None:
            raise InputError(_NEEDS_ACCOUNT)
        return self.signer.address

    def _journal(self) -> Journal:
        if self.journal is None:
            raise InputError("this operation needs a journal (--journal)")
        return self.journal

    def _sender(self) -> TxSender:
        """The sender, refusing before any work when the account or the journal is missing."""
        sender = self.sender
        if sender is None:
            raise InputError(_NEEDS_ACCOUNT)
        if sender.journal is None:
            raise InputError("sending needs a journal (the client never sends without journaling first)")
        return sender

    # ------------------------------------------------------------------ intents

    def _intent_id(self, head: str, *parts: object) -> str:
        """``<head>/<chainId>/<contract>/<parts>/<account>``: the same for the same action in every run."""
        return "/".join([head, self.prefix, *map(str, parts), self.me])

    def _intent_stands(self, intent_id: str) -> bool:
        """Whether ``intent_id`` was already sent (or mined): sending it again resumes it."""
        return self.journal is not None and standing_intent(self.journal, intent_id) is not None

    # ------------------------------------------------------------------ calls

    @staticmethod
    def _read(fn: ContractFunction) -> Any:
        """A view call; a revert raises the contract's typed error."""
        return call_decoded(fn.call)

    def call_view(self, name: str, *args: Any) -> tuple[Any, ...]:
        """The view ``name(*args)`` as one raw ``eth_call``, for reads on a hot path.

        The calldata is encoded with eth-abi from the shipped ABI and the answer decoded
        likewise: web3's contract layer and middleware cost about ten times the client CPU of
        the request itself (the PDC platform reads a commitment for every query it answers).
        A revert raises the contract's typed error, as with :meth:`_read`.
        """
        view = self._views.get(name)
        if view is None:
            entry = _function_abi(self.contract, name)
            inputs = [_abi_type(i) for i in entry["inputs"]]
            view = self._views[name] = (function_selector(name, inputs), inputs,
                                        [_abi_type(o) for o in entry["outputs"]])
        selector, inputs, outputs = view
        data = selector + abi_encode(inputs, list(args))
        response = self.w3.provider.make_request(RPCEndpoint("eth_call"),
                                                 [{"to": self.address, "data": "0x" + data.hex()}, "latest"])
        error = response.get("error")
        if error is not None:
            revert = revert_from_rpc_error(error)
            if revert is not None:
                raise revert
            reason = error.get("message", error) if isinstance(error, dict) else error
            raise ClientError(f"eth_call {name} failed: {reason}: expected a node that runs the contract's views")
        return tuple(abi_decode(outputs, bytes.fromhex(str(response["result"])[2:])))

    def _send(self, fn: ContractFunction, *, intent_id: str, kind: str, subject: str = "") -> TxRecord:
        """Send ``fn`` as the journaled intent ``intent_id`` (a revert raises its typed error)."""
        record = self._sender().send({"to": self.address, "data": fn._encode_transaction_data()},
                                     intent_id=intent_id, kind=kind)
        return replace(record, subject=subject) if subject else record

    def send_unchecked(self, fn: ContractFunction, *, intent_id: str, kind: str,
                       subject: str = "") -> UncheckedOutcome:
        """Send ``fn`` with no pre-check and no gas estimate, so the chain judges it.

        See :func:`crowdsense.chain.txlog.send_unchecked`: a refused call is mined, reverted,
        and comes back as ``outcome.error``.
        """
        return send_unchecked(self._sender(), self.address, fn._encode_transaction_data(),
                              intent_id=intent_id, kind=kind, subject=subject)


def function_selector(name: str, input_types: list[str]) -> bytes:
    """The 4-byte selector of ``name(type,...)``."""
    return function_signature_to_4byte_selector(f"{name}({','.join(input_types)})")


def _abi_type(param: Any) -> str:
    """The canonical type of an ABI parameter (structs as ``(t1,t2,...)``, arrays of them kept)."""
    kind = str(param["type"])
    if kind.startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in param["components"]) + ")" + kind[len("tuple"):]
    return kind


def _function_abi(contract: Contract, name: str) -> dict[str, Any]:
    """The ABI entry of the (only) function ``name`` of ``contract``."""
    entries = [e for e in contract.abi if e.get("type") == "function" and e.get("name") == name]
    if len(entries) != 1:
        raise ClientError(f"{name} is not one function of the contract's ABI: expected a view it declares once")
    return entries[0]  # type: ignore[return-value]
