"""TaskRegistryClient checks every integer it would send against its ABI type, before any call.

web3's encoder refuses an out-of-range ``uint256`` with a multi-line dump of the ABI; the
client's entry points refuse it first, with one line naming the argument and the range.
"""

from __future__ import annotations

from typing import Any, Callable

import pytest

from crowdsense.errors import InputError

TOO_BIG = 2**256
CALLS: dict[str, Callable[[Any], Any]] = {
    "task": lambda c: c.task(TOO_BIG),
    "subtask-index": lambda c: c.subtask(0, TOO_BIG),
    "held-subtask": lambda c: c.held_subtask(TOO_BIG, c.me),
    "claim": lambda c: c.claim(TOO_BIG, 0),
    "claim-index": lambda c: c.claim(0, TOO_BIG),
    "close": lambda c: c.close_task(TOO_BIG),
    "submit": lambda c: c.submit_data(TOO_BIG, 0, data=b"x"),
    "submit-index": lambda c: c.submit_data(0, TOO_BIG, data=b"x"),
    "fetch-index": lambda c: c.fetch_subtask(0, TOO_BIG),
    "hand-over": lambda c: c.hand_over_keys([0, TOO_BIG]),
    "claim-keys": lambda c: c.claim_keys(TOO_BIG),
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_uint256_overflow_is_refused_in_one_line(env: Any, release_task: Any, call: Callable[[Any], Any]) -> None:
    release_task()  # task 0 exists, so only the range can be wrong
    client = env.client(env.roles.bob, "ranges")
    with pytest.raises(InputError, match=r"out of range: expected an integer in 0\.\.2\*\*256-1") as info:
        call(client)
    assert "\n" not in str(info.value) and str(TOO_BIG) in str(info.value)


@pytest.mark.parametrize("kwargs, match", [
    ({"from_block": 2**64}, r"from_block 18446744073709551616 is out of range: expected an integer in 0\.\.2\*\*64-1"),
    ({"page_size": 0}, r"page_size 0 is out of range: expected an integer in 1\.\.2\*\*64-1"),
    ({"to_block": -1}, r"to_block -1 is out of range"),
    ({"from_block": "0"}, r"from_block '0' is not an integer"),
])
def test_open_subtasks_checks_its_block_arguments(env: Any, kwargs: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        env.client(env.roles.bob, "ranges").open_subtasks(2, **kwargs)


def test_open_subtasks_refuses_a_level_that_is_not_an_int(env: Any) -> None:
    with pytest.raises(InputError, match=r"level must be in 1\.\.3, got '2'"):
        env.client(env.roles.bob, "ranges").open_subtasks("2")  # type: ignore[arg-type]


def test_a_to_block_beyond_the_chain_head_scans_what_exists(env: Any, release_task: Any) -> None:
    released = release_task()
    bob = env.client(env.roles.bob, "ranges")
    found = bob.open_subtasks(2, to_block=2**64 - 1, claimable_only=False)
    assert (released.task_id, 1) in {(s.task_id, s.index) for s in found}
