"""The edge generator's rigid transform: distances kept, exact inverse, secret parameters."""

import math

import numpy as np
import pytest
from scipy.spatial.distance import pdist

from crowdsense.ldpf.ctbc.geometry import Region, Task
from crowdsense.ldpf.ctbc.transform import ParameterGenerator, RigidTransform, draw_transform

EPS = np.finfo(np.float64).eps


def city_points(n=300, seed=0, scale=20_000.0):
    return np.random.default_rng(seed).uniform(-scale, scale, size=(n, 2))


@pytest.mark.parametrize("seed", range(5))
def test_forward_preserves_all_pairwise_distances(seed):
    p = city_points(seed=seed)
    t = draw_transform(seed)
    before, after = pdist(p), pdist(t.forward(p))
    # distances up to ~5e4 m; float64 rounding of R p + t is ~1e-11 m per coordinate
    assert np.max(np.abs(before - after)) <= 1e-9


@pytest.mark.parametrize("seed", range(5))
def test_inverse_recovers_points_within_rounding_bound(seed):
    p = city_points(seed=seed)
    t = draw_transform(seed)
    back = t.inverse(t.forward(p))
    bound = 8 * EPS * (np.abs(p).max() + max(abs(t.a), abs(t.b)))
    assert np.max(np.abs(back - p)) <= bound


def test_forward_of_inverse_is_identity_on_transformed_points():
    t = draw_transform(3)
    q = city_points(seed=9) + 50_000.0
    bound = 8 * EPS * (np.abs(q).max() + max(abs(t.a), abs(t.b)))
    assert np.max(np.abs(t.forward(t.inverse(q)) - q)) <= bound


def test_forward_matches_quarter_turn_by_hand():
    t = RigidTransform(math.pi / 2, 10.0, -5.0)
    # R(90 deg) (1, 0) = (0, 1); (0, 2) -> (-2, 0); then + (10, -5)
    out = t.forward([[1.0, 0.0], [0.0, 2.0]])
    assert out == pytest.approx(np.array([[10.0, -4.0], [8.0, -5.0]]), abs=1e-12)


def test_forward_matches_matrix_definition():
    theta, a, b = 0.7, 123.0, -456.0
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    p = city_points(50, seed=4)
    expected = p @ rot.T + np.array([a, b])
    assert RigidTransform(theta, a, b).forward(p) == pytest.approx(expected, abs=1e-9)


def test_draw_transform_is_not_driven_by_numpy_seed():
    np.random.seed(0)
    first = draw_transform()
    np.random.seed(0)
    second = draw_transform()
    assert (first.theta, first.a, first.b) != (second.theta, second.a, second.b)


def test_draw_transform_respects_ranges():
    for _ in range(50):
        t = draw_transform(max_offset=1000.0)
        assert 0.0 <= t.theta < 2 * math.pi
        assert abs(t.a) <= 1000.0 and abs(t.b) <= 1000.0


def test_to_dict_round_trips_exactly():
    t = draw_transform(7)
    back = RigidTransform.from_dict(t.to_dict())
    assert (back.theta, back.a, back.b, back.epoch) == (t.theta, t.a, t.b, 7)


def test_repr_hides_parameters():
    t = RigidTransform(1.25, 3.5, 7.75, 2)
    text = repr(t)
    assert "1.25" not in text and "3.5" not in text and "7.75" not in text
    assert "epoch=2" in text


def test_forward_region_selects_the_same_users():
    p = city_points(2000, seed=5)
    region = Region.from_bounds(-5000.0, 8000.0, -3000.0, 2000.0)
    t = draw_transform()
    assert np.array_equal(region.contains(p), t.forward_region(region).contains(t.forward(p)))


def test_inverse_region_undoes_forward_region():
    region = Region((100.0, -200.0), 300.0, 50.0, 0.3)
    t = draw_transform()
    back = t.inverse_region(t.forward_region(region))
    assert back.center == pytest.approx(region.center, abs=1e-8)
    assert back.angle == pytest.approx(region.angle, abs=1e-12)


def test_forward_task_keeps_n_and_moves_centre():
    t = RigidTransform(0.0, 5.0, 6.0)
    task = Task((1.0, 2.0), 4, Region.square((1.0, 2.0), 10.0))
    moved = t.forward_task(task)
    assert moved.center == (6.0, 8.0) and moved.n_required == 4
    assert moved.region.center == (6.0, 8.0)


def test_parameter_generator_issues_one_transform_per_epoch():
    gen = ParameterGenerator()
    assert gen.for_epoch(1) is gen.for_epoch(1)
    assert gen.for_epoch(1).to_dict() != gen.for_epoch(2).to_dict()
    assert gen.for_epoch(2).epoch == 2
