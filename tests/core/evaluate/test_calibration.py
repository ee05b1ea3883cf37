"""Temperature scaling: fitted on validation, stored in labels.json, applied by the predictor."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.errors import ModelFileError
from core.evaluate.calibration import (
    calibrate_probabilities,
    calibrate_run,
    expected_calibration_error,
    fit_temperature,
    negative_log_likelihood,
)
from core.export.exporter import export_run
from core.predict.batch import NOT_SURE, prediction_rows
from core.predict.predictor import Predictor
from core.predict.probabilities import apply_temperature
from tests.helpers.analysis import colour_dataset, train_tiny_run
from tests.helpers.runs import cat_dog_run


def _over_confident(count: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three classes, right 70 % of the time, but always about 99 % sure."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, count)
    predicted = np.where(rng.random(count) < 0.7, labels, (labels + 1) % 3)
    logits = rng.normal(0, 0.3, (count, 3))
    logits[np.arange(count), predicted] += 6.0
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return probabilities, labels


def test_temperature_scaling_lowers_nll_and_ece_of_an_over_confident_model() -> None:
    probabilities, labels = _over_confident()
    temperature = fit_temperature(probabilities, labels)
    calibrated = apply_temperature(probabilities, temperature)
    assert temperature > 2.0  # softened
    assert negative_log_likelihood(calibrated, labels) < negative_log_likelihood(
        probabilities, labels
    )
    assert expected_calibration_error(calibrated, labels) < 0.5 * expected_calibration_error(
        probabilities, labels
    )
    assert np.array_equal(calibrated.argmax(axis=1), probabilities.argmax(axis=1))
    held_out = _over_confident(seed=1)
    result = calibrate_probabilities({"val": (probabilities, labels), "test": held_out})
    test = result.splits["test"]
    assert test.ece_after < test.ece_before and test.nll_after < test.nll_before


def test_apply_temperature_is_softmax_of_scaled_logs_and_sigmoid_of_scaled_logit() -> None:
    logits = np.array([[2.0, 0.5, -1.0], [0.0, 0.0, 3.0]])
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    scaled = np.exp(logits / 2.5) / np.exp(logits / 2.5).sum(axis=1, keepdims=True)
    assert np.allclose(apply_temperature(probabilities, 2.5), scaled)
    p = np.array([0.9, 0.2])
    binary = apply_temperature(np.stack([1 - p, p], axis=1), 2.0)[:, 1]
    logit = np.log(p / (1 - p))
    assert np.allclose(binary, 1 / (1 + np.exp(-logit / 2.0)))
    assert apply_temperature(probabilities, 1.0) is probabilities


def test_expected_calibration_error_of_a_perfectly_calibrated_toy_is_zero() -> None:
    probabilities = np.array([[0.75, 0.25]] * 4)
    assert expected_calibration_error(probabilities, np.array([0, 0, 0, 1])) == pytest.approx(0)
    assert expected_calibration_error(probabilities, np.array([1, 1, 1, 1])) == pytest.approx(0.75)


def test_calibrated_run_is_applied_by_the_predictor(tmp_path: Path) -> None:
    data, _ = colour_dataset(tmp_path / "data", per_class=10)
    run_dir, settings = train_tiny_run(data, tmp_path)
    image = str(data / "red" / "red9.png")
    raw = Predictor.from_run(run_dir).predict_sources([image])
    result = calibrate_run(run_dir, settings, class_thresholds={"red": 0.9})
    labels = json.loads((run_dir / "labels.json").read_text())
    assert labels["temperature"] == result.temperature != 1.0
    assert set(labels["calibration"]) == {"fitted_on", "val", "test"}
    after = Predictor.from_run(run_dir)
    assert after.temperature == result.temperature
    assert np.allclose(after.predict_sources([image]), apply_temperature(raw, result.temperature))
    assert after.threshold_for("red", 0.5) == 0.9 and after.threshold_for("blue", 0.5) == 0.5
    with pytest.raises(ValueError, match="not one of the classes"):
        calibrate_run(run_dir, settings, class_thresholds={"green": 0.5})


def test_a_class_threshold_makes_the_answer_not_sure(tmp_path: Path) -> None:
    run_dir = cat_dog_run(tmp_path)
    image = tmp_path / "data" / "cat" / "cat_0.png"
    plain = Predictor.from_run(run_dir)
    assert prediction_rows(plain, [("x", image)])[0]["predicted"] in ("cat", "dog")
    strict = Predictor(plain.model, plain.classes, class_thresholds={"cat": 1.0, "dog": 1.0})
    row = prediction_rows(strict, [("x", image)])[0]
    assert row["predicted"] == NOT_SURE and row["confidence"] < 1.0


def test_a_run_without_validation_images_is_refused(tmp_path: Path) -> None:
    data, _ = colour_dataset(tmp_path / "data", per_class=6)
    run_dir, settings = train_tiny_run(data, tmp_path)
    split = json.loads((run_dir / "split.json").read_text())
    split["splits"]["train"] += split["splits"]["val"]
    split["splits"]["val"] = []
    (run_dir / "split.json").write_text(json.dumps(split))
    with pytest.raises(ValueError, match="validation"):
        calibrate_run(run_dir, settings)


def test_a_damaged_temperature_is_named() -> None:
    from tests.helpers.runs import tiny_classifier

    with pytest.raises(ModelFileError, match="temperature"):
        Predictor(tiny_classifier(2), ["a", "b"], temperature=0)


def _readme_probabilities(bundle: Path, photo: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    readme = (bundle / "README.md").read_text(encoding="utf-8")
    (code,) = re.findall(r"```python\n(.*?)```", readme, re.DOTALL)
    shutil.copy(photo, bundle / "photo.jpg")
    monkeypatch.chdir(bundle)
    namespace: dict[str, Any] = {"__name__": "readme"}
    exec(compile(code, "README.md", "exec"), namespace)
    return np.asarray(namespace["probabilities"])


def test_the_bundle_readme_applies_the_temperature_like_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = cat_dog_run(tmp_path)
    labels = json.loads((run_dir / "labels.json").read_text())
    (run_dir / "labels.json").write_text(json.dumps({**labels, "temperature": 0.2}))
    bundle = tmp_path / "bundle"
    export_run(run_dir, bundle, formats=("keras",), make_bundle=False)
    photo = tmp_path / "data" / "cat" / "cat_0.png"
    app = Predictor.from_run(run_dir).predict_sources([photo])[0]
    uncalibrated = Predictor(Predictor.from_run(run_dir).model, ["cat", "dog"]).predict_sources(
        [photo]
    )[0]
    readme = _readme_probabilities(bundle, photo, monkeypatch)
    assert np.abs(readme - app).max() < 1e-4
    assert np.abs(uncalibrated - app).max() > 1e-3  # the test can fail: T = 0.2 sharpens
