"""Levels by Merkle root through the client: the library's tree against the contract, both ways.

The tree (``crowdsense.pmcb.levels_tree``) is built in Python; the contract computes leaves
itself (``levelLeaf``) and checks proofs (``verifyLevel``, ``claimSubtaskWithProof``). Every
leaf must agree and every proof must be accepted; then the client's claim by proof, its checks
before sending, the journaled proof, the listing under a root, and epochs.
"""

from __future__ import annotations

import pytest

from crowdsense.chain import errors as E
from crowdsense.chain.accounts import simulation_signer
from crowdsense.errors import InputError
from crowdsense.pmcb.levels_tree import LevelsTree, level_leaf


def _tree(env, levels: dict) -> LevelsTree:
    return LevelsTree.build(levels, chain_id=env.conn.chain_id, registry=env.conn.registry.address)


def _publish(env, tree: LevelsTree) -> int:
    epoch, _ = env.client(env.roles.registrar, "registrar").publish_levels_root(tree.root)
    return epoch


@pytest.fixture
def private_levels(env):
    """A fresh root of epoch N over alice 1, bob 2, mallory 3 (mallory has no stored level)."""
    r = env.roles
    tree = _tree(env, {r.alice.address: 1, r.bob.address: 2, r.mallory.address: 3})
    return tree, _publish(env, tree)


def test_leaves_and_proofs_agree_with_the_contract_for_a_hundred_receivers(env):
    levels = {simulation_signer(f"leaf-{i}").address: 1 + i % 3 for i in range(100)}
    tree = _tree(env, levels)
    epoch = _publish(env, tree)
    registry = env.conn.registry
    assert bytes(registry.functions.levelsRoot(epoch).call()) == tree.root
    for account, level in list(levels.items())[::9]:
        proved_level, salt, proof = tree.proof(account)
        leaf = level_leaf(env.conn.chain_id, registry.address, account, level, salt)
        assert bytes(registry.functions.levelLeaf(account, level, salt).call()) == leaf  # Solidity -> Python
        assert proved_level == level
        assert registry.functions.verifyLevel(epoch, account, level, salt, proof).call()  # Python -> Solidity
        assert not registry.functions.verifyLevel(epoch, account, level % 3 + 1, salt, proof).call()
        assert not registry.functions.verifyLevel(epoch, account, level, bytes(32), proof).call()


def test_a_receiver_with_no_stored_level_claims_by_proof(env, release_task, private_levels):
    tree, epoch = private_levels
    released = release_task()
    mallory = env.client(env.roles.mallory, "mallory")
    assert mallory.level_of() == 0 and mallory.task_levels_epoch(released.task_id) == epoch
    result = mallory.claim(released.task_id, proof=tree.proof_of(env.roles.mallory.address))
    assert (result.index, result.level) == (2, 3) and result.tx is not None
    assert mallory.subtask(released.task_id, 2).claimant == env.roles.mallory.address


def test_the_journaled_proof_is_found_for_the_next_task_under_the_same_root(env, release_task, private_levels):
    tree, _ = private_levels
    first, second = release_task(), release_task()
    mallory = env.client(env.roles.mallory, "mallory-journal")
    mallory.claim(first.task_id, proof=tree.proof_of(env.roles.mallory.address))
    again = env.client(env.roles.mallory, "mallory-journal")  # a later run, same journal
    assert again.claim(second.task_id).index == 2


def test_a_proof_of_another_epoch_is_named_before_anything_is_sent(env, release_task, private_levels):
    old, _ = private_levels
    r = env.roles
    _publish(env, _tree(env, {r.mallory.address: 3, r.carol.address: 2}))
    released = release_task()
    with pytest.raises(InputError, match=r"released in levels epoch \d+ .*expected the proof of that epoch"):
        env.client(r.mallory, "mallory-old").claim(released.task_id, proof=old.proof_of(r.mallory.address))


def test_a_forged_level_is_refused_with_the_contracts_error(env, release_task, private_levels):
    tree, epoch = private_levels
    released = release_task()
    forged = tree.proof_of(env.roles.alice.address)
    forged = type(forged)(**{**forged.__dict__, "level": 3})
    with pytest.raises(E.InvalidLevelProofError) as info:
        env.client(env.roles.alice, "alice-forged").claim(released.task_id, 2, proof=forged)
    assert info.value.pre_check and (info.value.epoch, info.value.level) == (epoch, 3)


def test_a_task_released_before_any_root_cannot_be_claimed_by_proof(fresh_env, roles):
    from crowdsense.pmcb.tasks import decompose

    fresh = fresh_env  # a deployment with no root yet
    early = fresh.client(roles.releaser, "releaser").release_task(decompose("early", ["a", "b", "c"], num_levels=3))
    tree = _tree(fresh, {roles.mallory.address: 3})
    assert _publish(fresh, tree) == 1 and fresh.client(roles.mallory).task_levels_epoch(early.task_id) == 0
    with pytest.raises(E.NoLevelsRootError) as info:
        fresh.client(roles.mallory, "mallory").claim(early.task_id, 2, proof=tree.proof_of(roles.mallory.address))
    assert info.value.pre_check and info.value.taskId == early.task_id


def test_someone_elses_proof_is_refused(env, release_task, private_levels):
    tree, _ = private_levels
    released = release_task()
    with pytest.raises(InputError, match="not for this account"):
        env.client(env.roles.carol, "carol").claim(released.task_id, proof=tree.proof_of(env.roles.bob.address))


def test_listing_with_a_proof_shows_only_tasks_under_its_root(env, release_task, private_levels):
    tree, _ = private_levels
    under = release_task()
    mallory = env.client(env.roles.mallory, "mallory-list")
    proof = tree.proof_of(env.roles.mallory.address)
    listed = {(s.task_id, s.index) for s in mallory.open_subtasks(proof=proof)}
    assert (under.task_id, 2) in listed
    _publish(env, _tree(env, {env.roles.mallory.address: 3, env.roles.dave.address: 1}))
    later = release_task()
    listed = {(s.task_id, s.index) for s in mallory.open_subtasks(proof=proof)}
    assert (under.task_id, 2) in listed and (later.task_id, 2) not in listed


def test_publishing_the_current_root_again_sends_nothing(env, private_levels):
    tree, epoch = private_levels
    again, tx = env.client(env.roles.registrar, "registrar").publish_levels_root(tree.root)
    assert (again, tx) == (epoch, None)


def test_only_the_registrar_publishes(env):
    with pytest.raises(E.UnauthorizedAccountError) as info:
        env.client(env.roles.alice, "alice").publish_levels_root(b"\x01" * 32)
    assert info.value.pre_check


@pytest.mark.parametrize("root", [b"\x00" * 32, b"\x01" * 31])
def test_a_malformed_root_is_refused(env, root):
    with pytest.raises(InputError, match="32 non-zero bytes"):
        env.client(env.roles.registrar, "registrar").publish_levels_root(root)


def test_an_earlier_root_published_again_starts_a_new_epoch(fresh_env, roles):
    registrar = fresh_env.client(roles.registrar, "registrar")
    first, second = b"\x0a" * 32, b"\x0b" * 32
    epochs = [registrar.publish_levels_root(root)[0] for root in (first, second, first)]
    assert epochs == [1, 2, 3] and registrar.levels_root(3) == first == registrar.levels_root(1)
