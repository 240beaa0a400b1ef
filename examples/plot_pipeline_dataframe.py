"""
A Pipeline with a ColumnTransformer on a DataFrame
==================================================

The search space reaches into every step of a Pipeline with the usual
``step__parameter`` names, and a step can be searched over whole estimators, as
in a GridSearchCV grid. Here the numeric columns of the diabetes data are
scaled by one of two transformers, the ``sex`` column is one-hot encoded, and
:class:`~skhpo.BayesSearchCV` tunes the choice of scaler together with the
ridge penalty.
"""

from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, QuantileTransformer, StandardScaler

from skhpo import BayesSearchCV, Real

data = load_diabetes(as_frame=True, scaled=False)
X, y = data.data, data.target
X["sex"] = X["sex"].map({1.0: "female", 2.0: "male"}).astype("category")
numeric = [column for column in X.columns if column != "sex"]

model = Pipeline([
    ("preprocess", ColumnTransformer([
        ("numeric", StandardScaler(), numeric),
        ("sex", OneHotEncoder(drop="if_binary"), ["sex"]),
    ])),
    ("ridge", Ridge()),
])

# %%
# A list of estimators is a categorical dimension, exactly as in a GridSearchCV
# grid; each candidate gets a fresh clone of the chosen transformer.
space = {
    "preprocess__numeric": [StandardScaler(), QuantileTransformer(n_quantiles=100)],
    "ridge__alpha": Real(1e-3, 1e3, prior="log-uniform"),
}
search = BayesSearchCV(model, space, n_iter=16, cv=5, scoring="r2", random_state=0)
search.fit(X, y)
print("best R^2:", round(search.best_score_, 3))
print("best scaler:", search.best_params_["preprocess__numeric"])
print("best alpha:", round(search.best_params_["ridge__alpha"], 3))

# %%
# The refitted pipeline predicts on new rows of the DataFrame.
print(search.predict(X.head(3)).round(1))
