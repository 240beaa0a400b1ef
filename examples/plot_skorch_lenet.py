"""
A LeNet-style skorch network tuned on epochs with Hyperband
===========================================================

A small convolutional network in the spirit of LeNet, on the 8x8 digits images
that ship with scikit-learn. It is wrapped in skorch's ``NeuralNetClassifier``
and tuned with :class:`~skhpo.HyperbandSearchCV`. One resource unit is one
epoch: a candidate promoted to the next rung continues training from its last
epoch, on the same folds. ``devices="auto"`` uses every visible GPU, one task per
device slot, and runs on the CPU when there is none.

The module class is defined in this script. The workers of ``n_jobs=2`` receive
it by value.
"""

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from skorch import NeuralNetClassifier

from skhpo import HyperbandSearchCV, Real
from skhpo.plot import RungDisplay

torch.manual_seed(0)


class LeNet(torch.nn.Module):
    """Two convolution and pooling blocks, then two dense layers (8x8 inputs)."""

    def __init__(self, channels=8, hidden_units=64, dropout=0.0):
        super().__init__()
        self.features = torch.nn.Sequential(
            torch.nn.Conv2d(1, channels, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(channels, 2 * channels, 3, padding=1), torch.nn.ReLU(),
            torch.nn.MaxPool2d(2),
        )
        self.classifier = torch.nn.Sequential(
            torch.nn.Flatten(), torch.nn.Dropout(dropout),
            torch.nn.Linear(2 * channels * 2 * 2, hidden_units), torch.nn.ReLU(),
            torch.nn.Linear(hidden_units, 10),
        )

    def forward(self, X):
        return self.classifier(self.features(X))


X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32).reshape(-1, 1, 8, 8)
y = y.astype(np.int64)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y,
                                                    random_state=0)

# %%
# ``train_split=None``: the net trains on the whole training fold the search
# gives it (the search's folds do the validation).
net = NeuralNetClassifier(LeNet, criterion=torch.nn.CrossEntropyLoss,
                          optimizer=torch.optim.Adam, batch_size=32, train_split=None,
                          verbose=0)
space = {
    "lr": Real(1e-4, 3e-2, prior="log-uniform"),
    "module__channels": [4, 8, 16],
    "module__dropout": Real(0.0, 0.5),
}
search = HyperbandSearchCV(net, space, resource="partial_fit", max_resources=9, factor=3,
                           cv=3, n_jobs=2, devices="auto", random_state=0)
search.fit(X_train, y_train)
print("devices:", search.devices_)
print("epochs trained, all folds:", search.resources_used_)
print("best CV accuracy:", round(search.best_score_, 4), search.best_params_)
print("test accuracy of the refitted net:", round(search.score(X_test, y_test), 4))

# %%
# Each bracket's rungs: a line joins a candidate's scores as it is promoted,
# and a cross marks where it stopped.
RungDisplay.from_search(search)
