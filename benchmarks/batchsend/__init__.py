"""Load generator of ``throughput.py``: compiled signing, local nonces, JSON-RPC batches.

A load test of the claim path sends *many* transactions from *known keys*, fast enough that
the client never limits what the node is measured at. The client library
(:mod:`crowdsense.chain.txsend`) sends one transaction at a time through web3, journalled so
that a crashed client can resume; that is right for a party of the protocol and too slow for
a load generator, so this stack lives with the benchmarks rather than in the package. Sending
through ``web3.eth.send_transaction`` costs a round trip per transaction, a nonce query per
transaction and eth-account's generic signing path (about 800 signatures/s here, 260/s without
a compiled backend). :class:`BatchSender` removes each of those costs:

* **Signing** goes straight to libsecp256k1 through ``coincurve`` (RFC 6979 deterministic,
  low-s), over a minimal RLP encoder for the two transaction types it emits: EIP-1559
  (type 2) and EIP-155 legacy. The raw bytes are identical to eth-account's for the same
  fields (the test-suite checks it), at roughly 10x the rate.
* **Nonces** are read once per sender (``eth_getTransactionCount(addr, "pending")``) and then
  counted locally. A nonce is consumed only when the node *accepts* the transaction; a
  rejected send hands its nonce back and the sender's next transaction reuses it, so no
  accepted nonce is ever reused and gaps are filled.
* **Sending** packs ``eth_sendRawTransaction`` calls into JSON-RPC batches (one HTTP request
  for up to ``batch_size`` transactions), with ``max_in_flight`` requests outstanding so that
  signing overlaps the node's work.
* **Receipts** are found by a background thread, also in batches: it follows new blocks and
  fetches each block's receipts with one ``eth_getBlockReceipts`` call, so the node answers
  one call per block rather than one per transaction. Nodes without that call (Ganache) are
  asked per transaction, once right after the send and again only when the head moves.
* **Pacing**: ``send(calls, rate=R)`` schedules transaction *i* at ``t0 + i / R``; without a
  rate it sends as fast as the node accepts (saturation).
* **Processes**: ``processes=P`` splits the senders into P disjoint groups, each sent by its
  own process (its own nonces, batches and receipt poller) at ``R / P``. Useful when the node
  runs elsewhere and the client has spare cores.

Every transaction yields a :class:`TxRecord` (send time, hash, inclusion block, confirmation
time, status, error); :func:`summarize` turns a list of them into throughput and latency
figures, and :func:`raise_for_failures` turns failures into one :class:`BatchFailedError`.

Modules: :mod:`.signing` (RLP and secp256k1 signing), :mod:`.rpc` (batched JSON-RPC),
:mod:`.records` (what happened to each transaction, and the statistics), :mod:`.sender`
(:class:`BatchSender` and its receipt poller), :mod:`.errors`.

Example
-------
>>> sender = BatchSender("http://127.0.0.1:8545", keys)          # doctest: +SKIP
>>> calls = [Call(to=registry, data=claim_data(t, i), sender=k, gas=120_000) for ...]
>>> records = sender.send(calls, rate=400)                       # doctest: +SKIP
>>> raise_for_failures(records)                                  # doctest: +SKIP
>>> summarize(records).throughput                                # doctest: +SKIP

Times are Unix epoch seconds (``time.time()``) so that records from several processes can
be merged. Preparation (chain id, fees, nonces, gas estimates) happens before the first send
and is not part of any record.
"""

from batchsend.errors import BatchError, BatchFailedError, NodeConnectionError, RpcError
from batchsend.records import BatchStats, Call, TxRecord, raise_for_failures, summarize
from batchsend.rpc import RpcClient
from batchsend.sender import BatchSender
from batchsend.signing import SignedTx, address_of, contract_address, keccak256, sign_transaction

__all__ = [
    "BatchError",
    "RpcError",
    "NodeConnectionError",
    "BatchFailedError",
    "SignedTx",
    "Call",
    "TxRecord",
    "BatchStats",
    "RpcClient",
    "BatchSender",
    "keccak256",
    "address_of",
    "contract_address",
    "sign_transaction",
    "summarize",
    "raise_for_failures",
]
