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

Reading ``search_spaces``
-------------------------
Each value becomes a dimension as GridSearchCV and RandomizedSearchCV read it:
every non-string sequence (list, tuple, ``range``, 1-D array) is a list of
candidates (categorical; a one-value sequence is a fixed value), a frozen
``scipy.stats`` distribution is sampled through its quantile function, and a
string or any other non-sequence object is a fixed value. Every error raised
while reading an entry names it: ``search_spaces['alpha']: ...``.
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
# Integer encodes through float64: beyond 2**53 not every integer is representable.
MAX_INTEGER_BOUND = 2**53
# Quantiles used for distributions with unbounded support: ppf(EPS), ppf(1 - EPS).
PPF_EPS = 1e-12
# Finite spaces up to this size are enumerated so that no point is proposed twice.
MAX_GRID_SIZE = 20_000



def one_hot(indices, width: int) -> np.ndarray:
    """Rows of zeros with a 1 at each index; shape ``(len(indices), width)``.

    Not ``np.eye(width)[indices]``, which builds a ``width x width`` matrix first
    (8 MB for a grid of 1,000 categories, at every call).
    """
    indices = np.asarray(indices, dtype=int).reshape(-1)
    out = np.zeros((len(indices), width))
    out[np.arange(len(indices)), indices] = 1.0
    return out

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

    def _validated(self) -> Dimension:
        """A checked equivalent of this dimension, for reading ``search_spaces``.

        Dimensions are checked when built; this checks them again when a search
        reads them, so that one changed after it was built fails with the
        ``search_spaces`` key named.
        """
        return self

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and repr(self) == repr(other)

    def __hash__(self) -> int:
        return hash(repr(self))


def _check_prior(prior: str) -> None:
    if prior not in _PRIORS:
        raise SearchSpaceError(
            f"prior must be 'uniform' or 'log-uniform'; got {prior!r}."
        )


def _check_bounds(kind: str, low: Any, high: Any, number_type: type) -> None:
    """Raise unless ``low`` and ``high`` are numbers of ``number_type`` (bools excluded)."""
    for name, value in (("low", low), ("high", high)):
        if isinstance(value, bool) or not isinstance(value, number_type):
            expected = "integers" if number_type is numbers.Integral else "real numbers"
            hint = "; use Real for a real interval" if kind == "Integer" else ""
            raise SearchSpaceError(
                f"{kind}({name}={value!r}): bounds must be {expected}, got "
                f"{type(value).__name__}{hint}."
            )


class Real(Dimension):
    """A real interval ``[low, high]``.

    Parameters
    ----------
    low, high : float
        Finite bounds, ``low < high`` (a single value is a fixed value: give the
        value itself, or a one-element list, instead of a dimension).
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
        _check_bounds("Real", low, high, numbers.Real)
        if not (math.isfinite(low) and math.isfinite(high)):
            raise SearchSpaceError(
                f"Real(low={low!r}, high={high!r}): bounds must be finite; a uniform "
                "value on an infinite interval does not exist. Give finite bounds, "
                "or a scipy.stats distribution (e.g. norm, expon) for unbounded "
                "values."
            )
        if not float(low) < float(high):
            raise SearchSpaceError(
                f"Real(low={low!r}, high={high!r}): low must be smaller than high; "
                "for a fixed value give the value itself or a one-element list."
            )
        if not math.isfinite(float(high) - float(low)):
            raise SearchSpaceError(
                f"Real(low={low!r}, high={high!r}): high - low overflows float64; "
                "narrow the interval."
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

    def _validated(self) -> Real:
        return type(self)(self.low, self.high, prior=self.prior)

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
        Bounds, ``low < high`` (a single value is a fixed value: give the value
        itself, or a one-element list), within ``[-2**53, 2**53]``, where every
        integer is exactly representable in the float64 encoding.
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
        _check_bounds("Integer", low, high, numbers.Integral)
        for name, value in (("low", low), ("high", high)):
            if not -MAX_INTEGER_BOUND <= int(value) <= MAX_INTEGER_BOUND:
                raise SearchSpaceError(
                    f"Integer({name}={value!r}): bounds must lie within "
                    f"[-2**53, 2**53] (+-{MAX_INTEGER_BOUND}), where every integer "
                    "is exactly representable as a float; use Real with "
                    "prior='log-uniform' for larger values."
                )
        if not low < high:
            raise SearchSpaceError(
                f"Integer(low={low!r}, high={high!r}): low must be smaller than "
                "high; for a fixed value give the value itself or a one-element "
                "list."
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

    def _validated(self) -> Integer:
        return type(self)(self.low, self.high, prior=self.prior)

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


def is_candidate_list(value: Any) -> bool:
    """Whether GridSearchCV reads ``value`` as a list of candidates.

    Every non-string sequence is (list, tuple, ``range``, array...); strings and
    other objects are single values. ``bytes`` count as strings.
    """
    if isinstance(value, (str, bytes)):
        return False
    return isinstance(value, (Sequence, np.ndarray))


def _candidates(values: Sequence) -> list:
    """The candidates of a sequence as a list (a 1-D array gives Python scalars)."""
    if isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise SearchSpaceError(
                f"an array of shape {values.shape} is not a list of candidates; "
                "give a 1-D array or a list of values."
            )
        return values.tolist()
    return list(values)


class Categorical(Dimension):
    """A finite set of values, encoded one-hot.

    Parameters
    ----------
    categories : sequence
        The values: a list, tuple, ``range`` or 1-D array of any objects
        (estimators too, which are cloned before they are set, never changed).
        Order does not matter to the searchers.

    Examples
    --------
    >>> from skhpo.space import Categorical
    >>> Categorical(["rbf", "linear"])
    Categorical(['rbf', 'linear'])
    """

    def __init__(self, categories: Sequence) -> None:
        if not is_candidate_list(categories):
            raise SearchSpaceError(
                f"Categorical(categories={categories!r}): categories must be a list "
                "of values."
            )
        self.categories = _candidates(categories)
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

    def _validated(self) -> Categorical:
        # the same category objects: a search reports the user's own objects
        return type(self)(self.categories)

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
        return one_hot(indices, self.n_columns)

    def round_unit(self, unit: np.ndarray) -> np.ndarray:
        return one_hot(np.argmax(unit, axis=1), self.n_columns)

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
    """Any frozen scipy.stats distribution, encoded by its CDF (decoded by its PPF).

    Unit-cube values are clipped to ``[eps, 1 - eps]`` (``eps = 1e-12``) before the
    PPF, so that a distribution with unbounded support (``norm``, ``expon``)
    always gives finite values; a distribution whose quantiles there are not
    finite (invalid parameters, or tails too heavy for float64) is rejected.
    """

    def __init__(self, distribution: Any) -> None:
        self.distribution = distribution
        self._discrete = hasattr(distribution.dist, "pmf")
        with np.errstate(all="ignore"):
            quantiles = np.asarray(distribution.ppf([PPF_EPS, 0.5, 1 - PPF_EPS]),
                                   dtype=float)
        if not np.isfinite(quantiles).all():
            raise SearchSpaceError(
                f"{self!r}: its quantiles at {PPF_EPS}, 0.5 and 1 - {PPF_EPS} are "
                f"{quantiles.tolist()}, not all finite; check the distribution's "
                "parameters, or use a distribution with lighter tails."
            )
        self._low_value, self._high_value = quantiles[0], quantiles[-1]

    def _validated(self) -> ScipyDimension:
        return type(self)(self.distribution)

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
        u = np.clip(np.asarray(unit, dtype=float)[:, 0], PPF_EPS, 1 - PPF_EPS)
        values = np.clip(self.distribution.ppf(u), self._low_value, self._high_value)
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


def _from_scipy(dist: Any) -> Dimension:
    """``Real``/``Integer`` for bounded uniform, log-uniform and randint; else PPF."""
    dist_name = getattr(dist.dist, "name", "")
    with np.errstate(all="ignore"):
        low, high = (float(bound) for bound in dist.support())
    unshifted = dist.kwds.get("loc", 0) == 0 and dist.kwds.get("scale", 1) == 1
    try:
        if dist_name == "uniform":
            return Real(low, high)
        if dist_name in ("loguniform", "reciprocal") and unshifted and len(dist.args) <= 2:
            return Real(low, high, prior="log-uniform")
        if dist_name == "randint" and unshifted and len(dist.args) <= 2 and high > low:
            if not (math.isfinite(low) and math.isfinite(high)):
                raise SearchSpaceError(f"its support [{low}, {high}] is not finite.")
            return Integer(int(low), int(high))
    except SearchSpaceError as exc:
        raise SearchSpaceError(
            f"scipy.stats.{dist_name}(args={dist.args!r}, kwds={dist.kwds!r}) has "
            f"support [{low}, {high}]: {exc}"
        ) from exc
    if not hasattr(dist, "ppf") or not hasattr(dist, "cdf"):
        raise SearchSpaceError(
            f"{dist!r} has .rvs but no .ppf/.cdf; use a frozen scipy.stats "
            "distribution or an skhpo Real/Integer/Categorical."
        )
    return ScipyDimension(dist)


def _as_dimension(value: Any) -> Dimension:
    if isinstance(value, Dimension):
        return value._validated()
    if hasattr(value, "rvs"):
        if not hasattr(value, "dist"):
            raise SearchSpaceError(
                f"{value!r} has .rvs but is not a frozen scipy.stats distribution; "
                "use one, or an skhpo Real/Integer/Categorical."
            )
        return _from_scipy(value)
    if isinstance(value, (set, frozenset)):
        raise SearchSpaceError(
            f"{value!r} is a set, which is neither a list of candidates (its order "
            "is arbitrary; GridSearchCV rejects it too) nor a fixed value; give a "
            "list."
        )
    if not is_candidate_list(value):
        return Constant(value)
    candidates = _candidates(value)
    if not candidates:
        raise SearchSpaceError(
            f"{value!r} is an empty list of candidates; give at least one value."
        )
    # a one-value list is a fixed value: no column for the models to learn
    return Categorical(candidates) if len(candidates) > 1 else Constant(candidates[0])


def as_dimension(name: str, value: Any, *, where: str | None = None) -> Dimension:
    """Turn one ``search_spaces`` entry into a :class:`Dimension`.

    As in GridSearchCV, every non-string sequence (list, tuple, ``range``, 1-D
    array) is a list of candidates: categorical, or a fixed value when it has one
    element. Frozen scipy distributions become ``Real``/``Integer`` where they
    are bounded uniform, log-uniform or randint, and are sampled through their
    PPF otherwise. Strings and other objects are fixed values; sets are
    rejected. A :class:`Dimension` is checked again.

    Parameters
    ----------
    name : str
        The parameter name (the ``search_spaces`` key).
    value : object
        Its entry in ``search_spaces``.
    where : str, default=None
        How error messages name the entry; default ``search_spaces['name']``.

    Raises
    ------
    SearchSpaceError
        For any entry that cannot be read, with a message that starts with
        ``where``.
    """
    where = f"search_spaces[{name!r}]" if where is None else where
    try:
        return _as_dimension(value)
    except SearchSpaceError as exc:
        raise SearchSpaceError(f"{where}: {exc}") from exc
    except Exception as exc:  # a broken distribution or dimension: name the key
        raise SearchSpaceError(
            f"{where}: a {type(value).__name__} that cannot be read as a search "
            f"dimension ({type(exc).__name__}: {exc})."
        ) from exc


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
        self._single = isinstance(search_spaces, Mapping)
        if self._single:
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
            self.subspaces.append({
                k: as_dimension(k, v, where=self.location(i, k)) for k, v in sub.items()
            })
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

    def location(self, subspace: int, name: str) -> str:
        """How messages name an entry: ``search_spaces['C']``, or
        ``search_spaces[1]['C']`` in a list of dicts."""
        index = "" if self._single else f"[{subspace}]"
        return f"search_spaces{index}[{name!r}]"

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

    def sample(self, n: int, rng: np.random.RandomState, *, distinct: bool = False,
               exclude: Sequence[Mapping] = ()) -> list[dict]:
        """``n`` independent uniform samples (a subspace is picked uniformly first).

        With ``distinct=True`` a finite space of at most ``MAX_GRID_SIZE`` points
        is sampled without replacement (as RandomizedSearchCV samples a grid of
        lists), leaving out the points in ``exclude``: fewer than ``n`` points
        come back when the space has fewer.
        """
        if distinct and self.is_finite and self.size <= MAX_GRID_SIZE:
            grid = self.grid_unit()
            if len(exclude):
                known = self.to_unit(exclude)
                close = np.abs(grid[:, None, :] - known[None, :, :]) < 1e-9
                grid = grid[~close.all(axis=2).any(axis=1)]
            rows = rng.choice(len(grid), size=min(n, len(grid)), replace=False)
            return self.from_unit(grid[np.sort(rows)])
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

    def _rows(self, unit: np.ndarray) -> np.ndarray:
        """``unit`` as a 2-D array of rows; a space of fixed values has 0 columns."""
        unit = np.asarray(unit, dtype=float)
        n_rows = len(unit) if unit.ndim == 2 else -1
        return unit.reshape(n_rows, self.n_columns)

    def round_unit(self, unit: np.ndarray) -> np.ndarray:
        """Snap rows of the unit cube to the encodings of valid points."""
        unit = self._rows(unit)
        out = np.full_like(unit, 0.5)
        which = self.subspace_of(unit)
        if self._n_selector:
            out[:, : self._n_selector] = one_hot(which, self._n_selector)
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
        unit = self._rows(unit)
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
                out[row, : self._n_selector] = one_hot([s], self._n_selector)[0]
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
                    row[: self._n_selector] = one_hot([s], self._n_selector)[0]
                for e, i, sl in zip(encoded, combo, slices):
                    row[sl] = e[i]
                rows.append(row)
            blocks.append(np.array(rows).reshape(len(rows), self.n_columns))
        return np.vstack(blocks)
