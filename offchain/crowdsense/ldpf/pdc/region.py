"""Where a PDC grid lies on the map: from a receiver's latitude and longitude to its grid point.

PDC computes distances between grid points (:class:`~crowdsense.ldpf.pdc.encoding.Grid`); a
task's region says where that grid lies: the south-west corner (grid point (0, 0)), the side of
a cell in metres and the number of points per axis. The region is public (the platform hands
it out with the task message); each receiver places *itself* on the grid, on its own machine,
so its coordinates never leave it. The projection is the same local equirectangular one the
city model uses (:func:`crowdsense.ldpf.city.project_lonlat`): x east, y north, in metres from
the corner; at the scale of a task region (kilometres) its error is far below a cell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from crowdsense.errors import InputError
from crowdsense.ldpf.city import project_lonlat
from crowdsense.ldpf.pdc.encoding import Grid, Point

__all__ = ["GridRegion", "parse_latlon"]


def parse_latlon(text: Any, what: str = "location") -> tuple[float, float]:
    """``"LAT,LON"`` (degrees) or a pair of numbers as ``(lat, lon)``, checked to be on Earth."""
    if isinstance(text, str):
        parts = text.replace(" ", "").split(",")
        try:
            pair = tuple(float(p) for p in parts)
        except ValueError:
            pair = ()
    elif isinstance(text, (list, tuple)) and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                  for v in text):
        pair = tuple(float(v) for v in text)
    else:
        pair = ()
    if len(pair) != 2 or not all(math.isfinite(v) for v in pair):
        raise InputError(f"{what} {text!r} is not a position: expected LAT,LON in degrees, "
                         "for example -22.9068,-43.1729")
    lat, lon = pair
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InputError(f"{what} {text!r} is not on Earth: expected a latitude in -90..90 and a longitude "
                         "in -180..180 degrees")
    return lat, lon


@dataclass(frozen=True)
class GridRegion:
    """A ``width`` x ``height`` grid of ``step`` metre cells whose point (0, 0) is at ``origin``
    (latitude, longitude of the south-west corner)."""

    origin: tuple[float, float]
    step: float
    width: int
    height: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "origin", parse_latlon(self.origin, "region origin"))
        if isinstance(self.step, bool) or not isinstance(self.step, (int, float)) or not math.isfinite(self.step) \
                or not 0.01 <= self.step <= 100_000:
            raise InputError(f"region cell side {self.step!r} is not usable: expected metres in 0.01..100000")
        object.__setattr__(self, "step", float(self.step))
        Grid(self.width, self.height)  # checks the sizes, with the grid's own messages

    @property
    def grid(self) -> Grid:
        return Grid(self.width, self.height)

    def point(self, location: Any, what: str = "location") -> Point:
        """The grid point nearest to ``location`` (``"LAT,LON"`` or a pair), refused if it lies
        outside the region by more than half a cell."""
        lat, lon = parse_latlon(location, what)
        x, y = project_lonlat(np.array([[lat, lon]]), origin=self.origin)[0]
        i, j = round(x / self.step), round(y / self.step)
        if not (0 <= i < self.width and 0 <= j < self.height):
            raise InputError(f"{what} {lat},{lon} is outside the task's region ({x:.0f} m east, {y:.0f} m north "
                             f"of its corner): expected a position within {self.width * self.step:.0f} m east "
                             f"and {self.height * self.step:.0f} m north of {self.origin[0]},{self.origin[1]}")
        return int(i), int(j)

    def to_json(self) -> dict[str, Any]:
        return {"origin": list(self.origin), "stepMetres": self.step, "width": self.width, "height": self.height}

    @classmethod
    def from_json(cls, doc: Any, what: str = "region") -> GridRegion:
        keys = ("origin", "stepMetres", "width", "height")
        if not isinstance(doc, dict) or set(doc) != set(keys):
            raise InputError(f"{what} {doc!r:.120} is not a region: expected an object with {', '.join(keys)}")
        return cls(origin=doc["origin"], step=doc["stepMetres"], width=doc["width"], height=doc["height"])
