"""BayesSearchCV: a drop-in for GridSearchCV driven by a Gaussian process."""

from __future__ import annotations

from numbers import Integral

import numpy as np

from .._base import BaseSearchCV
from .._sklearn_compat import Interval, StrOptions
from ._strategy import AsyncBayesStrategy, BayesStrategy

__all__ = ["BayesSearchCV"]


class BayesSearchCV(BaseSearchCV):
    """Bayesian optimization over hyperparameters with cross-validation.

    A Gaussian-process surrogate of the mean cross-validated score is fitted
    after every batch, and the next batch is the argmax of an acquisition
    function. Everything else (``cv_results_``, ``best_*``, ``refit``, scoring,
    ``error_score``, ``n_jobs``, delegation) behaves as in
    :class:`~sklearn.model_selection.GridSearchCV`.

    Parameters
    ----------
    estimator : estimator object
        The estimator to tune; cloned for every fit.
    search_spaces : dict or list of dict
        ``parameter name -> domain``: an skhpo :class:`~skhpo.space.Real`,
        :class:`~skhpo.space.Integer` or :class:`~skhpo.space.Categorical`, a list
        of values (categorical, as in GridSearchCV: every non-string sequence,
        tuples and ``range`` included; one value is a fixed value; estimators are
        cloned before they are set), a frozen scipy.stats distribution (bounded
        ``uniform``, ``loguniform`` and ``randint`` become Real/Integer, others are
        sampled through their quantile function), or a fixed value. A list of
        dicts is a union of subspaces, modelled by one GP with a one-hot subspace
        indicator. Bad entries raise before any fit, naming their key.
    n_iter : int, default=50
        Number of candidates evaluated. On a finite space of at most ``n_iter``
        points, every point is evaluated exactly once and nothing else.
    scoring : str, callable, list, tuple or dict, default=None
        As in GridSearchCV. With several metrics the search maximizes the
        ``refit`` metric (or the first one when ``refit`` is not a metric name).
    n_jobs : int, default=None
        Parallel jobs (joblib); every candidate x fold of a batch is one task.
    refit : bool, str or callable, default=True
        As in GridSearchCV.
    cv : int, cross-validation generator or iterable, default=None
        As in GridSearchCV. The folds are split once per ``fit``.
    verbose : int, default=0
        Verbosity.
    pre_dispatch : int or str, default="2*n_jobs"
        As in GridSearchCV.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial design, the GP optimizer and the acquisition search.
        Results for an int seed depend on ``n_points``, never on ``n_jobs``.
    error_score : "raise" or float, default=np.nan
        Score of a failed fit. Failed candidates are modelled as the worst score
        seen, so they repel the search without distorting the surrogate.
    return_train_score : bool, default=False
        As in GridSearchCV.
    n_initial_points : int, default=10
        Candidates from a scrambled Sobol design before the GP takes over.
    acquisition : {"ei", "pi", "lcb"}, default="ei"
        Log expected improvement, log probability of improvement, or the
        confidence bound ``mean + 1.96 std`` (LCB of the minimization view).
    n_points : int, default=4
        Candidates proposed per batch (kriging believer). A fixed number, so that
        results for an int seed are the same for every ``n_jobs`` and machine: a
        batch is ``n_points x n_splits`` fits, which keeps up to 20 workers busy
        with 5 folds. Use 1 for strictly sequential optimization (each proposal
        sees every earlier score), more for many workers. Not used when
        ``asynchronous=True``.
    callbacks : callable or list of callables, default=None
        Called after each batch with the results so far (see
        :mod:`skhpo.callbacks`); returning True stops the search.
    max_time : float, default=None
        Seconds after which no new batch is started.
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
        If False, candidates are proposed in batches of ``n_points`` and each
        batch is learned from once it is all done: results are the same for
        every ``n_jobs`` and backend. If True, a candidate is proposed whenever
        a worker frees (``n_points`` is not used), from a GP fitted on every
        score known at that moment, with the candidates still being evaluated
        put in the GP at its posterior mean (kriging believer), so that workers
        never wait for a batch to end; results then depend on timing. The Sobol
        initial design comes first, no candidate of a finite space is
        evaluated twice, and ``n_iter`` candidates are evaluated in all.
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
    cost_aware : bool, default=False
        If True, a second GP models the log of each candidate's mean fit time
        (``mean_fit_time`` of ``cv_results_``) and the acquisition is divided by
        the predicted fit time raised to a cooling exponent that falls from 1
        after the initial design to 0 at the end of ``n_iter`` (EI-cool, Lee et
        al. [4]_): early proposals prefer cheap candidates of good expected
        improvement, late ones are plain EI. Saves time when good candidates
        exist among the cheap ones; wall-clock results then depend on the
        machine's timings, so with an int seed ``cv_results_`` is reproducible
        only up to the measured fit times. Needs ``acquisition`` "ei" or "pi".

    Attributes
    ----------
    cv_results_ : dict of numpy (masked) ndarrays
        As in GridSearchCV, plus ``iteration``: the batch a candidate came from
        (with ``asynchronous=True``, the number of candidates finished before
        it; rows are then in the order candidates finished), ``trial_id`` (the
        order candidates were proposed) and ``parent_id`` (always -1).
    best_estimator_, best_score_, best_params_, best_index_, scorer_, n_splits_,\
    refit_time_, multimetric_, classes_, n_features_in_, feature_names_in_
        As in GridSearchCV.
    n_iterations_ : int
        Number of batches evaluated (candidates, when ``asynchronous=True``).
    optimizer_ : BayesStrategy or AsyncBayesStrategy
        The fitted optimizer: ``X_`` (encoded points), ``y_`` (scores),
        ``surrogate_`` (last GP) and ``space``, for plots and diagnostics
        (an ``AsyncBayesStrategy`` when ``asynchronous=True``).
    devices_ : list of str or None
        The device slots (``devices``, or what ``"auto"`` found); None when
        ``devices=None``.

    See Also
    --------
    sklearn.model_selection.GridSearchCV : Exhaustive search.
    skhpo.HyperbandSearchCV : Multi-fidelity search on a budget.

    Notes
    -----
    Points are encoded in the unit cube (log priors in log space, integers as
    equal slices, categoricals one-hot) and rounded before they reach the kernel,
    so the GP never sees a value that cannot be evaluated. The GP uses a Matern
    5/2 kernel with one length scale per column and a learned noise term, fitted
    by maximum marginal likelihood on standardized scores. The acquisition is
    maximized over 1,024 Sobol candidates plus perturbations of the best points,
    then polished with L-BFGS-B on the continuous columns. A batch of
    ``n_points`` is built with the kriging believer.

    With ``asynchronous=True`` each proposal is made for one free worker: the
    candidates still being evaluated are put in the GP at its posterior mean,
    and the best score EI and PI improve on includes these believed values
    (Ginsbourger et al. [3]_). The GP is refitted only when a score came in
    since the last proposal, its likelihood search starting from the last
    kernel (random restarts every eighth fit), so that proposing costs the
    workers little waiting.

    References
    ----------
    .. [1] Snoek, Larochelle, Adams, "Practical Bayesian Optimization of Machine
       Learning Algorithms", NeurIPS 2012.
    .. [2] Ament et al., "Unexpected Improvements to Expected Improvement for
       Bayesian Optimization", NeurIPS 2023.
    .. [3] Ginsbourger, Le Riche, Carraro, "Kriging Is Well-Suited to
       Parallelize Optimization", in Computational Intelligence in Expensive
       Optimization Problems, Springer, 2010.
    .. [4] Lee, Perrone, Archambeau, Seeger, "Cost-aware Bayesian
       Optimization", ICML AutoML Workshop, 2020, arXiv:2003.10870.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.svm import SVC
    >>> from skhpo import BayesSearchCV, Real
    >>> X, y = load_iris(return_X_y=True)
    >>> search = BayesSearchCV(SVC(), {"C": Real(1e-2, 1e2, prior="log-uniform")},
    ...                        n_iter=8, n_points=2, random_state=0).fit(X, y)
    >>> len(search.cv_results_["params"])
    8
    """

    _parameter_constraints: dict = {
        **BaseSearchCV._parameter_constraints,
        "n_iter": [Interval(Integral, 1, None, closed="left")],
        "n_initial_points": [Interval(Integral, 1, None, closed="left")],
        "acquisition": [StrOptions({"ei", "pi", "lcb"})],
        "n_points": [Interval(Integral, 1, None, closed="left")],
        "cost_aware": ["boolean"],
    }

    def __init__(
        self,
        estimator,
        search_spaces,
        n_iter=50,
        *,
        scoring=None,
        n_jobs=None,
        refit=True,
        cv=None,
        verbose=0,
        pre_dispatch="2*n_jobs",
        random_state=None,
        error_score=np.nan,
        return_train_score=False,
        n_initial_points=10,
        acquisition="ei",
        n_points=4,
        callbacks=None,
        max_time=None,
        checkpoint=None,
        asynchronous=False,
        devices=None,
        cost_aware=False,
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
        self.n_iter = n_iter
        self.n_initial_points = n_initial_points
        self.acquisition = acquisition
        self.n_points = n_points
        self.cost_aware = cost_aware

    def _check_search_parameters(self, space):
        if self.cost_aware and self.acquisition == "lcb":
            raise ValueError(
                "cost_aware=True divides the expected or probable improvement by the "
                "predicted fit time, which acquisition='lcb' does not have; use "
                "acquisition='ei' or 'pi', or cost_aware=False."
            )

    def _make_strategy(self, space, rng):
        strategy = AsyncBayesStrategy if self.asynchronous else BayesStrategy
        self.optimizer_ = strategy(
            space,
            rng,
            n_iter=self.n_iter,
            n_initial_points=self.n_initial_points,
            n_points=self.n_points,
            acquisition=self.acquisition,
            cost_aware=self.cost_aware,
        )
        return self.optimizer_

    def _adopt_strategy(self, strategy) -> None:
        self.optimizer_ = strategy
