""":class:`BatchSender`: sign and send many transactions from known keys, and find their receipts."""

from __future__ import annotations

import bisect
import math
import multiprocessing
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Sequence

import coincurve

from batchsend.errors import BatchError, RpcError
from batchsend.records import REJECTED, Call, TxRecord
from batchsend.rpc import RpcClient
from batchsend.signing import SignedTx, address_bytes, address_of, data_bytes, private_key, sign_transaction
from crowdsense.errors import CrowdsenseError, InputError

__all__ = ["BatchSender"]

_GWEI = 10**9


@dataclass
class _Sender:
    key: coincurve.PrivateKey
    address: str
    next_nonce: int = 0
    free: list[int] = field(default_factory=list)  # nonces handed back by rejected sends, sorted

    def take_nonce(self) -> int:
        if self.free:
            return self.free.pop(0)
        nonce = self.next_nonce
        self.next_nonce += 1
        return nonce

    def give_back(self, nonce: int) -> None:
        bisect.insort(self.free, nonce)


@dataclass
class _Job:
    index: int
    call: Call
    sender: _Sender
    gas: int



class _ReceiptPoller(threading.Thread):
    """Background thread that finds the receipts of sent transactions, in batches.

    Two strategies, chosen by ``mode``:

    * ``"blocks"``: follow the chain from ``start_block`` and fetch each new block's receipts
      with one ``eth_getBlockReceipts`` call (several blocks per HTTP request). The node
      answers one call per *block* instead of one per transaction, which matters when the
      client and the node share a machine.
    * ``"hashes"``: for nodes without ``eth_getBlockReceipts`` (Ganache). Each round reads the
      head first, then asks ``eth_getTransactionReceipt`` for every hash not yet asked and,
      when the head has moved (or every ``_requery_every`` s), for the hashes still waiting.
      Reading the head *before* the receipts keeps this safe: a transaction included at or
      below the recorded head was looked for after its inclusion.

    ``"auto"`` starts with blocks and falls back to hashes if the node refuses the call.
    """

    def __init__(self, url: str, records: dict[str, TxRecord], *, interval: float, batch_size: int,
                 timeout: float, http_timeout: float, mode: str, start_block: int) -> None:
        super().__init__(name="receipt-poller", daemon=True)
        self._rpc = RpcClient(url, timeout=http_timeout)
        self._records = records
        self._interval = interval
        self._batch_size = batch_size
        self._lock = threading.Lock()
        self._unseen: set[str] = set()  # sent, no receipt yet
        self._fresh: deque[str] = deque()  # hash mode: never asked
        self._waiting: dict[str, None] = {}  # hash mode: asked, insertion-ordered (oldest first)
        self._waiting_head = -1
        self._mode = "blocks" if mode in ("auto", "blocks") else "hashes"
        self._fallback = mode == "auto"
        self._next_block = start_block
        self._done = threading.Event()
        self._abort = threading.Event()
        self._deadline = math.inf
        self._drop_check_every = 1.0
        self._requery_every = 0.5
        self._waiting_asked_at = 0.0
        self._next_drop_check = 0.0
        self._receipt_timeout = timeout
        self.error: BaseException | None = None

    @property
    def mode(self) -> str:
        return self._mode

    def add(self, tx_hash: str) -> None:
        """Track a hash the node has accepted."""
        with self._lock:
            if self._records[tx_hash].block_number is None:  # not already found in a block
                self._unseen.add(tx_hash)
                if self._mode == "hashes":
                    self._fresh.append(tx_hash)

    def pending_count(self) -> int:
        """Transactions accepted by the node and not yet found in a block."""
        with self._lock:
            return len(self._unseen)

    def sending_done(self) -> None:
        """No more hashes will come; finish once all are found or ``timeout`` has passed."""
        self._deadline = time.monotonic() + self._receipt_timeout
        self._next_drop_check = time.monotonic() + self._drop_check_every
        self._done.set()

    def stop(self) -> None:
        """Give up at once (the sending side failed)."""
        self._abort.set()

    def run(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # noqa: BLE001 - re-raised by BatchSender.send
            self.error = exc
        finally:
            self._rpc.close()

    def _loop(self) -> None:
        while not self._abort.is_set():
            with self._lock:
                pending = bool(self._unseen)
            if self._done.is_set() and not pending:
                return
            if time.monotonic() > self._deadline:
                return
            start = time.monotonic()
            if self._done.is_set() and start >= self._next_drop_check:
                self._check_dropped()
                self._next_drop_check = start + self._drop_check_every
            busy = False
            if self._mode == "blocks":
                busy = self._round_blocks()
            elif pending:
                self._round_hashes()
                with self._lock:
                    busy = len(self._fresh) >= self._batch_size
            if busy:
                continue
            elapsed = time.monotonic() - start
            if elapsed < self._interval:
                time.sleep(self._interval - elapsed)

    def _found(self, tx_hash: str, receipt: dict[str, Any], now: float) -> None:
        record = self._records[tx_hash]
        with self._lock:
            if record.block_number is not None:
                return
            record.block_number = int(receipt["blockNumber"], 16)
            record.confirm_time = now
            record.status = int(receipt.get("status") or "0x1", 16)
            record.gas_used = int(receipt["gasUsed"], 16)
            self._unseen.discard(tx_hash)
            self._waiting.pop(tx_hash, None)

    def _check_dropped(self) -> None:
        """Flag waiting transactions the node no longer knows (accepted, then discarded).

        A node may accept a transaction into its pool and drop it later, for instance when
        the sender's balance no longer covers it at mining time. Such a hash is unknown to
        ``eth_getTransactionByHash`` (a mined one is known), so it can be reported at once
        rather than after the receipt timeout.
        """
        with self._lock:
            hashes = list(self._unseen)[: self._batch_size]
        if not hashes:
            return
        answers = self._rpc.batch([("eth_getTransactionByHash", [h]) for h in hashes])
        for tx_hash, tx in zip(hashes, answers):
            if tx is None:
                with self._lock:
                    if self._records[tx_hash].block_number is not None:
                        continue
                    self._unseen.discard(tx_hash)
                    self._waiting.pop(tx_hash, None)
                    self._records[tx_hash].error = (
                        "dropped by the node after it was accepted (unknown hash: e.g. the balance did "
                        "not cover it when mined, or another transaction took its nonce)"
                    )

    def _round_blocks(self) -> bool:
        """Fetch the receipts of new blocks; True if more blocks are already waiting."""
        head = int(self._rpc.call("eth_blockNumber"), 16)
        if head < self._next_block:
            return False
        last = min(head, self._next_block + 49)
        blocks = list(range(self._next_block, last + 1))
        answers = self._rpc.batch([("eth_getBlockReceipts", [hex(b)]) for b in blocks])
        now = time.time()
        for number, receipts in zip(blocks, answers):
            if isinstance(receipts, RpcError):
                if not self._fallback:
                    raise receipts
                self._switch_to_hashes()
                return True
            if receipts is None:  # the node announced the block before its receipts: retry it
                return False
            for receipt in receipts:
                tx_hash = str(receipt.get("transactionHash", "")).lower()
                if tx_hash in self._records:
                    self._found(tx_hash, receipt, now)
            self._next_block = number + 1
        return last < head

    def _switch_to_hashes(self) -> None:
        with self._lock:
            self._mode = "hashes"
            self._fresh.extend(h for h in self._unseen if h not in self._waiting)

    def _round_hashes(self) -> None:
        head = int(self._rpc.call("eth_blockNumber"), 16)
        with self._lock:
            query = [self._fresh.popleft() for _ in range(min(len(self._fresh), self._batch_size))]
            waiting = list(self._waiting)
        all_waiting_asked = True
        # Ask the waiting hashes again when the head has moved, and in any case every
        # `_requery_every` seconds (a node may expose a new head a moment before its receipts).
        stale = time.monotonic() - self._waiting_asked_at > self._requery_every
        if waiting and (head > self._waiting_head or stale):
            again = waiting[:max(self._batch_size - len(query), 0)]
            all_waiting_asked = len(again) == len(waiting)
            query += again
        elif waiting:
            all_waiting_asked = False  # the head has not moved: nothing new to find
        if not query:
            return
        answers = self._rpc.batch([("eth_getTransactionReceipt", [h]) for h in query])
        now = time.time()
        for tx_hash, receipt in zip(query, answers):
            if isinstance(receipt, RpcError) or not receipt or receipt.get("blockNumber") is None:
                with self._lock:
                    if tx_hash in self._unseen:
                        self._waiting.pop(tx_hash, None)
                        self._waiting[tx_hash] = None  # (re-)append: oldest asked first next time
                continue
            self._found(tx_hash, receipt, now)
        if all_waiting_asked:
            self._waiting_head = head
            self._waiting_asked_at = time.monotonic()



@dataclass(eq=False)
class BatchSender:
    """Sign and send many transactions from known keys, and track their receipts.

    Parameters
    ----------
    rpc_url : str
        HTTP JSON-RPC endpoint of the node.
    keys : sequence of 32-byte keys (bytes or hex str)
        The sending accounts; ``Call.sender`` refers to them by index or address.
    batch_size : int
        Most ``eth_sendRawTransaction`` calls in one HTTP request (unpaced sending fills
        batches; paced sending sends whatever is due, usually a few).
    max_in_flight : int
        HTTP send requests outstanding at once (1 = strictly sequential). Two let signing
        overlap the node's work.
    max_pending : int or None
        Unpaced sending only: at most this many transactions sent and not yet included
        (per process); ``None`` = no limit. A window of a few batches measures the rate the
        node sustains without piling thousands of transactions into its pool.
    processes : int
        Sender processes; the senders are split into this many disjoint groups.
    gas : int or None
        Default gas limit for calls without one; ``None`` estimates (batched, before sending).
    gas_margin : float
        Factor applied to estimates.
    legacy : bool
        Send EIP-155 legacy transactions with ``gas_price`` instead of EIP-1559 ones.
    max_fee_per_gas, max_priority_fee_per_gas, gas_price : int or None
        Fees in wei; ``None`` derives them from the node: tip 1 gwei, max fee
        ``2 * baseFee + tip`` (room for the base fee to double), legacy price ``eth_gasPrice``.
    poll_interval : float
        Seconds between receipt polls.
    receipts : {"auto", "blocks", "hashes"}
        How receipts are found: ``"blocks"`` follows new blocks with ``eth_getBlockReceipts``
        (one node call per block), ``"hashes"`` asks ``eth_getTransactionReceipt`` per
        transaction (any node); ``"auto"`` tries blocks and falls back to hashes.
    receipt_timeout : float
        Seconds after the last send to wait for outstanding receipts.
    http_timeout : float
        Seconds to wait for one HTTP answer.
    """

    rpc_url: str
    keys: Sequence[bytes | str] = field(repr=False)
    _: KW_ONLY
    batch_size: int = 100
    max_in_flight: int = 2
    max_pending: int | None = None
    processes: int = 1
    gas: int | None = None
    gas_margin: float = 1.25
    legacy: bool = False
    max_fee_per_gas: int | None = None
    max_priority_fee_per_gas: int | None = None
    gas_price: int | None = None
    poll_interval: float = 0.01
    receipts: str = "auto"
    receipt_timeout: float = 60.0
    http_timeout: float = 60.0
    addresses: list[str] = field(init=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise InputError("keys must hold at least one private key; got none")
        for name, low in (("batch_size", 1), ("max_in_flight", 1), ("processes", 1)):
            number = getattr(self, name)
            if not isinstance(number, int) or number < low:
                raise InputError(f"{name} must be an int >= {low}; got {number!r}")
        if self.gas is not None and (not isinstance(self.gas, int) or self.gas < 21_000):
            raise InputError(f"gas must be an int >= 21000 or None; got {self.gas!r}")
        if not self.gas_margin >= 1.0:
            raise InputError(f"gas_margin must be >= 1; got {self.gas_margin!r}")
        for name in ("poll_interval", "receipt_timeout", "http_timeout"):
            if not getattr(self, name) > 0:
                raise InputError(f"{name} must be > 0 seconds; got {getattr(self, name)!r}")
        if self.processes > len(self.keys):
            raise InputError(f"processes must not exceed the number of keys ({len(self.keys)}); got {self.processes}")
        if self.max_pending is not None and (not isinstance(self.max_pending, int) or self.max_pending < 1):
            raise InputError(f"max_pending must be an int >= 1 or None; got {self.max_pending!r}")
        if self.receipts not in ("auto", "blocks", "hashes"):
            raise InputError(f"receipts must be 'auto', 'blocks' or 'hashes'; got {self.receipts!r}")
        self._keys = [private_key(k) for k in self.keys]
        self.addresses = [address_of(k) for k in self._keys]
        if len(set(self.addresses)) != len(self.addresses):
            raise InputError("keys must be distinct; got the same key twice")
        self._by_address = {a.lower(): i for i, a in enumerate(self.addresses)}
        RpcClient(self.rpc_url)  # validates the URL early

    def __repr__(self) -> str:
        return f"BatchSender({self.rpc_url}, {len(self._keys)} keys, processes={self.processes})"

    # ------------------------------------------------------------------ public

    def sender_index(self, sender: int | str | None, position: int) -> int:
        """Index of the key that sends a call (``position`` picks round-robin for ``None``)."""
        if sender is None:
            return position % len(self._keys)
        if isinstance(sender, bool) or not isinstance(sender, (int, str)):
            raise InputError(f"Call.sender must be a key index, an address or None; got {sender!r}")
        if isinstance(sender, int):
            if not 0 <= sender < len(self._keys):
                raise InputError(f"Call.sender index must be in [0, {len(self._keys) - 1}]; got {sender}")
            return sender
        try:
            return self._by_address[sender.lower()]
        except KeyError:
            raise InputError(f"Call.sender {sender} is not one of this sender's keys") from None

    def send(self, calls: Sequence[Call], rate: float | None = None, *,
             presign: bool = False) -> list[TxRecord]:
        """Send ``calls`` and wait for their receipts; one :class:`TxRecord` per call, in order.

        Parameters
        ----------
        calls : sequence of Call
        rate : float or None
            Transactions per second over all processes (call *i* is due at ``t0 + i / rate``);
            ``None`` sends as fast as possible.
        presign : bool
            Sign everything before the first send (then signing cost is not in the records'
            times). Default: sign each batch just before sending it.

        Failures do not raise: a rejected send has ``error`` set, a revert ``status == 0``, a
        transaction without receipt after ``receipt_timeout`` ``status is None``. Use
        :func:`raise_for_failures` to turn them into an exception. Raises
        :class:`NodeConnectionError` if the node goes away.
        """
        if rate is not None and not (isinstance(rate, (int, float)) and rate > 0 and math.isfinite(rate)):
            raise InputError(
                f"rate must be a positive number of transactions per second or None; got {rate!r}")
        calls = list(calls)
        for i, call in enumerate(calls):
            if not isinstance(call, Call):
                raise InputError(f"calls[{i}] must be a Call; got {type(call).__name__}")
        if not calls:
            return []
        owners = [self.sender_index(c.sender, i) for i, c in enumerate(calls)]
        if self.processes == 1:
            return self._send_here(calls, owners, list(range(len(calls))), rate, presign, None, 0, 1)
        return self._send_processes(calls, owners, rate, presign)

    # ------------------------------------------------------------- internals

    def _send_processes(self, calls: list[Call], owners: list[int], rate: float | None,
                        presign: bool) -> list[TxRecord]:
        groups = [sorted({o for o in owners if o % self.processes == p}) for p in range(self.processes)]
        groups = [g for g in groups if g]
        # fork: the workers inherit the keys in memory (they are never pickled).
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        ctx = multiprocessing.get_context(method)
        barrier = ctx.Barrier(len(groups))
        results = ctx.Queue()
        procs = []
        for p, group in enumerate(groups):
            members = set(group)
            positions = [i for i, o in enumerate(owners) if o in members]
            proc = ctx.Process(
                target=_worker,
                args=(self, calls, owners, positions, rate, presign, barrier, results, p, len(groups)),
                daemon=True,
            )
            proc.start()
            procs.append(proc)
        out: list[TxRecord | None] = [None] * len(calls)
        errors: list[str] = []
        for _ in procs:
            kind, payload = results.get()
            if kind == "error":
                errors.append(payload)
            else:
                for record in payload:
                    out[record.index] = record
        for proc in procs:
            proc.join()
        if errors:
            raise BatchError(f"a sender process failed: {errors[0]}")
        if any(r is None for r in out):
            raise BatchError("a sender process returned fewer records than it was given")
        return out  # type: ignore[return-value]

    def _fees(self, rpc: RpcClient) -> dict[str, int]:
        if self.legacy or self.gas_price is not None:
            price = self.gas_price if self.gas_price is not None else int(rpc.call("eth_gasPrice"), 16)
            return {"gas_price": price}
        tip = self.max_priority_fee_per_gas if self.max_priority_fee_per_gas is not None else _GWEI
        if self.max_fee_per_gas is not None:
            return {"max_fee_per_gas": self.max_fee_per_gas,
                    "max_priority_fee_per_gas": min(tip, self.max_fee_per_gas)}
        block = rpc.call("eth_getBlockByNumber", ["latest", False])
        base = block.get("baseFeePerGas") if block else None
        if base is None:  # pre-London chain: fall back to legacy pricing
            return {"gas_price": int(rpc.call("eth_gasPrice"), 16)}
        return {"max_fee_per_gas": 2 * int(base, 16) + tip, "max_priority_fee_per_gas": tip}

    def _prepare(self, rpc: RpcClient, calls: list[Call], owners: list[int],
                 positions: list[int]) -> tuple[int, dict[str, int], dict[int, _Sender], list[_Job]]:
        chain_id = int(rpc.call("eth_chainId"), 16)
        fees = self._fees(rpc)
        used = sorted({owners[i] for i in positions})
        counts = rpc.batch([("eth_getTransactionCount", [self.addresses[o], "pending"]) for o in used])
        senders: dict[int, _Sender] = {}
        for o, count in zip(used, counts):
            if isinstance(count, RpcError):
                raise count
            senders[o] = _Sender(key=self._keys[o], address=self.addresses[o], next_nonce=int(count, 16))
        gas: dict[int, int] = {}
        unknown = [i for i in positions if calls[i].gas is None and self.gas is None]
        for start in range(0, len(unknown), 200):
            chunk = unknown[start:start + 200]
            estimates = rpc.batch([
                ("eth_estimateGas", [{
                    "from": self.addresses[owners[i]],
                    **({"to": calls[i].to} if calls[i].to is not None else {}),
                    "data": "0x" + data_bytes(calls[i].data).hex(),
                    "value": hex(calls[i].value),
                }]) for i in chunk
            ])
            for i, estimate in zip(chunk, estimates):
                if isinstance(estimate, RpcError):
                    # The call would revert now; send it anyway with a generous limit so the
                    # revert is recorded on chain rather than hidden.
                    gas[i] = 1_000_000
                else:
                    gas[i] = math.ceil(int(estimate, 16) * self.gas_margin)
        jobs = []
        for i in positions:
            call = calls[i]
            address_bytes(call.to, f"calls[{i}].to")
            g = call.gas if call.gas is not None else (self.gas if self.gas is not None else gas[i])
            if not isinstance(g, int) or g < 21_000:
                raise InputError(f"calls[{i}].gas must be an int >= 21000; got {g!r}")
            jobs.append(_Job(index=i, call=call, sender=senders[owners[i]], gas=g))
        return chain_id, fees, senders, jobs

    def _wait_for_room(self, poller: _ReceiptPoller, outstanding: Any) -> bool:
        """Wait until fewer than ``max_pending`` are pending; False if the node stopped
        including transactions (no progress for ``receipt_timeout`` seconds)."""
        assert self.max_pending is not None
        last_count = outstanding()
        last_progress = time.monotonic()
        while poller.error is None:
            count = outstanding()
            if count < self.max_pending:
                return True
            now = time.monotonic()
            if count < last_count:
                last_count, last_progress = count, now
            elif now - last_progress > self.receipt_timeout:
                return False
            time.sleep(self.poll_interval / 2)
        return True  # the poller's error is raised by the caller

    def _sign(self, job: _Job, chain_id: int, fees: dict[str, int]) -> tuple[int, SignedTx]:
        nonce = job.sender.take_nonce()
        signed = sign_transaction(job.sender.key, chain_id=chain_id, nonce=nonce, gas=job.gas, to=job.call.to,
                                  data=job.call.data, value=job.call.value, **fees)
        return nonce, signed

    def _send_here(self, calls: list[Call], owners: list[int], positions: list[int], rate: float | None,
                   presign: bool, barrier: Any, slot: int, slots: int) -> list[TxRecord]:
        rpc = RpcClient(self.rpc_url, timeout=self.http_timeout)
        try:
            chain_id, fees, senders, jobs = self._prepare(rpc, calls, owners, positions)
            start_block = int(rpc.call("eth_blockNumber"), 16) + 1  # our transactions come after
        finally:
            rpc.close()
        by_hash: dict[str, TxRecord] = {}
        records: list[TxRecord] = []
        nonce_lock = threading.Lock()
        signed_ahead: list[tuple[int, SignedTx]] = []
        if presign:
            signed_ahead = [self._sign(job, chain_id, fees) for job in jobs]
        poller = _ReceiptPoller(self.rpc_url, by_hash, interval=self.poll_interval,
                                batch_size=max(self.batch_size, 200), timeout=self.receipt_timeout,
                                http_timeout=self.http_timeout, mode=self.receipts, start_block=start_block)
        local = threading.local()

        def transmit(batch: list[tuple[_Job, TxRecord, bytes]]) -> None:
            client = getattr(local, "rpc", None)
            if client is None:
                client = local.rpc = RpcClient(self.rpc_url, timeout=self.http_timeout)
            now = time.time()
            for _, record, _ in batch:
                record.send_time = now
            answers = client.send_raw_batch([raw for _, _, raw in batch])
            for (job, record, _), answer in zip(batch, answers):
                if isinstance(answer, RpcError):
                    record.error = f"{REJECTED}: {answer.rpc_message}"
                    with nonce_lock:
                        job.sender.give_back(record.nonce)
                else:
                    if answer is not None and str(answer).lower() != record.tx_hash:
                        record.error = f"node returned hash {answer}, expected {record.tx_hash}"
                    poller.add(record.tx_hash)

        if barrier is not None:
            barrier.wait()
        poller.start()
        pool = ThreadPoolExecutor(max_workers=self.max_in_flight, thread_name_prefix="tx-send")
        in_flight: deque[tuple[Any, set[str], int]] = deque()  # (future, its senders, its size)

        def outstanding() -> int:
            """Accepted and not yet included, plus what is still on its way to the node."""
            return poller.pending_count() + sum(size for f, _, size in in_flight if not f.done())
        t0 = time.time()
        n = len(jobs)
        done = 0
        stalled = False
        try:
            while done < n:
                if rate is not None:
                    # Our k-th job is the (k * slots + slot)-th transaction overall.
                    now = time.time()
                    due = min(n, math.floor(((now - t0) * rate - slot) / slots) + 1)
                    if due <= done:
                        wake = t0 + (done * slots + slot) / rate
                        time.sleep(max(0.0, min(wake - now, 0.05)))
                        continue
                    take = min(due - done, self.batch_size)
                else:
                    take = min(n - done, self.batch_size)
                    # Flow control: at most `max_pending` sent and not yet included, so that
                    # an unpaced run measures what the node sustains instead of filling its
                    # pool (large pools make some nodes slow down or stall).
                    if self.max_pending is not None:
                        if not self._wait_for_room(poller, outstanding):
                            stalled = True
                            break
                        take = min(take, max(1, self.max_pending - outstanding()))
                # Wait for a free slot *before* signing, so that a rejection in the requests
                # already sent has handed its nonce back by the time this batch takes nonces;
                # and never have two requests with the same sender outstanding, so that each
                # sender's nonces reach the node in order.
                senders_here = {jobs[k].sender.address for k in range(done, done + take)}
                while in_flight and (len(in_flight) >= self.max_in_flight
                                     or any(senders_here & busy for _, busy, _ in in_flight)):
                    in_flight.popleft()[0].result()
                batch: list[tuple[_Job, TxRecord, bytes]] = []
                for job_pos in range(done, done + take):
                    job = jobs[job_pos]
                    if presign:
                        nonce, signed = signed_ahead[job_pos]
                    else:
                        with nonce_lock:
                            nonce = job.sender.take_nonce()
                        signed = sign_transaction(job.sender.key, chain_id=chain_id, nonce=nonce,
                                                  gas=job.gas, to=job.call.to, data=job.call.data,
                                                  value=job.call.value, **fees)
                    record = TxRecord(index=job.index, sender=job.sender.address, nonce=nonce,
                                      tx_hash="0x" + signed.hash.hex())
                    by_hash[record.tx_hash] = record
                    records.append(record)
                    batch.append((job, record, signed.raw))
                done += take
                in_flight.append((pool.submit(transmit, batch), senders_here, len(batch)))
                if poller.error is not None:
                    raise poller.error
            while in_flight:
                in_flight.popleft()[0].result()
        except BaseException:
            poller.stop()
            raise
        finally:
            pool.shutdown(wait=True)
            poller.sending_done()
            poller.join()
        if poller.error is not None:
            if isinstance(poller.error, CrowdsenseError):
                raise poller.error
            raise BatchError(f"receipt polling failed: {poller.error!r}") from poller.error
        if stalled:
            reason = (f"not sent: the node included none of the {self.max_pending} pending transactions "
                      f"for {self.receipt_timeout:g} s")
            for job in jobs[done:]:
                records.append(TxRecord(index=job.index, sender=job.sender.address, nonce=-1, tx_hash="",
                                        error=reason))
        for record in records:
            if record.error is None and record.status is None:
                record.error = f"no receipt {self.receipt_timeout:g} s after the last send"
                stuck = [n for n in _free_nonces(senders, record.sender) if n < record.nonce]
                if stuck:
                    record.error += f" (waits behind rejected nonce {stuck[0]}; still in the node's pool)"
        records.sort(key=lambda r: r.index)
        return records


def _free_nonces(senders: dict[int, _Sender], address: str) -> list[int]:
    for sender in senders.values():
        if sender.address == address:
            return sender.free
    return []


def _worker(sender: BatchSender, calls: list[Call], owners: list[int], positions: list[int],
            rate: float | None, presign: bool, barrier: Any, results: Any, slot: int, slots: int) -> None:
    try:
        records = sender._send_here(calls, owners, positions, rate, presign, barrier, slot, slots)
        results.put(("ok", records))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        try:
            barrier.abort()
        except Exception:  # noqa: BLE001
            pass
        results.put(("error", f"{type(exc).__name__}: {exc}"))
