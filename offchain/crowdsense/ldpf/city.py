"""A synthetic city seeded by real Rio de Janeiro bus positions, and region classification.

Why synthetic: LDPF evaluates on "position data reported by Dias et al. from the city of Rio
de Janeiro"; the project ships only a 447-point sample of that trace (10 buses, see
``crowdsense/data/SOURCES.md``), too few to stand for 1000 users. The sample fixes the *geography* (where
the streets and busy places are); users are drawn around it.

Construction (all distances in metres):

1. **Anchors**: the 447 bus points projected to a local plane, equirectangular about their
   mean latitude/longitude, ``x = R dlon cos(lat0)``, ``y = R dlat`` with R = 6,371,008.8 m
   (mean Earth radius); over the ~23 km x 13 km sample the distortion is < 0.1 %.
2. **Hotspots** (popular regions): the anchor with the most anchors within ``hotspot_radius``
   (1 km) is the densest place on the bus routes; its hotspot centre is the mean of those
   anchors. Anchors within ``hotspot_separation`` (4 km) are then excluded and the next densest
   is taken, ``n_hotspots`` (3) times. A popular region is the ``region_side`` (2 km) square
   around a hotspot centre.
3. **Remote regions**: centres of a ``region_side`` grid over the city's bounding box (anchors'
   box padded by ``margin``, 2 km) that lie farthest from any anchor, taken greedily at least
   ``hotspot_separation`` apart, ``n_remote`` (2) times.
4. **Users** are a mixture: with probability ``p_hotspot`` (0.55) a hotspot chosen uniformly
   plus an isotropic Gaussian offset (sigma ``hotspot_sigma`` = 350 m, a few blocks); with
   ``p_street`` (0.35) a uniformly chosen anchor plus Gaussian noise (sigma ``street_sigma`` =
   150 m, people along the bus routes); otherwise (0.10) uniform over the bounding box.

**Region classification** (docs/design.md 6 and 7.7): a region is *popular* when its user density is at
least :data:`POPULAR_DENSITY` users per km^2, else *remote*. Reason for 10 / km^2: a 1 km^2 region
at that density holds two k = 5 groups, the least for CTBC to choose between groups; sparser
regions would need groups stretched across the region, and are left to PDC, which compares
users one by one. With 1000 users the city's hotspots lie around 40 / km^2 and its remote
regions below 1 / km^2, far from the threshold either way.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from scipy.spatial import cKDTree

from crowdsense.data import sample_path
from crowdsense.ldpf.ctbc._validation import RandomState, as_points, check_random_state
from crowdsense.ldpf.ctbc.geometry import Region
from crowdsense.errors import InputError
from crowdsense.inputfile import DOCUMENT_LIMIT, open_input_text

__all__ = [
    "EARTH_RADIUS_M",
    "POPULAR_DENSITY",
    "DEFAULT_BUS_DATA",
    "load_bus_points",
    "project_lonlat",
    "SyntheticCity",
    "region_density",
    "classify_region",
]

#: Mean Earth radius (IUGG), metres.
EARTH_RADIUS_M = 6_371_008.8
#: Users per km^2 from which a region counts as popular (see the module docstring).
POPULAR_DENSITY = 10.0
#: The bundled Rio de Janeiro bus sample.
DEFAULT_BUS_DATA = sample_path("rio_buses_sample.csv.gz")


def load_bus_points(path: str | Path = DEFAULT_BUS_DATA) -> np.ndarray:
    """(latitude, longitude) rows of the bus sample, shape (n, 2), decimal degrees.

    The CSV may be gzip-compressed (recognised by content); it is streamed under the size
    limit of :mod:`crowdsense.inputfile` (128 MiB of text unless ``$CROWDSENSE_MAX_INPUT_BYTES``
    says otherwise), and a leading byte order mark is not part of the first column's name.
    """
    path = Path(path)
    with open_input_text(path, "bus position file", limit=DOCUMENT_LIMIT, gunzip=True) as fh:
        reader = csv.DictReader(fh)
        try:
            if reader.fieldnames is None or not {"latitude", "longitude"} <= set(reader.fieldnames):
                raise InputError(
                    f"{path} must be a CSV with latitude and longitude columns, got {reader.fieldnames}"
                )
            rows = [(float(r["latitude"]), float(r["longitude"])) for r in reader]
        except InputError:
            raise
        except (ValueError, TypeError, csv.Error) as exc:
            reason = ("not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else
                      str(exc) if isinstance(exc, csv.Error) else "a missing or non-numeric coordinate")
            raise InputError(f"bus position file {path}, line {reader.reader.line_num}: {reason}: expected CSV rows "
                             "with numeric latitude and longitude") from None
    pts = np.asarray(rows, dtype=np.float64).reshape(-1, 2)
    return as_points(pts, "bus positions")


def project_lonlat(latlon: np.ndarray, *, origin: tuple[float, float] | None = None) -> np.ndarray:
    """Equirectangular projection of (lat, lon) degrees to (x east, y north) metres about ``origin``."""
    ll = as_points(latlon, "latlon")
    lat0, lon0 = origin if origin is not None else (float(ll[:, 0].mean()), float(ll[:, 1].mean()))
    x = EARTH_RADIUS_M * np.radians(ll[:, 1] - lon0) * math.cos(math.radians(lat0))
    y = EARTH_RADIUS_M * np.radians(ll[:, 0] - lat0)
    return np.column_stack([x, y])


@dataclass(frozen=True, eq=False)
class SyntheticCity:
    """The synthetic city; build it with :meth:`from_bus_points`, draw users with :meth:`sample_users`."""

    anchors: np.ndarray
    hotspots: np.ndarray
    remote_centres: np.ndarray
    bounds: tuple[float, float, float, float]
    region_side: float = 2000.0
    p_hotspot: float = 0.55
    p_street: float = 0.35
    hotspot_sigma: float = 350.0
    street_sigma: float = 150.0
    params: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_bus_points(
        cls,
        path: str | Path = DEFAULT_BUS_DATA,
        *,
        n_hotspots: int = 3,
        n_remote: int = 2,
        hotspot_radius: float = 1000.0,
        hotspot_separation: float = 4000.0,
        margin: float = 2000.0,
        region_side: float = 2000.0,
        p_hotspot: float = 0.55,
        p_street: float = 0.35,
        hotspot_sigma: float = 350.0,
        street_sigma: float = 150.0,
    ) -> SyntheticCity:
        """Build the city from the bus sample (see the module docstring for every parameter)."""
        if not (0 <= p_hotspot and 0 <= p_street and p_hotspot + p_street <= 1):
            raise InputError(f"need p_hotspot, p_street >= 0 with sum <= 1, got {p_hotspot}, {p_street}")
        for name, v in [("hotspot_radius", hotspot_radius), ("hotspot_separation", hotspot_separation),
                        ("region_side", region_side), ("hotspot_sigma", hotspot_sigma),
                        ("street_sigma", street_sigma)]:
            if not (math.isfinite(v) and v > 0):
                raise InputError(f"{name} must be a finite number > 0, got {v!r}")
        if n_hotspots < 1 or n_remote < 0:
            raise InputError(f"need n_hotspots >= 1 and n_remote >= 0, got {n_hotspots}, {n_remote}")
        anchors = project_lonlat(load_bus_points(path))
        tree = cKDTree(anchors)

        # Hotspots: greedy densest anchors, kept hotspot_separation apart.
        neighbours = tree.query_ball_point(anchors, hotspot_radius)
        counts = np.array([len(nb) for nb in neighbours])
        hotspots: list[np.ndarray] = []
        available = np.ones(len(anchors), dtype=bool)
        for i in np.argsort(-counts, kind="stable"):
            if len(hotspots) == n_hotspots:
                break
            if available[i]:
                hotspots.append(anchors[neighbours[i]].mean(axis=0))
                available[tree.query_ball_point(anchors[i], hotspot_separation)] = False
        if len(hotspots) < n_hotspots:
            raise InputError(
                f"only {len(hotspots)} hotspots fit {hotspot_separation} m apart, asked {n_hotspots}"
            )

        x0, y0 = anchors.min(axis=0) - margin
        x1, y1 = anchors.max(axis=0) + margin
        # Remote regions: grid cell centres farthest from every anchor.
        half = region_side / 2
        gx = np.arange(x0 + half, x1 - half + 1e-9, region_side)
        gy = np.arange(y0 + half, y1 - half + 1e-9, region_side)
        grid = np.array([(x, y) for x in gx for y in gy]).reshape(-1, 2)
        far, _ = tree.query(grid)
        remote: list[np.ndarray] = []
        for i in np.argsort(-far, kind="stable"):
            if len(remote) == n_remote:
                break
            if all(np.hypot(*(grid[i] - r)) >= hotspot_separation for r in remote):
                remote.append(grid[i])

        params = {"n_hotspots": n_hotspots, "n_remote": n_remote, "hotspot_radius": hotspot_radius,
                  "hotspot_separation": hotspot_separation, "margin": margin}
        return cls(anchors, np.array(hotspots), np.array(remote).reshape(-1, 2),
                   (float(x0), float(x1), float(y0), float(y1)), float(region_side), float(p_hotspot),
                   float(p_street), float(hotspot_sigma), float(street_sigma), params)

    @property
    def area_km2(self) -> float:
        x0, x1, y0, y1 = self.bounds
        return (x1 - x0) * (y1 - y0) / 1e6

    def popular_regions(self) -> list[Region]:
        return [Region.square(tuple(h), self.region_side) for h in self.hotspots]

    def remote_regions(self) -> list[Region]:
        return [Region.square(tuple(r), self.region_side) for r in self.remote_centres]

    def sample_users(self, n: int, *, random_state: RandomState = None) -> np.ndarray:
        """Draw ``n`` user positions (metres), shape (n, 2)."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise InputError(f"n must be an integer >= 0, got {n!r}")
        rng = check_random_state(random_state)
        kind = rng.choice(3, size=n, p=[self.p_hotspot, self.p_street, 1 - self.p_hotspot - self.p_street])
        out = np.empty((n, 2))
        hot = kind == 0
        out[hot] = self.hotspots[rng.integers(len(self.hotspots), size=hot.sum())] \
            + rng.normal(scale=self.hotspot_sigma, size=(hot.sum(), 2))
        street = kind == 1
        out[street] = self.anchors[rng.integers(len(self.anchors), size=street.sum())] \
            + rng.normal(scale=self.street_sigma, size=(street.sum(), 2))
        bg = kind == 2
        x0, x1, y0, y1 = self.bounds
        out[bg] = rng.uniform((x0, y0), (x1, y1), size=(bg.sum(), 2))
        return out


def region_density(points: object, region: Region) -> float:
    """Users per km^2 inside ``region`` (coordinates in metres)."""
    p = as_points(points)
    return float(region.contains(p).sum()) / (region.area / 1e6)


def classify_region(points: object, region: Region, *, threshold: float = POPULAR_DENSITY
                    ) -> Literal["popular", "remote"]:
    """``"popular"`` if the region holds at least ``threshold`` users per km^2, else ``"remote"``.

    Popular regions use CTBC, remote ones PDC (LDPF section 4.1).
    """
    if not (isinstance(threshold, (int, float)) and math.isfinite(threshold) and threshold > 0):
        raise InputError(f"threshold must be a finite number of users per km^2 > 0, got {threshold!r}")
    return "popular" if region_density(points, region) >= threshold else "remote"
