"""Grid coding of LDPF's PDC method: Encode 1, Encode 2 and the Manhattan distance.

Positions are indices on an integer grid S with ``width`` points on the x axis and ``height``
points on the y axis (docs/design.md 7.1; the paper uses a square grid, ``width == height == n``).
Mapping a real location to its grid cell is the edge layer's job and happens before this
module.

For an index p on an axis of n points (LDPF 4.3, Step 6):

* **Encode 1**: n bits, the first p are 0 and the rest 1, i.e. ``E1(p)_i = [i >= p]``;
* **Encode 2**: the first p are 1 and the rest 0, i.e. ``E2(p)_i = [i < p] = 1 - E1(p)_i``.

A point's code concatenates its x-axis code and its y-axis code (``width + height`` bits).
Proposition 2 of the paper then reads, per axis and hence for the whole point,

    |x_D - x_C| + |y_D - y_C| = E1(D) . E2(C) + E2(D) . E1(C).

Why it holds: ``E1(D)_i E2(C)_i = [i >= d][i < c]`` counts the indices with ``d <= i < c`` and
the other product counts ``c <= i < d``; exactly one of the two ranges is non-empty and it has
``|d - c|`` elements. Since ``E2 = 1 - E1``, the right-hand side is also the Hamming distance of
the two Encode-1 vectors, which is what lets the protocol send Encode 1 only (the complement is
derived homomorphically, see :mod:`crowdsense.ldpf.pdc.protocol`).

References
----------
LDPF, section 4.3 (Encode 1, Encode 2, Proposition 2); docs/design.md, section 7.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from crowdsense.ldpf.pdc.errors import GridError

__all__ = [
    "Grid",
    "Point",
    "check_index",
    "encode1",
    "encode2",
    "encode_point",
    "encoded_distance",
    "manhattan",
]

#: A grid point as (x index, y index).
Point = tuple[int, int]

#: Largest number of points per axis; a bound on message sizes (one ciphertext per point).
MAX_AXIS_POINTS = 100_000


def _as_int(value: Any, name: str) -> int:
    """Return ``value`` as an ``int`` if it is an integer (not a bool, not a float), else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise GridError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    return int(value)


@dataclass(frozen=True)
class Grid:
    """The integer grid S shared by the platform and the receivers.

    Parameters
    ----------
    width : int
        Number of points on the x axis (>= 1).
    height : int, optional
        Number of points on the y axis (>= 1); defaults to ``width`` (the paper's square grid).
    """

    width: int
    height: int | None = None

    def __post_init__(self) -> None:
        width = _as_int(self.width, "grid width")
        height = width if self.height is None else _as_int(self.height, "grid height")
        for name, value in (("width", width), ("height", height)):
            if not 1 <= value <= MAX_AXIS_POINTS:
                raise GridError(
                    f"grid {name} must be in [1, {MAX_AXIS_POINTS}] points, got {value}"
                    + (" (an empty grid)" if value <= 0 else "")
                )
        object.__setattr__(self, "width", width)
        object.__setattr__(self, "height", height)

    @property
    def shape(self) -> tuple[int, int]:
        """``(width, height)``."""
        return (self.width, self.height)  # type: ignore[return-value]

    @property
    def code_length(self) -> int:
        """Bits of a point's code: ``width + height`` (2n on the paper's square grid)."""
        return self.width + self.height  # type: ignore[operator]

    @property
    def max_distance(self) -> int:
        """Largest Manhattan distance between two grid points: ``(width - 1) + (height - 1)``."""
        return self.width - 1 + self.height - 1  # type: ignore[operator]

    def contains(self, point: Any) -> bool:
        """Whether ``point`` is a pair of integers inside the grid."""
        try:
            self.check_point(point)
        except GridError:
            return False
        return True

    def check_point(self, point: Any, *, name: str = "point") -> Point:
        """Return ``point`` as ``(x, y)`` ints after checking it lies on the grid.

        Raises
        ------
        GridError
            If ``point`` is not a pair, a coordinate is not an integer, or it is off the grid.
        """
        if isinstance(point, (str, bytes)) or not hasattr(point, "__len__") or len(point) != 2:
            raise GridError(f"{name} must be a pair (x, y) of grid indices, got {point!r}")
        x = _as_int(point[0], f"{name} x coordinate")
        y = _as_int(point[1], f"{name} y coordinate")
        if not (0 <= x < self.width and 0 <= y < self.height):  # type: ignore[operator]
            raise GridError(
                f"{name} {(x, y)} is off the grid: expected 0 <= x < {self.width} and 0 <= y < {self.height}"
            )
        return (x, y)


def check_index(index: Any, size: int, *, name: str = "index") -> int:
    """Return ``index`` as an int after checking ``0 <= index < size`` on an axis of ``size`` points."""
    size = _as_int(size, "axis size")
    if size < 1:
        raise GridError(f"axis size must be >= 1 (an empty axis has no index), got {size}")
    index = _as_int(index, name)
    if not 0 <= index < size:
        raise GridError(f"{name} {index} is off the axis: expected 0 <= {name} < {size}")
    return index


def encode1(index: int, size: int) -> np.ndarray:
    """Encode 1 of ``index`` on an axis of ``size`` points: ``E1_i = [i >= index]``.

    Returns
    -------
    numpy.ndarray of uint8, shape (size,)
        ``index`` zeros followed by ``size - index`` ones.
    """
    index = check_index(index, size)
    return (np.arange(size) >= index).astype(np.uint8)


def encode2(index: int, size: int) -> np.ndarray:
    """Encode 2 of ``index``: ``E2_i = [i < index]``, the bitwise complement of Encode 1."""
    index = check_index(index, size)
    return (np.arange(size) < index).astype(np.uint8)


def encode_point(point: Any, grid: Grid, *, scheme: Literal[1, 2] = 1) -> np.ndarray:
    """Code of a grid point: the x-axis code followed by the y-axis code.

    Parameters
    ----------
    point : (int, int)
        Grid indices ``(x, y)``.
    grid : Grid
        The grid the point lies on.
    scheme : {1, 2}
        Encode 1 or Encode 2.

    Returns
    -------
    numpy.ndarray of uint8, shape (grid.code_length,)
    """
    if scheme not in (1, 2):
        raise GridError(f"scheme must be 1 (Encode 1) or 2 (Encode 2), got {scheme!r}")
    x, y = grid.check_point(point)
    encode = encode1 if scheme == 1 else encode2
    return np.concatenate([encode(x, grid.width), encode(y, grid.height)])  # type: ignore[arg-type]


def encoded_distance(
    d_code1: np.ndarray, d_code2: np.ndarray, c_code1: np.ndarray, c_code2: np.ndarray
) -> int:
    """Proposition 2: ``E1(D) . E2(C) + E2(D) . E1(C)``, computed in int64 (no uint8 overflow)."""
    d1, d2, c1, c2 = (np.asarray(v, dtype=np.int64) for v in (d_code1, d_code2, c_code1, c_code2))
    if not d1.shape == d2.shape == c1.shape == c2.shape or d1.ndim != 1:
        raise GridError(
            "codes must be four 1-D arrays of the same length, got shapes "
            f"{d1.shape}, {d2.shape}, {c1.shape}, {c2.shape}"
        )
    return int(d1 @ c2 + d2 @ c1)


def manhattan(a: Any, b: Any, grid: Grid) -> int:
    """Plain Manhattan distance ``|x_a - x_b| + |y_a - y_b|`` between two points of ``grid``."""
    xa, ya = grid.check_point(a, name="first point")
    xb, yb = grid.check_point(b, name="second point")
    return abs(xa - xb) + abs(ya - yb)
