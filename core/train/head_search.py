"""The automatic recipe's head search: score candidate heads, keep the best, refit it.

Candidates (``candidates``): logistic regression at each C of the settings (a warm-started path),
the Model page's dense head and a small non-linear head (``core.train.dense_heads``). Each is
scored on the validation split, or, when it has fewer than ``cv_below`` images, by stratified
k-fold cross-validation on train + validation (out-of-fold probabilities pooled over folds).
The score is accuracy; ties go to the lower log-loss, then to the earlier candidate (the simpler
one). A dense head's epoch count is the one with the lowest held-out log-loss.

Every split is a ``Views``: one feature array per view of the same images (the plain image, and
its mirror image with flip averaging); a head trains on all views and predicts the mean of its
probabilities over them, as the saved model does.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.config.auto import HEAD_LABELS, AutoRecipeConfig
from core.config.model import HeadConfig
from core.config.train import TrainConfig
from core.train.dense_heads import fit_dense_head, log_loss
from core.train.linear_head import LinearHead, fit_logistic, linear_keras_head


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

    def rows(self) -> tuple[np.ndarray, np.ndarray]:
        """Training rows: the views stacked, labels repeated."""
        return np.concatenate(self.arrays), np.tile(self.labels, len(self.arrays))


@dataclass(frozen=True)
class Candidate:
    """One head to try: its kind and, for the logistic regression, its C."""

    kind: str
    c_value: float | None = None

    @property
    def name(self) -> str:
        """E.g. "logistic regression (C=0.01)"."""
        label = HEAD_LABELS.get(self.kind, self.kind)
        return f"{label} (C={self.c_value:g})" if self.c_value is not None else label


@dataclass
class Score:
    """How a candidate did: held-out accuracy and log-loss, its epochs, its time."""

    candidate: Candidate
    accuracy: float
    log_loss: float
    epochs: int | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (``recipe.json``)."""
        return {
            "head": self.candidate.kind, "c": self.candidate.c_value, "name": self.candidate.name,
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


def rank(scores: list[Score]) -> list[Score]:
    """Best first: higher accuracy, then lower log-loss, then the earlier candidate."""
    order = {id(score): index for index, score in enumerate(scores)}
    return sorted(scores, key=lambda s: (-s.accuracy, s.log_loss, order[id(s)]))


class HeadSearch:
    """Scores candidates on validation (or k-fold CV) and fits the chosen one."""

    def __init__(
        self,
        train: Views,
        val: Views,
        num_classes: int,
        settings: AutoRecipeConfig,
        train_config: TrainConfig,
        model_head: HeadConfig,
    ) -> None:
        self.train, self.val, self.num_classes = train, val, num_classes
        self.settings, self.train_config, self.model_head = settings, train_config, model_head
        self.pool = train.join(val)
        self.folds = self._folds() if len(val.labels) < settings.cv_below else None
        self.scored_by = (
            "validation" if self.folds is None else f"{len(self.folds)}-fold cross-validation"
        )
        self.fitted: dict[Candidate, FittedHead] = {}  # validation mode: trained on train
        self._starts: dict[Any, tuple[np.ndarray, np.ndarray]] = {}  # logistic warm starts

    def _folds(self) -> list[tuple[np.ndarray, np.ndarray]] | None:
        """Stratified folds of train + validation; None when a class is too small for two."""
        from sklearn.model_selection import StratifiedKFold

        counts = np.bincount(self.pool.labels, minlength=self.num_classes)
        smallest = int(counts[counts > 0].min()) if len(self.pool.labels) else 0
        if smallest < 2 or np.count_nonzero(counts) < 2:
            return None
        k = min(self.settings.folds, smallest)
        splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=self.train_config.seed)
        return list(splitter.split(self.pool.labels, self.pool.labels))

    def candidates(self) -> list[Candidate]:
        """The candidates in the order they are tried (the budget cuts the later ones).

        One of each kind first (the first C of the logistic regression, the dense head, ...),
        then the other C values: a tight budget still compares a linear and the dense head
        (on hymenoptera the dense head wins, on trashnet6 the logistic regression).
        """
        firsts: list[Candidate] = []
        for kind in self.settings.heads:
            c_value = self.settings.c_values[0] if kind == "logistic" else None
            firsts.append(Candidate(kind, c_value))
        more = [Candidate("logistic", c) for c in self.settings.c_values[1:]]
        return firsts + (more if "logistic" in self.settings.heads else [])

    def score(self, candidate: Candidate) -> Score:
        """Scores ``candidate`` on validation or by cross-validation."""
        start = time.perf_counter()
        if self.folds is None:
            fitted, probabilities, epochs = self._fit(candidate, self.train, self.val, key="val")
            self.fitted[candidate] = fitted
            labels = self.val.labels
        else:
            probabilities, epochs = self._cross_validate(candidate)
            labels = self.pool.labels
        accuracy = float(np.mean(probabilities.argmax(axis=1) == labels)) if len(labels) else 0.0
        loss = log_loss(probabilities, labels)
        return Score(candidate, accuracy, loss, epochs, time.perf_counter() - start)

    def _cross_validate(self, candidate: Candidate) -> tuple[np.ndarray, int | None]:
        """Out-of-fold probabilities of train + validation, and a dense head's epoch count."""
        assert self.folds is not None
        if candidate.kind == "logistic":
            result = np.zeros((len(self.pool.labels), self.num_classes))
            for fold, (fit_index, held_index) in enumerate(self.folds):
                held = self.pool.subset(held_index)
                _, result[held_index], _ = self._fit(
                    candidate, self.pool.subset(fit_index), held, key=fold
                )
            return result, None
        epochs = self.train_config.epochs
        per_epoch = np.zeros((epochs, len(self.pool.labels), self.num_classes))
        for fit_index, held_index in self.folds:
            held = self.pool.subset(held_index)
            fit = fit_dense_head(
                candidate.kind, self.pool.subset(fit_index).rows(), (held.arrays, held.labels),
                num_classes=self.num_classes, model_head=self.model_head,
                settings=self.train_config, epochs=epochs,
            )  # fmt: skip
            for epoch, probabilities in enumerate(fit.held_out):
                per_epoch[epoch, held_index] = probabilities
        losses = [log_loss(probabilities, self.pool.labels) for probabilities in per_epoch]
        best = int(np.argmin(losses))
        return per_epoch[best], best + 1

    def _fit(
        self, candidate: Candidate, data: Views, held: Views | None, key: Any, epochs: int = 0
    ) -> tuple[FittedHead, np.ndarray, int | None]:
        """Trains ``candidate`` on ``data``; returns it, its probabilities on ``held``, epochs."""
        if candidate.kind == "logistic":
            assert candidate.c_value is not None
            linear = fit_logistic(
                *data.rows(), candidate.c_value, self.num_classes, seed=self.train_config.seed,
                start=self._starts.get(key),
            )  # fmt: skip
            self._starts[key] = linear.state  # type: ignore[assignment]
            fitted = FittedHead(candidate, linear=linear)
            held_probabilities = fitted.probabilities(held.arrays) if held else np.zeros((0, 0))
            return fitted, held_probabilities, None
        fit = fit_dense_head(
            candidate.kind, data.rows(), (held.arrays, held.labels) if held else None,
            num_classes=self.num_classes, model_head=self.model_head,
            settings=self.train_config, epochs=epochs or self.train_config.epochs,
        )  # fmt: skip
        fitted = FittedHead(candidate, model=fit.model)
        held_probabilities = fit.held_out[fit.best_epoch - 1] if held else np.zeros((0, 0))
        return fitted, held_probabilities, fit.best_epoch

    def final(self, best: Score, refit: bool) -> FittedHead:
        """The chosen head: refitted on train + validation, or as trained on train."""
        if not refit and best.candidate in self.fitted:
            return self.fitted[best.candidate]
        data = self.pool if refit else self.train
        fitted, _, _ = self._fit(best.candidate, data, None, key="final", epochs=best.epochs or 0)
        return fitted


@dataclass
class SearchResult:
    """The scored candidates, best first, and the ones the time budget left out."""

    ranked: list[Score]
    skipped: list[Candidate]
    scored_by: str


def search_within_budget(
    search: HeadSearch, deadline: float, clock: Callable[[], float], say: Callable[[str], None]
) -> SearchResult:
    """Scores the candidates in order while ``clock() < deadline`` (the first one always).

    Args:
        search: the prepared search.
        deadline: the ``clock`` value after which no further candidate starts.
        clock: seconds (``time.monotonic`` in a run; a fake one in tests).
        say: reports which stage runs.
    """
    scores: list[Score] = []
    skipped: list[Candidate] = []
    for candidate in search.candidates():
        if scores and clock() >= deadline:
            skipped.append(candidate)
            continue
        say(f"Head search: trying {candidate.name} ({search.scored_by}).")
        scores.append(search.score(candidate))
    return SearchResult(rank(scores), skipped, search.scored_by)
