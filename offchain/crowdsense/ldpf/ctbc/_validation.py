"""Input checks shared by the CTBC modules (private)."""

from __future__ import annotations

import numbers

import numpy as np

from crowdsense.ldpf.ctbc.errors import AnonymityLevelError, NonFiniteCoordinatesError, NotEnoughUsersError
from crowdsense.errors import InputError

__all__ = ["as_points", "as_point", "check_k", "check_random_state", "RandomState"]

RandomState = int | np.random.Generator | np.random.RandomState | None


def as_points(points: object, name: str = "points") -> np.ndarray:
    """Return ``points`` as a float64 array of shape (n, 2) with finite entries."""
    try:
        arr = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be an array of (x, y) pairs, got {type(points).__name__}") from exc
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise InputError(f"{name} must have shape (n, 2), got {arr.shape}")
    finite = np.isfinite(arr).all(axis=1)
    if not finite.all():
        bad = np.flatnonzero(~finite)
        raise NonFiniteCoordinatesError(name, int(bad.size), int(bad[0]))
    return arr


def as_point(point: object, name: str = "point") -> np.ndarray:
    """Return one (x, y) point as a float64 array of shape (2,) with finite entries."""
    try:
        arr = np.asarray(point, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be an (x, y) pair, got {point!r}") from exc
    if arr.shape != (2,):
        raise InputError(f"{name} must be an (x, y) pair, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise NonFiniteCoordinatesError(name, int((~np.isfinite(arr)).sum()), 0)
    return arr


def check_k(k: object, n_users: int | None = None) -> int:
    """Validate the anonymity level k (an int >= 2, and <= n_users when given)."""
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 2:
        raise AnonymityLevelError(k)
    k = int(k)
    if n_users is not None and n_users < k:
        raise NotEnoughUsersError(n_users, k)
    return k


def check_random_state(random_state: RandomState) -> np.random.Generator:
    """Turn ``random_state`` (None, an int seed or a numpy generator) into a ``Generator``.

    This randomness is for simulation and for the platform's tie-free random picks; secrets
    (commitment nonces, transform parameters) never come from here but from :mod:`secrets`.
    """
    if random_state is None or isinstance(random_state, numbers.Integral):
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    raise InputError(
        f"random_state must be None, an int or a numpy Generator, got {type(random_state).__name__}"
    )
