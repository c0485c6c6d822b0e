"""Tasks released for selection through the client: the platform fixes who may claim, receivers
claim with their proofs; the library's leaves and proofs against the contract, and every check
made before a transaction is sent."""

from __future__ import annotations

import time

import pytest

from crowdsense.chain import errors as E
from crowdsense.errors import InputError
from crowdsense.ldpf.selection import Selection, selection_leaf
from crowdsense.pmcb.tasks import decompose


@pytest.fixture(scope="module")
def platform(env):
    """The sensing platform's client (dave's account), granted the selector role by the admin."""
    env.client(env.roles.admin, "admin").grant_role("selector", env.roles.dave.address)
    return env.client(env.roles.dave, "platform")


@pytest.fixture
def selective(env):
    """A task released for selection (levels 1, 2, 3), a new one for each test."""
    plan = decompose(f"selective {time.time_ns()}", ["street", "flat", "bedroom"], num_levels=3)
    return env.client(env.roles.releaser, "releaser").release_task(plan, for_selection=True)


def _selection(env, task_id: int, *signers) -> Selection:
    return Selection.build([s.address for s in signers], chain_id=env.conn.chain_id,
                           registry=env.conn.registry.address, task_id=task_id)


def test_leaves_and_proofs_agree_with_the_contract(env, platform, selective):
    r = env.roles
    chosen = _selection(env, selective.task_id, r.alice, r.bob, r.carol)
    platform.set_selection(chosen)
    registry = env.conn.registry
    assert platform.task_selection(selective.task_id) == (True, chosen.root)
    for signer in (r.alice, r.bob, r.carol):
        proof = chosen.proof_of(signer.address)
        leaf = selection_leaf(env.conn.chain_id, registry.address, selective.task_id, signer.address, proof.salt)
        assert bytes(registry.functions.selectionLeaf(selective.task_id, signer.address, proof.salt).call()) == leaf
        assert registry.functions.verifySelection(selective.task_id, signer.address, proof.salt,
                                                  list(proof.proof)).call()


def test_selected_receivers_claim_and_others_are_refused_before_sending(env, platform, selective):
    r = env.roles
    chosen = _selection(env, selective.task_id, r.alice, r.bob)
    platform.set_selection(chosen)
    result = env.client(r.alice, "alice-sel").claim(selective.task_id, selection=chosen.proof_of(r.alice.address))
    assert result.index == 0 and result.tx is not None
    erin = env.client(r.erin, "erin-sel")  # level 1, not selected; replays alice's proof
    nonce = env.conn.w3.eth.get_transaction_count(r.erin.address)
    with pytest.raises(InputError, match="expected the proof of this account"):
        erin.claim(selective.task_id, 0, selection=chosen.proof_of(r.alice.address))
    with pytest.raises(E.SelectionRequiredError) as info:
        erin.claim(selective.task_id, 0)
    assert info.value.pre_check
    assert env.conn.w3.eth.get_transaction_count(r.erin.address) == nonce


def test_a_claim_before_the_selection_is_refused(env, selective):
    other = Selection.build([env.roles.bob.address], chain_id=env.conn.chain_id,
                            registry=env.conn.registry.address, task_id=selective.task_id)
    with pytest.raises(E.SelectionPendingError):
        env.client(env.roles.bob, "bob-early").claim(selective.task_id, 1, selection=other.proof_of(env.roles.bob.address))


def test_a_proof_under_another_root_is_not_selected(env, platform, selective):
    r = env.roles
    platform.set_selection(_selection(env, selective.task_id, r.alice))
    forged = _selection(env, selective.task_id, r.bob)  # bob's own tree, not published
    with pytest.raises(E.NotSelectedError) as info:
        env.client(r.bob, "bob-forged").claim(selective.task_id, 1, selection=forged.proof_of(r.bob.address))
    assert info.value.pre_check and info.value.receiver == r.bob.address


def test_selection_is_fixed_once_and_a_rerun_sends_nothing(env, platform, selective):
    r = env.roles
    chosen = _selection(env, selective.task_id, r.alice)
    assert platform.set_selection(chosen) is not None
    assert platform.set_selection(chosen) is None  # the same root: already fixed
    assert platform.selection(selective.task_id).root == chosen.root  # journaled, with its seed
    with pytest.raises(E.SelectionAlreadySetError):
        platform.set_selection(_selection(env, selective.task_id, r.bob))


def test_only_the_selector_and_only_for_a_task_released_for_selection(env, platform, release_task, selective):
    r = env.roles
    plain = release_task()
    with pytest.raises(E.NotForSelectionError):
        platform.set_selection(_selection(env, plain.task_id, r.alice))
    with pytest.raises(E.NotForSelectionError):
        env.client(r.alice, "alice-plain").claim(plain.task_id, 0, selection=_selection(
            env, plain.task_id, r.alice).proof_of(r.alice.address))
    with pytest.raises(E.UnauthorizedAccountError):
        env.client(r.releaser, "releaser").set_selection(_selection(env, selective.task_id, r.alice))


def test_a_selection_for_another_registry_is_refused(env, platform, selective):
    stray = Selection.build([env.roles.alice.address], chain_id=env.conn.chain_id,
                            registry="0x" + "11" * 20, task_id=selective.task_id)
    with pytest.raises(InputError, match="expected registry"):
        platform.set_selection(stray)


def test_a_resumed_release_keeps_its_choice(env):
    plan = decompose("resume choice", ["a", "b", "c"], num_levels=3)
    releaser = env.client(env.roles.releaser, "releaser")
    releaser.release_task(plan, release_id="choice", for_selection=True)
    with pytest.raises(InputError, match="started for selection"):
        releaser.release_task(plan, release_id="choice")
