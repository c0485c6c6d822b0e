"""Never lose, never duplicate: crashes, lost responses, timeouts and concurrent sends."""

from __future__ import annotations

import signal
from concurrent.futures import ThreadPoolExecutor

import pytest

from crowdsense.chain.accounts import dev_signer
from crowdsense.chain.errors import NodeUnavailableError, ReceiptTimeoutError
from crowdsense.chain.journal import Journal
from crowdsense.chain.registry import TaskRegistryClient
from crowdsense.pmcb.tasks import decompose
from crowdsense.chain.txsend import TxSender

# A child process that runs one client operation (or `crowdsense deploy`, writing the deployment
# file) and SIGKILLs itself at a chosen point:
#   after-journal  the signed transaction is journaled, not yet broadcast
#   after-send     the transaction is broadcast (and mined by Anvil), the receipt not yet read
CRASHING_CLIENT = r"""
import os, signal, sys
from crowdsense.chain.accounts import dev_signer
from crowdsense.chain.connection import open_connection
from crowdsense.chain.journal import Journal
from crowdsense.chain.registry import TaskRegistryClient
from crowdsense.chain.store import SubtaskStore
from crowdsense.pmcb.tasks import decompose
from crowdsense.chain.txsend import TxSender

url, deployment, journal, store, account, point, op, *args = sys.argv[1:]

def die(*_a, **_k):
    os.kill(os.getpid(), signal.SIGKILL)

if point == "after-journal":
    TxSender._broadcast = die
elif point == "after-send":
    TxSender.wait_for_receipt = die

if op == "deploy":
    from crowdsense.cli.main import main
    main(["deploy", "--rpc-url", url, "--out", deployment, "--journal", journal, "--dev-account", account,
          *args])
    print("finished without crashing")
    sys.exit(0)
client = TaskRegistryClient(open_connection(url, deployment), dev_signer(int(account)),
                            journal=Journal(journal), store=SubtaskStore(store))
if op == "claim":
    client.claim(int(args[0]), int(args[1]))
elif op == "release":
    client.release_task(decompose(args[0], args[1:], num_levels=3))
print("finished without crashing")
"""


def _crash(python_subprocess, env, journal, account, point, op, *args, deployment=None):
    proc = python_subprocess(CRASHING_CLIENT, env.url, str(deployment or env.deployment_path), str(journal),
                             str(env.store.root), str(account), point, op, *map(str, args))
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]


def _claims(env, task_id):
    return env.conn.registry.events.SubtaskClaimed().get_logs(
        from_block=0, to_block="latest", argument_filters={"taskId": task_id})


def _nonce(env, signer):
    return env.conn.w3.eth.get_transaction_count(signer.address)


# ---------------------------------------------------------------------------- crash and resume


@pytest.mark.parametrize("point", ["after-journal", "after-send"])
def test_claim_killed_then_resumed_claims_once(env, release_task, python_subprocess, point):
    released = release_task()
    bob = env.roles.bob
    journal = env.journal_path(f"bob-crash-{point}")
    nonce_before = _nonce(env, bob)
    _crash(python_subprocess, env, journal, 4, point, "claim", released.task_id, 1)

    intent = Journal(journal).open_intents()[0]
    assert intent.kind == "claim" and intent.status == ("prepared" if point == "after-journal" else "sent")

    client = env.client(bob, f"bob-crash-{point}")
    result = client.claim(released.task_id, 1)
    assert result.tx is not None and result.tx.resumed and result.tx.tx_hash == intent.tx_hash
    assert len(_claims(env, released.task_id)) == 1
    assert _nonce(env, bob) == nonce_before + 1  # exactly one transaction was ever mined
    assert client.journal.intent(intent.intent_id).status == "confirmed"


def test_release_killed_before_broadcast_keeps_keys_and_releases_once(env, python_subprocess):
    releaser = env.roles.releaser
    name = "releaser-crash"
    count_before = TaskRegistryClient(env.conn).task_count()
    parts = ["crash street", "crash home", "crash bedroom"]
    _crash(python_subprocess, env, env.journal_path(name), 2, "after-journal", "release", "crash task", *parts)

    client = env.client(releaser, name)
    released = client.release_task(decompose("crash task", parts, num_levels=3))
    assert released.tx.resumed
    assert client.task_count() == count_before + 1
    # The keys journaled before the crash are the ones that decrypt the released subtasks.
    env.client(env.roles.dave, "dave").claim(released.task_id, 2)
    client.hand_over_keys([released.task_id])
    assert env.client(env.roles.dave, "dave").fetch_subtask(released.task_id, 2).text == "crash bedroom"


#: The deployer of the deploy tests: an account no other test of this suite sends from.
DEPLOYER = 9


def _deploy_cli(run_cli, env, journal, out, *extra):
    return run_cli("deploy", "--rpc-url", env.url, "--levels", 3, "--out", out, "--journal", journal,
                   "--dev-account", DEPLOYER, *extra)


def _created(env, deployment_file):
    """The deployer's role on the TaskRegistry the file names (the file checks out on the node)."""
    from crowdsense.chain.connection import open_connection

    conn = open_connection(env.url, deployment_file, retries=1, backoff=0.05)
    reader = TaskRegistryClient(conn)
    return conn.registry_address, reader.has_role("admin", dev_signer(DEPLOYER).address)


@pytest.mark.parametrize("point", ["after-journal", "after-send"])
def test_deploy_killed_then_rerun_finishes_the_same_deployment(env, python_subprocess, run_cli, tmp_path,
                                                                point):
    journal, out = tmp_path / "deployer.sqlite", tmp_path / "deployment.json"
    nonce_before = _nonce(env, dev_signer(DEPLOYER))
    _crash(python_subprocess, env, journal, DEPLOYER, point, "deploy", "--levels", 3, deployment=out)
    assert not out.exists()
    with Journal(journal) as j:
        (intent,) = j.open_intents()
    assert intent.kind == "deploy TaskRegistry"
    assert intent.status == ("prepared" if point == "after-journal" else "sent")

    rerun = _deploy_cli(run_cli, env, journal, out, "--json")
    assert rerun.code == 0, rerun.stderr
    report = rerun.json()
    assert report["outcome"] == "resumed" and report["transactions"]["TaskRegistry"] == intent.tx_hash
    # one TaskRegistry and one CommitmentVerifier were ever created: no orphaned set
    assert _nonce(env, dev_signer(DEPLOYER)) == nonce_before + 2
    address, deployer_is_admin = _created(env, out)
    receipt = env.conn.w3.eth.get_transaction_receipt(intent.tx_hash)
    assert address == receipt["contractAddress"] and deployer_is_admin


def test_deploy_rerun_after_success_sends_nothing_and_new_deploys_another_set(env, run_cli, tmp_path):
    journal, out = tmp_path / "deployer.sqlite", tmp_path / "deployment.json"
    first = _deploy_cli(run_cli, env, journal, out, "--json")
    assert first.code == 0 and first.json()["outcome"] == "deployed", first.stderr
    nonce = _nonce(env, dev_signer(DEPLOYER))

    out.unlink()
    again = _deploy_cli(run_cli, env, journal, out)
    assert again.code == 0 and "--new" in again.stdout, again.stderr
    assert _nonce(env, dev_signer(DEPLOYER)) == nonce
    assert _created(env, out)[0] == first.json()["contracts"]["TaskRegistry"]["address"]

    other = _deploy_cli(run_cli, env, journal, out, "--levels", 4)
    assert other.code == 1 and "--new" in other.stderr and _nonce(env, dev_signer(DEPLOYER)) == nonce

    second = _deploy_cli(run_cli, env, journal, out, "--new", "--json")
    assert second.code == 0 and second.json()["outcome"] == "deployed", second.stderr
    assert _nonce(env, dev_signer(DEPLOYER)) == nonce + 2
    assert _created(env, out)[0] != first.json()["contracts"]["TaskRegistry"]["address"]


def test_resume_after_nonce_taken_sends_a_new_attempt_once(env, release_task, monkeypatch):
    released = release_task()
    carol = env.roles.carol
    client = env.client(carol, "carol-nonce")

    class Crash(BaseException):
        pass

    def crash(self, raw, tx_hash):
        raise Crash

    monkeypatch.setattr(TxSender, "_broadcast", crash)
    with pytest.raises(Crash):
        client.claim(released.task_id, 1)
    monkeypatch.undo()
    stale = client.journal.open_intents()[0]
    # Another transaction of carol's takes the journaled nonce.
    env.client(carol, "carol-other").submit_data(*_carol_claimed_elsewhere(env, release_task), data=b"x")
    assert _nonce(env, carol) > stale.nonce

    fresh = env.client(carol, "carol-nonce")
    outcome = fresh.sender.resume_pending()
    assert [o.error for o in outcome] == [None]
    intent = fresh.journal.intent(stale.intent_id)
    assert intent.status == "confirmed" and intent.attempt == 2 and intent.tx_hash != stale.tx_hash
    assert len(_claims(env, released.task_id)) == 1


def _carol_claimed_elsewhere(env, release_task):
    other = release_task()
    env.client(env.roles.carol, "carol-other").claim(other.task_id, 1)
    return other.task_id, 1


def test_receipt_timeout_leaves_intent_for_resume(env, release_task, node_rpc):
    released = release_task()
    client = env.client(env.roles.erin, "erin-timeout", receipt_timeout=0.3)
    node_rpc("evm_setAutomine", [False])
    try:
        with pytest.raises(ReceiptTimeoutError, match="crowdsense resume"):
            client.claim(released.task_id, 0)
        intent = client.journal.open_intents()[0]
        assert intent.status == "sent"
    finally:
        node_rpc("evm_setAutomine", [True])
    node_rpc("evm_mine")
    again = env.client(env.roles.erin, "erin-timeout").claim(released.task_id, 0)
    assert again.tx is not None and again.tx.resumed and again.tx.tx_hash == intent.tx_hash
    assert len(_claims(env, released.task_id)) == 1


# ---------------------------------------------------------------------------- transient RPC errors


def _client_via(proxy_url, env, signer, name):
    from crowdsense.chain.connection import open_connection

    conn = open_connection(proxy_url, env.deployment_path, retries=4, backoff=0.01)
    return TaskRegistryClient(conn, signer, journal=Journal(env.journal_path(name)), store=env.store)


def test_claim_through_failing_node_is_retried(env, release_task, flaky_proxy):
    released = release_task()
    client = _client_via(flaky_proxy.url, env, env.roles.dave, "dave-flaky")
    flaky_proxy.fail_next = 3
    result = client.claim(released.task_id, 2)
    assert result.tx is not None and flaky_proxy.failures == 3
    assert len(_claims(env, released.task_id)) == 1


def test_lost_send_response_is_retried_without_duplicate(env, release_task, flaky_proxy):
    """The node accepts the transaction but the answer is lost: the retry re-sends the same
    signed bytes, which the node knows already; one claim, one nonce."""
    released = release_task()
    alice = env.roles.alice
    client = _client_via(flaky_proxy.url, env, alice, "alice-lost")
    nonce_before = _nonce(env, alice)
    flaky_proxy.drop_after_forward = {"eth_sendRawTransaction": 1}
    result = client.claim(released.task_id, 0)
    assert result.tx is not None
    assert flaky_proxy.forwarded.count("eth_sendRawTransaction") == 2
    assert len(_claims(env, released.task_id)) == 1 and _nonce(env, alice) == nonce_before + 1


def test_node_down_during_send_keeps_intent_prepared(env, release_task, flaky_proxy):
    released = release_task()
    client = _client_via(flaky_proxy.url, env, env.roles.bob, "bob-down")
    client.conn.w3.provider.retries = 1
    client.conn.w3.provider.backoff = 0.01

    original = TxSender._broadcast

    def down(self, raw, tx_hash):
        flaky_proxy.fail_next = 10**6
        return original(self, raw, tx_hash)

    TxSender._broadcast = down
    try:
        with pytest.raises(NodeUnavailableError, match="unavailable"):
            client.claim(released.task_id, 1)
    finally:
        TxSender._broadcast = original
        flaky_proxy.fail_next = 0
    assert client.journal.open_intents()[0].status == "prepared"
    resumed = env.client(env.roles.bob, "bob-down").claim(released.task_id, 1)
    assert resumed.tx is not None and resumed.tx.resumed
    assert len(_claims(env, released.task_id)) == 1


# ---------------------------------------------------------------------------- concurrency


def _register_in_threads(clients: list, tag: str, level: int) -> list[str]:
    """Each client registers one new account at ``level``, all in threads at once; the hashes of
    their transactions (the first error of any thread is raised)."""
    from crowdsense.chain.accounts import simulation_signer

    def work(i: int) -> str:
        report = clients[i].register_levels({simulation_signer(f"{tag}-{i}").address: level}, skip_unchanged=False)
        return report.batches[0].tx_hash

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        return list(pool.map(work, range(len(clients))))


def _nonces_of(env, hashes: list[str]) -> list[int]:
    return sorted(env.conn.w3.eth.get_transaction(h)["nonce"] for h in hashes)


def test_concurrent_sends_get_distinct_nonces(env):
    registrar = env.client(env.roles.registrar, "registrar-threads")
    start = _nonce(env, env.roles.registrar)
    hashes = _register_in_threads([registrar] * 8, "thread", 1)
    assert _nonces_of(env, hashes) == list(range(start, start + 8))


def test_journal_of_a_reset_chain_is_refused(env):
    from crowdsense.chain.errors import JournalError

    journal = Journal(env.journal_path("reset-chain"))
    journal.put(f"chain/{env.conn.chain_id}", {"genesis": "0x" + "00" * 32})
    with pytest.raises(JournalError, match="the node was reset"):
        TxSender(env.conn.w3, env.roles.alice, journal=journal)


def test_concurrent_clients_of_one_account_share_nonces(env):
    """Separate client objects (own journals, own senders) of one account, in threads."""
    clients = [env.client(env.roles.registrar, f"registrar-own-{i}") for i in range(6)]
    start = _nonce(env, env.roles.registrar)
    hashes = _register_in_threads(clients, "own", 2)
    assert _nonces_of(env, hashes) == list(range(start, start + 6))


def test_a_node_restarted_from_scratch_on_the_same_url_is_sent_its_own_next_nonce():
    """A long-lived process (a service, a test session) outlives its node: the fresh node on the
    same URL counts from zero, and a nonce remembered from the old one would leave every later
    transaction waiting behind a gap."""
    from crowdsense.chain.connection import connect
    from crowdsense.chain.node import LocalNode, free_port

    port, signer, to = free_port(), dev_signer(4), dev_signer(5).address
    first = LocalNode("anvil", port=port).start()
    try:
        sender = TxSender(connect(first.url, retries=1, backoff=0.05), signer, receipt_timeout=10)
        for _ in range(3):
            sender.send({"to": to, "value": 1})
    finally:
        first.stop()
    second = LocalNode("anvil", port=port).start()
    try:
        w3 = connect(second.url, retries=1, backoff=0.05)
        record = TxSender(w3, signer, receipt_timeout=10).send({"to": to, "value": 1})
        assert w3.eth.get_transaction(record.tx_hash)["nonce"] == 0
    finally:
        second.stop()


class _CountingEth:
    """Stands in for ``w3.eth``: a pending count the test sets."""

    def __init__(self) -> None:
        self.pending = 0

    def get_transaction_count(self, address: str, block: str) -> int:
        assert block == "pending"
        return self.pending


def _manager():
    from types import SimpleNamespace

    from crowdsense.chain.txsend import NonceManager

    eth = _CountingEth()
    return NonceManager(SimpleNamespace(eth=eth), dev_signer(1).address), eth


def test_nonce_manager_counts_past_broadcasts_in_flight_only():
    manager, eth = _manager()
    eth.pending = 7
    assert [manager.allocate(), manager.allocate(), manager.allocate()] == [7, 8, 9]  # none broadcast yet
    for nonce in (7, 8, 9):
        manager.settle(nonce)
    eth.pending = 2  # the node forgot them (restarted): its count wins once nothing is in flight
    assert manager.allocate() == 2


def test_nonce_manager_hands_an_unused_nonce_out_again():
    manager, eth = _manager()
    eth.pending = 3
    first, second = manager.allocate(), manager.allocate()
    manager.settle(second, unused=True)  # refused outright: 4 is free again while 3 is in flight
    assert manager.allocate() == second
    manager.settle(first, unused=True)  # not the last one handed out: no rewind past the one in flight
    assert manager.allocate() == second + 1
