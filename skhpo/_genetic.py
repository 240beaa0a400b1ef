"""GeneticSearchCV: an evolutionary search over mixed hyperparameter spaces.

Notation
--------
A population of ``P`` individuals lives in the unit cube of the shared
:class:`~skhpo.space.Space` encoding (``d = space.n_columns`` columns). A *gene* is
one dimension of a subspace: a numeric gene is one column (``Real``, ``Integer``,
a scipy distribution), a categorical gene is the block of one-hot columns of a
``Categorical``, and with a union of subspaces the one-hot subspace selector is one
more categorical gene. ``f`` is the fitness (mean cross-validated test score,
greater is better; NaN for a failed fit, which ranks last), ``k`` the tournament
size, ``E`` the number of elites, ``p_c`` and ``p_m`` the crossover and per-gene
mutation probabilities, ``g`` the generation (0-based) and ``G`` the number of
generations.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np

from ._base import BaseSearchCV
from ._sklearn_compat import Interval
from ._strategy import BatchStrategy, Trial
from .space import MAX_GRID_SIZE, Categorical, Space, one_hot

__all__ = ["AsyncGeneticStrategy", "GeneticSearchCV", "GeneticStrategy"]

Gene = tuple[slice, bool]  # (columns of the encoding, is categorical)

SBX_ETA = 2.0  # distribution index of simulated binary crossover: small = wide children
SCALE_START, SCALE_END = 0.25, 0.02  # mutation step (unit-cube std), first / last generation
N_RETRIES = 3  # mutations of a duplicate child before a random point replaces it
HISTORY_KEYS = ("generation", "best_score", "mean_score", "std_score", "n_new_evaluations")
_STRATEGY_PARAMS = ("population_size", "n_generations", "crossover_probability",
                    "mutation_probability", "tournament_size", "elitism", "patience")


# -- operators: pure functions of arrays and an rng ------------------------------


def gene_layout(space: Space) -> tuple[slice | None, list[list[Gene]]]:
    """The selector columns (None for one subspace) and the genes of each subspace."""
    selector = slice(0, space._n_selector) if space._n_selector else None
    genes = [
        [(sl, isinstance(dim, Categorical)) for dim, sl in zip(sub.values(), slices)
         if dim.n_columns]
        for sub, slices in zip(space.subspaces, space._slices)
    ]
    return selector, genes


def _subspace(x: np.ndarray, selector: slice | None) -> int:
    return 0 if selector is None else int(np.argmax(x[selector]))


def _resample_category(block: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """One-hot block moved to a category other than its argmax, uniformly."""
    width = len(block)
    new = (int(np.argmax(block)) + 1 + rng.randint(width - 1)) % width
    return one_hot([new], width)[0]


def tournament_select(fitness: np.ndarray, n: int, tournament_size: int,
                      rng: np.random.RandomState) -> np.ndarray:
    """Indices of the winners of ``n`` tournaments; shape ``(n,)``.

    Each tournament draws ``k`` distinct individuals uniformly and keeps the one of
    greatest ``f`` (NaN counts as ``-inf``), so ``k = P`` always returns the best.
    """
    f = np.where(np.isnan(fitness), -np.inf, fitness)
    winners = np.empty(n, dtype=int)
    for i in range(n):
        entrants = rng.choice(len(f), size=tournament_size, replace=False)
        winners[i] = entrants[np.argmax(f[entrants])]
    return winners


def sbx(a: np.ndarray, b: np.ndarray, rng: np.random.RandomState,
        eta: float = SBX_ETA) -> tuple[np.ndarray, np.ndarray]:
    """Simulated binary crossover (Deb and Agrawal, 1995) of unit-cube arrays.

    With ``u ~ U(0, 1)`` per column, ``beta = (2u)^(1/(eta+1))`` if ``u <= 1/2``
    else ``(2(1-u))^(-1/(eta+1))``, the children are
    ``((1 + beta) a + (1 - beta) b) / 2`` and ``((1 - beta) a + (1 + beta) b) / 2``,
    clipped to ``[0, 1]``: centred on the parents' mean, spread with their distance,
    so equal parents give themselves.
    """
    u = rng.uniform(size=np.shape(a))
    beta = np.where(u <= 0.5, (2 * u) ** (1 / (eta + 1)),
                    (2 * (1 - u)) ** (-1 / (eta + 1)))
    mean, half_gap = (a + b) / 2, (b - a) / 2  # exact when a == b
    return np.clip(mean - beta * half_gap, 0.0, 1.0), np.clip(mean + beta * half_gap, 0.0, 1.0)


def crossover(a: np.ndarray, b: np.ndarray, selector: slice | None,
              genes: list[list[Gene]], rng: np.random.RandomState,
              eta: float = SBX_ETA) -> tuple[np.ndarray, np.ndarray]:
    """Two children of parents ``a`` and ``b`` (encoded rows of shape ``(d,)``).

    Parents from different subspaces share no genes: the children are copies, so
    each child takes a parent's subspace wholesale. Otherwise each gene is crossed
    with probability 1/2: a categorical gene is swapped whole between the children
    (uniform crossover), a numeric gene is recombined by :func:`sbx`.
    """
    c1, c2 = a.copy(), b.copy()
    s = _subspace(a, selector)
    if s != _subspace(b, selector):
        return c1, c2
    for sl, categorical in genes[s]:
        if rng.uniform() >= 0.5:
            continue
        if categorical:
            c1[sl], c2[sl] = b[sl], a[sl]
        else:
            c1[sl], c2[sl] = sbx(a[sl], b[sl], rng, eta)
    return c1, c2


def reflect(u: np.ndarray) -> np.ndarray:
    """Fold the real line into ``[0, 1]`` (a triangle wave), so steps bounce off bounds."""
    u = np.abs(u) % 2.0
    return np.where(u > 1.0, 2.0 - u, u)


def mutate(x: np.ndarray, selector: slice | None, genes: list[list[Gene]],
           rng: np.random.RandomState, probability: float, scale: float,
           force: bool = False) -> np.ndarray:
    """A mutated copy of the encoded row ``x``; each active gene mutates w.p. ``p_m``.

    A numeric gene takes a step ``N(0, scale^2)`` reflected into ``[0, 1]``; a
    categorical gene is resampled among its other categories; a change of subspace
    draws the genes of the new subspace uniformly. ``force`` mutates one gene
    (chosen uniformly) when the draw picked none.
    """
    x = np.array(x, dtype=float)
    s = _subspace(x, selector)
    active = genes[s]
    n_genes = len(active) + (selector is not None)
    if n_genes == 0:
        return x
    mask = rng.uniform(size=n_genes) < probability
    if force and not mask.any():
        mask[rng.randint(n_genes)] = True
    if selector is not None and mask[-1]:
        x[selector] = _resample_category(x[selector], rng)
        for sl, _ in genes[_subspace(x, selector)]:
            x[sl] = rng.uniform(size=sl.stop - sl.start)
        return x
    for (sl, categorical), chosen in zip(active, mask):
        if not chosen:
            continue
        if categorical:
            if sl.stop - sl.start > 1:
                x[sl] = _resample_category(x[sl], rng)
        else:
            x[sl] = reflect(x[sl] + rng.normal(scale=scale, size=sl.stop - sl.start))
    return x


def mutation_scale(generation: int, n_generations: int, start: float = SCALE_START,
                   end: float = SCALE_END) -> float:
    """Step size for ``generation``: ``start (end / start)^(g / max(G - 1, 1))``."""
    return start * (end / start) ** (generation / max(n_generations - 1, 1))


def _key(point: np.ndarray) -> bytes:
    """Cache key of a rounded encoded point (``+ 0.0`` folds -0.0 into 0.0)."""
    return (np.round(point, 10) + 0.0).tobytes()


# -- the strategy -----------------------------------------------------------------


class GeneticStrategy(BatchStrategy):
    """Generational genetic algorithm with elitism, asked one generation at a time.

    Parameters
    ----------
    space, rng
        See :class:`~skhpo._strategy.Strategy`.
    population_size, n_generations, crossover_probability, mutation_probability,\
    tournament_size, elitism, patience
        See :class:`GeneticSearchCV`.

    Attributes
    ----------
    population_ : ndarray of shape (population_size, n_columns)
        The last complete generation, encoded (rows may repeat on tiny spaces).
    fitness_ : ndarray of shape (population_size,)
        Its scores (NaN for failed fits).
    history_ : dict of lists
        One entry per generation: ``generation``, ``best_score``, ``mean_score``,
        ``std_score`` (over the population, NaN scores left out) and
        ``n_new_evaluations`` (individuals not evaluated before).
    """

    def __init__(self, space, rng, *, population_size, n_generations,
                 crossover_probability, mutation_probability, tournament_size,
                 elitism, patience=None):
        super().__init__(space, rng)
        self.population_size = population_size
        self.n_generations = n_generations
        self.crossover_probability = crossover_probability
        self.mutation_probability = mutation_probability
        self.tournament_size = tournament_size
        self.elitism = elitism
        self.patience = patience
        self._selector, self._genes = gene_layout(space)
        self._grid: tuple[np.ndarray, list[bytes]] | None = None  # built when first needed
        self._cache: dict[bytes, float] = {}
        self._pending: tuple | None = None
        self._best, self._stale = -np.inf, 0
        self.generation_ = 0
        self.population_: np.ndarray | None = None
        self.fitness_: np.ndarray | None = None
        self.history_: dict[str, list] = {key: [] for key in HISTORY_KEYS}

    @property
    def max_trials(self) -> int:
        n_children = self.population_size - self.elitism
        budget = self.population_size + n_children * (self.n_generations - 1)
        return int(min(budget, self.space.size))

    def _finished(self) -> bool:
        stale = self.patience is not None and self._stale >= self.patience
        exhausted = len(self._cache) >= self.space.size
        return self.generation_ >= self.n_generations or stale or exhausted

    def ask_batch(self) -> list[Trial]:
        # A generation made only of known individuals costs nothing: close it here.
        while not self._finished():
            points = self._initial() if self.population_ is None else self._offspring()
            keys = [_key(p) for p in points]
            new = list(dict.fromkeys(k for k in keys if k not in self._cache))
            if new:
                self._pending = (points, keys, new)
                rows = points[[keys.index(k) for k in new]]
                info = {"generation": self.generation_}
                return [Trial(params, info=info) for params in self.space.from_unit(rows)]
            self._close_generation(points, keys, 0)
        return []

    def tell_batch(self, trials: list[Trial], scores: np.ndarray) -> None:
        points, keys, new = self._pending
        self._pending = None
        self._cache.update(zip(new, np.asarray(scores, dtype=float).tolist()))
        self._close_generation(points, keys, len(new))

    def _close_generation(self, points: np.ndarray, keys: list[bytes], n_new: int) -> None:
        fitness = np.array([self._cache[k] for k in keys])
        self.population_, self.fitness_ = points, fitness
        valid = fitness[~np.isnan(fitness)]
        stats = ([float(valid.max()), float(valid.mean()), float(valid.std())]
                 if valid.size else [np.nan] * 3)
        for key, value in zip(HISTORY_KEYS, [self.generation_, *stats, n_new]):
            self.history_[key].append(value)
        if valid.size and valid.max() > self._best:
            self._best, self._stale = valid.max(), 0
        else:
            self._stale += 1
        self.generation_ += 1

    # -- building generations -------------------------------------------------------

    def _initial(self) -> np.ndarray:
        seen: set[bytes] = set()
        points = []
        for point in self.space.sobol(self.population_size, self.rng):
            point = self._make_new(point, seen, SCALE_START)
            seen.add(_key(point))
            points.append(point)
        return np.array(points).reshape(len(points), self.space.n_columns)

    def _offspring(self) -> np.ndarray:
        """Elites, then children of tournament winners, crossed and mutated."""
        order = np.argsort(-np.nan_to_num(self.fitness_, nan=-np.inf), kind="stable")
        children = [self.population_[i] for i in order[:self.elitism]]
        seen = set(self._cache)
        scale = mutation_scale(self.generation_, self.n_generations)
        while len(children) < self.population_size:
            i, j = tournament_select(self.fitness_, 2, self.tournament_size, self.rng)
            pair = self.population_[i], self.population_[j]
            if self.rng.uniform() < self.crossover_probability:
                pair = crossover(*pair, self._selector, self._genes, self.rng)
            for child in pair[:self.population_size - len(children)]:
                child = self._round(mutate(child, self._selector, self._genes, self.rng,
                                           self.mutation_probability, scale))
                child = self._make_new(child, seen, scale)
                seen.add(_key(child))
                children.append(child)
        return np.array(children)

    def _make_new(self, child: np.ndarray, seen: set[bytes], scale: float) -> np.ndarray:
        """``child``, or a mutation of it, or a random point, that is not in ``seen``.

        Keeps the population diverse on small discrete spaces, where crossover and
        small steps often land on known points; a duplicate is accepted only when
        no unseen point is found (it is then not evaluated again).
        """
        for attempt in range(N_RETRIES):
            if _key(child) not in seen:
                return child
            child = self._round(mutate(child, self._selector, self._genes, self.rng,
                                       self.mutation_probability, scale * 2**attempt,
                                       force=True))
        if _key(child) not in seen:
            return child
        if not (self.space.is_finite and self.space.size <= MAX_GRID_SIZE):
            point = self._round(self.rng.uniform(size=self.space.n_columns))
            return point if _key(point) not in seen else child
        if self._grid is None:
            grid = self.space.grid_unit()
            self._grid = grid, [_key(p) for p in grid]
        grid, keys = self._grid
        unseen = [i for i, k in enumerate(keys) if k not in seen]
        return grid[self.rng.choice(unseen)] if unseen else child

    def _round(self, point: np.ndarray) -> np.ndarray:
        return self.space.round_unit(point[None])[0]

    def __getstate__(self) -> dict:
        # A pickled search carries this strategy (as ``optimizer_``); the grid can be
        # megabytes and is rebuilt on demand.
        return {**self.__dict__, "_grid": None}


class AsyncGeneticStrategy(GeneticStrategy):
    """Steady-state genetic algorithm: a child is bred whenever a worker frees.

    The first ``P`` trials are the initial population (the Sobol design of
    :class:`GeneticStrategy`). Every later trial is one child: two parents are
    chosen by tournaments of size ``min(k, n)`` among the ``n`` individuals told
    so far, crossed with probability ``p_c`` (the first child is kept), mutated
    with the step of its generation, and made new as in the synchronous
    algorithm (never a known or pending individual, so nothing is evaluated
    twice). Children are bred as soon as one individual is told, so workers
    never wait for the initial population to finish. A told individual joins
    the population while it has fewer than ``P`` members; after that it
    replaces the worst member if it scores better (NaN ranks last). The best
    members are thus never lost: elitism is implicit, and ``E`` only sets the
    size ``P - E`` of a generation.

    Generation ``g >= 1`` holds children ``(g - 1)(P - E)`` to ``g (P - E) - 1``
    in the order they were bred (their mutation step is that generation's), so
    the budget, ``P + (P - E)(G - 1)`` evaluations, and the generation sizes are
    those of the synchronous algorithm. ``history_`` gets one entry each time
    ``P``, then every further ``P - E``, trials have been told (and when the
    last one is): the population's statistics then, and ``patience`` counts
    these entries.

    Parameters are those of :class:`GeneticStrategy`.

    Attributes
    ----------
    population_ : ndarray of shape (n_members, n_columns)
        The current population (at most ``population_size`` told individuals).
    fitness_ : ndarray of shape (n_members,)
        Their scores.
    history_ : dict of lists
        See :class:`GeneticStrategy`; one entry per block of told trials.
    """

    def __init__(self, space, rng, **kwargs):
        super().__init__(space, rng, **kwargs)
        self.population_ = np.zeros((0, space.n_columns))
        self.fitness_ = np.zeros(0)
        self._initial_points: np.ndarray | None = None  # drawn at the first ask
        self._n_initial_asked = 0
        self._n_children = 0
        self._n_told = 0
        self._pending: dict[int, tuple[np.ndarray, bytes]] = {}  # trial id -> point, key

    def _ask(self, n: int | None) -> list[Trial]:
        if self._initial_points is None:
            self._initial_points = self._initial()
        trials: list[Trial] = []
        while len(trials) < (n or 1) and self.n_asked + len(trials) < self.max_trials:
            if self._stale_too_long():
                break
            bred = self._next_individual()
            if bred is None:
                break
            point, generation = bred
            key = _key(point)
            self._pending[self.n_asked + len(trials)] = (point, key)
            params = self.space.from_unit(point[None])[0]
            trials.append(Trial(params, info={"generation": generation}))
        return trials

    def _stale_too_long(self) -> bool:
        return self.patience is not None and self._stale >= self.patience

    def _known(self) -> set[bytes]:
        return set(self._cache) | {key for _, key in self._pending.values()}

    def _next_individual(self) -> tuple[np.ndarray, int] | None:
        """The next initial point or child and its generation; None to wait or stop."""
        known = self._known()
        while self._n_initial_asked < len(self._initial_points):
            point = self._initial_points[self._n_initial_asked]
            self._n_initial_asked += 1
            if _key(point) not in known:  # repeats only on spaces smaller than P
                return point, 0
        if not len(self.population_):
            return None  # nothing told yet: nothing to breed from
        generation = 1 + self._n_children // (self.population_size - self.elitism)
        scale = mutation_scale(min(generation, self.n_generations - 1), self.n_generations)
        size = min(self.tournament_size, len(self.population_))
        i, j = tournament_select(self.fitness_, 2, size, self.rng)
        pair = self.population_[i], self.population_[j]
        if self.rng.uniform() < self.crossover_probability:
            pair = crossover(*pair, self._selector, self._genes, self.rng)
        child = self._round(mutate(pair[0], self._selector, self._genes, self.rng,
                                   self.mutation_probability, scale))
        child = self._make_new(child, known, scale)
        if _key(child) in known:
            return None  # a finite space with no unknown point left
        self._n_children += 1
        return child, generation

    def tell(self, trial_id: int, score: float) -> None:
        point, key = self._pending.pop(trial_id)
        score = float(score)
        self._cache[key] = score
        self._n_told += 1
        if len(self.population_) < self.population_size:
            self.population_ = np.vstack([self.population_, point[None]])
            self.fitness_ = np.append(self.fitness_, score)
        else:
            worst = int(np.argmin(np.nan_to_num(self.fitness_, nan=-np.inf)))
            if score > np.nan_to_num(self.fitness_[worst], nan=-np.inf):
                self.population_[worst], self.fitness_[worst] = point, score
        self._record_history()

    def _record_history(self) -> None:
        """Close a history entry after ``P`` trials, then every ``P - E``, and the last."""
        n_new = self._n_told - sum(self.history_["n_new_evaluations"])
        block = self.population_size if not self.history_["generation"] else (
            self.population_size - self.elitism)
        exhausted = len(self._cache) >= self.space.size
        last = not self._pending and (
            self.n_asked >= self.max_trials or self._stale_too_long() or exhausted)
        if n_new >= block or (last and n_new):
            self._close_generation(self.population_, [_key(p) for p in self.population_],
                                   n_new)


# -- the estimator ----------------------------------------------------------------


class GeneticSearchCV(BaseSearchCV):
    """Genetic-algorithm search over hyperparameters with cross-validation.

    A population of candidates evolves for ``n_generations`` generations by
    tournament selection, crossover, mutation and elitism. Each generation's new
    candidates x folds are fitted as one parallel batch, and a candidate seen before
    is never fitted again. Everything else (``cv_results_``, ``best_*``, ``refit``,
    scoring, ``error_score``, ``n_jobs``, delegation) behaves as in
    :class:`~sklearn.model_selection.GridSearchCV`.

    Parameters
    ----------
    estimator : estimator object
        The estimator to tune; cloned for every fit, never modified.
    search_spaces : dict or list of dict
        ``parameter name -> domain``: an skhpo :class:`~skhpo.space.Real`,
        :class:`~skhpo.space.Integer` or :class:`~skhpo.space.Categorical`, a list
        of values (categorical, as in GridSearchCV: every non-string sequence,
        tuples and ``range`` included; one value is fixed), a frozen scipy.stats
        distribution, or a fixed value. A list of dicts is a union of subspaces;
        crossing parents from different subspaces copies them, and mutation can
        move a child to another subspace.
    population_size : int, default=20
        Individuals per generation, ``P``.
    n_generations : int, default=10
        Generations, ``G``, the initial population included. At most
        ``P + (P - elitism) (G - 1)`` candidates are evaluated.
    crossover_probability : float, default=0.8
        Probability that a pair of selected parents is crossed, ``p_c``; otherwise
        the pair is copied (and then mutated).
    mutation_probability : float, default=0.5
        Probability that each gene (hyperparameter) of a child mutates, ``p_m``.
        Numeric steps shrink over the generations, so a high rate explores early
        and refines late; 0.5 was the best compromise among 0.1 to 0.7 on three
        test functions (see Notes).
    tournament_size : int, default=3
        Individuals drawn (without replacement) per tournament, ``k``; larger is
        greedier. At most ``population_size``.
    elitism : int, default=1
        Best individuals copied unchanged into the next generation, ``E``. Less
        than ``population_size``; 0 keeps none.
    patience : int, default=None
        Stop when the best score has not improved for ``patience`` generations;
        None runs every generation.
    scoring : str, callable, list, tuple or dict, default=None
        As in GridSearchCV. With several metrics the search maximizes the
        ``refit`` metric (or the first one when ``refit`` is not a metric name).
    n_jobs : int, default=None
        Parallel jobs (joblib); every new candidate x fold of a generation is one
        task.
    refit : bool, str or callable, default=True
        As in GridSearchCV.
    cv : int, cross-validation generator or iterable, default=None
        As in GridSearchCV. The folds are split once per ``fit``.
    verbose : int, default=0
        Verbosity.
    pre_dispatch : int or str, default="2*n_jobs"
        As in GridSearchCV.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial population and every operator. With an int the results
        are the same for every ``n_jobs``.
    error_score : "raise" or float, default=np.nan
        Score of a failed fit. A failed candidate ranks last in selection.
    return_train_score : bool, default=False
        As in GridSearchCV.
    callbacks : callable or list of callables, default=None
        Called after each generation with the results so far (see
        :mod:`skhpo.callbacks`); returning True stops the search.
    max_time : float, default=None
        Seconds after which no new generation is started.
    checkpoint : str or path-like, default=None
        File where the search state (finished trials, the algorithm's state and
        random state, live models of incremental searches) is written after
        every batch, atomically. When ``fit`` starts and the file holds the
        state of the same search (same parameters, search space, cv splits,
        scoring, fit parameters and data), the search resumes from it: no
        finished trial is fitted again, and the results equal those of an
        uninterrupted run with the same ``random_state``. A file of another
        search raises ``CheckpointMismatchError`` naming what differs.
    asynchronous : bool, default=False
        If False, each generation is one batch, bred once the previous one is
        all done: results are the same for every ``n_jobs`` and backend. If
        True, the evolution is steady-state: whenever a worker frees, one child
        is bred by tournaments from the individuals evaluated so far and
        started, and each finished child replaces the worst member of the
        population if it scores better (see Notes); workers never wait for a
        generation to end, and results depend on timing. The number of
        evaluations is the same in both modes.
    devices : "auto" or list of str, default=None
        Devices for the estimator's device parameter (a skorch net's
        ``device``, or a Pipeline step's ``<step>__device``), set in each
        (trial, fold) task before it fits. A list holds one slot per entry: a
        task runs only while it holds a free slot, so ``["cuda:0", "cuda:1"]``
        runs at most one task on each GPU, a device listed twice runs two, and
        at most ``min(n_jobs, len(devices))`` tasks run at once. ``"auto"``:
        one slot per visible GPU (``torch.cuda.device_count()``); without a GPU
        or torch, one ``"cpu"`` slot per worker. Models kept between rungs or
        rounds (incremental searches) wait on the CPU, so the GPUs hold only
        the running tasks' models. A fit that runs out of GPU memory gets
        ``error_score``, its fit error naming the device, and the search goes
        on. The refit runs on the first device. None: the estimator's own
        device is used.

    Attributes
    ----------
    cv_results_ : dict of numpy (masked) ndarrays
        As in GridSearchCV, with one row per evaluated candidate (a candidate met
        again in a later generation reuses its scores and adds no row), plus
        ``generation``: the generation in which the candidate was first evaluated,
        and ``iteration``: the batch it was evaluated in (the same as
        ``generation`` unless a generation brought nothing new). With
        ``asynchronous=True`` rows are in the order candidates finished,
        ``iteration`` counts them, and ``generation`` is as described in Notes.
    best_estimator_ : estimator
        The best candidate refitted on all the data (if ``refit``).
    best_score_ : float
        Mean cross-validated score of the best candidate.
    best_params_ : dict
        Parameters of the best candidate.
    best_index_ : int
        Row of the best candidate in ``cv_results_``.
    scorer_, n_splits_, refit_time_, multimetric_, classes_, n_features_in_,\
    feature_names_in_
        As in GridSearchCV.
    history_ : dict of lists
        One entry per generation, for plots (``pandas.DataFrame(history_)``):
        ``generation``; ``best_score``, ``mean_score`` and ``std_score`` of the
        whole population (elites and known candidates included, failed fits left
        out); ``n_new_evaluations``, the candidates fitted in that generation.
    n_iterations_ : int
        Number of batches evaluated.
    optimizer_ : GeneticStrategy or AsyncGeneticStrategy
        The algorithm's state: ``population_`` (the last generation, encoded in the
        unit cube of :class:`~skhpo.space.Space`; the final population when
        ``asynchronous=True``), ``fitness_`` and ``history_``.
    devices_ : list of str or None
        The device slots (``devices``, or what ``"auto"`` found); None when
        ``devices=None``.

    See Also
    --------
    sklearn.model_selection.GridSearchCV : Exhaustive search.
    sklearn.model_selection.RandomizedSearchCV : Random search.
    skhpo.BayesSearchCV : Bayesian optimization, better for small budgets.

    Notes
    -----
    Individuals are points of the unit cube (log priors in log space, integers as
    equal slices, categoricals one-hot, one more one-hot block choosing the subspace
    of a union) and are snapped to valid values after every operator, so the
    encoding of an individual identifies it: a cache from encoded point to score
    replaces refitting.

    Generation 0 is a scrambled Sobol design of ``P`` points. Each later generation
    keeps the ``E`` best individuals and fills the remaining ``P - E`` places with
    children: two parents are chosen by tournaments of size ``k``; with
    probability ``p_c`` they are crossed (each gene with probability 1/2: simulated
    binary crossover, distribution index 2, on numeric genes and a whole-gene swap
    on categorical ones); then each gene of each child mutates with probability
    ``p_m`` (a Gaussian step of standard deviation ``0.25 (0.02/0.25)^(g/(G-1))``
    of the unit interval, reflected at the bounds, for numbers; another category
    for categoricals). A child that was already evaluated, or is already in the
    generation, is mutated again (with a doubled step each time) up to 3 times,
    then replaced by a random unevaluated point; only when a finite space has none
    left is it kept, and scored from the cache. The search ends after ``G``
    generations, after ``patience`` generations without a better score, when a
    finite space has been evaluated entirely, or when a callback or ``max_time``
    stops it. Unlike sklearn-genetic-opt's ``GASearchCV`` (DEAP's mu + lambda),
    every generation's fits run as one batch over ``n_jobs`` workers.

    With ``asynchronous=True`` the first ``P`` candidates are the Sobol design;
    then every candidate is one child, bred when a worker frees from the
    population of individuals finished so far (at most ``P``, filled in the
    order they finish): two tournament winners, crossed with probability
    ``p_c`` (one child kept), mutated with the step of its generation, and made
    new as above. A finished child replaces the worst member if it scores
    better, so the best are never lost (elitism is implicit). Child ``c``
    (0-based, in breeding order) belongs to generation ``1 + c // (P - E)``,
    so generations have the sizes of the synchronous search; ``history_`` gets
    an entry when ``P`` candidates have finished and then after every further
    ``P - E`` (and the last), and ``patience`` counts those entries.

    The default ``p_m`` was chosen on Branin, Hartmann6 (6-D) and a 4-D function
    mixing a log-scaled real, an integer and a categorical, averaging the best
    score over 100 seeds with ``P=10, G=4`` (37 evaluations) and ``P=20, G=10``
    (190 evaluations). 0.5 was the best or close to the best on every
    function at both budgets, while 0.2 lost clearly at 37 evaluations. With so
    few evaluations a genetic search is only about as good as random search on
    Hartmann6; its advantage grows with the number of generations.

    References
    ----------
    .. [1] Goldberg, "Genetic Algorithms in Search, Optimization and Machine
       Learning", Addison-Wesley, 1989.
    .. [2] Deb and Agrawal, "Simulated Binary Crossover for Continuous Search
       Space", Complex Systems 9, 1995.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.svm import SVC
    >>> from skhpo import GeneticSearchCV, Real
    >>> X, y = load_iris(return_X_y=True)
    >>> search = GeneticSearchCV(
    ...     SVC(), {"C": Real(1e-2, 1e2, prior="log-uniform")},
    ...     population_size=6, n_generations=3, random_state=0,
    ... ).fit(X, y)
    >>> search.history_["n_new_evaluations"]
    [6, 5, 5]
    >>> len(search.cv_results_["params"])
    16
    """

    _parameter_constraints: dict = {
        **BaseSearchCV._parameter_constraints,
        "population_size": [Interval(Integral, 2, None, closed="left")],
        "n_generations": [Interval(Integral, 1, None, closed="left")],
        "crossover_probability": [Interval(Real, 0, 1, closed="both")],
        "mutation_probability": [Interval(Real, 0, 1, closed="both")],
        "tournament_size": [Interval(Integral, 1, None, closed="left")],
        "elitism": [Interval(Integral, 0, None, closed="left")],
        "patience": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        estimator,
        search_spaces,
        *,
        population_size=20,
        n_generations=10,
        crossover_probability=0.8,
        mutation_probability=0.5,
        tournament_size=3,
        elitism=1,
        patience=None,
        scoring=None,
        n_jobs=None,
        refit=True,
        cv=None,
        verbose=0,
        pre_dispatch="2*n_jobs",
        random_state=None,
        error_score=np.nan,
        return_train_score=False,
        callbacks=None,
        max_time=None,
        checkpoint=None,
        asynchronous=False,
        devices=None,
    ):
        super().__init__(
            estimator,
            search_spaces,
            scoring=scoring,
            n_jobs=n_jobs,
            refit=refit,
            cv=cv,
            verbose=verbose,
            pre_dispatch=pre_dispatch,
            random_state=random_state,
            error_score=error_score,
            return_train_score=return_train_score,
            callbacks=callbacks,
            max_time=max_time,
            checkpoint=checkpoint,
            asynchronous=asynchronous,
            devices=devices,
        )
        self.population_size = population_size
        self.n_generations = n_generations
        self.crossover_probability = crossover_probability
        self.mutation_probability = mutation_probability
        self.tournament_size = tournament_size
        self.elitism = elitism
        self.patience = patience

    def _check_search_parameters(self, space):
        if self.tournament_size > self.population_size:
            raise ValueError(
                f"tournament_size={self.tournament_size} is greater than "
                f"population_size={self.population_size}; lower tournament_size or "
                "raise population_size."
            )
        if self.elitism >= self.population_size:
            raise ValueError(
                f"elitism={self.elitism} keeps the whole population_size="
                f"{self.population_size}, so no child would be made; lower elitism "
                "below population_size."
            )

    def _make_strategy(self, space, rng):
        settings = {name: getattr(self, name) for name in _STRATEGY_PARAMS}
        strategy = AsyncGeneticStrategy if self.asynchronous else GeneticStrategy
        self._adopt_strategy(strategy(space, rng, **settings))
        return self.optimizer_

    def _adopt_strategy(self, strategy) -> None:
        self.optimizer_ = strategy
        self.history_ = strategy.history_
