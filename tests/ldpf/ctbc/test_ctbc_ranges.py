"""CTBC's acceptance ranges at both ends: the closed region, k-anonymous groups of exactly k,
Case 1 with exactly N members, the candidate count at exactly N, and the UD payload's words."""

import numpy as np
import pytest

from crowdsense.errors import InputError
from crowdsense.ldpf.ctbc.errors import NotEnoughCandidatesError
from crowdsense.ldpf.ctbc.geometry import Region, Task
from crowdsense.ldpf.ctbc.matching import rank_candidates
from crowdsense.ldpf.ctbc.payload import decode_ud, encode_ud
from crowdsense.ldpf.ctbc.protocol import Upload, platform_groups

#: the closed rectangle [-2, 2] x [-1, 1] (axis-aligned, so the edges are exact in floating point)
REGION = Region((0.0, 0.0), 2.0, 1.0)


def _beyond(value: float) -> float:
    """The next float farther from 0 than ``value``."""
    return float(np.nextafter(value, np.copysign(np.inf, value)))


def test_region_contains_its_edges_and_corners():
    edges = [[2.0, 0.0], [-2.0, 0.0], [0.0, 1.0], [0.0, -1.0], [2.0, 1.0], [-2.0, -1.0]]
    assert REGION.contains(edges).tolist() == [True] * len(edges)


def test_region_excludes_the_next_float_beyond_each_edge():
    beyond = [[_beyond(2.0), 0.0], [_beyond(-2.0), 0.0], [0.0, _beyond(1.0)], [0.0, _beyond(-1.0)]]
    assert REGION.contains(beyond).tolist() == [False] * len(beyond)


def _uploads(payloads):
    return [Upload(i, f"u{i}", p, b"", bytes([i + 1]) * 32) for i, p in enumerate(payloads)]


def test_group_of_exactly_k_uploads_is_valid_and_of_k_minus_1_is_not():
    k = 3
    full, short = encode_ud(0, 0, 1, 1), encode_ud(0, 1, 2, 2)
    _, labels, valid = platform_groups(_uploads([full] * k + [short] * (k - 1)), k=k)
    assert labels.tolist() == [0, 0, 0, 1, 1]
    assert valid.tolist() == [True, True, True, False, False]


@pytest.mark.parametrize("best_size, case", [(3, 1), (2, 2)])
def test_case_1_needs_a_best_group_of_at_least_n(best_size, case):
    # N = 3; the best group (at (1, 0), nearer the task centre) has 3 members (Case 1: exactly
    # N) or 2 (Case 2), the other group (at (5, 0)) 3.
    labels = np.array([0] * best_size + [1] * 3)
    task = Task((0.0, 0.0), 3, Region.square((0.0, 0.0), 100.0))
    assert rank_candidates([[1.0, 0.0], [5.0, 0.0]], labels, task, random_state=0).case == case


def test_exactly_n_candidates_are_enough_and_n_minus_1_are_not():
    task = Task((0.0, 0.0), 4, Region.square((0.0, 0.0), 100.0))
    centres = [[1.0, 0.0], [2.0, 0.0]]
    assert rank_candidates(centres, np.array([0, 0, 1, 1]), task, random_state=0).case == 2
    with pytest.raises(NotEnoughCandidatesError, match="N=4.*only 3 user"):
        rank_candidates(centres, np.array([0, 0, 1]), task)


@pytest.mark.parametrize("fields", [(0, 0, 0, 0), (2**64 - 1, 2**32 - 1, -(2**255), 2**255 - 1)])
def test_payload_words_accept_both_ends_of_their_range(fields):
    rec = decode_ud(encode_ud(*fields))
    assert (rec.epoch, rec.group, rec.x, rec.y) == fields


@pytest.mark.parametrize("fields, message", [
    ((2**64, 0, 0, 0), r"epoch must be an integer in \[0, 2\*\*64\), got 18446744073709551616"),
    ((0, 2**32, 0, 0), r"group must be an integer in \[0, 2\*\*32\), got 4294967296"),
    ((0, 0, -(2**255) - 1, 0), r"x must be an int256 integer, got -5789604461865809771"),
    ((0, 0, 0, 2**255), r"y must be an int256 integer, got 5789604461865809771"),
])
def test_payload_words_reject_one_beyond_their_range(fields, message):
    with pytest.raises(InputError, match=message):
        encode_ud(*fields)
