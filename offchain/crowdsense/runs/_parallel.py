"""Run one function per party on a few threads (private helper of the rounds).

Simulated parties wait on the node most of the time (a commit is a few JSON-RPC round trips
and a journal fsync), so a handful of threads overlaps those waits; each party has its own
account, so their nonces never collide.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Sequence, TypeVar

from crowdsense.errors import CrowdsenseError, InputError

__all__ = ["thread_map", "check_workers"]

T = TypeVar("T")
R = TypeVar("R")


def check_workers(workers: object) -> int:
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 64:
        raise InputError(f"workers must be an int in [1, 64], got {workers!r}")
    return workers


def thread_map(
    fn: Callable[[T], R],
    items: Sequence[T],
    *,
    workers: int,
    progress: Callable[[int], None] | None = None,
) -> list[R | CrowdsenseError]:
    """``[fn(item) for item in items]`` on ``workers`` threads, in order.

    A :class:`~crowdsense.errors.CrowdsenseError` of one item is returned in its place (the
    party failed; the protocol decides what that means); any other exception propagates.
    ``progress(1)`` is called after each item.
    """
    def run(item: T) -> R | CrowdsenseError:
        try:
            return fn(item)
        except CrowdsenseError as exc:
            return exc
        finally:
            if progress is not None:
                progress(1)

    if workers == 1 or len(items) <= 1:
        return [run(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(run, items))
