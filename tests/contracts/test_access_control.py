"""Access-control matrix: every privileged function x every role, allowed or refused."""

import brownie
import pytest
from revert_strings import err

ROLES = ["admin", "registrar", "releaser", "receiver", "outsider"]


@pytest.fixture
def callers(admin, registrar, releaser, alice, mallory):
    return {"admin": admin, "registrar": registrar, "releaser": releaser, "receiver": alice, "outsider": mallory}


def _call(fn, registry, caller, bob):
    if fn == "setLevels":
        return registry.setLevels([bob], [2], {"from": caller})
    if fn == "clearLevels":
        return registry.clearLevels([bob], {"from": caller})
    if fn == "setLevelsRoot":
        return registry.setLevelsRoot(b"\x07" * 32, {"from": caller})
    if fn == "releaseTask":
        return registry.releaseTask([b"\x01" * 32], [1], {"from": caller})
    if fn == "releaseTaskForSelection":
        return registry.releaseTaskForSelection([b"\x01" * 32], [1], {"from": caller})
    if fn == "setSelection":
        return registry.setSelection(0, b"\x07" * 32, {"from": caller})
    if fn == "grantRole":
        return registry.grantRole(registry.RELEASER_ROLE(), bob, {"from": caller})
    if fn == "revokeRole":
        return registry.revokeRole(registry.REGISTRAR_ROLE(), bob, {"from": caller})
    if fn == "closeTask":
        return registry.closeTask(0, {"from": caller})
    raise AssertionError(fn)


# function -> (role it needs as a bytes32 getter name or None, roles allowed)
MATRIX = {
    "setLevels": ("REGISTRAR_ROLE", {"registrar"}),
    "clearLevels": ("REGISTRAR_ROLE", {"registrar"}),
    "setLevelsRoot": ("REGISTRAR_ROLE", {"registrar"}),
    "releaseTask": ("RELEASER_ROLE", {"releaser"}),
    "releaseTaskForSelection": ("RELEASER_ROLE", {"releaser"}),
    "setSelection": ("SELECTOR_ROLE", set()),  # no account holds it until the admin grants it
    "grantRole": ("DEFAULT_ADMIN_ROLE", {"admin"}),
    "revokeRole": ("DEFAULT_ADMIN_ROLE", {"admin"}),
    "closeTask": (None, {"releaser"}),  # bound to the task's own releaser, not to a role
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("fn", sorted(MATRIX))
def test_access_matrix(registry, callers, releaser, bob, fn, role):
    if fn == "closeTask":
        registry.releaseTask([b"\x01" * 32], [1], {"from": releaser})
    if fn == "setSelection":
        registry.releaseTaskForSelection([b"\x01" * 32], [1], {"from": releaser})
    needed, allowed = MATRIX[fn]
    caller = callers[role]
    if role in allowed:
        tx = _call(fn, registry, caller, bob)
        assert tx.status == 1
    elif needed is None:
        with brownie.reverts(err("TaskRegistryNotReleaser", 0, caller)):
            _call(fn, registry, caller, bob)
    else:
        with brownie.reverts(err("AccessControlUnauthorizedAccount", caller, bytes(getattr(registry, needed)()))):
            _call(fn, registry, caller, bob)


def test_granted_registrar_can_set_levels(registry, admin, bob, alice):
    registry.grantRole(registry.REGISTRAR_ROLE(), bob, {"from": admin})
    registry.setLevels([alice], [3], {"from": bob})
    assert registry.levelOf(alice) == 3


def test_revoked_registrar_cannot_set_levels(registry, admin, registrar, alice):
    registry.revokeRole(registry.REGISTRAR_ROLE(), registrar, {"from": admin})
    with brownie.reverts(err("AccessControlUnauthorizedAccount", registrar, bytes(registry.REGISTRAR_ROLE()))):
        registry.setLevels([alice], [3], {"from": registrar})


def test_only_registrar_changes_levels(registry, admin, releaser, alice, mallory):
    for caller in (admin, releaser, alice, mallory):
        with brownie.reverts(err("AccessControlUnauthorizedAccount", caller, bytes(registry.REGISTRAR_ROLE()))):
            registry.setLevels([alice], [2], {"from": caller})
    assert registry.levelOf(alice) == 0


def test_granted_selector_fixes_a_selection_and_revoked_cannot(registry, admin, releaser, bob):
    registry.releaseTaskForSelection([b"\x01" * 32, b"\x02" * 32], [1, 2], {"from": releaser})
    registry.releaseTaskForSelection([b"\x03" * 32], [1], {"from": releaser})
    registry.grantRole(registry.SELECTOR_ROLE(), bob, {"from": admin})
    registry.setSelection(0, b"\x07" * 32, {"from": bob})
    assert registry.taskSelection(0)[1] == "0x" + "07" * 32
    registry.revokeRole(registry.SELECTOR_ROLE(), bob, {"from": admin})
    with brownie.reverts(err("AccessControlUnauthorizedAccount", bob, bytes(registry.SELECTOR_ROLE()))):
        registry.setSelection(1, b"\x07" * 32, {"from": bob})
