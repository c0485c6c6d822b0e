"""Regions of interest and sensing tasks.

A region of interest is a rectangle. The releaser states it in real coordinates, usually
axis-aligned; after the per-epoch rotation it is no longer axis-aligned, so a region carries
its own orientation ``angle`` and is stored as centre + half extents. Testing a point then
means rotating it into the rectangle's frame (exact geometry, no bounding-box approximation),
and a transformed region selects exactly the users the real region would.

Units are those of the coordinates (the synthetic city uses metres).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from crowdsense.ldpf.ctbc._validation import as_point, as_points
from crowdsense.ldpf.ctbc.errors import InvalidRegionError
from crowdsense.errors import InputError

__all__ = ["Region", "Task", "task_to_json", "task_from_json"]


def _finite(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise InvalidRegionError(f"{name} must be a finite number, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Region:
    """A rectangle: centre, half width/height along its own axes, and the axes' angle.

    Parameters
    ----------
    center : (float, float)
        Centre of the rectangle.
    half_width, half_height : float
        Half extents along the rectangle's own x and y axes; both must be > 0 (an empty
        region can select nobody and is almost always a bug in the caller).
    angle : float, default 0
        Angle in radians of the rectangle's x axis, counter-clockwise from the frame's x axis.
    """

    center: tuple[float, float]
    half_width: float
    half_height: float
    angle: float = 0.0

    def __post_init__(self) -> None:
        c = as_point(self.center, "region center")
        object.__setattr__(self, "center", (float(c[0]), float(c[1])))
        for name in ("half_width", "half_height"):
            v = _finite(getattr(self, name), name)
            if v <= 0:
                raise InvalidRegionError(f"{name} must be > 0 (the region would be empty), got {v!r}")
            object.__setattr__(self, name, v)
        object.__setattr__(self, "angle", _finite(self.angle, "angle"))

    @classmethod
    def from_bounds(cls, x_min: float, x_max: float, y_min: float, y_max: float) -> Region:
        """Axis-aligned rectangle [x_min, x_max] x [y_min, y_max] (the paper's limits)."""
        x_min, x_max = _finite(x_min, "x_min"), _finite(x_max, "x_max")
        y_min, y_max = _finite(y_min, "y_min"), _finite(y_max, "y_max")
        if x_min > x_max or y_min > y_max:
            raise InvalidRegionError(
                f"region bounds are inverted: x in [{x_min}, {x_max}], y in [{y_min}, {y_max}] "
                "(expected x_min <= x_max and y_min <= y_max)"
            )
        if x_min == x_max or y_min == y_max:
            raise InvalidRegionError(
                f"region is empty: x in [{x_min}, {x_max}], y in [{y_min}, {y_max}] (zero width or height)"
            )
        return cls(((x_min + x_max) / 2, (y_min + y_max) / 2), (x_max - x_min) / 2, (y_max - y_min) / 2)

    @classmethod
    def square(cls, center: tuple[float, float], side: float) -> Region:
        """Axis-aligned square of the given side around ``center``."""
        side = _finite(side, "side")
        return cls(center, side / 2, side / 2)

    @property
    def area(self) -> float:
        return 4.0 * self.half_width * self.half_height

    def contains(self, points: object) -> np.ndarray:
        """Boolean mask: which of ``points`` (n, 2) lie in the closed rectangle."""
        p = as_points(points)
        c, s = math.cos(self.angle), math.sin(self.angle)
        d = p - np.asarray(self.center)
        # (u, v) = R(-angle) (p - centre): coordinates along the rectangle's own axes.
        u = c * d[:, 0] + s * d[:, 1]
        v = -s * d[:, 0] + c * d[:, 1]
        return (np.abs(u) <= self.half_width) & (np.abs(v) <= self.half_height)

    def corners(self) -> np.ndarray:
        """The four corners, counter-clockwise, shape (4, 2) (for plots)."""
        c, s = math.cos(self.angle), math.sin(self.angle)
        local = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=float)
        local *= (self.half_width, self.half_height)
        rot = np.array([[c, -s], [s, c]])
        return local @ rot.T + np.asarray(self.center)


@dataclass(frozen=True)
class Task:
    """A sensing task: its centre, the number N of users it needs, and its region of interest."""

    center: tuple[float, float]
    n_required: int
    region: Region

    def __post_init__(self) -> None:
        c = as_point(self.center, "task center")
        object.__setattr__(self, "center", (float(c[0]), float(c[1])))
        n = self.n_required
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise InputError(f"n_required must be an integer >= 1, got {n!r}")
        object.__setattr__(self, "n_required", int(n))
        if not isinstance(self.region, Region):
            raise InputError(f"region must be a Region, got {type(self.region).__name__}")


def task_to_json(task: Task) -> dict[str, Any]:
    """The JSON form of a task (what the CTBC platform service receives)."""
    r = task.region
    return {"center": list(task.center), "nRequired": task.n_required,
            "region": {"center": list(r.center), "halfWidth": r.half_width, "halfHeight": r.half_height,
                       "angle": r.angle}}


def task_from_json(doc: Any) -> Task:
    """A :class:`Task` from :func:`task_to_json`'s form (InputError if malformed)."""
    try:
        region = doc["region"]
        return Task(tuple(doc["center"]), doc["nRequired"],
                    Region(tuple(region["center"]), region["halfWidth"], region["halfHeight"],
                           region.get("angle", 0.0)))
    except (KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"the task is malformed ({exc}): expected center, nRequired and region "
                         "{center, halfWidth, halfHeight, angle}") from None
