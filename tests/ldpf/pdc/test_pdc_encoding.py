"""Grid coding and Proposition 2 (Manhattan distance from Encode 1 / Encode 2)."""

import itertools

import numpy as np
import pytest

from crowdsense.errors import InputError
from crowdsense.ldpf.pdc.encoding import Grid, encode1, encode2, encode_point, encoded_distance, manhattan
from crowdsense.ldpf.pdc.errors import GridError


def _identity_holds(grid, d, c):
    lhs = abs(d[0] - c[0]) + abs(d[1] - c[1])  # definition, not the module under test
    rhs = encoded_distance(
        encode_point(d, grid, scheme=1),
        encode_point(d, grid, scheme=2),
        encode_point(c, grid, scheme=1),
        encode_point(c, grid, scheme=2),
    )
    return lhs == rhs


def test_encode1_matches_definition_on_hand_example():
    # p = 2 on 5 points: first 2 zeros, the rest ones.
    assert encode1(2, 5).tolist() == [0, 0, 1, 1, 1]


def test_encode2_matches_definition_on_hand_example():
    assert encode2(2, 5).tolist() == [1, 1, 0, 0, 0]


@pytest.mark.parametrize("size", [1, 2, 5, 13])
def test_encode2_is_complement_of_encode1(size):
    for p in range(size):
        assert (encode1(p, size) + encode2(p, size)).tolist() == [1] * size


def test_encode_point_concatenates_x_then_y():
    grid = Grid(3, 4)
    assert encode_point((1, 3), grid, scheme=1).tolist() == [0, 1, 1] + [0, 0, 0, 1]
    assert encode_point((1, 3), grid, scheme=2).tolist() == [1, 0, 0] + [1, 1, 1, 0]


@pytest.mark.parametrize("shape", [(1, 1), (2, 2), (5, 5), (6, 6), (4, 7), (7, 3)])
def test_distance_identity_holds_exhaustively_on_small_grids(shape):
    grid = Grid(*shape)
    points = list(itertools.product(range(shape[0]), range(shape[1])))
    for d, c in itertools.product(points, repeat=2):
        assert _identity_holds(grid, d, c), (d, c)


@pytest.mark.parametrize("shape", [(100, 100), (1000, 1000), (257, 1031)])
def test_distance_identity_holds_on_random_points_of_large_grids(shape):
    grid = Grid(*shape)
    rng = np.random.default_rng(20260523)
    for _ in range(100):
        d = (int(rng.integers(shape[0])), int(rng.integers(shape[1])))
        c = (int(rng.integers(shape[0])), int(rng.integers(shape[1])))
        assert _identity_holds(grid, d, c), (d, c)


def test_distance_identity_holds_at_opposite_corners_of_large_grid():
    grid = Grid(1000, 500)
    assert _identity_holds(grid, (0, 0), (999, 499))
    assert grid.max_distance == 999 + 499


def test_encoded_distance_does_not_overflow_uint8():
    # 600 ones per side: a uint8 dot product would wrap around at 256.
    grid = Grid(601)
    assert _identity_holds(grid, (0, 0), (600, 600))


def test_manhattan_matches_hand_calculation():
    assert manhattan((1, 5), (4, 1), Grid(6)) == 3 + 4


def test_grid_defaults_to_square():
    assert Grid(7).shape == (7, 7)


@pytest.mark.parametrize("size", [0, -3])
def test_grid_rejects_empty_grid(size):
    with pytest.raises(GridError, match="empty grid"):
        Grid(size)


@pytest.mark.parametrize("size", [2.0, "5", True, None])
def test_grid_rejects_non_integer_size(size):
    with pytest.raises(GridError, match="integer"):
        Grid(size)


@pytest.mark.parametrize("point", [(5, 0), (0, 4), (-1, 2), (2, -1)])
def test_check_point_rejects_points_off_the_grid(point):
    with pytest.raises(GridError, match="off the grid"):
        Grid(5, 4).check_point(point)


@pytest.mark.parametrize("point", [(1.0, 2), (1, 2.5), ("1", 2), (True, 1), (np.float64(1), 1)])
def test_check_point_rejects_non_integer_coordinates(point):
    with pytest.raises(GridError, match="integer"):
        Grid(5).check_point(point)


@pytest.mark.parametrize("point", [(1,), (1, 2, 3), "12", 7])
def test_check_point_rejects_non_pairs(point):
    with pytest.raises(GridError, match="pair"):
        Grid(5).check_point(point)


def test_check_point_accepts_numpy_integers():
    assert Grid(5).check_point((np.int64(2), np.int32(3))) == (2, 3)


def test_grid_errors_are_input_errors():
    with pytest.raises(InputError):
        Grid(0)
    with pytest.raises(ValueError):
        encode1(5, 5)


def test_encode_point_rejects_unknown_scheme():
    with pytest.raises(GridError, match="scheme"):
        encode_point((0, 0), Grid(3), scheme=3)


def test_encoded_distance_rejects_mismatched_lengths():
    with pytest.raises(GridError, match="same length"):
        encoded_distance(encode1(1, 3), encode2(1, 3), encode1(1, 4), encode2(1, 4))


# ------------------------------------------------------------------ found by mutation testing


@pytest.mark.parametrize("point, inside", [
    ((0, 0), True), ((8, 6), True), ((9, 0), False), ((0, 7), False), ((-1, 3), False),
    ((1.5, 2), False), ("ab", False), ((1, 2, 3), False),
])
def test_contains_says_whether_a_point_is_on_the_grid(point, inside):
    assert Grid(9, 7).contains(point) is inside


@pytest.mark.parametrize("a, b, which", [((9, 0), (0, 0), "first point"), ((0, 0), (0, 7), "second point")])
def test_manhattan_names_the_point_that_is_off_the_grid(a, b, which):
    with pytest.raises(GridError, match=rf"^{which} \("):
        manhattan(a, b, Grid(9, 7))


@pytest.mark.parametrize("width, height, message", [
    (0, 3, r"^grid width must be in \[1, 100000\] points, got 0 \(an empty grid\)$"),
    (3, 0, r"^grid height must be in \[1, 100000\] points, got 0 \(an empty grid\)$"),
    (3, 100_001, r"^grid height must be in \[1, 100000\] points, got 100001$"),
    (1, 3, None),
    (100_000, 1, None),
])
def test_grid_axis_bounds_and_messages(width, height, message):
    if message is None:
        assert Grid(width, height).shape == (width, height)
    else:
        with pytest.raises(GridError, match=message):
            Grid(width, height)


@pytest.mark.parametrize("width, height, named", [("a", 3, "grid width"), (3, "b", "grid height")])
def test_grid_sizes_that_are_not_integers_are_named(width, height, named):
    with pytest.raises(GridError, match=f"^{named}"):
        Grid(width, height)


def test_grid_stores_plain_ints():
    grid = Grid(np.int64(9), np.int64(7))
    assert type(grid.width) is int and type(grid.height) is int and grid.shape == (9, 7)


def test_check_index_says_what_is_off_the_axis():
    from crowdsense.ldpf.pdc.encoding import check_index

    assert check_index(2, 3) == 2
    with pytest.raises(GridError, match=r"^index 3 is off the axis: expected 0 <= index < 3$"):
        check_index(3, 3)
    with pytest.raises(GridError, match=r"^axis size must be >= 1 \(an empty axis has no index\), got 0$"):
        check_index(0, 0)
    with pytest.raises(GridError, match=r"^axis size"):
        check_index(0, "three")
    with pytest.raises(GridError, match=r"^column"):
        check_index("x", 3, name="column")


def test_encodings_are_bit_arrays_of_bytes():
    assert encode1(2, 5).dtype == np.uint8 and encode2(2, 5).dtype == np.uint8


def test_point_checks_name_the_point_and_the_coordinate_type():
    grid = Grid(9, 7)
    with pytest.raises(GridError, match=r"^point \(9, 0\) is off the grid"):
        grid.check_point((9, 0))
    with pytest.raises(GridError, match=r"^point x coordinate must be an integer, got 'a' \(str\)$"):
        grid.check_point(("a", 0))
    with pytest.raises(GridError, match=r"^point y coordinate must be an integer, got 1.5 \(float\)$"):
        grid.check_point((0, 1.5))
