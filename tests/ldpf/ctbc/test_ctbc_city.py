"""The synthetic city from the Rio bus sample, and popular/remote classification."""

import math

import numpy as np
import pytest

from crowdsense.ldpf.city import (
    EARTH_RADIUS_M,
    POPULAR_DENSITY,
    SyntheticCity,
    classify_region,
    load_bus_points,
    project_lonlat,
    region_density,
)
from crowdsense.ldpf.ctbc.geometry import Region
from crowdsense.errors import InputError


@pytest.fixture(scope="module")
def city():
    return SyntheticCity.from_bus_points()


def test_bus_sample_has_the_documented_rows_and_ranges():
    ll = load_bus_points()
    # crowdsense/data/SOURCES.md: 447 rows, latitude -22.9606..-22.8436, longitude -43.3802..-43.1604
    assert ll.shape == (447, 2)
    assert -22.9607 <= ll[:, 0].min() and ll[:, 0].max() <= -22.8435
    assert -43.3803 <= ll[:, 1].min() and ll[:, 1].max() <= -43.1603


def test_bus_csv_with_a_byte_order_mark_reads_its_first_column(tmp_path):
    import gzip

    text = "latitude,longitude\n-22.9,-43.2\n-22.8,-43.1\n"
    marked = tmp_path / "buses.csv"
    marked.write_bytes(b"\xef\xbb\xbf" + text.encode())
    zipped = tmp_path / "buses-csv"  # gzip recognised by content, not by the name
    zipped.write_bytes(gzip.compress(marked.read_bytes()))
    for path in (marked, zipped):
        assert load_bus_points(path).tolist() == [[-22.9, -43.2], [-22.8, -43.1]]


def test_bus_csv_over_the_limit_or_not_numeric_is_one_error(tmp_path, monkeypatch):
    from crowdsense.inputfile import ENV_MAX_INPUT_BYTES, InputTooLargeError

    path = tmp_path / "buses.csv"
    path.write_text("latitude,longitude\n-22.9,-43.2\n-22.8,north\n")
    with pytest.raises(InputError, match=r"buses\.csv, line 3: a missing or non-numeric coordinate"):
        load_bus_points(path)
    monkeypatch.setenv(ENV_MAX_INPUT_BYTES, "16")
    with pytest.raises(InputTooLargeError, match=r"buses\.csv is more than 16 bytes"):
        load_bus_points(path)


def test_projection_by_hand():
    # 0.01 degree north is R * 0.01 * pi / 180 metres; 0.01 degree east at latitude 60 is half that
    got = project_lonlat(np.array([[60.01, 10.0], [60.0, 10.01]]), origin=(60.0, 10.0))
    step = EARTH_RADIUS_M * math.radians(0.01)
    assert got[0] == pytest.approx([0.0, step], abs=1e-6)
    assert got[1] == pytest.approx([step * 0.5, 0.0], rel=1e-12)


def test_hotspots_are_separated(city):
    h = city.hotspots
    d = [np.hypot(*(h[i] - h[j])) for i in range(len(h)) for j in range(i + 1, len(h))]
    assert len(h) == 3 and min(d) >= 4000.0 - 1000.0  # centres are anchor means within 1 km of a pick


def test_hotspot_regions_are_popular_and_remote_regions_remote(city):
    users = city.sample_users(1000, random_state=0)
    assert [classify_region(users, r) for r in city.popular_regions()] == ["popular"] * 3
    assert [classify_region(users, r) for r in city.remote_regions()] == ["remote"] * 2


def test_sampling_is_reproducible_with_a_seed(city):
    a = city.sample_users(50, random_state=3)
    b = city.sample_users(50, random_state=3)
    assert a.shape == (50, 2) and np.array_equal(a, b)


def test_classification_threshold_by_hand():
    region = Region.from_bounds(0.0, 1000.0, 0.0, 1000.0)  # 1 km^2
    at = np.full((int(POPULAR_DENSITY), 2), 500.0)
    assert region_density(at, region) == POPULAR_DENSITY
    assert classify_region(at, region) == "popular"
    assert classify_region(at[1:], region) == "remote"


def test_classification_rejects_bad_threshold():
    with pytest.raises(InputError, match="threshold"):
        classify_region(np.zeros((1, 2)), Region.square((0.0, 0.0), 1.0), threshold=0)
