"""Bad input gives a clear InputError subclass that names what was given."""

import numpy as np
import pytest

from crowdsense.ldpf.ctbc.baseline import kanonymity_baseline
from crowdsense.ldpf.ctbc.errors import (
    AnonymityLevelError,
    InvalidRegionError,
    NonFiniteCoordinatesError,
    NotEnoughCandidatesError,
    NotEnoughUsersError,
)
from crowdsense.ldpf.ctbc.geometry import Region, Task
from crowdsense.ldpf.ctbc.grouping import mdav_labels
from crowdsense.ldpf.ctbc.protocol import run_round
from crowdsense.ldpf.ctbc.transform import draw_transform
from crowdsense.errors import InputError

POINTS = np.random.default_rng(0).uniform(-100, 100, size=(20, 2))
TASK = Task((0.0, 0.0), 3, Region.square((0.0, 0.0), 500.0))


@pytest.mark.parametrize("k", [1, 0, -3, 2.5, True, "5"])
@pytest.mark.parametrize("run", [
    lambda k: mdav_labels(POINTS, k=k),
    lambda k: run_round(POINTS, TASK, k=k),
    lambda k: kanonymity_baseline(POINTS, TASK, k=k),
])
def test_k_below_2_or_not_an_int_is_rejected(run, k):
    with pytest.raises(AnonymityLevelError, match=f"k must be an integer >= 2.*got {k!r}"):
        run(k)


@pytest.mark.parametrize("run", [
    lambda: mdav_labels(POINTS[:4], k=5),
    lambda: run_round(POINTS[:4], TASK, k=5),
    lambda: kanonymity_baseline(POINTS[:4], TASK, k=5),
])
def test_fewer_users_than_k_is_rejected(run):
    with pytest.raises(NotEnoughUsersError, match="k=5 needs at least 5 users, got 4"):
        run()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("run", [
    lambda p: mdav_labels(p, k=2),
    lambda p: run_round(p, TASK, k=2),
    lambda p: kanonymity_baseline(p, TASK, k=2),
    lambda p: draw_transform().forward(p),
])
def test_non_finite_coordinates_are_rejected(run, bad):
    p = POINTS.copy()
    p[7, 1] = bad
    with pytest.raises(NonFiniteCoordinatesError, match="1 NaN/infinite coordinate.*row 7"):
        run(p)


def test_non_finite_task_centre_is_rejected():
    with pytest.raises(NonFiniteCoordinatesError):
        Task((np.nan, 0.0), 3, Region.square((0.0, 0.0), 1.0))


@pytest.mark.parametrize("bounds,word", [
    ((0.0, 0.0, 0.0, 10.0), "empty"),
    ((0.0, 10.0, 5.0, 5.0), "empty"),
    ((10.0, 0.0, 0.0, 10.0), "inverted"),
    ((0.0, 10.0, 10.0, 0.0), "inverted"),
])
def test_empty_or_inverted_region_is_rejected(bounds, word):
    with pytest.raises(InvalidRegionError, match=word):
        Region.from_bounds(*bounds)


@pytest.mark.parametrize("half", [0.0, -1.0, np.nan])
def test_region_with_non_positive_extent_is_rejected(half):
    with pytest.raises(InvalidRegionError):
        Region((0.0, 0.0), half, 1.0)


def test_more_users_required_than_candidates_is_rejected():
    task = Task((0.0, 0.0), 21, Region.square((0.0, 0.0), 500.0))
    with pytest.raises(NotEnoughCandidatesError, match="N=21.*only 20 user"):
        run_round(POINTS, task, k=2)


def test_region_holding_too_few_users_is_rejected():
    far = Task((0.0, 0.0), 1, Region.square((10_000.0, 10_000.0), 10.0))
    with pytest.raises(NotEnoughCandidatesError, match="only 0 user"):
        run_round(POINTS, far, k=2)


@pytest.mark.parametrize("n", [0, -1, 1.5])
def test_required_users_below_1_is_rejected(n):
    with pytest.raises(InputError, match="n_required"):
        Task((0.0, 0.0), n, Region.square((0.0, 0.0), 1.0))


def test_every_error_is_an_input_error_and_a_value_error():
    for cls in (AnonymityLevelError, NotEnoughUsersError, NonFiniteCoordinatesError, InvalidRegionError,
                NotEnoughCandidatesError):
        assert issubclass(cls, InputError) and issubclass(cls, ValueError)
