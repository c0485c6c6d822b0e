"""The node of the load generator's tests: a private Anvil, started once and stopped at the end.

These tests sit beside the modules they test: pytest imports a test file of this folder as
``batchsend.test_*`` with ``benchmarks/`` first on ``sys.path`` (the folder above the first
one without ``__init__.py``), as ``python benchmarks/throughput.py`` does for the scripts,
so ``import batchsend`` means the same package in both. ``make test`` collects this folder
together with ``tests/``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crowdsense.chain.node import LocalNode, free_port


@pytest.fixture(scope="session")
def anvil_url() -> Iterator[str]:
    """URL of a private Anvil (chain id 31337, automine, development accounts funded) on a
    free port of ``$CROWDSENSE_TEST_PORTS``; a missing Anvil is an error, not a skip."""
    with LocalNode("anvil", port=free_port()) as node:
        yield node.url
