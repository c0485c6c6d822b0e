"""Shared test configuration.

Contract fixtures live in ``tests/contracts/conftest.py``; tests of pure off-chain code need
no node and run under plain pytest too (``pytest -p no:pytest-brownie tests/offchain``).
"""
