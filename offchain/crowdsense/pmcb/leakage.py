"""Collusion model behind PMCB's privacy-leakage evaluation (paper Fig. 8).

PMCB splits a task into T subtasks and lets only receivers of security category c claim
subtask c. A single receiver therefore never sees the whole task; the task leaks only when
*colluding* receivers of *every* category pool what they learned. This module computes, exactly,
how likely that is under the paper's leak parameters, and offers a Monte-Carlo simulation of
the same model as a cross-check.

The model
---------
Receivers. ``N`` receivers are split into categories ``1..T``. ``allocation="balanced"`` gives
category sizes ``n_c = N // T`` plus one for the first ``N % T`` categories (RatioCut spectral
clustering is used by PMCB precisely because it yields near-equal clusters);
``allocation="uniform"`` puts each receiver in a uniformly random category instead. A sequence
of T positive numbers gives the categories' *shares* instead, for example the sizes of the
levels a classifier produced: ``n_c`` is ``N`` apportioned by the shares (largest remainders,
ties to the lower category), fixed like the balanced sizes, which are the case of equal
shares. The classifier's levels are not equal (ego-Facebook, T = 5: 1209 / 1057 / 761 / 536 /
476 nodes), and which way that moves the result depends on which categories are large: a
category that leaks rarely (category 1, 10 %) limits the product, so giving it more receivers
raises the probability that every category leaks.

Leaks. A receiver of category ``c`` independently leaks a fraction ``D`` of its subtask, with
``D`` in the paper's leak degrees ``d_1..d_K`` (20 %, 40 %, ..., 100 %) or 0 (no leak).
The paper gives, per category, a rate ``q_c`` ("10 % of users of category 1 may leak", ...,
50 % for category 5) and per-degree probabilities ``p_c(d)``. Two readings are offered:

* ``reading="joint"`` (default): ``P(D = d) = q_c * p_c(d)`` and ``P(D = 0) = 1 - q_c * S_c``
  with ``S_c = sum_d p_c(d)``. The paper's rows sum to 0.46..1.09, so they cannot all be
  conditional distributions (category 5's row exceeds 1); their products with ``q_c`` are,
  however, valid joint probabilities for every category (``q_c S_c <= 0.55``). Nothing is
  rescaled.
* ``reading="conditional"``: ``p_c`` is rescaled to sum 1, i.e. every potential leaker
  (probability ``q_c``) leaks some degree, with relative odds ``p_c(d)``.

Pooling. Every receiver of category ``c`` holds the *same* subtask, so what the colluders of
``c`` know together is taken to be the best single leak, ``L_c = max D`` over the receivers of
``c`` (0 if none leaks). The task is reconstructed to degree ``min_c L_c``: a piece of the task
that is missing from one subtask is missing from the whole.

Quantities (all exact; ``r_c`` is a per-receiver probability, ``n_c`` the category size):

* :func:`reconstruction_probability` -- ``P(min_c L_c >= delta)``: every subtask has leaked to
  at least ``delta``. With ``delta = d_1`` (20 %) it is the probability that the colluders hold
  a leaked part of every subtask (Fig. 8(a)); ``delta = 1`` is full reconstruction.
  Balanced: ``prod_c [1 - (1 - r_c)^{n_c}]`` with ``r_c = P(D >= delta)``.
* :func:`reconstructed_degree_distribution` -- the distribution of ``min_c L_c``.
* :func:`degree_leak_probability` -- ``P(every category has a receiver leaking exactly d)``,
  the paper's "probability of privacy leakage" at a given "degree of privacy loss"
  (Fig. 8(b)): each degree is treated as its own scenario, which is the reading under which
  the paper's per-degree numbers need no rescaling and the curve peaks where every ``p_c``
  does (60 %).

For ``allocation="uniform"`` the "every category hit" probability is computed by a dynamic
programme over the set of categories already hit (a Markov chain on ``2**T`` states, advanced
``N`` steps by matrix power), again exactly.

Randomness in :func:`monte_carlo` is simulation randomness only, seeded through one
``random_state``; nothing here is security-relevant.

References
----------
PMCB, section V.B.5 ("Comparison of privacy protection under different systems and different
classifications") and Fig. 8; section IV.A for the split into subtasks and categories.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field, replace
from typing import Literal, Sequence

import numpy as np

from crowdsense.errors import InputError

__all__ = [
    "PAPER_LEAK_RATES",
    "PAPER_DEGREE_LEVELS",
    "PAPER_DEGREE_PROBABILITIES",
    "Allocation",
    "Reading",
    "RandomState",
    "LeakageModelError",
    "CollusionModel",
    "PAPER_MODEL",
    "category_sizes",
    "reconstruction_probability",
    "reconstructed_degree_distribution",
    "degree_leak_probability",
    "MonteCarloEstimate",
    "monte_carlo",
]

Allocation = Literal["balanced", "uniform"] | Sequence[float]
Reading = Literal["joint", "conditional"]
RandomState = int | np.random.Generator | None

_ALLOCATIONS = ("balanced", "uniform")
_READINGS = ("joint", "conditional")
_TOL = 1e-9

#: Share of the receivers of category 1..5 that "may leak the privacy of tasks" (PMCB V.B.5).
PAPER_LEAK_RATES: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5)

#: Degrees of privacy loss the paper distinguishes (fraction of a subtask that leaks).
PAPER_DEGREE_LEVELS: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8, 1.0)

# The paper states every probability as 1/k; keep the denominators so the table reads like it.
_PAPER_DENOMINATORS = (
    (12, 11, 9, 10, 13),  # category 1
    (11, 10, 8, 9, 12),  # category 2
    (10, 9, 7, 8, 11),  # category 3
    (9, 8, 6, 7, 10),  # category 4
    (7, 5, 3, 4, 6),  # category 5
)

#: ``p_c(d)``: probability that a user of category c leaks a degree d of private data.
PAPER_DEGREE_PROBABILITIES: tuple[tuple[float, ...], ...] = tuple(
    tuple(1.0 / k for k in row) for row in _PAPER_DENOMINATORS
)


class LeakageModelError(InputError):
    """The parameters of a :class:`CollusionModel` do not describe probabilities."""


# ----------------------------------------------------------------------------- validation


def _float_vector(values: object, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise LeakageModelError(f"{name} must be a sequence of numbers, got {values!r}") from exc
    if arr.ndim != 1:
        raise LeakageModelError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def _check_positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise InputError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def _check_receivers(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise InputError(f"n_receivers must be an integer >= 0, got {value!r}")
    return int(value)


def _check_categories(value: object, model: CollusionModel) -> int:
    if not isinstance(model, CollusionModel):
        raise InputError(f"model must be a CollusionModel, got {type(model).__name__}")
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or not 1 <= value <= model.n_categories
    ):
        raise InputError(
            f"n_categories must be an integer in [1, {model.n_categories}] (the model's categories), "
            f"got {value!r}"
        )
    return int(value)


def _check_min_degree(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (0 < float(value) <= 1):
        raise InputError(f"min_degree must be a number in (0, 1], got {value!r}")
    return float(value)


def _check_shares(value: object, t: int) -> np.ndarray:
    """Category shares as T positive finite floats summing to 1, else :class:`InputError`."""
    expected = (f"allocation must be one of {_ALLOCATIONS} or {t} positive numbers "
                "(the share of each category)")
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise InputError(f"{expected}, got {value!r}")
    try:
        shares = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{expected}, got {value!r}") from None
    if shares.shape != (t,) or not np.isfinite(shares).all() or (shares <= 0).any() \
            or any(isinstance(v, bool) for v in value):  # type: ignore[union-attr]
        raise InputError(f"{expected}, got {value!r}")
    return shares / shares.sum()


def _check_allocation(value: object, t: int) -> str | np.ndarray:
    """"balanced", "uniform", or the categories' shares (normalized to sum 1)."""
    if isinstance(value, str):
        if value not in _ALLOCATIONS:
            raise InputError(f"allocation must be one of {_ALLOCATIONS} or {t} positive numbers "
                             f"(the share of each category), got {value!r}")
        return value
    return _check_shares(value, t)


def _scenario(n_receivers: object, n_categories: object, model: CollusionModel,
              allocation: object) -> tuple[int, np.ndarray, str | np.ndarray]:
    """The checked inputs every estimate starts from: ``N``, the per-category leak table, the allocation.

    The table is :meth:`CollusionModel.receiver_distribution` of the ``T`` categories (one row each).
    """
    n = _check_receivers(n_receivers)
    t = _check_categories(n_categories, model)
    return n, model.receiver_distribution(t), _check_allocation(allocation, t)


def _level_index(degree: object, model: CollusionModel) -> int:
    if not isinstance(degree, bool) and isinstance(degree, numbers.Real) and math.isfinite(float(degree)):
        for k, level in enumerate(model.degree_levels):
            if abs(float(degree) - level) <= _TOL:
                return k
    raise InputError(f"degree must be one of the model's leak degrees {model.degree_levels}, got {degree!r}")


def _check_random_state(random_state: object) -> np.random.Generator:
    is_seed = isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool)
    if random_state is None or is_seed:
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    raise InputError(
        f"random_state must be None, an int or a numpy Generator, got {type(random_state).__name__}"
    )


# ----------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class CollusionModel:
    """Per-category leak parameters of the collusion model.

    Parameters
    ----------
    leak_rates : sequence of float, length C
        ``q_c`` in [0, 1]: share of category-c receivers that may leak.
    degree_levels : sequence of float, length K
        Leak degrees, strictly increasing in (0, 1].
    degree_probabilities : C x K nested sequence of float
        ``p_c(d)`` >= 0 for each category and degree.
    reading : {"joint", "conditional"}
        How ``q_c`` and ``p_c`` combine; see the module docstring.

    Categories are used in order: a run with ``T`` categories uses rows ``1..T``.
    """

    leak_rates: tuple[float, ...]
    degree_levels: tuple[float, ...]
    degree_probabilities: tuple[tuple[float, ...], ...]
    reading: Reading = "joint"
    _table: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.reading not in _READINGS:
            raise LeakageModelError(f"reading must be one of {_READINGS}, got {self.reading!r}")
        q = _float_vector(self.leak_rates, "leak_rates")
        levels = _float_vector(self.degree_levels, "degree_levels")
        try:
            p = np.asarray(self.degree_probabilities, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise LeakageModelError(
                f"degree_probabilities must be a {q.size} x {levels.size} table of numbers, "
                f"got {self.degree_probabilities!r}"
            ) from exc
        if q.size == 0 or levels.size == 0:
            raise LeakageModelError("leak_rates and degree_levels must not be empty")
        if p.shape != (q.size, levels.size):
            raise LeakageModelError(
                f"degree_probabilities must have shape (len(leak_rates), len(degree_levels)) = "
                f"({q.size}, {levels.size}), got {p.shape}"
            )
        if not (np.isfinite(q).all() and ((q >= 0) & (q <= 1)).all()):
            raise LeakageModelError(f"leak_rates must lie in [0, 1], got {q.tolist()}")
        increasing = bool((np.diff(levels) > 0).all())
        if not (np.isfinite(levels).all() and levels[0] > 0 and levels[-1] <= 1 and increasing):
            raise LeakageModelError(
                f"degree_levels must be strictly increasing in (0, 1], got {levels.tolist()}"
            )
        if not (np.isfinite(p).all() and (p >= 0).all()):
            raise LeakageModelError(f"degree_probabilities must be finite and >= 0, got {p.tolist()}")
        row_sums = p.sum(axis=1)
        if self.reading == "joint":
            leak = q * row_sums
            bad = np.flatnonzero(leak > 1 + _TOL)
            if bad.size:
                c = int(bad[0])
                raise LeakageModelError(
                    f"with reading='joint' each q_c * sum_d p_c(d) must be <= 1; category {c + 1} "
                    f"gives {q[c]:g} * {row_sums[c]:g} = {leak[c]:g}"
                )
            table = np.column_stack([np.clip(1.0 - leak, 0.0, 1.0), q[:, None] * p])
        else:
            bad = np.flatnonzero((row_sums <= 0) & (q > 0))
            if bad.size:
                c = int(bad[0])
                raise LeakageModelError(
                    f"with reading='conditional' a category that may leak needs some p_c(d) > 0; "
                    f"category {c + 1} has q = {q[c]:g} and all p_c(d) = 0"
                )
            cond = np.divide(p, row_sums[:, None], out=np.zeros_like(p), where=row_sums[:, None] > 0)
            table = np.column_stack([1.0 - q, q[:, None] * cond])
        table.setflags(write=False)
        object.__setattr__(self, "leak_rates", tuple(q.tolist()))
        object.__setattr__(self, "degree_levels", tuple(levels.tolist()))
        object.__setattr__(self, "degree_probabilities", tuple(tuple(r) for r in p.tolist()))
        object.__setattr__(self, "_table", table)

    @property
    def n_categories(self) -> int:
        """Number of categories the model describes (the largest usable T)."""
        return len(self.leak_rates)

    def with_reading(self, reading: Reading) -> CollusionModel:
        """The same parameters combined under another ``reading``."""
        return replace(self, reading=reading)

    def receiver_distribution(self, n_categories: int) -> np.ndarray:
        """Distribution of one receiver's leak degree, per category.

        Returns
        -------
        ndarray of shape (n_categories, K + 1)
            Row c is ``P(D = 0), P(D = d_1), ..., P(D = d_K)`` for a receiver of category c + 1.
        """
        t = _check_categories(n_categories, self)
        return self._table[:t].copy()


#: The paper's parameters under the default (joint) reading.
PAPER_MODEL = CollusionModel(PAPER_LEAK_RATES, PAPER_DEGREE_LEVELS, PAPER_DEGREE_PROBABILITIES)


# ----------------------------------------------------------------------------- exact results


def category_sizes(n_receivers: int, n_categories: int, shares: Sequence[float] | None = None) -> np.ndarray:
    """Category sizes: balanced, or ``N`` apportioned by ``shares`` (largest remainders).

    Parameters
    ----------
    n_receivers : int
        ``N`` >= 0.
    n_categories : int
        ``T`` >= 1.
    shares : sequence of T positive numbers, optional
        Relative size of each category (e.g. the node counts of the classifier's levels 1..T);
        None: equal shares.

    Returns
    -------
    ndarray of int, shape (T,)
        Sizes summing to ``N``: ``floor(N s_c)`` each, and one more for the ``N - sum floor``
        categories with the largest remainders ``N s_c - floor(N s_c)`` (ties: the lower
        category first). With equal shares: ``N // T`` each, one more for the first ``N % T``.
    """
    n = _check_receivers(n_receivers)
    t = _check_positive_int(n_categories, "n_categories")
    if shares is None:
        sizes = np.full(t, n // t, dtype=np.int64)
        sizes[: n % t] += 1
        return sizes
    exact = n * _check_shares(shares, t)
    sizes = np.floor(exact + 1e-9).astype(np.int64)  # 1e-9: N s_c = 3 computed as 2.9999999
    remainder = exact - sizes
    order = np.lexsort((np.arange(t), -np.round(remainder, 9)))
    sizes[order[: n - int(sizes.sum())]] += 1
    return sizes


def reconstruction_probability(
    n_receivers: int,
    n_categories: int,
    *,
    min_degree: float = PAPER_DEGREE_LEVELS[0],
    model: CollusionModel = PAPER_MODEL,
    allocation: Allocation = "balanced",
) -> float:
    """Probability that the colluders know every subtask to at least ``min_degree``.

    ``P(min_c L_c >= delta)`` with ``L_c`` the best leak among category c's receivers. With the
    default ``min_degree`` (the smallest leak degree) this is the probability that some receiver
    of every category leaks (Fig. 8(a)); ``min_degree=1.0`` asks for the whole task in full.

    Parameters
    ----------
    n_receivers : int
        Number of receivers ``N`` >= 0 (all categories together).
    n_categories : int
        ``T``, in ``1..model.n_categories``.
    min_degree : float, default 0.2
        ``delta`` in (0, 1].
    model : CollusionModel, default PAPER_MODEL
    allocation : {"balanced", "uniform"} or sequence of T positive numbers, default "balanced"
        Equal fixed sizes, a uniformly random category per receiver, or fixed sizes in these
        proportions (:func:`category_sizes`).

    Returns
    -------
    float
        The probability, in [0, 1].
    """
    n, table, alloc = _scenario(n_receivers, n_categories, model, allocation)
    delta = _check_min_degree(min_degree)
    at_least = np.asarray(model.degree_levels) >= delta - _TOL
    r = table[:, 1:][:, at_least].sum(axis=1)
    return _all_categories_hit(r, n, alloc)


def reconstructed_degree_distribution(
    n_receivers: int,
    n_categories: int,
    *,
    model: CollusionModel = PAPER_MODEL,
    allocation: Allocation = "balanced",
) -> np.ndarray:
    """Distribution of the degree ``min_c L_c`` to which the colluders reconstruct the task.

    Returns
    -------
    ndarray of shape (K + 1,)
        ``P(min_c L_c = 0), P(= d_1), ..., P(= d_K)``; sums to 1.
    """
    n, table, alloc = _scenario(n_receivers, n_categories, model, allocation)
    # survival[k] = P(min L >= d_k) for k = 1..K, from per-receiver tails P(D >= d_k)
    tails = np.cumsum(table[:, ::-1], axis=1)[:, ::-1][:, 1:]
    survival = np.array([_all_categories_hit(tails[:, k], n, alloc) for k in range(tails.shape[1])])
    survival = np.minimum.accumulate(survival)  # guard against 1-ulp inversions
    pmf = np.empty(survival.size + 1)
    pmf[0] = 1.0 - survival[0]
    pmf[1:-1] = survival[:-1] - survival[1:]
    pmf[-1] = survival[-1]
    return np.clip(pmf, 0.0, 1.0)


def degree_leak_probability(
    n_receivers: int,
    n_categories: int,
    degree: float,
    *,
    model: CollusionModel = PAPER_MODEL,
    allocation: Allocation = "balanced",
) -> float:
    """Probability that every category has a receiver leaking exactly ``degree`` (Fig. 8(b)).

    This is the "probability of privacy leakage" at a given "degree of privacy loss": the
    colluders can put together the whole task at loss ``degree`` from same-degree leaks. Each
    degree is its own scenario, so the values over the degrees need not sum to anything.

    Parameters
    ----------
    n_receivers, n_categories, model, allocation
        As in :func:`reconstruction_probability`.
    degree : float
        One of ``model.degree_levels``.

    Returns
    -------
    float
        The probability, in [0, 1].
    """
    n, table, alloc = _scenario(n_receivers, n_categories, model, allocation)
    r = table[:, 1 + _level_index(degree, model)]
    return _all_categories_hit(r, n, alloc)


def _fixed_sizes(n: int, t: int, allocation: str | np.ndarray) -> np.ndarray | None:
    """Category sizes of a fixed allocation (balanced or by shares); None for "uniform"."""
    if isinstance(allocation, str):
        return None if allocation == "uniform" else category_sizes(n, t)
    return category_sizes(n, t, allocation.tolist())


def _all_categories_hit(r: np.ndarray, n: int, allocation: str | np.ndarray) -> float:
    """P(every category has at least one receiver with a 'hit'), per-receiver hit prob ``r_c``."""
    t = r.size
    sizes = _fixed_sizes(n, t, allocation)
    if sizes is not None:
        prob = 1.0
        for r_c, n_c in zip(r.tolist(), sizes.tolist()):
            if n_c == 0:
                return 0.0
            # 1 - (1 - r)^n, via expm1/log1p so that a small r keeps its relative precision
            prob *= 1.0 if r_c >= 1.0 else -math.expm1(n_c * math.log1p(-r_c))
        return float(min(max(prob, 0.0), 1.0))
    # uniform allocation: Markov chain on the set of categories hit so far. One receiver lands
    # in category c and hits with probability r_c / T; it then adds c to the set.
    states = 1 << t
    step = np.zeros((states, states))
    move = r / t
    for s in range(states):
        step[s, s] += 1.0 - move.sum()
        for c in range(t):
            step[s, s | (1 << c)] += move[c]
    dist = np.linalg.matrix_power(step, n)[0]
    return float(np.clip(dist[states - 1], 0.0, 1.0))


# ----------------------------------------------------------------------------- Monte Carlo


@dataclass(frozen=True)
class MonteCarloEstimate:
    """Monte-Carlo estimates of the exact quantities, with their binomial standard errors.

    Attributes
    ----------
    n_trials : int
    degree_levels : tuple of float
        ``d_1..d_K``.
    reconstruction : ndarray, shape (K,)
        ``P(min_c L_c >= d_k)``; compare with :func:`reconstruction_probability`.
    degree_distribution : ndarray, shape (K + 1,)
        Compare with :func:`reconstructed_degree_distribution`.
    degree_leak : ndarray, shape (K,)
        Compare with :func:`degree_leak_probability`.
    """

    n_trials: int
    degree_levels: tuple[float, ...]
    reconstruction: np.ndarray
    degree_distribution: np.ndarray
    degree_leak: np.ndarray

    def standard_error(self, p: np.ndarray | float) -> np.ndarray:
        """Binomial standard error ``sqrt(p (1 - p) / n_trials)`` of an estimated probability."""
        p = np.asarray(p, dtype=np.float64)
        return np.sqrt(np.clip(p * (1.0 - p), 0.0, None) / self.n_trials)


def monte_carlo(
    n_receivers: int,
    n_categories: int,
    *,
    n_trials: int = 10_000,
    model: CollusionModel = PAPER_MODEL,
    allocation: Allocation = "balanced",
    random_state: RandomState = None,
) -> MonteCarloEstimate:
    """Simulate the collusion model receiver by receiver.

    Each trial places the receivers in categories (fixed balanced sizes, or uniformly at
    random), draws every receiver's leak degree, pools per category by the maximum and the
    task by the minimum -- the same model as the exact functions, computed the slow way.

    Parameters
    ----------
    n_receivers, n_categories, model, allocation
        As in :func:`reconstruction_probability`.
    n_trials : int, default 10000
        Number of independent simulated populations (>= 1).
    random_state : None, int or numpy Generator
        Seed or generator of the simulation.

    Returns
    -------
    MonteCarloEstimate
    """
    n, table, alloc = _scenario(n_receivers, n_categories, model, allocation)
    t = table.shape[0]
    trials = _check_positive_int(n_trials, "n_trials")
    rng = _check_random_state(random_state)
    n_levels = table.shape[1]  # K + 1 including "no leak"
    cdf = np.cumsum(table, axis=1)
    cdf[:, -1] = 1.0
    min_level_counts = np.zeros(n_levels, dtype=np.int64)
    exact_counts = np.zeros(n_levels - 1, dtype=np.int64)
    sizes = _fixed_sizes(n, t, alloc)
    fixed_cats = np.repeat(np.arange(t), sizes if sizes is not None else category_sizes(n, t))
    chunk = max(1, 200_000 // max(n, 1))
    done = 0
    while done < trials:
        m = min(chunk, trials - done)
        done += m
        if n == 0:
            min_level_counts[0] += m
            continue
        cats = np.broadcast_to(fixed_cats, (m, n)) if sizes is not None else rng.integers(0, t, size=(m, n))
        u = rng.random((m, n))
        level = np.zeros((m, n), dtype=np.int64)
        for k in range(n_levels - 1):  # inverse CDF: level = #{k : u >= cdf_k}
            level += u >= cdf[cats, k]
        best = np.empty((m, t), dtype=np.int64)
        all_exact = np.ones((m, n_levels - 1), dtype=bool)
        for c in range(t):
            in_c = cats == c
            best[:, c] = np.where(in_c, level, 0).max(axis=1)
            for k in range(1, n_levels):
                all_exact[:, k - 1] &= (in_c & (level == k)).any(axis=1)
        min_level_counts += np.bincount(best.min(axis=1), minlength=n_levels)
        exact_counts += all_exact.sum(axis=0)
    pmf = min_level_counts / trials
    survival = np.cumsum(pmf[::-1])[::-1][1:]
    return MonteCarloEstimate(
        n_trials=trials,
        degree_levels=model.degree_levels,
        reconstruction=survival,
        degree_distribution=pmf,
        degree_leak=exact_counts / trials,
    )
