"""Search dimensions and the search space shared by every searcher.

Notation
--------
A *dimension* is one hyperparameter's domain. Every dimension maps its values to
``n_columns`` columns of the unit cube ``[0, 1]`` and back:

* ``Real``: one column, ``u = (x - low) / (high - low)`` (or the same on ``log x``);
* ``Integer``: one column; each integer owns an equal slice of ``[0, 1]`` (equal in
  log space for the log prior) and is encoded by the slice centre;
* ``Categorical``: one one-hot column per category; decoding takes the argmax;
* ``Constant``: no column.

A :class:`Space` is a union of subspaces (a GridSearchCV ``param_grid`` given as a
list of dicts). Its unit-cube encoding is ``[selector | block_0 | block_1 | ...]``
where ``selector`` one-hot encodes the subspace (present only when there are
several) and the columns of inactive subspaces are set to 0.5.
"""

from __future__ import annotations

import itertools
import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.stats import qmc

from .exceptions import SearchSpaceError

__all__ = ["Categorical", "Dimension", "Integer", "Real", "Space"]

_PRIORS = ("uniform", "log-uniform")
# Finite spaces up to this size are enumerated so that no point is proposed twice.
MAX_GRID_SIZE = 20_000


class Dimension(ABC):
    """A hyperparameter's domain with an encoding into the unit cube."""

    n_columns: int = 1

    @property
    @abstractmethod
    def size(self) -> float:
        """Number of distinct values (``math.inf`` for continuous dimensions)."""

    @abstractmethod
    def from_unit(self, unit: np.ndarray) -> list:
        """Decode an array of shape (n, n_columns) into ``n`` values."""

    @abstractmethod
    def to_unit(self, values: Sequence) -> np.ndarray:
        """Encode ``n`` values into an array of shape (n, n_columns)."""

    def round_unit(self, unit: np.ndarray) -> np.ndarray:
        """Snap unit-cube points to the encodings of valid values."""
        return self.to_unit(self.from_unit(unit))

    def sample(self, n: int, rng: np.random.RandomState) -> list:
        """Draw ``n`` values uniformly in the unit cube (so priors are respected)."""
        return self.from_unit(rng.uniform(size=(n, self.n_columns)))

    def grid(self) -> list:
        """All values of a finite dimension."""
        raise TypeError(f"{self!r} is continuous and has no grid.")

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and repr(self) == repr(other)

    def __hash__(self) -> int:
        return hash(repr(self))


def _check_prior(prior: str) -> None:
    if prior not in _PRIORS:
        raise SearchSpaceError(
            f"prior must be 'uniform' or 'log-uniform'; got {prior!r}."
        )


class Real(Dimension):
    """A real interval ``[low, high]``.

    Parameters
    ----------
    low, high : float
        Bounds, ``low < high``.
    prior : {"uniform", "log-uniform"}, default="uniform"
        ``"log-uniform"`` samples and models ``log(x)``; it needs ``low > 0``.

    Examples
    --------
    >>> from skhpo.space import Real
    >>> Real(1e-3, 1e3, prior="log-uniform")
    Real(0.001, 1000.0, prior='log-uniform')
    """

    def __init__(self, low: float, high: float, prior: str = "uniform") -> None:
        _check_prior(prior)
        if not low < high:
            raise SearchSpaceError(
                f"Real(low={low!r}, high={high!r}): low must be smaller than high."
            )
        if prior == "log-uniform" and low <= 0:
            raise SearchSpaceError(
                f"Real(low={low!r}, high={high!r}, prior='log-uniform'): a log prior "
                "needs low > 0; use prior='uniform' or a positive low."
            )
        self.low, self.high, self.prior = float(low), float(high), prior
        self._log = prior == "log-uniform"
        self._lo = math.log(self.low) if self._log else self.low
        self._hi = math.log(self.high) if self._log else self.high

    size = math.inf

    def __repr__(self) -> str:
        return f"Real({self.low!r}, {self.high!r}, prior={self.prior!r})"

    def from_unit(self, unit: np.ndarray) -> list:
        return self._decode(np.asarray(unit, dtype=float)[:, 0]).tolist()

    def _decode(self, u: np.ndarray) -> np.ndarray:
        x = self._lo + np.clip(u, 0.0, 1.0) * (self._hi - self._lo)
        x = np.exp(x) if self._log else x
        return np.clip(x, self.low, self.high)

    def to_unit(self, values: Sequence) -> np.ndarray:
        x = np.asarray(values, dtype=float)
        x = np.log(x) if self._log else x
        return ((x - self._lo) / (self._hi - self._lo)).reshape(-1, 1)

    def round_unit(self, unit: np.ndarray) -> np.ndarray:
        return np.clip(unit, 0.0, 1.0)

    def __contains__(self, value: Any) -> bool:
        return isinstance(value, numbers.Real) and self.low <= value <= self.high


class Integer(Dimension):
    """Integers ``low, low + 1, ..., high`` (both included).

    Parameters
    ----------
    low, high : int
        Bounds, ``low < high``.
    prior : {"uniform", "log-uniform"}, default="uniform"
        ``"log-uniform"`` gives each integer a slice proportional to its width in
        log space; it needs ``low >= 1``.

    Examples
    --------
    >>> from skhpo.space import Integer
    >>> Integer(1, 64, prior="log-uniform")
    Integer(1, 64, prior='log-uniform')
    """

    def __init__(self, low: int, high: int, prior: str = "uniform") -> None:
        _check_prior(prior)
        for name, value in (("low", low), ("high", high)):
            if not isinstance(value, numbers.Integral):
                raise SearchSpaceError(
                    f"Integer({name}={value!r}): bounds must be integers; use Real "
                    "for a real interval."
                )
        if not low < high:
            raise SearchSpaceError(
                f"Integer(low={low!r}, high={high!r}): low must be smaller than high."
            )
        if prior == "log-uniform" and low < 1:
            raise SearchSpaceError(
                f"Integer(low={low!r}, high={high!r}, prior='log-uniform'): a log "
                "prior needs low >= 1; use prior='uniform' or raise low."
            )
        self.low, self.high, self.prior = int(low), int(high), prior
        self._log = prior == "log-uniform"
        # Slice edges: integer k owns [k - 0.5, k + 0.5] (in log space for log prior).
        self._lo = self._warp(self.low - 0.5)
        self._hi = self._warp(self.high + 0.5)

    def _warp(self, x):
        return np.log(x) if self._log else x

    @property
    def size(self) -> float:
        return self.high - self.low + 1

    def __repr__(self) -> str:
        return f"Integer({self.low!r}, {self.high!r}, prior={self.prior!r})"

    def _decode(self, u: np.ndarray) -> np.ndarray:
        x = self._lo + np.clip(u, 0.0, 1.0) * (self._hi - self._lo)
        x = np.exp(x) if self._log else x
        return np.clip(np.round(x), self.low, self.high).astype(np.int64)

    def from_unit(self, unit: np.ndarray) -> list:
        return [int(v) for v in self._decode(np.asarray(unit, dtype=float)[:, 0])]

    def to_unit(self, values: Sequence) -> np.ndarray:
        x = np.asarray(values, dtype=float)
        centre = (self._warp(x - 0.5) + self._warp(x + 0.5)) / 2
        return ((centre - self._lo) / (self._hi - self._lo)).reshape(-1, 1)

    def grid(self) -> list:
        return list(range(self.low, self.high + 1))

    def __contains__(self, value: Any) -> bool:
        return isinstance(value, numbers.Integral) and self.low <= value <= self.high


class Categorical(Dimension):
    """A finite set of values, encoded one-hot.

    Parameters
    ----------
    categories : sequence
        The values; any objects (estimators too). Order does not matter to the
        searchers.

    Examples
    --------
    >>> from skhpo.space import Categorical
    >>> Categorical(["rbf", "linear"])
    Categorical(['rbf', 'linear'])
    """

    def __init__(self, categories: Sequence) -> None:
        if isinstance(categories, (str, bytes)) or not isinstance(
            categories, (Sequence, np.ndarray)
        ):
            raise SearchSpaceError(
                f"Categorical(categories={categories!r}): categories must be a list "
                "of values."
            )
        self.categories = list(categories)
        if not self.categories:
            raise SearchSpaceError(
                "Categorical(categories=[]): give at least one category."
            )
        self.n_columns = len(self.categories)

    @property
    def size(self) -> float:
        return len(self.categories)

    def __repr__(self) -> str:
        return f"Categorical({self.categories!r})"

    def index(self, value: Any) -> int:
        for i, category in enumerate(self.categories):
            if category is value:
                return i
        for i, category in enumerate(self.categories):
            try:
                if bool(category == value):
                    return i
            except (TypeError, ValueError):
                continue
        raise ValueError(f"{value!r} is not one of {self.categories!r}")

    def from_unit(self, unit: np.ndarray) -> list:
        return [self.categories[i] for i in np.argmax(unit, axis=1)]

    def to_unit(self, values: Sequence) -> np.ndarray:
        indices = [self.index(v) for v in values]
        return np.eye(self.n_columns)[indices].reshape(-1, self.n_columns)

    def round_unit(self, unit: np.ndarray) -> np.ndarray:
        return np.eye(self.n_columns)[np.argmax(unit, axis=1)]

    def sample(self, n: int, rng: np.random.RandomState) -> list:
        return [self.categories[i] for i in rng.randint(len(self.categories), size=n)]

    def grid(self) -> list:
        return list(self.categories)

    def __contains__(self, value: Any) -> bool:
        try:
            self.index(value)
        except ValueError:
            return False
        return True


class Constant(Dimension):
    """A fixed value (a scalar in ``search_spaces``); it has no column."""

    n_columns = 0
    size = 1

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"Constant({self.value!r})"

    def from_unit(self, unit: np.ndarray) -> list:
        return [self.value] * len(unit)

    def to_unit(self, values: Sequence) -> np.ndarray:
        return np.zeros((len(values), 0))

    def sample(self, n: int, rng: np.random.RandomState) -> list:
        return [self.value] * n

    def grid(self) -> list:
        return [self.value]

    def __contains__(self, value: Any) -> bool:
        return value is self.value or value == self.value


class ScipyDimension(Dimension):
    """Any frozen scipy.stats distribution, encoded by its CDF (decoded by its PPF)."""

    def __init__(self, distribution: Any) -> None:
        self.distribution = distribution
        self._discrete = hasattr(distribution.dist, "pmf")

    @property
    def size(self) -> float:
        low, high = self.distribution.support()
        if self._discrete and np.isfinite(low) and np.isfinite(high):
            return int(high - low + 1)
        return math.inf

    def __repr__(self) -> str:
        d = self.distribution
        return f"ScipyDimension({d.dist.name}, args={d.args!r}, kwds={d.kwds!r})"

    def from_unit(self, unit: np.ndarray) -> list:
        u = np.clip(np.asarray(unit, dtype=float)[:, 0], 1e-12, 1 - 1e-12)
        values = self.distribution.ppf(u)
        if self._discrete:
            return [int(v) for v in values]
        return values.tolist()

    def to_unit(self, values: Sequence) -> np.ndarray:
        x = np.asarray(values, dtype=float)
        if self._discrete:  # centre of the value's probability mass
            u = (self.distribution.cdf(x - 1) + self.distribution.cdf(x)) / 2
        else:
            u = self.distribution.cdf(x)
        return u.reshape(-1, 1)

    def grid(self) -> list:
        if not math.isfinite(self.size):
            raise TypeError(f"{self!r} is continuous and has no grid.")
        low, _ = self.distribution.support()
        return [int(low) + i for i in range(int(self.size))]

    def __contains__(self, value: Any) -> bool:
        low, high = self.distribution.support()
        return isinstance(value, numbers.Real) and low <= value <= high


def _from_scipy(name: str, dist: Any) -> Dimension:
    dist_name = getattr(dist.dist, "name", "")
    low, high = dist.support()
    if dist_name == "uniform":
        return Real(low, high)
    unshifted = dist.kwds.get("loc", 0) == 0 and dist.kwds.get("scale", 1) == 1
    if dist_name in ("loguniform", "reciprocal") and unshifted and len(dist.args) <= 2:
        return Real(low, high, prior="log-uniform")
    if dist_name == "randint" and unshifted and len(dist.args) <= 2 and high > low:
        return Integer(int(low), int(high))
    if not hasattr(dist, "ppf") or not hasattr(dist, "cdf"):
        raise SearchSpaceError(
            f"search_spaces[{name!r}] = {dist!r} has .rvs but no .ppf/.cdf; use a "
            "frozen scipy.stats distribution or an skhpo Real/Integer/Categorical."
        )
    return ScipyDimension(dist)


def as_dimension(name: str, value: Any) -> Dimension:
    """Turn one ``search_spaces`` entry into a :class:`Dimension`.

    Lists and 1-D arrays are categorical, frozen scipy distributions become
    ``Real``/``Integer`` where they are bounded uniform, log-uniform or randint, and
    anything else (including tuples and strings) is a fixed value.
    """
    if isinstance(value, Dimension):
        return value
    if hasattr(value, "rvs"):
        if not hasattr(value, "dist"):
            raise SearchSpaceError(
                f"search_spaces[{name!r}] = {value!r} has .rvs but is not a frozen "
                "scipy.stats distribution; use one, or an skhpo Real/Integer/"
                "Categorical."
            )
        return _from_scipy(name, value)
    if isinstance(value, np.ndarray):
        if value.ndim != 1:
            raise SearchSpaceError(
                f"search_spaces[{name!r}] is an array of shape {value.shape}; give a "
                "1-D array or a list of values."
            )
        value = value.tolist()
    if isinstance(value, list):
        if not value:
            raise SearchSpaceError(
                f"search_spaces[{name!r}] is an empty list; give at least one value."
            )
        # a one-value list is a fixed value: no column for the models to learn
        return Categorical(value) if len(value) > 1 else Constant(value[0])
    return Constant(value)


class Space:
    """A union of subspaces, each a mapping of parameter name to :class:`Dimension`.

    Parameters
    ----------
    search_spaces : dict or list of dict
        The ``search_spaces`` argument of every skhpo searcher: a GridSearchCV
        ``param_grid``, a RandomizedSearchCV ``param_distributions``, skhpo
        dimensions, fixed scalars, or a mix. A list of dicts is a union.

    Attributes
    ----------
    subspaces : list of dict
        ``name -> Dimension`` for each subspace.
    n_columns : int
        Width of the unit-cube encoding.
    """

    def __init__(self, search_spaces: Mapping | Sequence[Mapping]) -> None:
        if isinstance(search_spaces, Mapping):
            search_spaces = [search_spaces]
        if not isinstance(search_spaces, Sequence) or isinstance(search_spaces, str):
            raise SearchSpaceError(
                f"search_spaces must be a dict or a list of dicts; got "
                f"{type(search_spaces).__name__}."
            )
        if len(search_spaces) == 0:
            raise SearchSpaceError(
                "search_spaces is an empty list; give at least one dict."
            )
        self.subspaces: list[dict[str, Dimension]] = []
        for i, sub in enumerate(search_spaces):
            if not isinstance(sub, Mapping):
                raise SearchSpaceError(
                    f"search_spaces[{i}] is a {type(sub).__name__}; each element of "
                    "a list of search spaces must be a dict."
                )
            for key in sub:
                if not isinstance(key, str):
                    raise SearchSpaceError(
                        f"search_spaces has a non-string parameter name {key!r}."
                    )
            self.subspaces.append({k: as_dimension(k, v) for k, v in sub.items()})
        n_sub = len(self.subspaces)
        self._n_selector = n_sub if n_sub > 1 else 0
        self._slices: list[list[slice]] = []
        start = self._n_selector
        for sub in self.subspaces:
            slices = []
            for dim in sub.values():
                slices.append(slice(start, start + dim.n_columns))
                start += dim.n_columns
            self._slices.append(slices)
        self.n_columns = start

    def __repr__(self) -> str:
        return f"Space({self.subspaces!r})"

    @property
    def names(self) -> list[str]:
        """All parameter names, in order of first appearance."""
        return list(dict.fromkeys(k for sub in self.subspaces for k in sub))

    @property
    def size(self) -> float:
        """Number of distinct points; ``math.inf`` if any dimension is continuous."""
        return sum(
            math.prod(dim.size for dim in sub.values()) for sub in self.subspaces
        )

    @property
    def is_finite(self) -> bool:
        return math.isfinite(self.size)

    def sample(self, n: int, rng: np.random.RandomState) -> list[dict]:
        """``n`` independent uniform samples (a subspace is picked uniformly first)."""
        return self.from_unit(self.round_unit(rng.uniform(size=(n, self.n_columns))))

    def sobol(self, n: int, rng: np.random.RandomState) -> np.ndarray:
        """``n`` scrambled Sobol points, snapped to valid encodings."""
        if self.n_columns == 0:
            return np.zeros((n, 0))
        engine = qmc.Sobol(self.n_columns, scramble=True, seed=rng.randint(2**31))
        points = engine.random_base2(max(0, math.ceil(math.log2(max(n, 1)))))[:n]
        return self.round_unit(points)

    def subspace_of(self, unit: np.ndarray) -> np.ndarray:
        """Index of the subspace each encoded row belongs to."""
        if not self._n_selector:
            return np.zeros(len(unit), dtype=int)
        return np.argmax(unit[:, : self._n_selector], axis=1)

    def round_unit(self, unit: np.ndarray) -> np.ndarray:
        """Snap rows of the unit cube to the encodings of valid points."""
        unit = np.asarray(unit, dtype=float)
        out = np.full_like(unit, 0.5)
        which = self.subspace_of(unit)
        if self._n_selector:
            out[:, : self._n_selector] = np.eye(self._n_selector)[which]
        for s, (sub, slices) in enumerate(zip(self.subspaces, self._slices)):
            rows = which == s
            if not rows.any():
                continue
            for dim, sl in zip(sub.values(), slices):
                if dim.n_columns:
                    out[rows, sl] = dim.round_unit(unit[rows, sl])
        return out

    def from_unit(self, unit: np.ndarray) -> list[dict]:
        """Decode rows of the unit cube into parameter dicts."""
        unit = np.asarray(unit, dtype=float).reshape(-1, self.n_columns)
        which = self.subspace_of(unit)
        params: list[dict] = [{} for _ in range(len(unit))]
        for s, (sub, slices) in enumerate(zip(self.subspaces, self._slices)):
            rows = np.flatnonzero(which == s)
            if not len(rows):
                continue
            for (name, dim), sl in zip(sub.items(), slices):
                for row, value in zip(rows, dim.from_unit(unit[rows, sl])):
                    params[row][name] = value
        return params

    def find_subspace(self, params: Mapping) -> int:
        """Index of the first subspace that contains ``params``."""
        for s, sub in enumerate(self.subspaces):
            if set(sub) == set(params) and all(params[k] in d for k, d in sub.items()):
                return s
        raise ValueError(f"{params!r} is not a point of {self!r}")

    def to_unit(self, params_list: Sequence[Mapping]) -> np.ndarray:
        """Encode parameter dicts into rows of the unit cube."""
        out = np.full((len(params_list), self.n_columns), 0.5)
        for row, params in enumerate(params_list):
            s = self.find_subspace(params)
            if self._n_selector:
                out[row, : self._n_selector] = np.eye(self._n_selector)[s]
            for (name, dim), sl in zip(self.subspaces[s].items(), self._slices[s]):
                out[row, sl] = dim.to_unit([params[name]])[0]
        return out

    def grid_unit(self) -> np.ndarray:
        """Every point of a finite space, encoded; shape (size, n_columns)."""
        if not self.is_finite or self.size > MAX_GRID_SIZE:
            raise ValueError(
                f"the space has {self.size} points; only finite spaces of at most "
                f"{MAX_GRID_SIZE} points are enumerated."
            )
        blocks = []
        for s, (sub, slices) in enumerate(zip(self.subspaces, self._slices)):
            encoded = [dim.to_unit(dim.grid()) for dim in sub.values()]
            rows = []
            for combo in itertools.product(*(range(len(e)) for e in encoded)):
                row = np.full(self.n_columns, 0.5)
                if self._n_selector:
                    row[: self._n_selector] = np.eye(self._n_selector)[s]
                for e, i, sl in zip(encoded, combo, slices):
                    row[sl] = e[i]
                rows.append(row)
            blocks.append(np.array(rows).reshape(-1, self.n_columns))
        return np.vstack(blocks)
