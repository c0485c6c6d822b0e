"""TaskRegistry: every function, every event, every rejection by its custom error."""

import brownie
import pytest
from brownie import ZERO_ADDRESS
from revert_strings import err, plain

LEVELS = 3
#: A claim's encryption key: the x-coordinate of the secp256k1 generator, a point of the curve.
KEY = "0x79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"


def h(i: int) -> bytes:
    return bytes([i]) * 32


# ------------------------------------------------------------------ deployment


def test_deploy_sets_levels_and_roles(registry, admin, registrar, releaser):
    assert registry.numLevels() == LEVELS
    assert registry.hasRole(registry.DEFAULT_ADMIN_ROLE(), admin)
    assert registry.hasRole(registry.REGISTRAR_ROLE(), registrar)
    assert registry.hasRole(registry.RELEASER_ROLE(), releaser)
    assert not registry.hasRole(registry.REGISTRAR_ROLE(), admin)
    assert registry.taskCount() == 0


@pytest.mark.parametrize("levels", [0, 1])
def test_deploy_with_fewer_than_two_levels_reverts(TaskRegistry, admin, levels):
    with brownie.reverts(err("TaskRegistryInvalidLevelCount", levels)):
        TaskRegistry.deploy(levels, admin, admin, admin, {"from": admin})


@pytest.mark.parametrize("levels", [2, 255])
def test_deploy_with_two_to_255_levels_succeeds(TaskRegistry, admin, levels):
    assert TaskRegistry.deploy(levels, admin, admin, admin, {"from": admin}).numLevels() == levels


@pytest.mark.parametrize("position", [0, 1, 2])
def test_deploy_with_zero_address_reverts(TaskRegistry, admin, position):
    args = [admin, admin, admin]
    args[position] = ZERO_ADDRESS
    with brownie.reverts(err("TaskRegistryZeroAddress", position)):
        TaskRegistry.deploy(LEVELS, *args, {"from": admin})


# ------------------------------------------------------------------ setLevels


def test_set_levels_records_and_emits(registry, registrar, alice, bob):
    tx = registry.setLevels([alice, bob], [1, 3], {"from": registrar})
    assert registry.levelOf(alice) == 1
    assert registry.levelOf(bob) == 3
    events = tx.events["LevelSet"]
    assert [(e["user"], e["level"], e["registrar"]) for e in events] == [(alice, 1, registrar), (bob, 3, registrar)]


def test_set_levels_overwrites_previous_level(registry, registrar, alice):
    registry.setLevels([alice], [1], {"from": registrar})
    registry.setLevels([alice], [2], {"from": registrar})
    assert registry.levelOf(alice) == 2


def test_level_of_unregistered_is_zero(registry, mallory):
    assert registry.levelOf(mallory) == 0


def test_set_levels_length_mismatch_reverts(registry, registrar, alice, bob):
    with brownie.reverts(err("TaskRegistryLengthMismatch", 2, 1)):
        registry.setLevels([alice, bob], [1], {"from": registrar})


def test_set_levels_empty_reverts(registry, registrar):
    with brownie.reverts(err("TaskRegistryEmptyBatch")):
        registry.setLevels([], [], {"from": registrar})


@pytest.mark.parametrize("level", [0, LEVELS + 1, 255])
def test_set_levels_out_of_range_reverts(registry, registrar, alice, level):
    with brownie.reverts(err("TaskRegistryInvalidLevel", level, LEVELS)):
        registry.setLevels([alice], [level], {"from": registrar})


def test_set_levels_zero_address_reverts(registry, registrar, alice):
    with brownie.reverts(err("TaskRegistryZeroAddress", 1)):
        registry.setLevels([alice, ZERO_ADDRESS], [1, 1], {"from": registrar})


def test_set_levels_batch_too_large_reverts(registry, registrar, alice):
    n = registry.MAX_LEVEL_BATCH() + 1
    with brownie.reverts(err("TaskRegistryBatchTooLarge", n, n - 1)):
        registry.setLevels([alice] * n, [1] * n, {"from": registrar})


def test_set_levels_failure_leaves_no_partial_state(registry, registrar, alice, bob):
    with brownie.reverts(err("TaskRegistryInvalidLevel", 0, LEVELS)):
        registry.setLevels([alice, bob], [1, 0], {"from": registrar})
    assert registry.levelOf(alice) == 0


def test_clear_levels_unregisters_and_emits(leveled, registrar, alice):
    tx = leveled.clearLevels([alice], {"from": registrar})
    assert leveled.levelOf(alice) == 0
    assert tx.events["LevelSet"]["level"] == 0


def test_clear_levels_empty_reverts(registry, registrar):
    with brownie.reverts(err("TaskRegistryEmptyBatch")):
        registry.clearLevels([], {"from": registrar})


def test_clear_levels_batch_too_large_reverts(registry, registrar, alice):
    n = registry.MAX_LEVEL_BATCH() + 1
    with brownie.reverts(err("TaskRegistryBatchTooLarge", n, n - 1)):
        registry.clearLevels([alice] * n, {"from": registrar})


# ------------------------------------------------------------------ releaseTask


def test_release_task_stores_subtasks_and_emits(registry, releaser):
    tx = registry.releaseTask([h(1), h(2)], [1, 3], {"from": releaser})
    task_id = tx.return_value
    assert task_id == 0
    assert registry.taskCount() == 1
    assert plain(registry.getTask(task_id)) == (releaser.address, 2, False)
    assert registry.subtaskCount(task_id) == 2
    assert plain(registry.getSubtask(task_id, 0)) == ("0x" + h(1).hex(), 1, ZERO_ADDRESS, "0x" + "00" * 32)
    assert registry.getSubtask(task_id, 1)[1] == 3
    assert tx.events["TaskReleased"]["taskId"] == 0
    assert tx.events["TaskReleased"]["releaser"] == releaser
    assert tx.events["TaskReleased"]["subtaskCount"] == 2
    released = tx.events["SubtaskReleased"]
    assert [(e["index"], e["level"], e["subtaskHash"]) for e in released] == [
        (0, 1, "0x" + h(1).hex()),
        (1, 3, "0x" + h(2).hex()),
    ]


def test_release_task_ids_increase(registry, releaser):
    first = registry.releaseTask([h(1)], [1], {"from": releaser}).return_value
    second = registry.releaseTask([h(2)], [2], {"from": releaser}).return_value
    assert (first, second) == (0, 1)


def test_release_task_length_mismatch_reverts(registry, releaser):
    with brownie.reverts(err("TaskRegistryLengthMismatch", 2, 1)):
        registry.releaseTask([h(1), h(2)], [1], {"from": releaser})


def test_release_empty_task_reverts(registry, releaser):
    with brownie.reverts(err("TaskRegistryEmptyBatch")):
        registry.releaseTask([], [], {"from": releaser})


def test_release_too_many_subtasks_reverts(registry, releaser):
    n = registry.MAX_SUBTASKS() + 1
    with brownie.reverts(err("TaskRegistryBatchTooLarge", n, n - 1)):
        registry.releaseTask([h(i + 1) for i in range(n)], [1] * n, {"from": releaser})


def test_release_max_subtasks_succeeds(registry, releaser):
    n = registry.MAX_SUBTASKS()
    task_id = registry.releaseTask([h(i + 1) for i in range(n)], [1] * n, {"from": releaser}).return_value
    assert registry.subtaskCount(task_id) == n


@pytest.mark.parametrize("level", [0, LEVELS + 1])
def test_release_invalid_level_reverts(registry, releaser, level):
    with brownie.reverts(err("TaskRegistryInvalidLevel", level, LEVELS)):
        registry.releaseTask([h(1), h(2)], [1, level], {"from": releaser})


def test_release_zero_hash_reverts(registry, releaser):
    with brownie.reverts(err("TaskRegistryZeroHash", 1)):
        registry.releaseTask([h(1), bytes(32)], [1, 2], {"from": releaser})
    assert registry.taskCount() == 0


# ------------------------------------------------------------------ claimSubtask


def test_claim_records_claimant_and_emits(leveled, task, alice):
    tx = leveled.claimSubtask(task, 0, KEY, {"from": alice})
    assert leveled.getSubtask(task, 0)[2] == alice
    assert plain(leveled.heldSubtask(task, alice)) == (True, 0)
    ev = tx.events["SubtaskClaimed"]
    assert (ev["taskId"], ev["index"], ev["claimant"], ev["level"]) == (task, 0, alice, 1)
    assert ev["encryptionKey"] == KEY


#: secp256k1's field prime: keys from it up are no field elements.
FIELD_PRIME = 2**256 - 2**32 - 977


@pytest.mark.parametrize("key", [0, FIELD_PRIME, 2**256 - 1], ids=["zero", "prime", "max"])
def test_claim_with_an_encryption_key_outside_the_field_reverts(leveled, task, alice, key):
    word = "0x" + key.to_bytes(32, "big").hex()
    with brownie.reverts(err("TaskRegistryInvalidEncryptionKey", key.to_bytes(32, "big"))):
        leveled.claimSubtask(task, 0, word, {"from": alice})
    assert plain(leveled.heldSubtask(task, alice)) == (False, 0)


def test_claim_with_the_largest_field_element_as_key_is_accepted(leveled, task, alice):
    """The contract checks the range only; whether the key is a point is the releaser's check."""
    word = "0x" + (FIELD_PRIME - 1).to_bytes(32, "big").hex()
    assert leveled.claimSubtask(task, 0, word, {"from": alice}).events["SubtaskClaimed"]["encryptionKey"] == word


def test_key_is_checked_after_every_rule_of_the_claim(leveled, task, alice):
    """A doomed claim reports why it is doomed, not the key it carries."""
    with brownie.reverts(err("TaskRegistryLevelMismatch", alice, 2, 1)):
        leveled.claimSubtask(task, 1, "0x" + "00" * 32, {"from": alice})


@pytest.mark.parametrize("level", [1, LEVELS])
def test_levels_at_both_ends_of_1_to_t_set_release_and_claim(registry, registrar, releaser, mallory, level):
    registry.setLevels([mallory], [level], {"from": registrar})
    task_id = registry.releaseTask([h(1)], [level], {"from": releaser}).return_value
    tx = registry.claimSubtask(task_id, 0, KEY, {"from": mallory})
    assert (registry.levelOf(mallory), tx.events["SubtaskClaimed"]["level"]) == (level, level)


def test_receivers_of_each_level_claim_their_subtasks(leveled, task, alice, bob, carol):
    leveled.claimSubtask(task, 0, KEY, {"from": alice})
    leveled.claimSubtask(task, 1, KEY, {"from": bob})
    leveled.claimSubtask(task, 2, KEY, {"from": carol})
    assert [leveled.getSubtask(task, i)[2] for i in range(3)] == [alice, bob, carol]


def test_held_subtask_of_non_holder_is_false(leveled, task, bob):
    assert plain(leveled.heldSubtask(task, bob)) == (False, 0)


def test_claim_unknown_task_reverts(leveled, task, alice):
    with brownie.reverts(err("TaskRegistryUnknownTask", 7)):
        leveled.claimSubtask(7, 0, KEY, {"from": alice})


def test_claim_index_out_of_range_reverts(leveled, task, alice):
    with brownie.reverts(err("TaskRegistryIndexOutOfRange", task, 4, 4)):
        leveled.claimSubtask(task, 4, KEY, {"from": alice})


def test_claim_by_unregistered_reverts(leveled, task, mallory):
    with brownie.reverts(err("TaskRegistryNotRegistered", mallory)):
        leveled.claimSubtask(task, 0, KEY, {"from": mallory})


def test_claim_at_wrong_level_reverts(leveled, task, alice):
    with brownie.reverts(err("TaskRegistryLevelMismatch", alice, 2, 1)):
        leveled.claimSubtask(task, 1, KEY, {"from": alice})


def test_claim_on_closed_task_reverts(leveled, task, releaser, alice):
    leveled.closeTask(task, {"from": releaser})
    with brownie.reverts(err("TaskRegistryTaskClosed", task)):
        leveled.claimSubtask(task, 0, KEY, {"from": alice})


def test_claim_of_claimed_subtask_reverts(leveled, task, registrar, alice, mallory):
    leveled.setLevels([mallory], [1], {"from": registrar})
    leveled.claimSubtask(task, 0, KEY, {"from": alice})
    with brownie.reverts(err("TaskRegistryAlreadyClaimed", task, 0, alice)):
        leveled.claimSubtask(task, 0, KEY, {"from": mallory})


def test_second_subtask_of_same_task_reverts(leveled, task, alice):
    leveled.claimSubtask(task, 0, KEY, {"from": alice})
    with brownie.reverts(err("TaskRegistryAlreadyHoldsSubtask", task, alice, 0)):
        leveled.claimSubtask(task, 3, KEY, {"from": alice})


def test_claim_in_another_task_is_allowed(leveled, task, releaser, alice):
    leveled.claimSubtask(task, 0, KEY, {"from": alice})
    other = leveled.releaseTask([h(9)], [1], {"from": releaser}).return_value
    leveled.claimSubtask(other, 0, KEY, {"from": alice})
    assert plain(leveled.heldSubtask(other, alice)) == (True, 0)


def test_claim_after_level_cleared_reverts(leveled, task, registrar, alice):
    leveled.clearLevels([alice], {"from": registrar})
    with brownie.reverts(err("TaskRegistryNotRegistered", alice)):
        leveled.claimSubtask(task, 0, KEY, {"from": alice})


# ------------------------------------------------------------------ submitData


def test_submit_data_records_and_emits(leveled, task, alice):
    leveled.claimSubtask(task, 0, KEY, {"from": alice})
    tx = leveled.submitData(task, 0, h(0xAA), {"from": alice})
    assert leveled.getSubtask(task, 0)[3] == "0x" + h(0xAA).hex()
    ev = tx.events["DataSubmitted"]
    assert (ev["taskId"], ev["index"], ev["claimant"], ev["dataHash"]) == (task, 0, alice, "0x" + h(0xAA).hex())


def test_submit_data_by_non_claimant_reverts(leveled, task, alice, bob):
    leveled.claimSubtask(task, 0, KEY, {"from": alice})
    with brownie.reverts(err("TaskRegistryNotClaimant", task, 0, bob)):
        leveled.submitData(task, 0, h(1), {"from": bob})


def test_submit_data_on_unclaimed_subtask_reverts(leveled, task, alice):
    with brownie.reverts(err("TaskRegistryNotClaimant", task, 0, alice)):
        leveled.submitData(task, 0, h(1), {"from": alice})


def test_submit_zero_data_hash_reverts(leveled, task, alice):
    leveled.claimSubtask(task, 0, KEY, {"from": alice})
    with brownie.reverts(err("TaskRegistryZeroHash", 0)):
        leveled.submitData(task, 0, bytes(32), {"from": alice})


def test_submit_data_twice_reverts(leveled, task, alice):
    leveled.claimSubtask(task, 0, KEY, {"from": alice})
    leveled.submitData(task, 0, h(1), {"from": alice})
    with brownie.reverts(err("TaskRegistryDataAlreadySubmitted", task, 0)):
        leveled.submitData(task, 0, h(2), {"from": alice})


def test_submit_data_on_closed_task_reverts(leveled, task, releaser, alice):
    leveled.claimSubtask(task, 0, KEY, {"from": alice})
    leveled.closeTask(task, {"from": releaser})
    with brownie.reverts(err("TaskRegistryTaskClosed", task)):
        leveled.submitData(task, 0, h(1), {"from": alice})


def test_submit_data_index_out_of_range_reverts(leveled, task, alice):
    with brownie.reverts(err("TaskRegistryIndexOutOfRange", task, 9, 4)):
        leveled.submitData(task, 9, h(1), {"from": alice})


def test_submit_data_unknown_task_reverts(leveled, alice):
    with brownie.reverts(err("TaskRegistryUnknownTask", 3)):
        leveled.submitData(3, 0, h(1), {"from": alice})


# ------------------------------------------------------------------ closeTask


def test_close_task_marks_closed_and_emits(leveled, task, releaser):
    tx = leveled.closeTask(task, {"from": releaser})
    assert plain(leveled.getTask(task))[2] is True
    assert tx.events["TaskClosed"]["taskId"] == task
    assert tx.events["TaskClosed"]["releaser"] == releaser


def test_close_task_by_other_releaser_reverts(leveled, task, admin, mallory):
    leveled.grantRole(leveled.RELEASER_ROLE(), mallory, {"from": admin})
    with brownie.reverts(err("TaskRegistryNotReleaser", task, mallory)):
        leveled.closeTask(task, {"from": mallory})


def test_close_task_twice_reverts(leveled, task, releaser):
    leveled.closeTask(task, {"from": releaser})
    with brownie.reverts(err("TaskRegistryTaskClosed", task)):
        leveled.closeTask(task, {"from": releaser})


def test_close_unknown_task_reverts(registry, releaser):
    with brownie.reverts(err("TaskRegistryUnknownTask", 0)):
        registry.closeTask(0, {"from": releaser})


# ------------------------------------------------------------------ views


def test_views_of_unknown_task_revert(registry):
    for call in (lambda: registry.getSubtask(0, 0), lambda: registry.subtaskCount(0),
                 lambda: registry.getTask(0), lambda: registry.heldSubtask(0, ZERO_ADDRESS)):
        with brownie.reverts(err("TaskRegistryUnknownTask", 0)):
            call()


def test_get_subtask_index_out_of_range_reverts(leveled, task):
    with brownie.reverts(err("TaskRegistryIndexOutOfRange", task, 4, 4)):
        leveled.getSubtask(task, 4)


def test_supports_access_control_interface(registry):
    assert registry.supportsInterface("0x7965db0b")  # IAccessControl
    assert not registry.supportsInterface("0xffffffff")
