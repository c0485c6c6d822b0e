"""Where the on-chain rounds take place: popular and remote regions of the synthetic city.

The city is :class:`crowdsense.ldpf.city.SyntheticCity` (bus routes of Rio de Janeiro, users drawn
around them). A *population* of users is drawn once; a region is popular or remote by its
density in that population (:func:`crowdsense.ldpf.city.classify_region`, threshold
:data:`~crowdsense.ldpf.city.POPULAR_DENSITY` users per km^2). Then:

* **CTBC** (popular region): the round's users are a random subset of the population inside
  the region (the phones taking part in this epoch); the task centre is drawn within a quarter
  of the region's side of the region centre, and its region of interest is a square of
  ``task_side`` metres around it.
* **PDC** (remote region): a remote region holds about one user of a thousand, so the round's
  receivers are the population's users inside it plus receivers drawn uniformly in it up to the
  wanted number; with ten receivers in 4 km^2 the region stays far below the popular
  threshold. Positions are coded on the PDC grid of ``n`` points per axis spanning the region's
  bounding box: ``index = round((x - x_min) / (x_max - x_min) * (n - 1))`` per axis, so one grid
  step is ``side / (n - 1)`` metres and a Manhattan distance of d steps is about
  ``d * side / (n - 1)`` metres.

All draws use one seedable ``random_state`` (simulation randomness, not secrets).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from crowdsense.ldpf.city import POPULAR_DENSITY, SyntheticCity, classify_region, region_density
from crowdsense.ldpf.ctbc.geometry import Region, Task
from crowdsense.errors import InputError

__all__ = ["CityScenario", "city_scenario", "CTBCSetup", "ctbc_setup", "PDCSetup", "pdc_setup", "to_grid", "grid_step"]

_CITY: SyntheticCity | None = None


def _city() -> SyntheticCity:
    global _CITY
    if _CITY is None:
        _CITY = SyntheticCity.from_bus_points()
    return _CITY


def _rng(random_state: int | np.random.Generator | None) -> np.random.Generator:
    return random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)


def _count(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InputError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


@dataclass(frozen=True, eq=False)
class CityScenario:
    """A drawn population and the regions the two rounds use."""

    city: SyntheticCity
    population: np.ndarray
    popular: Region
    remote: Region

    @property
    def popular_density(self) -> float:
        """Users per km^2 of the population in the popular region."""
        return region_density(self.population, self.popular)

    @property
    def remote_density(self) -> float:
        return region_density(self.population, self.remote)

    def classification(self) -> dict[str, str]:
        """What :func:`~crowdsense.ldpf.city.classify_region` says of the two regions."""
        return {"popular": classify_region(self.population, self.popular),
                "remote": classify_region(self.population, self.remote)}


def city_scenario(
    *,
    population: int = 1000,
    popular_index: int = 0,
    remote_index: int = 0,
    random_state: int | np.random.Generator | None = None,
) -> CityScenario:
    """Draw ``population`` users in the synthetic city and pick a popular and a remote region.

    Raises
    ------
    InputError
        When the chosen regions are not popular and remote in this population (too small a
        population), or an index is out of range.
    """
    population = _count(population, "population", 1)
    city = _city()
    popular_regions, remote_regions = city.popular_regions(), city.remote_regions()
    if not 0 <= popular_index < len(popular_regions):
        raise InputError(f"popular_index must be in [0, {len(popular_regions)}), got {popular_index}")
    if not 0 <= remote_index < len(remote_regions):
        raise InputError(f"remote_index must be in [0, {len(remote_regions)}), got {remote_index}")
    points = city.sample_users(population, random_state=_rng(random_state))
    scenario = CityScenario(city, points, popular_regions[popular_index], remote_regions[remote_index])
    kinds = scenario.classification()
    if kinds != {"popular": "popular", "remote": "remote"}:
        raise InputError(
            f"with {population} users the hotspot region has {scenario.popular_density:.1f} and the remote region "
            f"{scenario.remote_density:.1f} users per km^2 (threshold {POPULAR_DENSITY}); draw more users"
        )
    return scenario


@dataclass(frozen=True, eq=False)
class CTBCSetup:
    """Users (real positions, metres) and the task of a CTBC round in the popular region."""

    positions: np.ndarray
    task: Task


def ctbc_setup(
    scenario: CityScenario,
    *,
    users: int,
    n_required: int,
    task_side: float = 1000.0,
    k: int | None = None,
    spare: int = 0,
    random_state: int | np.random.Generator | None = None,
) -> CTBCSetup:
    """Pick ``users`` users of the popular region and a task of ``n_required`` users near its centre.

    With ``k``, the task is made satisfiable: the k-anonymity groups are formed (on real
    positions: MDAV groups and their centres move with a rigid transform, so they are the
    groups the round will form) and ``task_side`` is doubled until the groups whose centre lies
    in the region of interest hold at least ``n_required + spare`` users (a releaser widening a
    task that nobody could serve; ``spare`` leaves room for users that fail their reveal).
    """
    users = _count(users, "users", 2)
    n_required = _count(n_required, "n_required", 1)
    if not (isinstance(task_side, (int, float)) and math.isfinite(task_side) and task_side > 0):
        raise InputError(f"task_side must be a number of metres > 0, got {task_side!r}")
    if n_required > users:
        raise InputError(f"the task needs N = {n_required} users but only {users} take part")
    rng = _rng(random_state)
    inside = np.flatnonzero(scenario.popular.contains(scenario.population))
    if inside.size < users:
        raise InputError(f"the popular region holds {inside.size} users of the population, fewer than the "
                         f"{users} asked; draw a larger population")
    chosen = np.sort(rng.choice(inside, size=users, replace=False))
    positions = scenario.population[chosen]
    quarter = scenario.popular.half_width / 2
    centre = np.asarray(scenario.popular.center) + rng.uniform(-quarter, quarter, size=2)
    side = float(task_side)
    if k is not None:
        from crowdsense.ldpf.ctbc.grouping import k_anonymity_groups

        grouping = k_anonymity_groups(positions, k=_count(k, "k", 2))
        sizes = np.bincount(grouping.labels, minlength=grouping.n_groups)
        while True:
            held = int(sizes[Region.square(tuple(centre), side).contains(grouping.centres)].sum())
            if held >= n_required + _count(spare, "spare", 0) or side > 64 * scenario.popular.half_width:
                break
            side *= 2
    task = Task((float(centre[0]), float(centre[1])), n_required, Region.square(tuple(centre), side))
    return CTBCSetup(positions, task)


def to_grid(points: object, region: Region, n: int) -> np.ndarray:
    """Grid indices (int, shape (m, 2)) of real ``points`` on an n x n grid over ``region``'s box."""
    n = _count(n, "grid size", 2)
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    corners = region.corners()
    lo, hi = corners.min(axis=0), corners.max(axis=0)
    scaled = (p - lo) / (hi - lo) * (n - 1)
    return np.clip(np.rint(scaled), 0, n - 1).astype(np.int64)


def grid_step(region: Region, n: int) -> float:
    """Metres per grid step along x on an n x n grid over ``region``'s box."""
    corners = region.corners()
    return float((corners[:, 0].max() - corners[:, 0].min()) / (n - 1))


@dataclass(frozen=True, eq=False)
class PDCSetup:
    """Receivers and task of a PDC round in the remote region (real positions and grid points)."""

    positions: np.ndarray
    locations: np.ndarray
    centre_position: tuple[float, float]
    centre: tuple[int, int]
    from_population: int
    step: float


def pdc_setup(
    scenario: CityScenario,
    *,
    receivers: int,
    grid: int,
    random_state: int | np.random.Generator | None = None,
) -> PDCSetup:
    """The population's users in the remote region plus uniform draws up to ``receivers``, on the grid."""
    receivers = _count(receivers, "receivers", 1)
    grid = _count(grid, "grid", 2)
    rng = _rng(random_state)
    region = scenario.remote
    inside = scenario.population[region.contains(scenario.population)][:receivers]
    corners = region.corners()
    lo, hi = corners.min(axis=0), corners.max(axis=0)
    extra = rng.uniform(lo, hi, size=(receivers - len(inside), 2))
    positions = np.vstack([inside, extra])
    centre_position = rng.uniform(lo, hi)
    centre = to_grid(centre_position[None, :], region, grid)[0]
    return PDCSetup(positions, to_grid(positions, region, grid), (float(centre_position[0]), float(centre_position[1])),
                    (int(centre[0]), int(centre[1])), int(len(inside)), grid_step(region, grid))
