"""Sensing data delivered to the releaser: the claimant encrypts it to the key its subtask
description names, the chain records the ciphertext's hash, and only the releaser opens it."""

from __future__ import annotations

import time

import pytest
from eth_utils import keccak

from crowdsense import ecies
from crowdsense.chain import errors as E
from crowdsense.chain.delivery import collect_data, deliver_data
from crowdsense.errors import DecryptionError, InputError
from crowdsense.pmcb.sealing import data_aad
from crowdsense.pmcb.tasks import decompose


@pytest.fixture
def handed_over(env):
    """A task (levels 1, 2) whose subtask 0 alice claimed and got the key of."""
    releaser = env.client(env.roles.releaser, "releaser")
    plan = decompose(f"delivery {time.time_ns()}", [{"text": "street noise", "level": 1},
                                                     {"text": "noise at home", "level": 2}], num_levels=3)
    released = releaser.release_task(plan)
    alice = env.client(env.roles.alice, "alice")
    alice.claim(released.task_id, 0)
    releaser.hand_over_keys([released.task_id])
    return releaser, alice, released.task_id


def test_the_releaser_opens_what_the_claimant_delivered_and_the_chain_has_its_hash(env, handed_over):
    releaser, alice, task_id = handed_over
    fetched = alice.fetch_subtask(task_id, 0)
    assert fetched.reply_to == env.roles.releaser.encryption_key  # the description names the releaser's key
    data = b"52.1 dB at 08:00, 61.3 dB at 08:05"
    done = deliver_data(alice, task_id, 0, data)
    assert done.tx is not None and alice.subtask(task_id, 0).data_hash == done.data_hash
    ciphertext = env.store.get_blob(done.data_hash)
    assert keccak(ciphertext) == done.data_hash and data not in ciphertext
    collected = collect_data(releaser, task_id)
    assert [(c.index, c.claimant, c.data, c.error) for c in collected] == \
        [(0, env.roles.alice.address, data, None), (1, None, None, None)]


def test_a_rerun_delivers_the_same_ciphertext_and_other_data_is_refused(env, handed_over):
    _, alice, task_id = handed_over
    first = deliver_data(alice, task_id, 0, b"reading")
    nonce = env.conn.w3.eth.get_transaction_count(env.roles.alice.address)
    again = deliver_data(alice, task_id, 0, b"reading")  # after a crash, say: nothing new is sent
    assert again.data_hash == first.data_hash
    assert again.tx is None or (again.tx.resumed and again.tx.tx_hash == first.tx.tx_hash)
    assert env.conn.w3.eth.get_transaction_count(env.roles.alice.address) == nonce
    with pytest.raises(InputError, match="other data was delivered for subtask 0 .* expected the same data again"):
        deliver_data(alice, task_id, 0, b"another reading")


def test_only_the_releaser_can_open_the_data(env, handed_over):
    """Another account, even with the ciphertext and its context, fails authentication."""
    _, alice, task_id = handed_over
    done = deliver_data(alice, task_id, 0, b"private reading")
    blob = env.store.get_blob(done.data_hash)
    aad = data_aad(env.conn.chain_id, env.conn.registry.address, task_id, 0, env.roles.alice.address)
    for other in (env.roles.alice, env.roles.bob, env.roles.admin):
        with pytest.raises(DecryptionError):
            other.ecies_decrypt(blob, aad=aad, what="data")
    assert env.roles.releaser.ecies_decrypt(blob, aad=aad, what="data") == b"private reading"
    # bound to its place: the same bytes are not another subtask's data
    moved = data_aad(env.conn.chain_id, env.conn.registry.address, task_id, 1, env.roles.alice.address)
    with pytest.raises(DecryptionError):
        env.roles.releaser.ecies_decrypt(blob, aad=moved, what="data")


def test_collect_reports_data_it_cannot_open_and_goes_on(env, handed_over):
    releaser, alice, task_id = handed_over
    bob = env.client(env.roles.bob, "bob")
    bob.claim(task_id, 1)
    alice.submit_data(task_id, 0, data=b"only the hash of this went anywhere")  # no delivery
    releaser.hand_over_keys([task_id])
    deliver_data(bob, task_id, 1, b"bob's reading")
    collected = collect_data(releaser, task_id)
    assert collected[0].data is None and "is not in the store" in str(collected[0].error)
    assert collected[1].data == b"bob's reading" and collected[1].error is None


def test_a_forged_ciphertext_under_the_hash_is_refused(env, handed_over):
    """Data encrypted to the releaser but for another place (or by someone else) fails the
    associated data check, even when it sits under the hash the chain records."""
    releaser, alice, task_id = handed_over
    wrong_place = ecies.ecies_encrypt(env.roles.releaser.encryption_key, b"x",
                                      aad=data_aad(env.conn.chain_id, env.conn.registry.address, task_id, 1,
                                                   env.roles.alice.address))
    digest = env.store.put_blob(wrong_place)
    alice.submit_data(task_id, 0, data_hash=digest)
    (first, _) = collect_data(releaser, task_id)
    assert first.data is None and "data of subtask 0" in str(first.error)


def test_delivery_errors(env, handed_over):
    releaser, alice, task_id = handed_over
    with pytest.raises(E.NotClaimantError):
        deliver_data(env.client(env.roles.bob, "bob"), task_id, 0, b"not mine")
    with pytest.raises(E.NotReleaserError):
        collect_data(alice, task_id)
    with pytest.raises(InputError, match="data must be bytes"):
        deliver_data(alice, task_id, 0, "text")  # type: ignore[arg-type]


def test_a_description_without_a_releaser_key_is_refused_with_what_to_do(env):
    """Tasks released before delivery existed name no key: delivery says to submit the hash."""
    from crowdsense.pmcb import tasks

    releaser = env.client(env.roles.releaser, "releaser-old")
    plan = decompose(f"old {time.time_ns()}", [{"text": "street", "level": 1}], num_levels=3)
    original = tasks.subtask_plaintext
    try:
        tasks.subtask_plaintext = lambda plan, sub, reply_to=None: original(plan, sub)  # an earlier client
        released = releaser.release_task(plan)
    finally:
        tasks.subtask_plaintext = original
    alice = env.client(env.roles.alice, "alice-old")
    alice.claim(released.task_id, 0)
    releaser.hand_over_keys([released.task_id])
    assert alice.fetch_subtask(released.task_id, 0).reply_to is None
    with pytest.raises(InputError, match="names no key of its releaser .* without --deliver"):
        deliver_data(alice, released.task_id, 0, b"reading")
    assert alice.subtask(released.task_id, 0).data_hash is None  # nothing was sent
