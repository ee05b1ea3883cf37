"""Learning curve: probe accuracy at 25/50/75/100 % of the training images, from the cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.evaluate.charts import learning_curve_figure
from core.evaluate.learning_curve import (
    LearningCurve,
    learning_curve,
    run_learning_curve,
    stratified_share,
)
from tests.helpers.analysis import colour_dataset, train_tiny_run


def _blobs(count: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.repeat([0, 1], count // 2)
    features = rng.normal(0, noise, (count, 20))
    features[:, 0] += np.where(labels == 1, 1.0, -1.0)
    return features, labels


def test_accuracy_grows_with_more_training_images_on_a_hard_toy() -> None:
    curve = learning_curve(_blobs(200, 1.5, 0), _blobs(400, 1.5, 1), repeats=5)
    assert [point.fraction for point in curve.points] == [0.25, 0.5, 0.75, 1.0]
    assert [point.images for point in curve.points] == [50, 100, 150, 200]
    assert curve.points[-1].accuracy > curve.points[0].accuracy
    assert curve.points[0].repeats == 5 and curve.points[-1].repeats == 1
    assert curve.verdict
    figure = learning_curve_figure(curve.to_dict()["points"])
    assert list(figure.data[0].x) == [50, 100, 150, 200]
    # The analyse job's result (to_dict plus the analysis name) reads back as the same curve.
    assert LearningCurve.from_dict({"analysis": "learning_curve", **curve.to_dict()}) == curve


def test_a_damaged_result_reads_with_defaults_and_without_its_malformed_points() -> None:
    curve = LearningCurve.from_dict({"points": [{"images": 3}, "junk"], "extracted_images": "x"})
    assert curve == LearningCurve(points=[], scored_on="val", verdict="", extracted_images=0)


def test_stratified_share_keeps_every_class() -> None:
    labels = np.array([0] * 9 + [1] * 3)
    chosen = stratified_share(labels, 0.25, seed=0)
    assert sorted(labels[chosen].tolist()) == [0, 0, 1]
    with pytest.raises(ValueError, match="share"):
        learning_curve(_blobs(20, 1, 0), _blobs(20, 1, 1), fractions=(0.0,))


def test_run_learning_curve_needs_no_backbone_pass(tmp_path: Path) -> None:
    data, _ = colour_dataset(tmp_path / "data", per_class=12)
    run_dir, settings = train_tiny_run(data, tmp_path)
    curve = run_learning_curve(run_dir, settings, repeats=2)
    assert curve.extracted_images == 0 and curve.scored_on == "val"
    assert len(curve.points) == 4 and curve.points[-1].images == 12
