"""Drift degree: how far a user's location is from the location it was matched on.

For CTBC the user's location is its transformed position and the matched location its group
centre (UD); for the k-anonymity baseline, its real position and its real group (or cloak)
centre. A rigid transform keeps distances, so both are in the same unit (metres) and directly
comparable. Mean and standard deviation measure usefulness and stability of the anonymised
locations; min and max their range (LDPF section 5, Figs. 5, 7, 9).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from crowdsense.ldpf.ctbc._validation import as_points
from crowdsense.errors import InputError

__all__ = ["DriftStats", "drift_distances", "drift_degree"]


@dataclass(frozen=True)
class DriftStats:
    """Summary of drift distances (population std, ddof = 0)."""

    mean: float
    std: float
    min: float
    max: float
    n: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def drift_distances(locations: object, matched: object) -> np.ndarray:
    """Euclidean distance between each location and the location it was matched on."""
    p = as_points(locations, "locations")
    q = as_points(matched, "matched")
    if p.shape != q.shape:
        raise InputError(f"locations and matched must have the same shape, got {p.shape} and {q.shape}")
    return np.hypot(p[:, 0] - q[:, 0], p[:, 1] - q[:, 1])


def drift_degree(locations: object, matched: object) -> DriftStats:
    """Mean, std, min and max of :func:`drift_distances` (at least one pair)."""
    d = drift_distances(locations, matched)
    if d.size == 0:
        raise InputError("drift needs at least one (location, matched location) pair, got none")
    return DriftStats(float(d.mean()), float(d.std()), float(d.min()), float(d.max()), int(d.size))
