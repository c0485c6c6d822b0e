"""TaskRegistryClient end to end on Anvil: registration, release, listing, claims, refusals,
key hand-over and decryption, data submission, closing."""

from __future__ import annotations

import math

import pytest
from eth_utils import keccak
from web3 import Web3

from crowdsense.chain import errors as E
from crowdsense.chain.registry import NoSubtaskForLevelError, TaskRegistryClient
from crowdsense.chain.txsend import TxSender
from crowdsense.pmcb.tasks import decompose
from crowdsense.errors import InputError


def _claim_events(env, task_id):
    return env.conn.registry.events.SubtaskClaimed().get_logs(
        from_block=0, to_block="latest", argument_filters={"taskId": task_id})


# ---------------------------------------------------------------------------- registrar


def test_register_levels_sets_each_level(env):
    from crowdsense.chain.accounts import simulation_signer

    people = {simulation_signer(f"reg-{i}").address: 1 + i % 3 for i in range(7)}
    report = env.client(env.roles.registrar, "registrar").register_levels(people)
    reader = TaskRegistryClient(env.conn)
    assert {a: reader.level_of(a) for a in people} == people
    assert report.registered == 7 and len(report.batches) == 1


def test_register_levels_explicit_batch_size_splits_transactions(env):
    from crowdsense.chain.accounts import simulation_signer

    people = {simulation_signer(f"batch-{i}").address: 2 for i in range(10)}
    report = env.client(env.roles.registrar, "registrar").register_levels(people, batch_size=4)
    assert len(report.batches) == math.ceil(10 / 4)


def test_register_levels_skips_unchanged_accounts(env):
    roles = env.roles
    report = env.client(roles.registrar, "registrar").register_levels({roles.alice.address: 1, roles.bob.address: 2})
    assert report.skipped == 2 and report.batches == ()


def test_plan_level_batch_size_respects_cap_and_block_share(env):
    from crowdsense.chain.accounts import simulation_signer

    registrar = env.client(env.roles.registrar, "registrar")
    accounts = [simulation_signer(f"plan-{i}").address for i in range(20)]
    size = registrar.plan_level_batch_size(accounts, [1] * 20)
    per_account = 20_000  # at least one fresh storage slot (SSTORE 0 -> non-zero) per account
    gas_limit = env.conn.w3.eth.get_block("latest")["gasLimit"]
    assert 1 <= size <= 500 and size * per_account <= gas_limit


def test_register_levels_not_registrar_refused_before_sending(env):
    mallory = env.client(env.roles.mallory, "mallory")
    nonce = env.conn.w3.eth.get_transaction_count(env.roles.mallory.address)
    with pytest.raises(E.UnauthorizedAccountError, match="does not have REGISTRAR_ROLE") as info:
        mallory.register_levels({env.roles.mallory.address: 3})
    assert info.value.pre_check
    assert env.conn.w3.eth.get_transaction_count(env.roles.mallory.address) == nonce


def test_register_levels_rejects_level_above_t(env):
    with pytest.raises(InputError, match="in 1..3, got 4"):
        env.client(env.roles.registrar, "registrar").register_levels({env.roles.mallory.address: 4})


# ---------------------------------------------------------------------------- releaser


def test_release_task_puts_hash_of_stored_ciphertext_on_chain(env, release_task):
    released = release_task()
    reader = TaskRegistryClient(env.conn)
    for index, (h, level) in enumerate(zip(released.subtask_hashes, released.levels)):
        sub = reader.subtask(released.task_id, index)
        assert sub.subtask_hash == h == keccak(env.store.get_blob(h))
        assert sub.level == level
    assert list(released.levels) == [1, 2, 3]


def test_release_task_journals_keys_before_sending(env):
    releaser = env.client(env.roles.releaser, "releaser-journal")
    plan = decompose("journal check", ["a", "b"], num_levels=3)
    released = releaser.release_task(plan)
    for h in released.subtask_hashes:
        secret = releaser.journal.get(f"subtask-key/{env.conn.chain_id}/{releaser.address}/0x{h.hex()}")
        assert secret is not None and len(secret["key"]) == 32 and keccak(secret["blob"]) == h


def test_release_task_same_plan_twice_resumes(env):
    releaser = env.client(env.roles.releaser, "releaser")
    plan = decompose("idempotent release", ["a", "b", "c"], num_levels=3)
    first = releaser.release_task(plan)
    second = releaser.release_task(plan)
    assert second.task_id == first.task_id and second.tx.resumed
    assert releaser.task_count() == first.task_id + 1


def test_release_task_not_releaser_refused(env):
    with pytest.raises(E.UnauthorizedAccountError, match="RELEASER_ROLE"):
        env.client(env.roles.alice, "alice").release_task(decompose("x", ["a"], num_levels=3))


def test_close_task_not_releaser_refused(env, release_task):
    released = release_task()
    with pytest.raises(E.NotReleaserError, match=f"is not the releaser of task {released.task_id}"):
        env.client(env.roles.alice, "alice").close_task(released.task_id)


def test_close_task_twice_refused(env, release_task):
    released = release_task()
    releaser = env.client(env.roles.releaser, "releaser")
    releaser.close_task(released.task_id)
    assert releaser.task(released.task_id).closed
    with pytest.raises(E.TaskClosedError):
        env.client(env.roles.releaser, "releaser-other-journal").close_task(released.task_id)


def test_grant_role_by_admin(env):
    admin = env.client(env.roles.admin, "admin")
    assert admin.grant_role("releaser", env.roles.erin.address) is not None
    assert admin.has_role("releaser", env.roles.erin.address)
    assert admin.grant_role("releaser", env.roles.erin.address) is None  # already held: nothing sent


def test_grant_role_not_admin_refused(env):
    with pytest.raises(E.UnauthorizedAccountError, match="DEFAULT_ADMIN_ROLE"):
        env.client(env.roles.mallory, "mallory").grant_role("registrar", env.roles.mallory.address)


# ---------------------------------------------------------------------------- receiver


def test_open_subtasks_lists_only_own_level(env, release_task):
    released = release_task()
    listed = env.client(env.roles.bob, "bob").open_subtasks()
    mine = [s for s in listed if s.task_id == released.task_id]
    assert [(s.index, s.level) for s in mine] == [(1, 2)]
    assert all(s.level == 2 for s in listed)


def test_open_subtasks_small_pages_find_the_same(env, release_task):
    released = release_task()
    bob = env.client(env.roles.bob, "bob")
    assert bob.open_subtasks(page_size=1) == bob.open_subtasks(page_size=10_000)
    assert any(s.task_id == released.task_id for s in bob.open_subtasks(page_size=1))


def test_open_subtasks_hides_claimed_and_closed(env, release_task):
    claimed, closed = release_task(), release_task()
    env.client(env.roles.carol, "carol").claim(claimed.task_id, 1)
    env.client(env.roles.releaser, "releaser").close_task(closed.task_id)
    ids = {s.task_id for s in env.client(env.roles.bob, "bob").open_subtasks()}
    assert claimed.task_id not in ids and closed.task_id not in ids


def test_open_subtasks_unregistered_refused(env):
    with pytest.raises(E.NotRegisteredError):
        env.client(env.roles.mallory, "mallory").open_subtasks()


def test_claim_records_claimant(env, release_task):
    released = release_task()
    result = env.client(env.roles.alice, "alice").claim(released.task_id)
    assert result.index == 0 and result.tx is not None and not result.tx.resumed
    assert TaskRegistryClient(env.conn).subtask(released.task_id, 0).claimant == env.roles.alice.address


def test_claim_twice_by_same_receiver_sends_nothing_new(env, release_task):
    released = release_task()
    alice = env.client(env.roles.alice, "alice")
    first = alice.claim(released.task_id, 0)
    second = alice.claim(released.task_id, 0)
    assert second.tx is not None and second.tx.resumed and second.tx.tx_hash == first.tx.tx_hash
    assert len(_claim_events(env, released.task_id)) == 1


def test_claim_wrong_level_refused(env, release_task):
    released = release_task()
    with pytest.raises(E.LevelMismatchError, match="subtask needs level 3, receiver .* has level 2") as info:
        env.client(env.roles.bob, "bob").claim(released.task_id, 2)
    assert info.value.pre_check and info.value.required == 3 and info.value.actual == 2


def test_claim_already_claimed_refused(env, release_task):
    released = release_task()
    env.client(env.roles.bob, "bob").claim(released.task_id, 1)
    with pytest.raises(E.AlreadyClaimedError, match=f"already claimed by {env.roles.bob.address}"):
        env.client(env.roles.carol, "carol").claim(released.task_id, 1)


def test_claim_second_subtask_of_a_task_refused(env, release_task):
    released = release_task(["a", "b", "c", "d"])  # levels 1, 2, 2, 3
    assert list(released.levels) == [1, 2, 2, 3]
    bob = env.client(env.roles.bob, "bob")
    bob.claim(released.task_id, 1)
    with pytest.raises(E.AlreadyHoldsSubtaskError, match="already holds subtask 1"):
        bob.claim(released.task_id, 2)


def test_claim_closed_task_refused(env, release_task):
    released = release_task()
    env.client(env.roles.releaser, "releaser").close_task(released.task_id)
    with pytest.raises(E.TaskClosedError, match=f"task {released.task_id} is closed"):
        env.client(env.roles.alice, "alice").claim(released.task_id, 0)


def test_claim_unknown_task_refused(env):
    reader = TaskRegistryClient(env.conn)
    unknown = reader.task_count() + 100
    with pytest.raises(E.UnknownTaskError, match=f"unknown task {unknown}"):
        env.client(env.roles.alice, "alice").claim(unknown, 0)


def test_claim_index_out_of_range_refused(env, release_task):
    released = release_task()
    with pytest.raises(E.IndexOutOfRangeError, match="has 3 subtasks"):
        env.client(env.roles.alice, "alice").claim(released.task_id, 3)


def test_claim_unregistered_refused(env, release_task):
    released = release_task()
    with pytest.raises(E.NotRegisteredError):
        env.client(env.roles.mallory, "mallory").claim(released.task_id, 0)


def test_claim_without_index_and_no_subtask_of_level(env, release_task):
    released = release_task(["only low", "only low too"])  # levels 1 and 3
    with pytest.raises(NoSubtaskForLevelError, match="no unclaimed subtask of level 2"):
        env.client(env.roles.bob, "bob").claim(released.task_id)


def test_claim_revert_from_chain_is_decoded(env, release_task):
    """Skip the pre-checks: the node's revert (at gas estimation) comes back typed."""
    released = release_task()
    bob = env.client(env.roles.bob, "bob")
    data = env.conn.registry.functions.claimSubtask(released.task_id, 0, env.roles.alice.encryption_key)._encode_transaction_data()
    with pytest.raises(E.LevelMismatchError) as info:
        bob.sender.send({"to": env.conn.registry.address, "data": data})
    assert not info.value.pre_check and info.value.required == 1


def test_claim_reverted_in_block_is_decoded(env, release_task):
    """A transaction mined with status 0 (gas given, no estimate) is replayed for its reason."""
    released = release_task()
    env.client(env.roles.alice, "alice").claim(released.task_id, 0)
    erin = env.client(env.roles.erin, "erin")
    data = env.conn.registry.functions.claimSubtask(released.task_id, 0, env.roles.alice.encryption_key)._encode_transaction_data()
    with pytest.raises(E.AlreadyClaimedError) as info:
        erin.sender.send({"to": env.conn.registry.address, "data": data, "gas": 200_000}, intent_id="raw-claim")
    assert not info.value.pre_check
    assert erin.journal.intent("raw-claim").status == "reverted"


# ---------------------------------------------------------------------------- keys and data


def test_claimant_decrypts_after_handover(env, release_task):
    released = release_task(["street", "home", "bedroom"])
    bob = env.client(env.roles.bob, "bob")
    bob.claim(released.task_id, 1)
    with pytest.raises(E.KeyNotHandedOverError):
        bob.fetch_subtask(released.task_id, 1)
    handed = env.client(env.roles.releaser, "releaser").hand_over_keys([released.task_id])
    assert [(h.index, h.claimant, h.written) for h in handed] == [(1, env.roles.bob.address, True)]
    fetched = bob.fetch_subtask(released.task_id, 1)
    assert fetched.text == "home" and fetched.level == 2


def test_handover_twice_writes_nothing_new(env, release_task):
    released = release_task()
    env.client(env.roles.alice, "alice").claim(released.task_id, 0)
    releaser = env.client(env.roles.releaser, "releaser")
    releaser.hand_over_keys([released.task_id])
    assert [h.written for h in releaser.hand_over_keys([released.task_id])] == [False]


def test_non_claimant_cannot_decrypt(env, release_task):
    released = release_task(["street", "home", "bedroom"])
    env.client(env.roles.bob, "bob").claim(released.task_id, 1)
    env.client(env.roles.releaser, "releaser").hand_over_keys([released.task_id])
    carol = env.client(env.roles.carol, "carol")
    with pytest.raises(E.NotClaimantError):
        carol.fetch_subtask(released.task_id, 1)
    # Even holding bob's envelope and the blob, carol's key does not open it.
    h = released.subtask_hashes[1]
    envelope = env.store.get_envelope(h, env.roles.bob.address)
    with pytest.raises(E.DecryptionError):
        env.roles.carol.ecies_decrypt(envelope, aad=h + bytes.fromhex(env.roles.bob.address[2:]))


def test_handover_uses_the_key_the_claim_carries(env, release_task):
    released = release_task()
    dave = env.roles.dave
    env.client(dave, "dave").claim(released.task_id, 2)
    keys = env.client(env.roles.releaser, "releaser").claim_keys(released.task_id)
    assert keys == {2: (dave.address, dave.encryption_key)}
    # a key of its own, not the account's signing key
    assert dave.encryption_key not in (dave.public_key[1:33], dave.public_key[33:])


def _forwarder_initcode(target: str) -> bytes:
    """Creation code of a contract that relays any call to ``target`` (the caller's calldata, no
    value) and reverts when ``target`` does: the shape of a contract wallet or a forwarder."""
    runtime = (bytes.fromhex("365f5f37" "5f5f365f5f" "73") + bytes.fromhex(target[2:])  # copy calldata; CALL args
               + bytes.fromhex("5af1" "602657" "5f5ffd" "5b00"))  # CALL; JUMPI ok; REVERT; JUMPDEST STOP
    assert len(runtime) == 0x28 and runtime[0x26] == 0x5B
    return bytes.fromhex("6028" "80" "6009" "5f" "39" "5f" "f3") + runtime  # CODECOPY runtime, RETURN it


def test_keys_reach_a_claimant_whose_claim_a_contract_relays(env, release_task):
    """The claimant is the forwarder contract (it has no key; no signature recovers one); the
    operator behind it publishes its own key in the claim and opens the envelope."""
    from crowdsense.pmcb.tasks import decrypt_subtask, open_key

    operator = env.roles.mallory
    deployed = TxSender(env.conn.w3, operator).send({"to": None, "data": _forwarder_initcode(env.conn.registry.address)})
    forwarder = Web3.to_checksum_address(deployed.receipt["contractAddress"])
    env.client(env.roles.registrar, "registrar").register_levels({forwarder: 3})
    released = release_task()
    call = env.conn.registry.functions.claimSubtask(released.task_id, 2, operator.encryption_key)
    TxSender(env.conn.w3, operator).send({"to": forwarder, "data": call._encode_transaction_data()})
    reader = env.client(env.roles.releaser, "releaser")
    assert reader.subtask(released.task_id, 2).claimant == forwarder

    (handed,) = reader.hand_over_keys([released.task_id])
    assert (handed.claimant, handed.written, handed.error) == (forwarder, True, None)
    h = released.subtask_hashes[2]
    key = open_key(operator, env.store.get_envelope(h, forwarder), subtask_hash=h, claimant=forwarder)
    content = decrypt_subtask(env.store.get_blob(h), key, chain_id=env.conn.chain_id, registry=env.conn.registry.address,
                              level=3, index=2)
    assert content["part"] == "bedroom noise"


#: An x-coordinate in the field with no point of secp256k1 above it (5^3 + 7 is no square mod p).
NOT_A_POINT = (5).to_bytes(32, "big")


def test_a_subtask_without_a_usable_key_does_not_block_the_others(env, release_task):
    released, other = release_task(), release_task()
    data = env.conn.registry.functions.claimSubtask(released.task_id, 0, NOT_A_POINT)._encode_transaction_data()
    env.client(env.roles.alice, "alice").sender.send({"to": env.conn.registry.address, "data": data})
    env.client(env.roles.bob, "bob").claim(released.task_id, 1)
    env.client(env.roles.dave, "dave").claim(other.task_id, 2)

    done = env.client(env.roles.releaser, "releaser").hand_over_keys([released.task_id, other.task_id])
    outcome = {(d.task_id, d.index): (d.written, d.error) for d in done}
    assert outcome[(released.task_id, 1)] == (True, None) and outcome[(other.task_id, 2)] == (True, None)
    written, error = outcome[(released.task_id, 0)]
    assert not written and "no usable encryption key" in error and NOT_A_POINT.hex() in error
    assert env.client(env.roles.dave, "dave").fetch_subtask(other.task_id, 2).text == "bedroom noise"


def test_a_task_released_from_another_journal_is_reported_and_skipped(env, release_task):
    released = release_task()
    env.client(env.roles.alice, "alice").claim(released.task_id, 0)
    stranger = env.client(env.roles.releaser, "releaser-elsewhere")  # same account, another journal
    (skipped,) = stranger.hand_over_keys([released.task_id])
    assert not skipped.written and "is not in the journal" in skipped.error


def test_submit_data_records_keccak_of_data(env, release_task):
    released = release_task()
    alice = env.client(env.roles.alice, "alice")
    alice.claim(released.task_id, 0)
    first = alice.submit_data(released.task_id, 0, data=b"65 dB")
    assert alice.subtask(released.task_id, 0).data_hash == keccak(b"65 dB")
    again = alice.submit_data(released.task_id, 0, data=b"65 dB")  # same hash again: nothing new sent
    assert again is not None and again.resumed and again.tx_hash == first.tx_hash
    with pytest.raises(E.DataAlreadySubmittedError):
        alice.submit_data(released.task_id, 0, data=b"other")


def test_submit_data_same_hash_without_journal_entry_sends_nothing(env, release_task):
    released = release_task()
    env.client(env.roles.alice, "alice").claim(released.task_id, 0)
    env.client(env.roles.alice, "alice").submit_data(released.task_id, 0, data=b"x")
    fresh = env.client(env.roles.alice, "alice-other-journal")
    assert fresh.submit_data(released.task_id, 0, data=b"x") is None


def test_submit_data_not_claimant_refused(env, release_task):
    released = release_task()
    env.client(env.roles.alice, "alice").claim(released.task_id, 0)
    with pytest.raises(E.NotClaimantError):
        env.client(env.roles.erin, "erin").submit_data(released.task_id, 0, data=b"x")


def test_submit_data_closed_task_refused(env, release_task):
    released = release_task()
    alice = env.client(env.roles.alice, "alice")
    alice.claim(released.task_id, 0)
    env.client(env.roles.releaser, "releaser").close_task(released.task_id)
    with pytest.raises(E.TaskClosedError):
        alice.submit_data(released.task_id, 0, data=b"late")
