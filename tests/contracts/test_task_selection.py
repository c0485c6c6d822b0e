"""Tasks released for selection: only the receivers the selector fixed claim their subtasks.

Selection trees are built by ``level_trees.selection_tree`` (a hand-made reference of the
documented leaf and node encoding), so a proof the contract accepts shows both sides agree.
"""

import brownie
import level_trees
import pytest
from brownie import chain
from revert_strings import err

#: A claim's encryption key: the x-coordinate of the secp256k1 generator, a point of the curve.
KEY = "0x79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
ZERO = b"\x00" * 32


@pytest.fixture
def selector(registry, admin, accounts):
    """The sensing platform: granted SELECTOR_ROLE by the admin."""
    platform = accounts[7]
    registry.grantRole(registry.SELECTOR_ROLE(), platform, {"from": admin})
    return platform


@pytest.fixture
def selective(leveled, releaser):
    """Task 0, released for selection, subtasks at levels 1, 2, 3, 1 (alice 1, bob 2, carol 3)."""
    return leveled.releaseTaskForSelection([bytes([i + 1]) * 32 for i in range(4)], [1, 2, 3, 1],
                                           {"from": releaser}).return_value


@pytest.fixture
def selected(registry, selective, selector, alice, bob):
    """alice and bob selected for task 0; each one's (salt, proof)."""
    root, proofs = level_trees.selection_tree(chain.id, registry.address, selective, [str(alice), str(bob)])
    registry.setSelection(selective, root, {"from": selector})
    return root, proofs


def _claim(registry, task_id, index, account, salt, proof, *, level=0, level_salt=ZERO, level_proof=()):
    return registry.claimSelectedSubtask(task_id, index, KEY, level, level_salt, list(level_proof), salt, list(proof),
                                         {"from": account})


# ------------------------------------------------------------------ leaf, release, selection


def test_selection_leaf_is_the_documented_encoding(registry, alice):
    salt = bytes(range(32))
    expected = level_trees.selection_leaf(chain.id, registry.address, 7, str(alice), salt)
    assert registry.selectionLeaf(7, alice, salt) == "0x" + expected.hex()
    assert registry.selectionLeaf(8, alice, salt) != registry.selectionLeaf(7, alice, salt)  # bound to the task


def test_release_for_selection_marks_the_task(registry, selective, leveled, releaser):
    assert registry.taskSelection(selective) == (True, "0x" + ZERO.hex())
    plain = leveled.releaseTask([b"\x09" * 32], [1], {"from": releaser}).return_value
    assert registry.taskSelection(plain) == (False, "0x" + ZERO.hex())


def test_set_selection_records_the_root_and_emits(registry, selective, selector):
    tx = registry.setSelection(selective, b"\x05" * 32, {"from": selector})
    assert tx.events["SelectionSet"]["taskId"] == selective
    assert tx.events["SelectionSet"]["root"] == "0x" + ("05" * 32)
    assert tx.events["SelectionSet"]["selector"] == selector
    assert registry.taskSelection(selective) == (True, "0x" + "05" * 32)


def test_a_selection_is_fixed_once(registry, selective, selector):
    registry.setSelection(selective, b"\x05" * 32, {"from": selector})
    with brownie.reverts(err("TaskRegistrySelectionAlreadySet", selective, b"\x05" * 32)):
        registry.setSelection(selective, b"\x06" * 32, {"from": selector})


def test_a_selection_root_is_never_zero(registry, selective, selector):
    with brownie.reverts(err("TaskRegistryZeroHash", 0)):
        registry.setSelection(selective, ZERO, {"from": selector})


def test_no_selection_for_a_plain_task(registry, task, selector):
    with brownie.reverts(err("TaskRegistryNotForSelection", task)):
        registry.setSelection(task, b"\x05" * 32, {"from": selector})


def test_no_selection_for_a_closed_or_unknown_task(registry, selective, selector, releaser):
    registry.closeTask(selective, {"from": releaser})
    with brownie.reverts(err("TaskRegistryTaskClosed", selective)):
        registry.setSelection(selective, b"\x05" * 32, {"from": selector})
    with brownie.reverts(err("TaskRegistryUnknownTask", 99)):
        registry.setSelection(99, b"\x05" * 32, {"from": selector})


# ------------------------------------------------------------------ claims


def test_plain_claims_of_a_task_for_selection_are_refused(registry, selected, selective, alice):
    with brownie.reverts(err("TaskRegistrySelectionRequired", selective)):
        registry.claimSubtask(selective, 0, KEY, {"from": alice})
    with brownie.reverts(err("TaskRegistrySelectionRequired", selective)):
        registry.claimSubtaskWithProof(selective, 0, KEY, 1, ZERO, [], {"from": alice})


def test_no_claim_before_the_selection_is_fixed(registry, selective, alice):
    with brownie.reverts(err("TaskRegistrySelectionPending", selective)):
        _claim(registry, selective, 0, alice, ZERO, [])


def test_selected_receiver_claims_with_its_registered_level(registry, selected, selective, alice):
    salt, proof = selected[1][str(alice)]
    tx = _claim(registry, selective, 0, alice, salt, proof)
    ev = tx.events["SubtaskClaimed"]
    assert (ev["taskId"], ev["index"], ev["claimant"], ev["level"]) == (selective, 0, alice, 1)
    assert registry.getSubtask(selective, 0)[2] == alice


def test_a_receiver_not_selected_is_refused(registry, selected, selective, alice, carol):
    salt, proof = selected[1][str(alice)]
    with brownie.reverts(err("TaskRegistryNotSelected", selective, carol)):
        _claim(registry, selective, 2, carol, salt, proof)  # carol replays alice's proof
    with brownie.reverts(err("TaskRegistryNotSelected", selective, alice)):
        _claim(registry, selective, 0, alice, b"\x01" * 32, proof)  # a wrong salt


def test_a_selection_proof_of_another_task_proves_nothing(registry, selected, leveled, releaser, selector, alice):
    other = leveled.releaseTaskForSelection([b"\x0a" * 32], [1], {"from": releaser}).return_value
    registry.setSelection(other, b"\x0b" * 32, {"from": selector})
    salt, proof = selected[1][str(alice)]
    with brownie.reverts(err("TaskRegistryNotSelected", other, alice)):
        _claim(registry, other, 0, alice, salt, proof)


def test_a_plain_task_is_not_claimed_with_a_selection(registry, task, alice):
    with brownie.reverts(err("TaskRegistryNotForSelection", task)):
        _claim(registry, task, 0, alice, ZERO, [])


def test_selection_does_not_lift_the_level_rule(registry, selected, selective, alice):
    salt, proof = selected[1][str(alice)]
    with brownie.reverts(err("TaskRegistryLevelMismatch", alice, 2, 1)):
        _claim(registry, selective, 1, alice, salt, proof)


def test_selection_does_not_lift_one_subtask_per_task(registry, selected, selective, alice):
    salt, proof = selected[1][str(alice)]
    _claim(registry, selective, 0, alice, salt, proof)
    with brownie.reverts(err("TaskRegistryAlreadyHoldsSubtask", selective, alice, 0)):
        _claim(registry, selective, 3, alice, salt, proof)


def test_a_selected_but_unregistered_receiver_is_refused(registry, leveled, releaser, selector, mallory):
    task_id = leveled.releaseTaskForSelection([b"\x0c" * 32], [1], {"from": releaser}).return_value
    root, proofs = level_trees.selection_tree(chain.id, registry.address, task_id, [str(mallory)])
    registry.setSelection(task_id, root, {"from": selector})
    salt, proof = proofs[str(mallory)]
    with brownie.reverts(err("TaskRegistryNotRegistered", mallory)):
        _claim(registry, task_id, 0, mallory, salt, proof)


def test_a_selected_receiver_proves_its_level_against_the_levels_root(registry, registrar, releaser, selector,
                                                                      mallory):
    level_root, level_proofs, level_salts = level_trees.tree(chain.id, registry.address, {mallory: 2})
    registry.setLevelsRoot(level_root, {"from": registrar})
    task_id = registry.releaseTaskForSelection([b"\x0d" * 32], [2], {"from": releaser}).return_value
    root, proofs = level_trees.selection_tree(chain.id, registry.address, task_id, [str(mallory)])
    registry.setSelection(task_id, root, {"from": selector})
    salt, proof = proofs[str(mallory)]
    with brownie.reverts(err("TaskRegistryInvalidLevelProof", task_id, 1, mallory, 3)):
        _claim(registry, task_id, 0, mallory, salt, proof, level=3, level_salt=level_salts[str(mallory)],
               level_proof=level_proofs[str(mallory)])
    tx = _claim(registry, task_id, 0, mallory, salt, proof, level=2, level_salt=level_salts[str(mallory)],
                level_proof=level_proofs[str(mallory)])
    assert tx.events["SubtaskClaimed"]["level"] == 2


def test_a_selection_proof_is_bounded(registry, selected, selective, alice):
    salt, _ = selected[1][str(alice)]
    with brownie.reverts(err("TaskRegistryBatchTooLarge", 33, 32)):
        _claim(registry, selective, 0, alice, salt, [b"\x01" * 32] * 33)


def test_verify_selection_view(registry, selected, selective, alice, carol):
    salt, proof = selected[1][str(alice)]
    assert registry.verifySelection(selective, alice, salt, proof)
    assert not registry.verifySelection(selective, carol, salt, proof)
    assert not registry.verifySelection(selective + 1, alice, salt, proof)  # no root: nothing is selected
