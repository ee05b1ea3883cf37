"""The automatic recipe's head search on planted feature sets (no backbone, seconds each).

Each planted problem has a large fresh test set: the head the search picks on validation (or by
cross-validation) must be the one that really is better there, not merely the expected kind.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from core.config.auto import AutoRecipeConfig
from core.config.model import HeadConfig
from core.config.train import TrainConfig
from core.train.head_search import HeadSearch, Views, search_within_budget
from core.train.linear_head import fit_logistic, linear_keras_head

TRAIN = TrainConfig(epochs=12, learning_rate=1e-2, batch_size=32, seed=0)


def linear_problem(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """3 classes, linearly separable with noise in 40 dims of very different scales.

    The scales hurt a head trained on raw features and not a standardised linear model.
    """
    rng = np.random.default_rng(seed)
    means = np.random.default_rng(99).normal(0, 1.0, (3, 40))
    labels = rng.integers(0, 3, count)
    scales = np.geomspace(0.01, 100, 40)
    features = (means[labels] + rng.normal(0, 1.2, (count, 40))) * scales
    return features.astype(np.float32), labels


def ring_problem(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """2 classes: inside or outside a circle in 2 of 6 dims (no line separates them)."""
    rng = np.random.default_rng(seed)
    features = rng.uniform(-3, 3, (count, 6))
    labels = (np.hypot(features[:, 0], features[:, 1]) > 2.4).astype(np.int64)
    return features.astype(np.float32), labels


def views(problem: object, count: int, seed: int) -> Views:
    features, labels = problem(count, seed)  # type: ignore[operator]
    return Views([features], labels)


def search_for(
    problem: object,
    val_count: int,
    heads: tuple[str, ...],
    c_values: tuple[float, ...] = (0.1, 1.0),
) -> HeadSearch:
    settings = AutoRecipeConfig(heads=heads, c_values=c_values)
    train, val = views(problem, 240, 1), views(problem, val_count, 2)
    num_classes = int(train.labels.max()) + 1
    return HeadSearch(train, val, num_classes, settings, TRAIN, HeadConfig())


@pytest.mark.parametrize(
    ("problem", "heads", "expected_kind"),
    [
        (linear_problem, ("logistic", "dense"), "logistic"),
        (ring_problem, ("logistic", "mlp"), "mlp"),
    ],
    ids=["linear-wins", "non-linear-wins"],
)
def test_search_picks_the_head_that_is_really_better(
    problem: object, heads: tuple[str, ...], expected_kind: str
) -> None:
    search = search_for(problem, 200, heads)
    assert search.scored_by == "validation"
    result = search_within_budget(search, float("inf"), lambda: 0.0, lambda _: None)
    chosen = result.ranked[0].candidate
    assert chosen.kind == expected_kind
    fresh = views(problem, 2000, 3)  # every candidate as trained on train, on fresh rows
    accuracy = {
        candidate: float(np.mean(fitted.probabilities(fresh.arrays).argmax(1) == fresh.labels))
        for candidate, fitted in search.fitted.items()
    }
    other_kinds = [value for c, value in accuracy.items() if c.kind != chosen.kind]
    assert accuracy[chosen] > max(other_kinds) + 0.02, accuracy
    assert accuracy[chosen] >= max(accuracy.values()) - 0.01, accuracy


def with_noise_block(data: Views, width: int, signal_last: bool) -> Views:
    """``data`` as the last block behind ``width`` noise columns, or as the earlier block with a
    noise last block of the same width as ``data``'s."""
    rng = np.random.default_rng(7)
    features = data.arrays[0]
    noise = rng.normal(0, 1, (len(features), width if signal_last else features.shape[1]))
    joined = [noise, features] if signal_last else [features, noise.astype(np.float32)]
    return Views([np.concatenate(joined, axis=1).astype(np.float32)], data.labels)


@pytest.mark.parametrize("signal_last", [True, False], ids=["last-block-wins", "all-blocks-win"])
def test_the_feature_set_is_chosen_by_validation(signal_last: bool) -> None:
    train, val = views(linear_problem, 240, 1), views(linear_problem, 200, 2)
    train, val = (with_noise_block(v, 400, signal_last) for v in (train, val))
    settings = AutoRecipeConfig(heads=("logistic",), c_values=(0.1, 1.0))
    search = HeadSearch(train, val, 3, settings, TRAIN, HeadConfig(), last_width=40)
    assert [c.features for c in search.probes()] == ["all", "last"]
    result = search_within_budget(search, float("inf"), lambda: 0.0, lambda _: None)
    expected = "last" if signal_last else "all"
    best = result.ranked[0].candidate
    assert best.features == expected and best.c_value == 1.0  # the second C on the winning set
    assert {s.candidate.features for s in result.tried[2:]} == {expected}
    assert len(result.tried) == 3 and result.tried[0].candidate.features == "all"
    head = search.final(result.ranked[0], refit=True)
    assert head.linear is not None
    assert head.linear.kernel.shape[0] == (40 if signal_last else 80)
    assert all(s.fit_accuracy is not None and s.fit_loss is not None for s in result.tried)


def test_small_validation_is_replaced_by_cross_validation_and_still_picks_the_better_head() -> None:
    search = search_for(ring_problem, 60, ("logistic", "mlp"), (1.0,))
    assert search.scored_by == "5-fold cross-validation"
    result = search_within_budget(search, float("inf"), lambda: 0.0, lambda _: None)
    assert [score.candidate.kind for score in result.ranked] == ["mlp", "logistic"]
    assert result.ranked[0].epochs is not None  # the epoch count chosen by the held-out loss
    assert result.ranked[0].accuracy > result.ranked[1].accuracy + 0.1


def test_time_budget_stops_before_a_candidate_and_keeps_the_best_so_far() -> None:
    search = search_for(linear_problem, 200, ("logistic",), (0.1, 1.0, 0.01, 10.0))
    ticks = itertools.count(10, 10)  # each look at the clock is 10 s later than the last
    said: list[str] = []
    result = search_within_budget(search, 25.0, lambda: float(next(ticks)), said.append)
    assert len(result.ranked) == 3 and [c.c_value for c in result.skipped] == [10.0]
    assert len(said) == 3 and all(line.startswith("Head search: trying") for line in said)
    first = search_within_budget(search, -1.0, lambda: 0.0, lambda _: None)
    assert len(first.ranked) == 1  # past the deadline: the first candidate still runs


@pytest.mark.parametrize("num_classes", [2, 4])
def test_logistic_head_folds_the_scaler_and_model_into_one_dense_exactly(num_classes: int) -> None:
    rng = np.random.default_rng(0)
    features = rng.normal(5, 3, (80, 12)).astype(np.float32)
    labels = np.arange(80) % num_classes
    features[:, 0] += labels * 2
    head = fit_logistic(features, labels, 0.5, num_classes)
    scaler = StandardScaler().fit(features.astype(np.float64))
    reference = LogisticRegression(C=0.5, max_iter=1000).fit(scaler.transform(features), labels)
    expected = reference.predict_proba(scaler.transform(features))
    np.testing.assert_allclose(head.probabilities(features), expected, atol=1e-5)
    keras_probabilities = np.asarray(linear_keras_head(head)(features))
    np.testing.assert_allclose(keras_probabilities, expected, atol=1e-5)
