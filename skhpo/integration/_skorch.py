"""skorch networks as incrementally trained estimators (one resource unit = one epoch).

skorch's ``NeuralNet.partial_fit`` trains ``max_epochs`` epochs per call, without
re-initializing the module. To train exactly ``k`` epochs we set ``max_epochs=k`` on
the live net for one ``partial_fit`` call and restore it afterwards; ``max_epochs``
is a plain parameter, so this re-initializes nothing (anchors §2.11). The history
therefore keeps growing across rungs.

torch and skorch are never imported here at module level: a net can only exist if
skorch is already imported, so :func:`is_skorch_net` looks in ``sys.modules``.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

from ..exceptions import SkhpoWarning

__all__ = ["copy_net", "is_skorch_net", "partial_fit_epochs", "warn_about_search_pitfalls"]

_SILENCE = (
    "Silence with warnings.filterwarnings('ignore', category=skhpo.exceptions."
    "SkhpoWarning)."
)


def is_skorch_net(estimator: Any) -> bool:
    """Whether ``estimator`` is a skorch ``NeuralNet`` (without importing skorch)."""
    skorch = sys.modules.get("skorch")
    return skorch is not None and isinstance(estimator, skorch.NeuralNet)


def copy_net(net: Any) -> Any:
    """An independent copy of an initialized net: weights, optimizer state, history.

    ``copy.deepcopy`` pickles the module, which fails for a module class defined
    inside a function; this copy rebuilds the net from its parameters (no pickling
    of classes) and loads the state through skorch's ``save_params``/``load_params``.
    """
    import copy
    import io

    from sklearn.base import clone

    new = clone(net).initialize()
    params, optimizer = io.BytesIO(), io.BytesIO()
    net.save_params(f_params=params, f_optimizer=optimizer)
    params.seek(0)
    optimizer.seek(0)
    new.load_params(f_params=params, f_optimizer=optimizer)
    new.history = copy.deepcopy(net.history)
    return new


def partial_fit_epochs(net: Any, X: Any, y: Any, n_epochs: int, **fit_params: Any) -> None:
    """Train ``net`` for exactly ``n_epochs`` more epochs, continuing its history.

    ``net.max_epochs`` is set to ``n_epochs`` for one ``partial_fit`` call and then
    restored, so ``net.get_params()`` is unchanged afterwards.
    """
    if n_epochs <= 0:
        return
    max_epochs = net.max_epochs
    net.set_params(max_epochs=n_epochs)
    try:
        net.partial_fit(X, y, **fit_params)
    finally:
        net.set_params(max_epochs=max_epochs)


def _callbacks_of(net: Any) -> list:
    callbacks = net.callbacks if isinstance(net.callbacks, (list, tuple)) else []
    return [cb[1] if isinstance(cb, tuple) else cb for cb in callbacks]


def warn_about_search_pitfalls(net: Any, searcher: str) -> None:
    """Warn (``SkhpoWarning``) about net settings that misbehave under partial_fit rungs.

    * ``train_split`` other than None: every ``partial_fit`` call holds out part
      of each training fold for skorch's own validation (skorch-dev/skorch#605).
    * ``EarlyStopping``: its patience counter is reset by ``on_train_begin``, which
      fires at every ``partial_fit`` call, so patience never spans two rungs.
    """
    from skorch.callbacks import EarlyStopping

    name = type(net).__name__
    if net.train_split is not None:
        warnings.warn(
            f"{name} has train_split={net.train_split!r}: every partial_fit call of "
            f"{searcher} holds out part of each training fold as skorch's internal "
            "validation set, so the net trains on less than the fold while the "
            "search already scores it on the test fold. Pass train_split=None to "
            f"the net unless a callback needs valid_loss. {_SILENCE}",
            SkhpoWarning,
            stacklevel=3,
        )
    for callback in _callbacks_of(net):
        is_class = isinstance(callback, type)
        if (is_class and issubclass(callback, EarlyStopping)) or (
            not is_class and isinstance(callback, EarlyStopping)
        ):
            warnings.warn(
                f"{name} has an EarlyStopping callback: skorch resets its patience "
                f"at every partial_fit call and {searcher} calls partial_fit once "
                "per rung, so patience never spans two rungs. The rungs already "
                "stop weak candidates early; remove EarlyStopping from the net for "
                f"the search. {_SILENCE}",
                SkhpoWarning,
                stacklevel=3,
            )
