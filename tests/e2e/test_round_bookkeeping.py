"""What the CTBC and PDC rounds share (crowdsense.runs._round) and the gas table of every summary."""

from __future__ import annotations

import threading

import pytest

from crowdsense.chain.accounts import simulation_signer
from crowdsense.errors import InputError
from crowdsense.runs._round import check_faults, check_signers, progress_counter
from crowdsense.runs.report import format_gas, gas_table


def test_check_faults_keeps_valid_faults_and_names_the_party_in_errors() -> None:
    assert check_faults({0: "absent", 2: "liar"}, 3, ("absent", "liar"), "receiver") == {0: "absent", 2: "liar"}
    with pytest.raises(InputError, match="receiver indices in \\[0, 3\\)"):
        check_faults({3: "absent"}, 3, ("absent",), "receiver")
    with pytest.raises(InputError, match="for user 1"):
        check_faults({1: "liar"}, 3, ("absent", "tamper"), "user")
    with pytest.raises(InputError):
        check_faults({True: "absent"}, 3, ("absent",), "user")  # a bool is not an index


def test_check_signers_wants_one_distinct_account_per_party() -> None:
    a, b = simulation_signer("bookkeeping-a"), simulation_signer("bookkeeping-b")
    assert check_signers(iter([a, b]), 2, "user") == [a, b]
    with pytest.raises(InputError, match="one signer per user"):
        check_signers([a], 2, "user")
    with pytest.raises(InputError, match="receivers' signers must be distinct"):
        check_signers([a, a], 2, "receiver")


def test_progress_counter_counts_every_call_from_many_threads() -> None:
    seen: list[tuple[str, int, int]] = []
    lock = threading.Lock()

    def progress(stage: str, done: int, total: int) -> None:
        with lock:
            seen.append((stage, done, total))

    step = progress_counter(progress, "commit", 400)
    threads = [threading.Thread(target=lambda: [step(1) for _ in range(50)]) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(done for _, done, _ in seen) == list(range(1, 401))
    assert {(stage, total) for stage, _, total in seen} == {("commit", 400)}


def test_gas_table_counts_reverted_transactions_within_their_kind() -> None:
    txs = [("commitBit", True, 70_000), ("commitBit", True, 69_000), ("revealBit", False, 29_000),
           ("revealBit", True, 35_000)]
    table = gas_table(txs)
    for kind in ("commitBit", "revealBit"):
        mine = [t for t in txs if t[0] == kind]
        assert table[kind] == {"count": len(mine), "reverted": sum(not ok for _, ok, _ in mine),
                               "gas": sum(g for _, _, g in mine)}
    lines = format_gas(table)
    assert len(lines) == 1 + len(table) and all(kind in "".join(lines) for kind in table)
