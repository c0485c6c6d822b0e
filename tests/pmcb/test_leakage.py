"""Tests of the PMCB collusion model (crowdsense.pmcb.leakage).

Expected values come from hand calculation, from brute-force enumeration of every outcome of
tiny populations, or from inclusion-exclusion -- never from running the code under test.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from crowdsense.errors import InputError
from crowdsense.pmcb.leakage import (
    PAPER_DEGREE_LEVELS,
    PAPER_DEGREE_PROBABILITIES,
    PAPER_LEAK_RATES,
    PAPER_MODEL,
    CollusionModel,
    LeakageModelError,
    category_sizes,
    degree_leak_probability,
    monte_carlo,
    reconstructed_degree_distribution,
    reconstruction_probability,
)

# ----------------------------------------------------------------------------- references

Q = PAPER_LEAK_RATES
P = PAPER_DEGREE_PROBABILITIES
S = [sum(row) for row in P]  # row sums of the paper's table


def joint_row(c: int) -> list[float]:
    """Per-receiver distribution over (0, d_1..d_K) of category c (0-based), joint reading."""
    return [1 - Q[c] * S[c]] + [Q[c] * p for p in P[c]]


def brute_force(n: int, t: int, allocation: str) -> dict[str, object]:
    """Enumerate every category assignment and every leak outcome of n receivers."""
    rows = [joint_row(c) for c in range(t)]
    k_levels = len(PAPER_DEGREE_LEVELS)
    if allocation == "balanced":
        base = [c for c in range(t) for _ in range(n // t + (1 if c < n % t else 0))]
        assignments = [(tuple(base), 1.0)]
    else:
        assignments = [(a, t**-n) for a in itertools.product(range(t), repeat=n)]
    pmf = [0.0] * (k_levels + 1)
    exact = [0.0] * k_levels
    for cats, p_cats in assignments:
        for levels in itertools.product(range(k_levels + 1), repeat=n):
            pr = p_cats
            for c, lv in zip(cats, levels):
                pr *= rows[c][lv]
            best = [max([lv for c2, lv in zip(cats, levels) if c2 == c], default=0) for c in range(t)]
            pmf[min(best)] += pr
            for k in range(1, k_levels + 1):
                if all(any(c2 == c and lv == k for c2, lv in zip(cats, levels)) for c in range(t)):
                    exact[k - 1] += pr
    return {"pmf": pmf, "exact": exact}


def inclusion_exclusion(r: list[float], n: int) -> float:
    """P(all T categories hit) when each of n receivers is in a uniform category, hit prob r_c."""
    t = len(r)
    total = 0.0
    for size in range(t + 1):
        for subset in itertools.combinations(range(t), size):
            total += (-1) ** size * (1 - sum(r[c] for c in subset) / t) ** n
    return total


# ----------------------------------------------------------------------------- parameters


def test_paper_table_matches_the_unit_fractions_in_the_text():
    denominators = [
        (12, 11, 9, 10, 13),
        (11, 10, 8, 9, 12),
        (10, 9, 7, 8, 11),
        (9, 8, 6, 7, 10),
        (7, 5, 3, 4, 6),
    ]
    assert PAPER_DEGREE_PROBABILITIES == tuple(tuple(1 / k for k in row) for row in denominators)
    assert PAPER_LEAK_RATES == (0.1, 0.2, 0.3, 0.4, 0.5)


def test_receiver_distribution_joint_puts_the_rest_on_no_leak():
    table = PAPER_MODEL.receiver_distribution(5)
    for c in range(5):
        assert table[c] == pytest.approx(joint_row(c), abs=1e-15)
    assert table.sum(axis=1) == pytest.approx(np.ones(5), abs=1e-12)


def test_receiver_distribution_conditional_rescales_each_row():
    table = PAPER_MODEL.with_reading("conditional").receiver_distribution(5)
    # category 5: no-leak 1 - 0.5, the 60 % entry 0.5 * (1/3) / S_5
    assert table[4, 0] == pytest.approx(0.5, abs=1e-15)
    assert table[4, 3] == pytest.approx(0.5 * (1 / 3) / S[4], abs=1e-15)
    assert table.sum(axis=1) == pytest.approx(np.ones(5), abs=1e-12)


def test_category_sizes_when_not_divisible_gives_extra_to_first_categories():
    assert category_sizes(150, 4).tolist() == [38, 38, 37, 37]
    assert category_sizes(2, 3).tolist() == [1, 1, 0]


# ----------------------------------------------------------------------------- hand-checkable cases


def test_reconstruction_with_one_receiver_in_one_category_is_its_leak_probability():
    assert reconstruction_probability(1, 1) == pytest.approx(0.1 * S[0], abs=1e-15)


def test_reconstruction_with_one_receiver_per_category_is_the_product():
    expected = (0.1 * S[0]) * (0.2 * S[1]) * (0.3 * S[2])
    assert reconstruction_probability(3, 3) == pytest.approx(expected, abs=1e-15)


def test_reconstruction_of_full_task_with_one_receiver_per_category_needs_all_at_100_percent():
    expected = (0.1 / 13) * (0.2 / 12) * (0.3 / 11)
    assert reconstruction_probability(3, 3, min_degree=1.0) == pytest.approx(expected, rel=1e-12)


def test_reconstruction_with_no_receivers_is_zero():
    assert reconstruction_probability(0, 3) == 0.0
    assert reconstruction_probability(0, 3, allocation="uniform") == 0.0


def test_reconstruction_with_fewer_receivers_than_categories_is_zero():
    assert reconstruction_probability(2, 3) == 0.0
    assert reconstruction_probability(2, 3, allocation="uniform") == 0.0


def test_reconstruction_of_a_one_category_coin_model_is_one_minus_half_to_the_n():
    coin = CollusionModel((0.5,), (1.0,), ((1.0,),))
    for n in range(6):
        got = reconstruction_probability(n, 1, min_degree=1.0, model=coin)
        assert got == pytest.approx(1 - 0.5**n, abs=1e-15)


def test_uniform_allocation_of_two_sure_leakers_over_two_categories_is_one_half():
    sure = CollusionModel((1.0, 1.0), (1.0,), ((1.0,), (1.0,)))
    # both categories are covered iff the two receivers land in different categories
    assert reconstruction_probability(2, 2, model=sure, allocation="uniform") == pytest.approx(0.5, abs=1e-15)
    assert reconstruction_probability(2, 2, model=sure, allocation="balanced") == 1.0


def test_degree_leak_with_one_receiver_per_category_is_product_of_that_degree():
    expected = (0.1 / 9) * (0.2 / 8) * (0.3 / 7)
    assert degree_leak_probability(3, 3, 0.6) == pytest.approx(expected, rel=1e-12)


def test_degree_leak_of_paper_model_peaks_at_sixty_percent():
    # p_c(60 %) is the largest entry of every row and the probability increases in each r_c
    for t in (3, 4, 5):
        values = [degree_leak_probability(150, t, d) for d in PAPER_DEGREE_LEVELS]
        assert int(np.argmax(values)) == PAPER_DEGREE_LEVELS.index(0.6)


# ----------------------------------------------------------------------------- references


@pytest.mark.parametrize("allocation", ["balanced", "uniform"])
@pytest.mark.parametrize(("n", "t"), [(1, 1), (2, 2), (3, 2), (4, 2), (3, 3), (4, 3)])
def test_exact_results_match_brute_force_enumeration(allocation, n, t):
    reference = brute_force(n, t, allocation)
    pmf = reconstructed_degree_distribution(n, t, allocation=allocation)
    assert pmf == pytest.approx(reference["pmf"], abs=1e-13)
    for k, d in enumerate(PAPER_DEGREE_LEVELS):
        leak = degree_leak_probability(n, t, d, allocation=allocation)
        assert leak == pytest.approx(reference["exact"][k], abs=1e-13)
        survival = sum(reference["pmf"][k + 1 :])
        rec = reconstruction_probability(n, t, min_degree=d, allocation=allocation)
        assert rec == pytest.approx(survival, abs=1e-13)


@pytest.mark.parametrize("t", [3, 4, 5])
def test_uniform_allocation_matches_inclusion_exclusion(t):
    r = [Q[c] * S[c] for c in range(t)]
    for n in (1, 7, 40, 150):
        expected = inclusion_exclusion(r, n)
        assert reconstruction_probability(n, t, allocation="uniform") == pytest.approx(expected, abs=1e-12)


# ----------------------------------------------------------------------------- monotonicity


@pytest.mark.parametrize("allocation", ["balanced", "uniform"])
@pytest.mark.parametrize("t", [3, 4, 5])
def test_reconstruction_never_decreases_with_more_receivers(allocation, t):
    values = [reconstruction_probability(n, t, allocation=allocation) for n in range(0, 151)]
    assert all(b >= a - 1e-15 for a, b in zip(values, values[1:]))
    assert values[-1] > values[t]


def test_reconstruction_never_increases_with_more_categories():
    # each category's balanced size can only shrink and every category adds a factor <= 1
    for n in range(0, 151):
        p3, p4, p5 = (reconstruction_probability(n, t) for t in (3, 4, 5))
        assert p3 >= p4 - 1e-15 and p4 >= p5 - 1e-15


def test_reconstruction_never_increases_with_a_higher_degree_threshold():
    for t in (3, 5):
        values = [reconstruction_probability(60, t, min_degree=d) for d in PAPER_DEGREE_LEVELS]
        assert all(b <= a for a, b in zip(values, values[1:]))


def test_degree_distribution_sums_to_one_and_its_tail_is_the_reconstruction_probability():
    pmf = reconstructed_degree_distribution(45, 4, allocation="uniform")
    assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
    assert pmf[1:].sum() == pytest.approx(reconstruction_probability(45, 4, allocation="uniform"), abs=1e-12)


# ----------------------------------------------------------------------------- Monte Carlo


@pytest.mark.parametrize("allocation", ["balanced", "uniform"])
def test_monte_carlo_agrees_with_exact_within_five_standard_errors(allocation):
    n, t, trials = 30, 3, 20_000
    est = monte_carlo(n, t, n_trials=trials, allocation=allocation, random_state=12345)
    levels = PAPER_DEGREE_LEVELS
    exact_rec = np.array([reconstruction_probability(n, t, min_degree=d, allocation=allocation)
                          for d in levels])
    exact_leak = np.array([degree_leak_probability(n, t, d, allocation=allocation) for d in levels])
    exact_pmf = reconstructed_degree_distribution(n, t, allocation=allocation)
    pairs = [(est.reconstruction, exact_rec), (est.degree_leak, exact_leak)]
    pairs.append((est.degree_distribution, exact_pmf))
    for estimate, exact in pairs:
        bound = 5 * np.sqrt(exact * (1 - exact) / trials) + 1 / trials
        assert np.all(np.abs(estimate - exact) <= bound)


def test_monte_carlo_with_same_seed_is_reproducible_and_other_seed_differs():
    a = monte_carlo(20, 3, n_trials=2000, allocation="uniform", random_state=7)
    b = monte_carlo(20, 3, n_trials=2000, allocation="uniform", random_state=np.random.default_rng(7))
    c = monte_carlo(20, 3, n_trials=2000, allocation="uniform", random_state=8)
    assert np.array_equal(a.degree_distribution, b.degree_distribution)
    assert not np.array_equal(a.degree_distribution, c.degree_distribution)


def test_monte_carlo_with_no_receivers_never_leaks():
    est = monte_carlo(0, 3, n_trials=10, random_state=0)
    assert est.degree_distribution[0] == 1.0 and est.reconstruction.sum() == 0.0


def test_monte_carlo_standard_error_is_binomial():
    est = monte_carlo(3, 3, n_trials=400, random_state=0)
    assert float(est.standard_error(0.5)) == pytest.approx(math.sqrt(0.25 / 400))


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_receivers": -1}, "n_receivers must be an integer >= 0, got -1"),
        ({"n_receivers": 2.0}, "n_receivers must be an integer >= 0"),
        ({"n_receivers": True}, "n_receivers must be an integer >= 0"),
        ({"n_categories": 0}, r"n_categories must be an integer in \[1, 5\]"),
        ({"n_categories": 6}, r"n_categories must be an integer in \[1, 5\].*got 6"),
        ({"n_categories": "3"}, "n_categories must be an integer"),
        ({"min_degree": 0.0}, r"min_degree must be a number in \(0, 1\], got 0.0"),
        ({"min_degree": 1.5}, r"min_degree must be a number in \(0, 1\]"),
        ({"min_degree": float("nan")}, r"min_degree must be a number in \(0, 1\]"),
        ({"allocation": "random"}, "allocation must be one of .*got 'random'"),
        ({"model": "paper"}, "model must be a CollusionModel, got str"),
    ],
)
def test_reconstruction_with_bad_input_raises_input_error(kwargs, match):
    args = {"n_receivers": 10, "n_categories": 3, **kwargs}
    with pytest.raises(InputError, match=match):
        reconstruction_probability(args.pop("n_receivers"), args.pop("n_categories"), **args)


@pytest.mark.parametrize("degree", [0.5, 0.0, 2, "0.6", None, float("inf")])
def test_degree_leak_with_unknown_degree_raises_input_error(degree):
    with pytest.raises(InputError, match="degree must be one of the model's leak degrees"):
        degree_leak_probability(10, 3, degree)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (((1.2,), (1.0,), ((1.0,),)), r"leak_rates must lie in \[0, 1\]"),
        (((0.5,), (1.0,), ((-0.1,),)), "degree_probabilities must be finite and >= 0"),
        (((0.5,), (0.6, 0.4), ((0.1, 0.1),)), "degree_levels must be strictly increasing"),
        (((0.5,), (1.0,), ((0.1, 0.1),)), r"must have shape .* \(1, 1\), got \(1, 2\)"),
        (((), (1.0,), ()), "must not be empty"),
        (((0.9,), (0.5, 1.0), ((0.6, 0.6),)), "category 1 gives 0.9 \\* 1.2 = 1.08"),
        ((("a",), (1.0,), ((1.0,),)), "leak_rates must be a sequence of numbers"),
    ],
)
def test_collusion_model_with_impossible_parameters_raises(args, match):
    with pytest.raises(LeakageModelError, match=match):
        CollusionModel(*args)


def test_collusion_model_with_unknown_reading_raises():
    with pytest.raises(LeakageModelError, match="reading must be one of .*got 'bayes'"):
        CollusionModel((0.5,), (1.0,), ((1.0,),), reading="bayes")


def test_collusion_model_error_is_an_input_error_and_a_value_error():
    with pytest.raises(ValueError):
        CollusionModel((2.0,), (1.0,), ((1.0,),))
    assert issubclass(LeakageModelError, InputError)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_trials": 0}, "n_trials must be an integer >= 1, got 0"),
        ({"random_state": "seed"}, "random_state must be None, an int or a numpy Generator, got str"),
    ],
)
def test_monte_carlo_with_bad_input_raises_input_error(kwargs, match):
    with pytest.raises(InputError, match=match):
        monte_carlo(10, 3, **kwargs)


# ------------------------------------------------------------ levels of unequal size


def test_category_sizes_by_shares_by_hand():
    # 150 by 45 : 39 : 28 : 20 : 18 (sum 150) is exact; 10 by 1 : 1 : 1 gives 3.33 each, one
    # extra for the first; 7 by 5 : 2 gives 5 and 2; 10 by 0.26 : 0.74 gives 2.6 and 7.4,
    # so the larger remainder (0.6) takes the extra receiver: 3 and 7.
    assert category_sizes(150, 5, [45, 39, 28, 20, 18]).tolist() == [45, 39, 28, 20, 18]
    assert category_sizes(10, 3, [1, 1, 1]).tolist() == [4, 3, 3] == category_sizes(10, 3).tolist()
    assert category_sizes(7, 2, [5, 2]).tolist() == [5, 2]
    assert category_sizes(10, 2, [0.26, 0.74]).tolist() == [3, 7]
    assert category_sizes(0, 2, [1, 3]).tolist() == [0, 0]


def test_reconstruction_with_level_shares_by_hand():
    # Category 1 leaks with probability 1/2, category 2 always. Four receivers split 3 : 1
    # give (1 - (1/2)^3) * 1 = 7/8; split 2 : 2 (balanced) 3/4.
    model = CollusionModel((0.5, 1.0), (1.0,), ((1.0,), (1.0,)))
    assert reconstruction_probability(4, 2, model=model, allocation=[3, 1]) == pytest.approx(7 / 8, abs=1e-15)
    assert reconstruction_probability(4, 2, model=model, allocation=[1, 1]) == pytest.approx(3 / 4, abs=1e-15)
    assert reconstruction_probability(4, 2, model=model) == pytest.approx(3 / 4, abs=1e-15)
    assert degree_leak_probability(4, 2, 1.0, model=model, allocation=(0.75, 0.25)) == pytest.approx(7 / 8)


def test_equal_shares_are_the_balanced_allocation():
    for n in (0, 1, 7, 150):
        for t in (3, 4, 5):
            assert reconstruction_probability(n, t, allocation=[2.0] * t) == reconstruction_probability(n, t)
            assert np.array_equal(reconstructed_degree_distribution(n, t, allocation=[1] * t),
                                  reconstructed_degree_distribution(n, t))


def test_monte_carlo_follows_the_level_shares():
    shares = [1, 1, 8]  # sizes 3, 3, 24: the two rarely leaking categories get few receivers
    exact = reconstruction_probability(30, 3, allocation=shares)
    mc = monte_carlo(30, 3, allocation=shares, n_trials=20_000, random_state=3)
    assert abs(mc.reconstruction[0] - exact) <= 5 * mc.standard_error(exact)
    # and the shares matter: balanced sizes give another probability, far outside the noise
    assert abs(reconstruction_probability(30, 3) - exact) > 10 * mc.standard_error(exact)


@pytest.mark.parametrize("bad", [[1, 1], [1, 1, 1, 1], [1, 0, 1], [1, -1, 1], [1, float("nan"), 1], "equal",
                                 [True, 1, 1], 3, None])
def test_bad_shares_rejected(bad):
    with pytest.raises(InputError, match="allocation must be one of"):
        reconstruction_probability(10, 3, allocation=bad)
