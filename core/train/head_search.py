"""The automatic recipe's head search: score candidate heads, keep the best, refit it.

Candidates (``candidates``): logistic regression at each C of the settings (a warm-started path),
the Model page's dense head and a small non-linear head (``core.train.dense_heads``). Each is
scored on the validation split, or, when it has fewer than ``cv_below`` images, by stratified
k-fold cross-validation on train + validation (out-of-fold probabilities pooled over folds).
The score is accuracy; ties go to the lower log-loss, then to the earlier candidate (the simpler
one). A dense head's epoch count is the one with the lowest held-out log-loss. With several
pooled blocks, the logistic regression first compares all blocks with the last block alone
(``core.train.head_candidates``), and the other candidates use the set that won.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.config.auto import AutoRecipeConfig
from core.config.model import HeadConfig
from core.config.train import TrainConfig
from core.train.dense_heads import fit_dense_head, log_loss
from core.train.head_candidates import Candidate, FittedHead, Score, Views, fit_score, rank
from core.train.linear_head import fit_logistic


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
        last_width: int | None = None,
    ) -> None:
        self.train, self.val, self.num_classes = train, val, num_classes
        # Feature set -> trailing columns it uses (None: all); "last" when the last block's
        # pooled vector (its width) is only part of the concatenation.
        self.widths: dict[str, int | None] = {"all": None}
        if last_width and train.arrays and last_width < train.arrays[0].shape[1]:
            self.widths["last"] = last_width
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

    def probes(self) -> list[Candidate]:
        """The logistic regression at the first C on each feature set (when there are two):
        the best of them decides the feature set every other candidate uses."""
        if len(self.widths) < 2 or "logistic" not in self.settings.heads:
            return []
        return [Candidate("logistic", self.settings.c_values[0], name) for name in self.widths]

    def candidates(self, features: str = "all") -> list[Candidate]:
        """The candidates on ``features`` in the order they are tried (the budget cuts the
        later ones).

        One of each kind first (the first C of the logistic regression, the dense head, ...),
        then the other C values: a tight budget still compares a linear and the dense head
        (on hymenoptera the dense head wins, on trashnet6 the logistic regression).
        """
        firsts: list[Candidate] = []
        for kind in self.settings.heads:
            c_value = self.settings.c_values[0] if kind == "logistic" else None
            firsts.append(Candidate(kind, c_value, features))
        more = [Candidate("logistic", c, features) for c in self.settings.c_values[1:]]
        return firsts + (more if "logistic" in self.settings.heads else [])

    def columns(self, candidate: Candidate, views: Views) -> Views:
        """``views`` cut to the feature set of ``candidate``."""
        return views.tail(self.widths[candidate.features])

    def score(self, candidate: Candidate) -> Score:
        """Scores ``candidate`` on validation or by cross-validation."""
        start = time.perf_counter()
        if self.folds is None:
            train = self.columns(candidate, self.train)
            val = self.columns(candidate, self.val)
            fitted, probabilities, epochs = self._fit(candidate, train, val, key="val")
            self.fitted[candidate] = fitted
            labels, fit_scores = self.val.labels, [fit_score(fitted, train)]
        else:
            probabilities, epochs, fit_scores = self._cross_validate(candidate)
            labels = self.pool.labels
        accuracy = float(np.mean(probabilities.argmax(axis=1) == labels)) if len(labels) else 0.0
        loss = log_loss(probabilities, labels)
        fit_accuracy, fit_loss = np.mean(fit_scores, axis=0) if fit_scores else (None, None)
        return Score(
            candidate, accuracy, loss, epochs, time.perf_counter() - start,
            fit_accuracy=None if fit_accuracy is None else float(fit_accuracy),
            fit_loss=None if fit_loss is None else float(fit_loss),
        )  # fmt: skip

    def _cross_validate(
        self, candidate: Candidate
    ) -> tuple[np.ndarray, int | None, list[tuple[float, float]]]:
        """Out-of-fold probabilities of train + validation, a dense head's epoch count, and
        each fold's (accuracy, log-loss) on the rows it was trained on."""
        assert self.folds is not None
        fit_scores, pool = [], self.columns(candidate, self.pool)
        if candidate.kind == "logistic":
            result = np.zeros((len(self.pool.labels), self.num_classes))
            for fold, (fit_index, held_index) in enumerate(self.folds):
                held, data = pool.subset(held_index), pool.subset(fit_index)
                fitted, result[held_index], _ = self._fit(candidate, data, held, key=fold)
                fit_scores.append(fit_score(fitted, data))
            return result, None, fit_scores
        epochs = self.train_config.epochs
        per_epoch = np.zeros((epochs, len(self.pool.labels), self.num_classes))
        for fit_index, held_index in self.folds:
            held, data = pool.subset(held_index), pool.subset(fit_index)
            fit = fit_dense_head(
                candidate.kind, data.rows(), (held.arrays, held.labels),
                num_classes=self.num_classes, model_head=self.model_head,
                settings=self.train_config, epochs=epochs,
            )  # fmt: skip
            for epoch, probabilities in enumerate(fit.held_out):
                per_epoch[epoch, held_index] = probabilities
            fit_scores.append(fit_score(FittedHead(candidate, model=fit.model), data))
        losses = [log_loss(probabilities, self.pool.labels) for probabilities in per_epoch]
        best = int(np.argmin(losses))
        return per_epoch[best], best + 1, fit_scores

    def _fit(
        self, candidate: Candidate, data: Views, held: Views | None, key: Any, epochs: int = 0
    ) -> tuple[FittedHead, np.ndarray, int | None]:
        """Trains ``candidate`` on ``data``; returns it, its probabilities on ``held``, epochs."""
        if candidate.kind == "logistic":
            assert candidate.c_value is not None
            linear = fit_logistic(
                *data.rows(), candidate.c_value, self.num_classes, seed=self.train_config.seed,
                start=self._starts.get((candidate.features, key)),
            )  # fmt: skip
            self._starts[(candidate.features, key)] = linear.state  # type: ignore[assignment]
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
        data = self.columns(best.candidate, self.pool if refit else self.train)
        fitted, _, _ = self._fit(best.candidate, data, None, key="final", epochs=best.epochs or 0)
        return fitted


@dataclass
class SearchResult:
    """The scored candidates, best first and in the order tried, and the ones left out."""

    ranked: list[Score]
    skipped: list[Candidate]
    scored_by: str
    tried: list[Score] = field(default_factory=list)


def search_within_budget(
    search: HeadSearch, deadline: float, clock: Callable[[], float], say: Callable[[str], None]
) -> SearchResult:
    """Scores the candidates in order while ``clock() < deadline`` (the first one always).

    With two feature sets, the probes (``HeadSearch.probes``) go first and the best one's
    feature set is the one the other candidates use.

    Args:
        search: the prepared search.
        deadline: the ``clock`` value after which no further candidate starts.
        clock: seconds (``time.monotonic`` in a run; a fake one in tests).
        say: reports which stage runs.
    """
    scores: list[Score] = []
    skipped: list[Candidate] = []

    def attempt(candidate: Candidate) -> None:
        if scores and clock() >= deadline:
            skipped.append(candidate)
            return
        say(f"Head search: trying {candidate.name} ({search.scored_by}).")
        scores.append(search.score(candidate))

    for probe in search.probes():
        attempt(probe)
    features = rank(scores)[0].candidate.features if scores else "all"
    for candidate in search.candidates(features):
        if candidate not in {score.candidate for score in scores}:
            attempt(candidate)
    return SearchResult(rank(scores), skipped, search.scored_by, tried=scores)
