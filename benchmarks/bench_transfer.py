"""Bytes moved between the search process and joblib workers by continued training.

HyperbandSearchCV (``resource="partial_fit"``) and PBTSearchCV send each continued
model to a worker and get it back trained. This script runs both at ``n_jobs=2``
(loky) on a model with several MiB of weights and prints, per batch (rung or
round), the models evaluated, the bytes sent and received, and the same divided
by the size of one fitted model: with no repeated copies, ``sent / model`` equals
the models continued and ``received / model`` the models evaluated below
``max_resources`` (a model at the largest budget is never continued, so it stays
in the worker).

    OMP_NUM_THREADS=1 python benchmarks/bench_transfer.py
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.neural_network import MLPClassifier

from skhpo import HyperbandSearchCV, PBTSearchCV, Real
from skhpo._transfer import dumps_model

MiB = 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()

    X, y = load_digits(return_X_y=True)
    X = X / 16
    mlp = MLPClassifier(hidden_layer_sizes=(args.hidden, args.hidden), random_state=0)
    space = {"alpha": Real(1e-5, 1e-1, prior="log-uniform"),
             "learning_rate_init": Real(1e-4, 1e-2, prior="log-uniform")}
    searches = {
        "hyperband": HyperbandSearchCV(mlp, space, resource="partial_fit", max_resources=9,
                                       factor=3, cv=3, n_jobs=args.n_jobs, random_state=0),
        "pbt": PBTSearchCV(mlp, space, population_size=6, max_resources=6,
                           perturbation_interval=2, cv=3, n_jobs=args.n_jobs, random_state=0),
    }
    print("| searcher | batch | models evaluated | models continued | MiB sent | "
          "MiB received | sent / model | received / model |")
    print("|---|---|---|---|---|---|---|---|")
    for name, search in searches.items():
        start = time.perf_counter()
        search.fit(X, y)
        wall = time.perf_counter() - start
        model_bytes = len(dumps_model(search.best_estimator_))
        results = search.cv_results_
        batch_of_row = np.asarray(results["iteration"])
        continued = (np.asarray(results["iter"]) > 0 if name == "hyperband"
                     else batch_of_row > 0)
        for batch, moved in enumerate(search.model_transfers_):
            n_continued = int(continued[batch_of_row == batch].sum()) * search.n_splits_
            print(f"| {name} | {batch} | {moved['n_models']} | {n_continued} | "
                  f"{moved['bytes_sent'] / MiB:.1f} | {moved['bytes_received'] / MiB:.1f} | "
                  f"{moved['bytes_sent'] / model_bytes:.2f} | "
                  f"{moved['bytes_received'] / model_bytes:.2f} |")
        print(f"\n{name}: one fitted model pickles to {model_bytes / MiB:.2f} MiB; "
              f"best CV {search.best_score_:.4f}; wall {wall:.1f} s\n")


if __name__ == "__main__":
    main()
