"""Logistic regression on pooled features, folded exactly into one Dense layer.

The head is scikit-learn's multinomial ``LogisticRegression`` (L2, inverse strength ``C``) on
standardised features. Standardising and the linear model are both affine, so they fold into one
``kernel``/``bias`` pair: with the scaler's mean ``mu`` and scale ``sigma`` and the model's
``w``/``b``, ``kernel = (w / sigma).T`` and ``bias = b - (mu / sigma) @ w.T``. A softmax Dense
layer with these weights predicts exactly what the scikit-learn pipeline does, so the saved Keras
model needs no scikit-learn. For two classes scikit-learn keeps one logit ``z`` for class 1;
``softmax([0, z])`` equals its ``sigmoid(z)``, so class 0 gets a zero column.

BLAS threads: on a small CPU shared with other processes, OpenBLAS's spinning worker threads
made the fits 13x slower in CPU time (28 s against 2.1 s for the C path on trashnet6); the fits
run single-threaded (``threadpoolctl``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_ITER = 1000
ABSENT_CLASS_BIAS = -30.0  # a class missing from a training fold gets probability ~1e-13


@dataclass
class LinearHead:
    """A fitted linear head: ``softmax(features @ kernel + bias)``.

    Attributes:
        kernel: (D, K) float32.
        bias: (K,) float32.
        state: the solver's own coefficients, to warm-start the next fit (``fit_logistic``).
    """

    kernel: np.ndarray
    bias: np.ndarray
    state: tuple[np.ndarray, np.ndarray] | None = None

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """(N, K) class probabilities, computed as the Dense layer will."""
        logits = np.asarray(features, np.float32) @ self.kernel + self.bias
        return softmax(logits)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, numerically stable."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exps = np.exp(shifted)
    return exps / exps.sum(axis=1, keepdims=True)


def fit_logistic(
    features: np.ndarray,
    labels: np.ndarray,
    c_value: float,
    num_classes: int,
    seed: int = 0,
    start: tuple[np.ndarray, np.ndarray] | None = None,
) -> LinearHead:
    """Fits standardisation + logistic regression and folds them into one Dense layer.

    Args:
        features: (N, D) pooled features.
        labels: (N,) class indices.
        c_value: inverse L2 strength.
        num_classes: K, the columns of the result (classes absent from ``labels`` get a
            very low bias).
        seed: the solver's random state.
        start: coefficients of a previous fit on the same classes (a warm start).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    matrix = np.asarray(features, np.float64)
    with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "did not converge": the fold below is exact anyway
        scaler = StandardScaler().fit(matrix)
        model = LogisticRegression(
            C=c_value, max_iter=MAX_ITER, random_state=seed, warm_start=start is not None
        )
        if start is not None:
            model.coef_, model.intercept_ = start[0].copy(), start[1].copy()
        model.fit(scaler.transform(matrix), labels)
    return _folded(scaler, model, num_classes)


def _folded(scaler: Any, model: Any, num_classes: int) -> LinearHead:
    """The scaler and the model as one (D, K) kernel and (K,) bias (see the module docstring)."""
    coef, intercept = np.asarray(model.coef_), np.asarray(model.intercept_)
    if coef.shape[0] == 1:  # two classes: one logit for classes_[1]
        coef = np.vstack([np.zeros_like(coef), coef])
        intercept = np.concatenate([[0.0], intercept])
    kernel = np.zeros((coef.shape[1], num_classes))
    bias = np.full(num_classes, ABSENT_CLASS_BIAS)
    columns = np.asarray(model.classes_, dtype=int)
    kernel[:, columns] = (coef / scaler.scale_).T
    bias[columns] = intercept - (scaler.mean_ / scaler.scale_) @ coef.T
    state = (np.asarray(model.coef_).copy(), np.asarray(model.intercept_).copy())
    return LinearHead(kernel.astype(np.float32), bias.astype(np.float32), state)


def linear_keras_head(head: LinearHead, name: str = "predictions") -> Any:
    """A Keras model (features -> softmax) whose one Dense layer holds ``head``'s weights."""
    import keras

    inputs = keras.Input((head.kernel.shape[0],), name="pooled_features")
    dense = keras.layers.Dense(head.kernel.shape[1], activation="softmax", name=name)
    model = keras.Model(inputs, dense(inputs), name="head")
    dense.set_weights([head.kernel, head.bias])
    return model
