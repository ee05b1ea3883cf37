"""The automatic recipe's head candidates and their scores (``core.train.head_search``).

A ``Candidate`` is a head kind (logistic regression at one C, the Model page's dense head, a
small non-linear head) on one feature set: every pooled block ("all"), or the last block alone
("last": on two-class photos the earlier blocks' features cost the linear head two points of
cross-validated accuracy, on six classes they gain one, so validation decides). The last block's
pooled vector is the tail of the concatenation, so both sets come from one cached extraction.

Every split is a ``Views``: one feature array per view of the same images; a head trains on all
views and predicts the mean of its probabilities over them, as the saved model does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core.config.auto import HEAD_LABELS
from core.train.dense_heads import log_loss
from core.train.linear_head import LinearHead, linear_keras_head

FEATURE_SETS = ("all", "last")
FEATURE_LABELS = {"all": "", "last": " on the last block"}


@dataclass
class Views:
    """One (N, D) feature array per view of the same N images, and their labels (N,)."""

    arrays: list[np.ndarray]
    labels: np.ndarray

    def subset(self, index: np.ndarray) -> Views:
        """The rows ``index`` of every view."""
        return Views([array[index] for array in self.arrays], self.labels[index])

    def join(self, other: Views) -> Views:
        """These images followed by ``other``'s (same views)."""
        arrays = [np.concatenate([a, b]) for a, b in zip(self.arrays, other.arrays, strict=True)]
        return Views(arrays, np.concatenate([self.labels, other.labels]))

    def tail(self, width: int | None) -> Views:
        """The last ``width`` columns of every view (None: all of them)."""
        if width is None:
            return self
        return Views([array[:, -width:] for array in self.arrays], self.labels)

    def rows(self) -> tuple[np.ndarray, np.ndarray]:
        """Training rows: the views stacked, labels repeated."""
        return np.concatenate(self.arrays), np.tile(self.labels, len(self.arrays))


@dataclass(frozen=True)
class Candidate:
    """One head to try: its kind, for the logistic regression its C, and its feature set."""

    kind: str
    c_value: float | None = None
    features: str = "all"

    @property
    def name(self) -> str:
        """E.g. "logistic regression (C=0.01) on the last block"."""
        label = HEAD_LABELS.get(self.kind, self.kind)
        label = f"{label} (C={self.c_value:g})" if self.c_value is not None else label
        return label + FEATURE_LABELS.get(self.features, "")


@dataclass
class Score:
    """How a candidate did: held-out accuracy and log-loss, its epochs, its time."""

    candidate: Candidate
    accuracy: float
    log_loss: float
    epochs: int | None = None
    seconds: float = 0.0
    fit_accuracy: float | None = None  # on the rows it was trained on (mean over folds in CV)
    fit_loss: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (``recipe.json``)."""
        return {
            "head": self.candidate.kind, "c": self.candidate.c_value, "name": self.candidate.name,
            "features": self.candidate.features,
            "accuracy": round(self.accuracy, 4), "log_loss": round(self.log_loss, 4),
            "epochs": self.epochs, "seconds": round(self.seconds, 2),
        }  # fmt: skip


@dataclass
class FittedHead:
    """A trained head: a folded logistic regression or a Keras model."""

    candidate: Candidate
    linear: LinearHead | None = None
    model: Any = None

    def probabilities(self, views: list[np.ndarray]) -> np.ndarray:
        """(N, K) probabilities averaged over the views (as the saved model averages them)."""
        if self.linear is not None:
            return np.mean([self.linear.probabilities(view) for view in views], axis=0)
        outputs = [
            np.asarray(self.model(view.astype(np.float32), training=False)) for view in views
        ]
        return np.mean(outputs, axis=0).astype(np.float64)

    def keras_head(self) -> Any:
        """The head as a Keras model (feature vector -> probabilities)."""
        return linear_keras_head(self.linear) if self.linear is not None else self.model


def fit_score(fitted: FittedHead, data: Views) -> tuple[float, float]:
    """(accuracy, log-loss) of ``fitted`` on the rows it was trained on (the "train" curve)."""
    probabilities = fitted.probabilities(data.arrays)
    return float(np.mean(probabilities.argmax(axis=1) == data.labels)), log_loss(
        probabilities, data.labels
    )


def rank(scores: list[Score]) -> list[Score]:
    """Best first: higher accuracy, then lower log-loss, then the earlier candidate."""
    order = {id(score): index for index, score in enumerate(scores)}
    return sorted(scores, key=lambda s: (-s.accuracy, s.log_loss, order[id(s)]))
