"""Fixtures for the contract tests: accounts named by role, contracts deployed once per module.

``fn_isolation`` snapshots the chain around every test, so each test starts from the same
deployed state.
"""

from typing import Any

import pytest

NUM_LEVELS = 3


@pytest.fixture(autouse=True)
def isolation(fn_isolation):
    pass


def _role(name: str, index: int) -> Any:
    """A module-scoped fixture ``name``: brownie's development account ``index``."""

    def account(accounts: Any) -> Any:
        return accounts[index]

    return pytest.fixture(scope="module", name=name)(account)


#: The accounts by role, in the order of brownie's development accounts.
admin, registrar, releaser, alice, bob, carol, mallory = (
    _role(name, index)
    for index, name in enumerate(("admin", "registrar", "releaser", "alice", "bob", "carol", "mallory")))


@pytest.fixture(scope="module")
def registry(TaskRegistry, admin, registrar, releaser):
    yield TaskRegistry.deploy(NUM_LEVELS, admin, registrar, releaser, {"from": admin})


@pytest.fixture(scope="module")
def verifier(CommitmentVerifier, admin):
    yield CommitmentVerifier.deploy(0, 86400, {"from": admin})


@pytest.fixture(scope="module")
def aged_verifier(CommitmentVerifier, admin):
    """A verifier whose openings must be 60 s to 1 h old."""
    yield CommitmentVerifier.deploy(60, 3600, {"from": admin})


@pytest.fixture
def leveled(registry, registrar, alice, bob, carol):
    """alice at level 1, bob at level 2, carol at level 3."""
    registry.setLevels([alice, bob, carol], [1, 2, 3], {"from": registrar})
    return registry


@pytest.fixture
def task(leveled, releaser):
    """Task 0 with four subtasks at levels 1, 2, 3, 1 (hashes 0x01.., 0x02.., ...)."""
    hashes = [bytes([i + 1]) * 32 for i in range(4)]
    tx = leveled.releaseTask(hashes, [1, 2, 3, 1], {"from": releaser})
    return tx.return_value
