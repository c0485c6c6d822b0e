"""Step 8 of LDPF (remote regions): select the N receivers nearest to the task.

The platform knows only the distances it accepted in Protocol 2, never positions, so "inside
the region" is expressed in distance: the region of a task is its grid (receivers off the grid
cannot even encode their position) optionally cut to a Manhattan ball ``dist <= max_distance``
around the task centre (the region of interest). Among the eligible receivers the N with the
smallest distances are selected (the objective ``min sum dist`` of LDPF 4.3); ties at the
boundary are broken uniformly at random, reproducibly through ``random_state``, so no receiver
identifier is favoured. Remote regions often have fewer receivers than wanted: then every
eligible receiver is selected and a :class:`~crowdsense.ldpf.pdc.errors.SelectionWarning` says so.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from crowdsense.errors import InputError
from crowdsense.ldpf.pdc.errors import SelectionWarning

__all__ = ["Selected", "select_nearest"]


@dataclass(frozen=True)
class Selected:
    """One selected receiver and its accepted distance."""

    receiver: str
    distance: int


def select_nearest(
    distances: Mapping[str, int],
    n_select: int,
    *,
    max_distance: int | None = None,
    random_state: Any = None,
) -> list[Selected]:
    """The ``n_select`` receivers with the smallest distances among those within ``max_distance``.

    Parameters
    ----------
    distances : mapping of str to int
        Accepted Manhattan distances by receiver (``Platform.distances``).
    n_select : int
        N, the number of receivers wanted (>= 1).
    max_distance : int, optional
        Radius of the region of interest; ``None`` keeps every receiver on the grid.
    random_state : None, int or numpy.random.Generator
        Seeds the tie-breaking among equal distances.

    Returns
    -------
    list of Selected
        Sorted by distance (ties in random order); at most ``n_select`` entries.

    Warns
    -----
    SelectionWarning
        If fewer than ``n_select`` receivers are eligible.
    """
    if not isinstance(distances, Mapping):
        raise InputError(f"distances must be a mapping receiver -> distance, got {type(distances).__name__}")
    if isinstance(n_select, bool) or not isinstance(n_select, (int, np.integer)) or n_select < 1:
        raise InputError(f"n_select must be an int >= 1, got {n_select!r}")
    if max_distance is not None and (
        isinstance(max_distance, bool) or not isinstance(max_distance, (int, np.integer)) or max_distance < 0
    ):
        raise InputError(f"max_distance must be None or an int >= 0, got {max_distance!r}")
    for receiver, dist in distances.items():
        if not isinstance(receiver, str):
            raise InputError(f"receiver ids must be str, got {receiver!r}")
        if isinstance(dist, bool) or not isinstance(dist, (int, np.integer)) or dist < 0:
            raise InputError(f"distance of {receiver!r} must be an int >= 0, got {dist!r}")

    eligible = sorted(r for r, d in distances.items() if max_distance is None or d <= max_distance)
    rng = np.random.default_rng(random_state)
    tie_break = rng.permutation(len(eligible))
    order = sorted(range(len(eligible)), key=lambda i: (int(distances[eligible[i]]), int(tie_break[i])))
    if len(eligible) < n_select:
        warnings.warn(
            f"only {len(eligible)} receiver(s) within the region, "
            f"fewer than the {n_select} wanted; selecting all",
            SelectionWarning,
            stacklevel=2,
        )
    return [Selected(eligible[i], int(distances[eligible[i]])) for i in order[:n_select]]
