"""Evaluation metrics against numbers worked out by hand, and a run evaluated end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.evaluate.metrics import (
    compute_metrics,
    confusion_matrix,
    evaluate_run,
    precision_recall_curve,
    roc_curve,
)
from tests.helpers.runs import cat_dog_run

# Fixed prediction set: 6 images, 3 classes.
Y_TRUE = np.array([0, 0, 1, 1, 2, 2])
PROBS = np.array(
    [
        [0.8, 0.1, 0.1],  # 0 -> 0
        [0.2, 0.7, 0.1],  # 0 -> 1 (wrong, confidence 0.7)
        [0.1, 0.8, 0.1],  # 1 -> 1
        [0.1, 0.6, 0.3],  # 1 -> 1
        [0.1, 0.1, 0.8],  # 2 -> 2
        [0.5, 0.2, 0.3],  # 2 -> 0 (wrong, confidence 0.5)
    ]
)


def test_metrics_equal_hand_computed_values() -> None:
    metrics = compute_metrics(Y_TRUE, PROBS, ["a", "b", "c"])
    # confusion rows=true: a:[1,1,0] b:[0,2,0] c:[1,0,1]
    assert metrics.confusion == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert metrics.accuracy == pytest.approx(4 / 6)
    # precision a=1/2, b=2/3, c=1/1; recall a=1/2, b=1, c=1/2
    table = {row["class"]: row for row in metrics.per_class}
    assert table["a"]["precision"] == pytest.approx(0.5)
    assert table["b"]["precision"] == pytest.approx(2 / 3)
    assert table["c"]["precision"] == pytest.approx(1.0)
    assert table["b"]["recall"] == pytest.approx(1.0)
    f1 = [0.5, 2 * (2 / 3) / (2 / 3 + 1), 2 * 0.5 / 1.5]
    assert [table[c]["f1"] for c in "abc"] == pytest.approx(f1)
    assert metrics.macro_f1 == pytest.approx(sum(f1) / 3)
    assert [table[c]["support"] for c in "abc"] == [2, 2, 2]
    assert metrics.roc is None and metrics.pr is None  # curves only for two classes


def test_confusion_matrix_shape_and_sums() -> None:
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 4, 50), rng.integers(0, 4, 50)
    matrix = confusion_matrix(y_true, y_pred, 4)
    assert matrix.shape == (4, 4)
    assert matrix.sum() == 50
    assert matrix.sum(axis=1).tolist() == np.bincount(y_true, minlength=4).tolist()
    normalised = compute_metrics(y_true, np.eye(4)[y_pred], list("abcd")).confusion_normalised
    np.testing.assert_allclose(np.sum(normalised, axis=1), 1.0)


def test_binary_curves_match_hand_computed_auc_and_ap() -> None:
    y_true = np.array([0, 0, 1, 1])
    scores = np.array([0.1, 0.4, 0.35, 0.8])
    # Positive/negative pairs ranked correctly: (0.8 > 0.1, 0.8 > 0.4, 0.35 > 0.1) = 3 of 4.
    assert roc_curve(y_true, scores).area == pytest.approx(0.75)
    # Ranking: 0.8(+) 0.4(-) 0.35(+) 0.1(-): AP = 0.5 * 1 + 0.5 * (2/3).
    assert precision_recall_curve(y_true, scores).area == pytest.approx(0.5 + 1 / 3)
    probabilities = np.stack([1 - scores, scores], axis=1)
    metrics = compute_metrics(y_true, probabilities, ["neg", "pos"])
    assert metrics.roc is not None and metrics.roc.area == pytest.approx(0.75)


def test_misclassified_sorted_by_confidence(tmp_path: Path) -> None:
    from core.evaluate.metrics import EvalResult

    metrics = compute_metrics(Y_TRUE, PROBS, ["a", "b", "c"])
    result = EvalResult(
        "test", [f"img{i}" for i in range(6)], Y_TRUE.tolist(), PROBS.tolist(), metrics
    )
    wrong = result.misclassified()
    assert [row["path"] for row in wrong] == ["img1", "img5"]
    assert wrong[0]["true"] == "a" and wrong[0]["predicted"] == "b"


def test_evaluate_run_uses_the_stored_split(tmp_path: Path) -> None:
    run_dir = cat_dog_run(tmp_path)
    result = evaluate_run(run_dir)
    assert result.split == "test" and result.notes == []  # the dataset did not change
    assert 0 < len(result.paths) < 16
    assert sum(row["support"] for row in result.metrics.per_class) == len(result.paths)
    stored = json.loads((run_dir / "metrics.json").read_text())
    assert stored["evaluation"]["images"] == len(result.paths)
    assert stored["best"]["val_accuracy"] == 0.75  # existing metrics are kept
    # Same seed and ratios -> the same images on a second evaluation.
    assert evaluate_run(run_dir).paths == result.paths
