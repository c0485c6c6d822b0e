"""Options of the simulated runs, shared by ``crowdsense demo`` and the LDPF round commands.

One definition per option, so that ``--k`` or ``--key-bits`` mean the same (type, range,
default) in every command that takes them; the help text names what the command simulates.
"""

from __future__ import annotations

from typing import Any, Callable

import click

__all__ = [
    "count_option",
    "k_option",
    "grid_option",
    "key_bits_option",
    "insecure_test_key_option",
    "seed_option",
    "workers_option",
    "region_option",
    "audit_option",
]

Decorator = Callable[[Any], Any]



def count_option(flag: str, help: str, *, default: int, minimum: int = 1, dest: str | None = None) -> Decorator:
    """An integer count of at least ``minimum`` (parties, tasks, failing parties), default shown."""
    decls = (flag, dest) if dest else (flag,)
    return click.option(*decls, type=click.IntRange(min=minimum), default=default, show_default=True, help=help)


k_option = click.option("--k", "k", type=click.IntRange(min=2), default=5, show_default=True,
                        help="CTBC anonymity level k (users per group).")
grid_option = click.option("--grid", type=click.IntRange(2, 10_000), default=100, show_default=True,
                           help="PDC grid points per axis over the region.")
key_bits_option = click.option("--key-bits", type=click.IntRange(min=128), default=2048, show_default=True,
                               help="Paillier modulus length of the PDC platform (1024 is accepted with a "
                                    "warning; below needs --insecure-test-key).")
insecure_test_key_option = click.option("--insecure-test-key", is_flag=True, hidden=True,
                                        help="Allow Paillier keys below 1024 bits (tests only).")


def seed_option(what: str) -> Decorator:
    """``--seed``: the seed of the simulation's ``what`` (secrets always come from ``secrets``)."""
    return click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
                        help=f"Seed of the simulation ({what}).")


def workers_option(default: int, what: str) -> Decorator:
    """``--workers``: threads running the simulated parties."""
    return click.option("--workers", type=click.IntRange(1, 64), default=default, show_default=True,
                        help=f"Threads {what}.")


def region_option(kind: str, first: str) -> Decorator:
    """``--region``: which popular or remote region of the synthetic city."""
    return click.option("--region", "region_index", type=click.IntRange(min=0), default=0, show_default=True,
                        help=f"Which {kind} region of the synthetic city (0 = {first}).")


def audit_option(what: str) -> Decorator:
    """``--audit FILE``: also write the round's secret material, mode 0600."""
    return click.option("--audit", "audit_path", type=click.Path(dir_okay=False), default=None,
                        help=f"Also write the round's secret material ({what}) here, mode 0600.")
