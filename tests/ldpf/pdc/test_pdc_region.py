"""Where a task's grid lies (crowdsense.ldpf.pdc.region): a receiver's position to its grid point."""

from __future__ import annotations

import numpy as np
import pytest

from crowdsense.errors import InputError
from crowdsense.ldpf.city import EARTH_RADIUS_M
from crowdsense.ldpf.pdc.region import GridRegion, parse_latlon

REGION = GridRegion(origin=(-22.95, -43.30), step=50.0, width=40, height=30)


def _position(x_m: float, y_m: float, origin=REGION.origin) -> str:
    """The position x metres east and y metres north of ``origin`` (by hand, not the module's projection)."""
    lat0, lon0 = origin
    lat = lat0 + np.degrees(y_m / EARTH_RADIUS_M)
    lon = lon0 + np.degrees(x_m / (EARTH_RADIUS_M * np.cos(np.radians(lat0))))
    return f"{lat:.9f},{lon:.9f}"


@pytest.mark.parametrize("cell", [(0, 0), (39, 29), (12, 7), (3, 28)])
def test_a_position_falls_on_its_nearest_grid_point(cell):
    x, y = cell
    assert REGION.point(_position(x * 50, y * 50)) == cell
    assert REGION.point(_position(x * 50 + 20, y * 50 - 20)) == cell  # within half a cell


def test_positions_beyond_half_a_cell_outside_are_refused_in_one_line():
    for outside in (_position(-30, 0), _position(0, 30 * 50 - 20), _position(40 * 50, 100)):
        with pytest.raises(InputError, match="is outside the task's region") as exc:
            REGION.point(outside)
        assert "\n" not in str(exc.value)
    assert REGION.point(_position(-20, -20)) == (0, 0)  # less than half a cell out: the edge point


@pytest.mark.parametrize("text", ["-22.9", "a,b", "-22.9;-43.2", "1,2,3", "nan,1", "", None, [1.0], True])
def test_what_is_not_a_position_is_refused(text):
    with pytest.raises(InputError, match="is not a position: expected LAT,LON"):
        parse_latlon(text)


@pytest.mark.parametrize("text", ["91,0", "-90.5,0", "0,180.1", "0,-181"])
def test_positions_off_earth_are_refused(text):
    with pytest.raises(InputError, match="is not on Earth"):
        parse_latlon(text)


def test_a_position_reads_as_text_or_pair():
    assert parse_latlon(" -22.9, -43.2 ") == parse_latlon([-22.9, -43.2]) == parse_latlon((-22.9, -43.2))


def test_a_region_goes_through_json_and_checks_its_fields():
    assert GridRegion.from_json(REGION.to_json()) == REGION
    with pytest.raises(InputError, match="is not a region"):
        GridRegion.from_json({"origin": [0, 0]})
    with pytest.raises(InputError, match="cell side"):
        GridRegion(origin=(0, 0), step=0.0, width=4, height=4)
    with pytest.raises(InputError):
        GridRegion(origin=(0, 0), step=10.0, width=0, height=4)  # the grid's own rule
    assert REGION.grid.shape == (40, 30)
