"""Search-space parsing, unit-cube round trips and bad-input messages."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.svm import SVC

from skhpo import Categorical, Integer, Real, Space
from skhpo.space import Constant, ScipyDimension, as_dimension

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
        ((10, 10), Constant((10, 10))),
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
        (lambda: Integer(0.5, 2), "bounds must be integers; use Real"),
        (lambda: Integer(0, 5, prior="log-uniform"), "a log prior needs low >= 1"),
        (lambda: Categorical([]), r"give at least one category"),
        (lambda: Categorical("abc"), "categories must be a list"),
        (lambda: Space({"C": []}), r"search_spaces\['C'\] is an empty list"),
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
