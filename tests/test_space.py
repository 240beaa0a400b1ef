"""Search-space parsing, unit-cube round trips and bad-input messages."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.model_selection import ParameterGrid
from sklearn.svm import SVC

from skhpo import Categorical, Integer, Real, Space
from skhpo.exceptions import SearchSpaceError
from skhpo.space import Constant, ScipyDimension, as_dimension, is_candidate_list

finite = dict(allow_nan=False, allow_infinity=False)


@given(low=st.floats(-1e6, 1e6, **finite), width=st.floats(1e-3, 1e6, **finite),
       u=st.floats(0, 1, **finite))
def test_real_round_trip(low, width, u):
    dim = Real(low, low + width)
    value = dim.from_unit(np.array([[u]]))[0]
    assert dim.low <= value <= dim.high
    assert dim.to_unit([value])[0, 0] == pytest.approx(u, abs=1e-6)


@given(low=st.floats(1e-8, 1e3, **finite), factor=st.floats(1.01, 1e6, **finite),
       u=st.floats(0, 1, **finite))
def test_log_real_round_trip(low, factor, u):
    dim = Real(low, low * factor, prior="log-uniform")
    value = dim.from_unit(np.array([[u]]))[0]
    assert dim.low <= value <= dim.high
    assert dim.to_unit([value])[0, 0] == pytest.approx(u, abs=1e-7)


@given(low=st.integers(-1000, 1000), width=st.integers(1, 1000), data=st.data())
def test_integer_round_trip(low, width, data):
    dim = Integer(low, low + width)
    value = data.draw(st.integers(dim.low, dim.high))
    encoded = dim.to_unit([value])
    assert 0 <= encoded[0, 0] <= 1
    assert dim.from_unit(encoded) == [value]
    assert isinstance(dim.from_unit(encoded)[0], int)


@given(low=st.integers(1, 100), width=st.integers(1, 10_000), data=st.data())
def test_log_integer_round_trip(low, width, data):
    dim = Integer(low, low + width, prior="log-uniform")
    value = data.draw(st.integers(dim.low, dim.high))
    assert dim.from_unit(dim.to_unit([value])) == [value]


def test_integer_slices_are_equal_for_uniform_prior():
    dim = Integer(0, 3)
    values = dim.from_unit(np.linspace(0, 1, 4001)[:, None])
    counts = np.bincount(values)
    assert counts.min() >= 990 and counts.max() <= 1010


def test_log_prior_samples_decades_evenly():
    dim = Real(1e-4, 1e0, prior="log-uniform")
    samples = np.array(dim.sample(4000, np.random.RandomState(0)))
    decades = np.bincount(np.floor(np.log10(samples)).astype(int) + 4, minlength=4)
    assert decades.min() > 900


@settings(max_examples=50)
@given(st.lists(st.one_of(st.integers(), st.text(max_size=3), st.none()), min_size=1,
                max_size=6, unique=True), st.data())
def test_categorical_round_trip(categories, data):
    dim = Categorical(categories)
    value = data.draw(st.sampled_from(categories))
    assert dim.from_unit(dim.to_unit([value])) == [value]


def test_categorical_of_estimators():
    estimators = [SVC(C=1), SVC(C=2)]
    dim = Categorical(estimators)
    assert dim.from_unit(dim.to_unit([estimators[1]]))[0] is estimators[1]


@pytest.mark.parametrize(
    "value, expected",
    [
        ([1, 2, 3], Categorical([1, 2, 3])),
        (np.array([0.1, 0.2]), Categorical([0.1, 0.2])),
        (stats.uniform(2, 3), Real(2, 5)),
        (stats.loguniform(1e-3, 1e2), Real(1e-3, 1e2, prior="log-uniform")),
        (stats.randint(1, 10), Integer(1, 9)),
        ("rbf", Constant("rbf")),
        (b"rbf", Constant(b"rbf")),
        (0.5, Constant(0.5)),
        ({0: 1, 1: 2}, Constant({0: 1, 1: 2})),
        ((10, 20), Categorical([10, 20])),
        (("linear", "rbf"), Categorical(["linear", "rbf"])),
        ((50,), Constant(50)),
        ([(50,), (100,)], Categorical([(50,), (100,)])),
        ([(50, 100)], Constant((50, 100))),
        (range(2, 5), Categorical([2, 3, 4])),
        (range(3, 4), Constant(3)),
        (np.array(["a", "b"]), Categorical(["a", "b"])),
        (np.array([7]), Constant(7)),
        (Real(0, 1), Real(0, 1)),
    ],
)
def test_as_dimension(value, expected):
    assert as_dimension("p", value) == expected


def test_other_scipy_distributions_use_cdf_and_ppf():
    dim = as_dimension("p", stats.norm(0, 1))
    assert isinstance(dim, ScipyDimension) and math.isinf(dim.size)
    assert dim.from_unit(np.array([[0.5]]))[0] == pytest.approx(0.0)
    assert dim.to_unit([1.0])[0, 0] == pytest.approx(stats.norm.cdf(1.0))
    discrete = as_dimension("p", stats.poisson(3))
    value = discrete.from_unit(discrete.to_unit([4]))[0]
    assert value == 4


def test_reprs_are_evaluable():
    for dim in (Real(1e-3, 1.0, prior="log-uniform"), Integer(1, 5), Categorical(["a", 1])):
        assert eval(repr(dim)) == dim


@pytest.mark.parametrize(
    "factory, match",
    [
        (lambda: Real(1, 1), r"Real\(low=1, high=1\): low must be smaller than high"),
        (lambda: Real(0, 1, prior="log-uniform"), "a log prior needs low > 0"),
        (lambda: Real(0, 1, prior="log"), "prior must be 'uniform' or 'log-uniform'"),
        (lambda: Integer(5, 2), "low must be smaller than high"),
        (lambda: Integer(0.5, 2), "bounds must be integers, got float; use Real"),
        (lambda: Integer(0, 5, prior="log-uniform"), "a log prior needs low >= 1"),
        (lambda: Categorical([]), r"give at least one category"),
        (lambda: Categorical("abc"), "categories must be a list"),
        (lambda: Space({"C": []}), r"search_spaces\['C'\]: \[\] is an empty list of candidates"),
        (lambda: Space([]), "search_spaces is an empty list"),
        (lambda: Space(["C"]), r"search_spaces\[0\] is a str"),
        (lambda: Space({"C": np.ones((2, 2))}), r"array of shape \(2, 2\)"),
        (lambda: Space({1: [1]}), "non-string parameter name 1"),
    ],
)
def test_bad_input_messages(factory, match):
    with pytest.raises(ValueError, match=match):
        factory()


def test_union_space_encoding():
    space = Space([{"kernel": ["rbf"], "gamma": Real(1e-4, 1, prior="log-uniform")},
                   {"kernel": ["linear"], "C": Integer(1, 10)}])
    assert space.n_columns == 2 + 2
    params = [{"kernel": "rbf", "gamma": 0.01}, {"kernel": "linear", "C": 7}]
    encoded = space.to_unit(params)
    decoded = space.from_unit(encoded)
    assert decoded[1] == params[1]
    assert decoded[0]["gamma"] == pytest.approx(0.01)
    assert space.size == math.inf
    samples = space.sample(400, np.random.RandomState(0))
    share = np.mean([p["kernel"] == "rbf" for p in samples])
    assert 0.4 < share < 0.6


@given(st.lists(st.floats(0, 1, **finite), min_size=7, max_size=7))
def test_round_unit_is_idempotent_and_decodable(row):
    space = Space([{"a": Real(0, 1), "b": Integer(1, 4)}, {"c": Categorical(["x", "y", "z"])}])
    rounded = space.round_unit(np.array([row]))
    np.testing.assert_array_equal(space.round_unit(rounded), rounded)
    np.testing.assert_allclose(space.to_unit(space.from_unit(rounded)), rounded)


def test_grid_enumeration():
    space = Space([{"a": [1, 2, 3], "b": Integer(0, 1)}, {"c": ["x"], "d": "fixed"}])
    grid = space.from_unit(space.grid_unit())
    assert space.size == 7 and len(grid) == 7
    assert {"c": "x", "d": "fixed"} in grid
    assert len({tuple(sorted(p.items())) for p in grid}) == 7


def test_sobol_design_is_valid_and_seeded():
    space = Space({"a": Real(0, 1), "b": Categorical(["u", "v"])})
    first = space.sobol(10, np.random.RandomState(0))
    second = space.sobol(10, np.random.RandomState(0))
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(space.round_unit(first), first)


# -- GridSearchCV inputs --------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        ("linear", "rbf"),
        range(2, 5),
        range(3, 4),
        (50, 100),
        [(50,), (100,)],
        ((50,), (100, 100)),
        np.array([0.1, 1.0, 10.0]),
        np.array(["a"]),
        [SVC(), SVC(C=2)],
    ],
    ids=["tuple", "range", "one-value-range", "tuple-of-ints", "list-of-tuples",
         "tuple-of-tuples", "array", "one-value-array", "estimators"],
)
def test_sequences_give_the_candidates_of_parameter_grid(value):
    expected = [params["p"] for params in ParameterGrid({"p": value})]
    space = Space({"p": value})
    got = [params["p"] for params in space.from_unit(space.grid_unit())]
    assert space.size == len(expected)
    assert got == expected
    if not isinstance(value, np.ndarray):  # arrays give Python scalars, not NumPy's
        assert all(type(g) is type(e) for g, e in zip(got, expected))


@pytest.mark.parametrize(
    "search_spaces",
    [
        {"C": [1.0]},
        {"C": 1.0, "kernel": "rbf"},
        {"C": (1.0,), "kernel": ["rbf"], "degree": range(3, 4)},
        {"clf__C": [1.0]},
    ],
    ids=["one-value-list", "all-fixed", "one-value-sequences", "nested"],
)
def test_one_point_space_has_no_column_and_one_point(search_spaces):
    space = Space(search_spaces)
    expected = next(iter(ParameterGrid(
        {k: v if is_candidate_list(v) else [v] for k, v in search_spaces.items()}
    )))
    rng = np.random.RandomState(0)
    assert space.n_columns == 0 and space.size == 1
    assert space.grid_unit().shape == (1, 0)
    assert space.from_unit(space.grid_unit()) == [expected]
    assert space.sample(3, rng) == [expected] * 3
    assert space.sample(3, rng, distinct=True) == [expected]
    assert space.sample(3, rng, distinct=True, exclude=[expected]) == []
    assert space.from_unit(space.sobol(4, rng)) == [expected] * 4
    assert space.to_unit([expected]).shape == (1, 0)


def test_union_of_one_point_spaces():
    space = Space([{"C": [1.0]}, {"C": [2.0], "kernel": "linear"}])
    assert space.size == 2 and space.n_columns == 2  # the subspace selector only
    points = space.from_unit(space.grid_unit())
    assert points == [{"C": 1.0}, {"C": 2.0, "kernel": "linear"}]
    assert space.from_unit(space.to_unit(points)) == points


def test_distinct_samples_cover_a_finite_space_without_repeats():
    space = Space([{"a": [1, 2, 3], "b": ("x", "y")}, {"c": range(4)}])
    rng = np.random.RandomState(0)
    points = space.sample(100, rng, distinct=True)
    assert len(points) == 10
    assert len({tuple(sorted(p.items())) for p in points}) == 10
    rest = space.sample(100, rng, distinct=True, exclude=points[:4])
    assert sorted(map(str, rest)) == sorted(map(str, points[4:]))


# -- bounds ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "factory, match",
    [
        (lambda: Real(0, np.inf), r"^Real\(low=0, high=inf\): bounds must be finite"),
        (lambda: Real(-np.inf, 0), r"^Real\(low=-inf, high=0\): bounds must be finite"),
        (lambda: Real(np.nan, 1), r"^Real\(low=nan, high=1\): bounds must be finite"),
        (lambda: Real("10", "9"), r"^Real\(low='10'\): bounds must be real numbers, got str"),
        (lambda: Real(1, "2"), r"^Real\(high='2'\): bounds must be real numbers"),
        (lambda: Real(None, 1), r"^Real\(low=None\): bounds must be real numbers"),
        (lambda: Real(False, True), r"^Real\(low=False\): bounds must be real numbers, got bool"),
        (lambda: Real(-1e308, 1e308), r"high - low overflows float64; narrow the interval"),
        (lambda: Real(1, 1 + 1e-17), r"low must be smaller than high; for a fixed value"),
        (lambda: Real(2, 1), r"low must be smaller than high"),
        (lambda: Real(-1, 1, prior="log-uniform"), "a log prior needs low > 0"),
        (lambda: Integer(0, 10**19), r"^Integer\(high=10000000000000000000\): bounds must "
                                     r"lie within \[-2\*\*53, 2\*\*53\]"),
        (lambda: Integer(-10**19, 0), r"^Integer\(low=-10000000000000000000\): bounds must"),
        (lambda: Integer(0, 2**53 + 1), r"bounds must lie within \[-2\*\*53, 2\*\*53\]"),
        (lambda: Integer("0", 5), r"^Integer\(low='0'\): bounds must be integers, got "
                                  r"str; use Real for a real interval"),
        (lambda: Integer(0, np.inf), r"bounds must be integers, got float"),
        (lambda: Integer(3, 3), r"low must be smaller than high; for a fixed value give"),
    ],
)
def test_bad_bounds_messages(factory, match):
    with pytest.raises(SearchSpaceError, match=match):
        factory()


def test_integer_bounds_at_the_limit_round_trip():
    dim = Integer(2**53 - 10, 2**53)
    values = dim.grid()
    assert dim.from_unit(dim.to_unit(values)) == values
    assert all(dim.low <= v <= dim.high for v in dim.sample(100, np.random.RandomState(0)))


def _changed_after_construction():
    dim = Real(0, 1)
    dim.high = np.inf
    return dim


class _BrokenDistribution:
    """Looks like a frozen scipy distribution but fails when asked its support."""

    dist = stats.norm

    def rvs(self, *args, **kwargs):
        return 0.0

    def support(self):
        raise RuntimeError("no support")


@pytest.mark.parametrize(
    "search_spaces, match",
    [
        ({"alpha": stats.uniform(0, np.inf)},
         r"^search_spaces\['alpha'\]: scipy.stats.uniform\(args=\(0, inf\), kwds=\{\}\) "
         r"has support \[nan, inf\]: Real\(low=nan, high=inf\): bounds must be finite"),
        ({"alpha": stats.randint(1, 10**19)},
         r"^search_spaces\['alpha'\]: scipy.stats.randint.*bounds must lie within"),
        ({"alpha": stats.loguniform(0, 1)}, r"^search_spaces\['alpha'\]: "),
        ({"alpha": stats.norm(0, -1)},
         r"^search_spaces\['alpha'\]: ScipyDimension\(norm.*not all finite; check the "
         r"distribution's parameters"),
        ({"alpha": stats.pareto(0.01)},
         r"^search_spaces\['alpha'\]: ScipyDimension\(pareto.*not all finite"),
        ({"alpha": _changed_after_construction()},
         r"^search_spaces\['alpha'\]: Real\(low=0.0, high=inf\): bounds must be finite"),
        ({"alpha": _BrokenDistribution()},
         r"^search_spaces\['alpha'\]: a _BrokenDistribution that cannot be read as a "
         r"search dimension \(RuntimeError: no support\)"),
        ({"alpha": object()},  # rvs-less objects are fixed values: this one is fine
         None),
        ({"alpha": {1e-3, 1e-2}}, r"^search_spaces\['alpha'\]: .* is a set"),
        ({"C": []}, r"^search_spaces\['C'\]: \[\] is an empty list of candidates"),
        ({"C": ()}, r"^search_spaces\['C'\]: \(\) is an empty list of candidates"),
        ({"C": range(0)}, r"^search_spaces\['C'\]: range\(0, 0\) is an empty list of candidates"),
        ({"C": np.ones((2, 2))}, r"^search_spaces\['C'\]: an array of shape \(2, 2\)"),
        ({"C": np.float64(1.0)}, None),
        ([{"C": [1, 2]}, {"alpha": stats.uniform(0, np.inf)}],
         r"^search_spaces\[1\]\['alpha'\]: "),
        ([{"alpha": Real(1, 2)}, {"alpha": _changed_after_construction()}],
         r"^search_spaces\[1\]\['alpha'\]: Real"),
    ],
    ids=["uniform-inf", "randint-overflow", "loguniform-0", "norm-bad-scale",
         "pareto-heavy-tail", "changed-dimension", "broken-distribution", "object",
         "set", "empty-list", "empty-tuple", "empty-range", "2d-array", "numpy-scalar",
         "union-distribution", "union-changed-dimension"],
)
def test_parsing_errors_name_the_key(search_spaces, match):
    if match is None:
        Space(search_spaces)
        return
    with pytest.raises(SearchSpaceError, match=match):
        Space(search_spaces)


def test_a_dimension_used_in_a_space_is_not_changed():
    dim = Real(1e-3, 1.0, prior="log-uniform")
    space = Space({"alpha": dim})
    assert space.subspaces[0]["alpha"] == dim
    assert (dim.low, dim.high, dim.prior) == (1e-3, 1.0, "log-uniform")


# -- RandomizedSearchCV distributions ------------------------------------------


@pytest.mark.parametrize(
    "distribution",
    [stats.norm(0, 1), stats.expon(scale=1e-3), stats.cauchy(), stats.lognorm(2.0),
     stats.t(1.5), stats.poisson(3), stats.geom(0.01), stats.uniform(-1, 2),
     stats.loguniform(1e-5, 1e-1), stats.randint(1, 10), stats.norm(1e-3, 1e-4)],
    ids=lambda d: d.dist.name,
)
def test_distributions_give_finite_values_in_their_support(distribution):
    space = Space({"x": distribution})
    rng = np.random.RandomState(0)
    extremes = np.array([[0.0], [1e-300], [0.5], [1 - 1e-17], [1.0]])
    values = [p["x"] for p in space.sample(2000, rng) + space.from_unit(extremes)]
    low, high = distribution.support()
    assert np.isfinite(values).all()
    assert all(low <= v <= high for v in values)
    encoded = space.to_unit([{"x": v} for v in values])
    assert np.isfinite(encoded).all() and (0 <= encoded).all() and (encoded <= 1).all()


def test_bounded_distributions_follow_their_law():
    """Samples of uniform/loguniform/randint have the distribution's own law."""
    rng = np.random.RandomState(0)
    for distribution in (stats.uniform(2, 3), stats.loguniform(1e-4, 1e0),
                         stats.randint(1, 5)):
        space = Space({"x": distribution})
        values = np.array([p["x"] for p in space.sample(4000, rng)])
        discrete = hasattr(distribution.dist, "pmf")
        if discrete:
            counts = np.bincount(values, minlength=5)[1:]
            assert counts.min() > 900 and set(values.tolist()) == {1, 2, 3, 4}
        else:
            assert stats.kstest(values, distribution.cdf).pvalue > 0.01
