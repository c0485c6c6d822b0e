"""TaskRegistry's private level registration: one Merkle root per epoch, claims that prove their level.

The trees here are built by ``level_trees`` (a hand-made reference of the leaf and node
encoding the contract documents), so a proof the test makes and the contract accepts shows
both sides agree byte for byte; ``tests/pmcb/test_levels_tree.py`` checks the library's tree
against the same reference and ``tests/chain/test_level_proofs.py`` the library against the chain.
"""

import brownie
import level_trees
import pytest
from brownie import chain
from revert_strings import err, plain

#: A claim's encryption key: the x-coordinate of the secp256k1 generator, a point of the curve.
KEY = "0x79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"


def leaf(registry, account, level: int, salt: bytes) -> bytes:
    return level_trees.leaf(chain.id, registry.address, str(account), level, salt)


def tree(registry, levels: dict) -> tuple[bytes, dict]:
    """Root, and each account's (salt, proof): what its claim carries after its level."""
    root, proofs, salts = level_trees.tree(chain.id, registry.address, levels)
    return root, {a: (salts[a], proof) for a, proof in proofs.items()}


@pytest.fixture
def rooted(registry, registrar, alice, bob, carol, mallory):
    """Epoch 1: alice 1, bob 2, carol 3, mallory 2; none of them is in the public mapping."""
    root, proofs = tree(registry, {alice: 1, bob: 2, carol: 3, mallory: 2})
    registry.setLevelsRoot(root, {"from": registrar})
    return root, proofs


@pytest.fixture
def proof_task(rooted, registry, releaser):
    """A task released in epoch 1, subtasks at levels 1, 2, 3, 2."""
    return registry.releaseTask([bytes([i + 1]) * 32 for i in range(4)], [1, 2, 3, 2], {"from": releaser}).return_value


# ------------------------------------------------------------------ the leaf and the root


@pytest.mark.parametrize("level", [1, 3, 255])
def test_leaf_of_the_contract_is_the_documented_encoding(registry, alice, level):
    salt = bytes(range(32))
    assert registry.levelLeaf(alice, level, salt) == "0x" + leaf(registry, alice, level, salt).hex()


def test_a_leaf_changes_with_its_salt(registry, alice):
    assert registry.levelLeaf(alice, 1, b"\x01" * 32) != registry.levelLeaf(alice, 1, b"\x02" * 32)


def test_publishing_roots_counts_epochs_and_emits(registry, registrar):
    assert registry.levelsEpoch() == 0 and registry.levelsRoot(1) == "0x" + "00" * 32
    for epoch, root in ((1, b"\x01" * 32), (2, b"\x02" * 32)):
        tx = registry.setLevelsRoot(root, {"from": registrar})
        assert tx.return_value == epoch and registry.levelsEpoch() == epoch
        assert registry.levelsRoot(epoch) == "0x" + root.hex()
        ev = tx.events["LevelsRootSet"]
        assert (ev["epoch"], ev["root"], ev["registrar"]) == (epoch, "0x" + root.hex(), registrar)


def test_only_the_registrar_publishes_a_root(registry, releaser):
    with brownie.reverts(err("AccessControlUnauthorizedAccount", releaser, bytes(registry.REGISTRAR_ROLE()))):
        registry.setLevelsRoot(b"\x01" * 32, {"from": releaser})


def test_zero_root_reverts(registry, registrar):
    with brownie.reverts(err("TaskRegistryZeroHash", 0)):
        registry.setLevelsRoot(b"\x00" * 32, {"from": registrar})


def test_a_task_pins_the_epoch_it_was_released_in(registry, registrar, releaser):
    before = registry.releaseTask([b"\x01" * 32], [1], {"from": releaser}).return_value
    registry.setLevelsRoot(b"\x05" * 32, {"from": registrar})
    after = registry.releaseTask([b"\x01" * 32], [1], {"from": releaser}).return_value
    assert (registry.taskLevelsEpoch(before), registry.taskLevelsEpoch(after)) == (0, 1)
    with brownie.reverts(err("TaskRegistryUnknownTask", 9)):
        registry.taskLevelsEpoch(9)


# ------------------------------------------------------------------ claims by proof


def test_every_member_claims_with_its_proof_and_nothing_states_a_level_before(registry, rooted, proof_task,
                                                                             alice, bob, carol):
    _, proofs = rooted
    for index, (who, level) in enumerate(((alice, 1), (bob, 2), (carol, 3))):
        assert registry.levelOf(who) == 0  # the public mapping says nothing
        tx = registry.claimSubtaskWithProof(proof_task, index, KEY, level, *proofs[str(who)], {"from": who})
        ev = tx.events["SubtaskClaimed"]
        assert (ev["claimant"], ev["level"], ev["encryptionKey"]) == (who, level, KEY)
    assert [registry.getSubtask(proof_task, i)[2] for i in range(3)] == [alice, bob, carol]


def test_verify_level_agrees_with_the_claim_rule(registry, rooted, alice):
    _, proofs = rooted
    assert registry.verifyLevel(1, alice, 1, *proofs[str(alice)])
    assert not registry.verifyLevel(1, alice, 2, *proofs[str(alice)])
    assert not registry.verifyLevel(2, alice, 1, *proofs[str(alice)])  # no such epoch


def test_a_proof_of_another_level_reverts(registry, rooted, proof_task, bob):
    _, proofs = rooted
    with brownie.reverts(err("TaskRegistryInvalidLevelProof", proof_task, 1, bob, 3)):
        registry.claimSubtaskWithProof(proof_task, 2, KEY, 3, *proofs[str(bob)], {"from": bob})


def test_a_proof_of_another_account_reverts(registry, rooted, proof_task, bob, admin):
    _, proofs = rooted
    with brownie.reverts(err("TaskRegistryInvalidLevelProof", proof_task, 1, admin, 2)):
        registry.claimSubtaskWithProof(proof_task, 1, KEY, 2, *proofs[str(bob)], {"from": admin})


def test_a_tampered_proof_reverts(registry, rooted, proof_task, bob):
    _, proofs = rooted
    salt, path = proofs[str(bob)]
    tampered = list(path)
    tampered[0] = bytes([tampered[0][0] ^ 1]) + tampered[0][1:]
    with brownie.reverts(err("TaskRegistryInvalidLevelProof", proof_task, 1, bob, 2)):
        registry.claimSubtaskWithProof(proof_task, 1, KEY, 2, salt, tampered, {"from": bob})


@pytest.mark.parametrize("cut", ["last hash", "first hash", "all"])
def test_a_truncated_proof_reverts(registry, rooted, proof_task, bob, cut):
    _, proofs = rooted
    salt, path = proofs[str(bob)]
    short = {"last hash": path[:-1], "first hash": path[1:], "all": []}[cut]
    with brownie.reverts(err("TaskRegistryInvalidLevelProof", proof_task, 1, bob, 2)):
        registry.claimSubtaskWithProof(proof_task, 1, KEY, 2, salt, short, {"from": bob})


def test_a_proof_longer_than_the_bound_reverts(registry, rooted, proof_task, bob):
    with brownie.reverts(err("TaskRegistryBatchTooLarge", 33, 32)):
        registry.claimSubtaskWithProof(proof_task, 1, KEY, 2, b"\x01" * 32, [b"\x01" * 32] * 33, {"from": bob})


def test_a_task_released_before_any_root_cannot_be_claimed_by_proof(registry, registrar, releaser, alice):
    early = registry.releaseTask([b"\x01" * 32], [1], {"from": releaser}).return_value
    root, proofs = tree(registry, {alice: 1})
    registry.setLevelsRoot(root, {"from": registrar})
    with brownie.reverts(err("TaskRegistryNoLevelsRoot", early)):
        registry.claimSubtaskWithProof(early, 0, KEY, 1, *proofs[str(alice)], {"from": alice})


def test_claims_by_proof_obey_every_claim_rule(registry, rooted, proof_task, releaser, bob, mallory):
    _, proofs = rooted
    with brownie.reverts(err("TaskRegistryIndexOutOfRange", proof_task, 4, 4)):
        registry.claimSubtaskWithProof(proof_task, 4, KEY, 2, *proofs[str(bob)], {"from": bob})
    with brownie.reverts(err("TaskRegistryLevelMismatch", bob, 1, 2)):
        registry.claimSubtaskWithProof(proof_task, 0, KEY, 2, *proofs[str(bob)], {"from": bob})
    with brownie.reverts(err("TaskRegistryInvalidEncryptionKey", b"\x00" * 32)):
        registry.claimSubtaskWithProof(proof_task, 1, "0x" + "00" * 32, 2, *proofs[str(bob)], {"from": bob})
    registry.claimSubtaskWithProof(proof_task, 1, KEY, 2, *proofs[str(bob)], {"from": bob})
    with brownie.reverts(err("TaskRegistryAlreadyHoldsSubtask", proof_task, bob, 1)):
        registry.claimSubtaskWithProof(proof_task, 3, KEY, 2, *proofs[str(bob)], {"from": bob})
    with brownie.reverts(err("TaskRegistryAlreadyClaimed", proof_task, 1, bob)):
        registry.claimSubtaskWithProof(proof_task, 1, KEY, 2, *proofs[str(mallory)], {"from": mallory})
    registry.closeTask(proof_task, {"from": releaser})
    with brownie.reverts(err("TaskRegistryTaskClosed", proof_task)):
        registry.claimSubtaskWithProof(proof_task, 3, KEY, 2, *proofs[str(mallory)], {"from": mallory})


def test_a_proof_claim_and_a_mapping_claim_share_the_one_subtask_per_task_rule(registry, registrar, rooted,
                                                                              proof_task, bob):
    _, proofs = rooted
    registry.setLevels([bob], [2], {"from": registrar})
    registry.claimSubtask(proof_task, 1, KEY, {"from": bob})
    with brownie.reverts(err("TaskRegistryAlreadyHoldsSubtask", proof_task, bob, 1)):
        registry.claimSubtaskWithProof(proof_task, 3, KEY, 2, *proofs[str(bob)], {"from": bob})


# ------------------------------------------------------------------ epochs


def test_a_new_root_leaves_tasks_already_released_on_the_old_one(registry, registrar, releaser, rooted,
                                                                  proof_task, alice, mallory):
    """Re-classification: mallory is left out of epoch 2. Its epoch-1 proof still claims the
    epoch-1 task, and no longer claims a task released in epoch 2."""
    _, old = rooted
    root2, new = tree(registry, {alice: 1})
    registry.setLevelsRoot(root2, {"from": registrar})
    later = registry.releaseTask([b"\x09" * 32, b"\x0a" * 32], [2, 1], {"from": releaser}).return_value
    assert registry.taskLevelsEpoch(later) == 2
    with brownie.reverts(err("TaskRegistryInvalidLevelProof", later, 2, mallory, 2)):
        registry.claimSubtaskWithProof(later, 0, KEY, 2, *old[str(mallory)], {"from": mallory})
    registry.claimSubtaskWithProof(proof_task, 3, KEY, 2, *old[str(mallory)], {"from": mallory})
    registry.claimSubtaskWithProof(later, 1, KEY, 1, *new[str(alice)], {"from": alice})
    assert plain(registry.heldSubtask(proof_task, mallory)) == (True, 3)


def test_a_single_member_root_is_its_leaf_and_the_proof_is_empty(registry, registrar, releaser, carol):
    root, proofs = tree(registry, {carol: 3})
    salt, path = proofs[str(carol)]
    assert root == leaf(registry, carol, 3, salt) and path == []
    registry.setLevelsRoot(root, {"from": registrar})
    task_id = registry.releaseTask([b"\x01" * 32], [3], {"from": releaser}).return_value
    registry.claimSubtaskWithProof(task_id, 0, KEY, 3, salt, [], {"from": carol})
    assert registry.getSubtask(task_id, 0)[2] == carol
