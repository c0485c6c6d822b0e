"""The edge parameter generator: a secret rigid motion per epoch (LDPF eq. 1, Proposition 1).

Each epoch t has parameters (theta_t, a_t, b_t) and every participant maps a real position p to

    p' = R(theta_t) p + (a_t, b_t),      R(theta) = [[cos theta, -sin theta],
                                                     [sin theta,  cos theta]]

and back with the inverse  p = R(theta_t)^T (p' - (a_t, b_t)).  R is orthogonal, so
||p'_i - p'_j|| = ||p_i - p_j||: every distance, nearest neighbour and group mean computed on
transformed positions is the image of the same computation on real positions (Proposition 1).

Who holds the parameters: the edge generator hands them to the users and to the platform of
the epoch, never to the chain, and never to the party that groups the users (that party sees
individual transformed positions, which together with the parameters would be real ones).

Exactness. ``cos theta`` and ``sin theta`` are rounded once and both directions use the same
two numbers, so the stored matrix is orthogonal to within one unit in the last place and the
round trip is exact up to float64 rounding: per coordinate,
|inverse(forward(p)) - p| <= ~4 eps (|p|_inf + |t|_inf) with eps = 2**-52 (about 2e-11 m for
a city in metres and translations of 100 km). Exact orthogonality in binary floating point is
impossible for any angle other than multiples of 90 degrees (c^2 + s^2 = 1 has no other dyadic
solutions), so this is the best a float64 transform can do.

References
----------
LDPF, section 4.2, Step 1 (location hiding), equation (1) and Proposition 1.
"""

from __future__ import annotations

import math
import numbers
import secrets
from dataclasses import dataclass, field

import numpy as np

from crowdsense.ldpf.ctbc._validation import as_point, as_points
from crowdsense.ldpf.ctbc.geometry import Region, Task
from crowdsense.errors import InputError

__all__ = ["RigidTransform", "draw_transform", "ParameterGenerator", "DEFAULT_MAX_OFFSET"]

#: Default bound on |a|, |b| in coordinate units (metres): far larger than a city, so the
#: transformed frame says nothing about where the city is.
DEFAULT_MAX_OFFSET = 100_000.0

_TWO_PI = 2.0 * math.pi


@dataclass(frozen=True, repr=False)
class RigidTransform:
    """Rotation by ``theta`` then translation by ``(a, b)``; the epoch's secret parameters.

    The ``repr`` hides the parameters so that they do not end up in logs.
    """

    theta: float
    a: float
    b: float
    epoch: int = 0
    _cos: float = field(init=False, compare=False)
    _sin: float = field(init=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("theta", "a", "b"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
                raise InputError(f"{name} must be a finite number, got {v!r}")
            object.__setattr__(self, name, float(v))
        if isinstance(self.epoch, bool) or not isinstance(self.epoch, numbers.Integral) or self.epoch < 0:
            raise InputError(f"epoch must be an integer >= 0, got {self.epoch!r}")
        object.__setattr__(self, "_cos", math.cos(self.theta))
        object.__setattr__(self, "_sin", math.sin(self.theta))

    def __repr__(self) -> str:
        return f"RigidTransform(epoch={self.epoch}, <parameters hidden>)"

    # ------------------------------------------------------------------------ points

    @property
    def rotation(self) -> np.ndarray:
        """The 2x2 matrix R(theta) as used by :meth:`forward`."""
        return np.array([[self._cos, -self._sin], [self._sin, self._cos]])

    @property
    def translation(self) -> np.ndarray:
        return np.array([self.a, self.b])

    def forward(self, points: object) -> np.ndarray:
        """Map real positions (n, 2) to transformed ones: p' = R p + t."""
        p = as_points(points)
        c, s = self._cos, self._sin
        out = np.empty_like(p)
        out[:, 0] = (c * p[:, 0] - s * p[:, 1]) + self.a
        out[:, 1] = (s * p[:, 0] + c * p[:, 1]) + self.b
        return out

    def inverse(self, points: object) -> np.ndarray:
        """Map transformed positions (n, 2) back to real ones: p = R^T (p' - t)."""
        q = as_points(points)
        c, s = self._cos, self._sin
        dx = q[:, 0] - self.a
        dy = q[:, 1] - self.b
        out = np.empty_like(q)
        out[:, 0] = c * dx + s * dy
        out[:, 1] = -s * dx + c * dy
        return out

    def forward_point(self, point: object) -> tuple[float, float]:
        x, y = self.forward(as_point(point)[None, :])[0]
        return (float(x), float(y))

    # ------------------------------------------------------------------ task, region

    def forward_region(self, region: Region) -> Region:
        """The same rectangle in transformed coordinates (centre moved, axes turned by theta)."""
        return Region(self.forward_point(region.center), region.half_width, region.half_height,
                      math.remainder(region.angle + self.theta, _TWO_PI))

    def inverse_region(self, region: Region) -> Region:
        x, y = self.inverse(as_point(region.center)[None, :])[0]
        return Region((float(x), float(y)), region.half_width, region.half_height,
                      math.remainder(region.angle - self.theta, _TWO_PI))

    def forward_task(self, task: Task) -> Task:
        """What the platform works with: the task centre and region in transformed coordinates."""
        return Task(self.forward_point(task.center), task.n_required, self.forward_region(task.region))

    # ------------------------------------------------------------------- delivery

    def to_dict(self) -> dict[str, object]:
        """Exact, JSON-safe form (floats as hex strings) for sending to users and the platform."""
        return {"epoch": self.epoch, "theta": self.theta.hex(), "a": self.a.hex(), "b": self.b.hex()}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> RigidTransform:
        try:
            return cls(float.fromhex(str(data["theta"])), float.fromhex(str(data["a"])),
                       float.fromhex(str(data["b"])), int(data["epoch"]))  # type: ignore[arg-type]
        except (KeyError, ValueError, TypeError) as exc:
            raise InputError(f"not a transform record (need epoch, theta, a, b as float hex): {exc}") from exc


def _unit() -> float:
    """A uniform float in [0, 1) with 53 random bits from :mod:`secrets`."""
    return secrets.randbits(53) / float(1 << 53)


def draw_transform(epoch: int = 0, *, max_offset: float = DEFAULT_MAX_OFFSET) -> RigidTransform:
    """Draw fresh secret parameters: theta uniform in [0, 2 pi), a, b uniform in [-max_offset, max_offset].

    Parameters come from :mod:`secrets` (they are the secret of the epoch), never from a
    seedable generator.
    """
    if isinstance(max_offset, bool) or not isinstance(max_offset, numbers.Real) \
            or not math.isfinite(max_offset) or max_offset < 0:
        raise InputError(f"max_offset must be a finite number >= 0, got {max_offset!r}")
    theta = _TWO_PI * _unit()
    a = (2.0 * _unit() - 1.0) * max_offset
    b = (2.0 * _unit() - 1.0) * max_offset
    return RigidTransform(theta, a, b, epoch)


class ParameterGenerator:
    """The edge server's generator: one secret transform per epoch, the same for everyone asking.

    Parameters
    ----------
    max_offset : float
        Bound on the translation, see :func:`draw_transform`.

    Examples
    --------
    >>> gen = ParameterGenerator()
    >>> gen.for_epoch(3) is gen.for_epoch(3)
    True
    """

    def __init__(self, *, max_offset: float = DEFAULT_MAX_OFFSET) -> None:
        draw_transform(0, max_offset=max_offset)  # validate now
        self._max_offset = max_offset
        self._issued: dict[int, RigidTransform] = {}

    def for_epoch(self, epoch: int) -> RigidTransform:
        """The parameters of ``epoch``, drawn on first request."""
        if isinstance(epoch, bool) or not isinstance(epoch, numbers.Integral) or epoch < 0:
            raise InputError(f"epoch must be an integer >= 0, got {epoch!r}")
        if epoch not in self._issued:
            self._issued[int(epoch)] = draw_transform(int(epoch), max_offset=self._max_offset)
        return self._issued[int(epoch)]

    def forget(self, epoch: int) -> None:
        """Drop an epoch's parameters once it is over (they must not outlive their use)."""
        self._issued.pop(epoch, None)
