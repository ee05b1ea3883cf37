"""A calibrated "not sure": temperature scaling fitted on the validation split.

A network's top probability is often higher than how often it is right (over-confidence), so a
"not sure below 0.8" threshold would let through answers that are right far less than 80 % of
the time. Temperature scaling (Guo et al., 2017) fixes this with one number T fitted on the
validation images: probabilities become ``softmax(log(p) / T)``
(``core.predict.probabilities.apply_temperature``), which minimises the validation negative
log-likelihood and never changes which class is the most likely (accuracy is unchanged).

``calibrate_run`` stores T (and optional per-class thresholds) in the run's ``labels.json``;
``Predictor.from_run`` applies it, so Predict's threshold, the CLI and the exported bundle
(which ships ``labels.json`` and applies T in its README code) all work in calibrated
probability. Expected calibration error (ECE, 15 equal-width bins of the top probability) is
reported before and after, on validation (where T was fitted) and on the test split (unseen).

Probabilities come from the run's cached features when its backbone was frozen (the saved
head applied to them: no backbone pass), else from the saved model on the held-out images.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.atomic import write_json_atomic
from core.config.settings import Settings
from core.errors import StudioError
from core.evaluate.run_features import load_run_features
from core.model.forward import forward_in_batches
from core.predict.predictor import Predictor
from core.predict.probabilities import apply_temperature

ECE_BINS = 15
_LOG_T_RANGE = (np.log(0.05), np.log(20.0))  # temperatures beyond these mean something broke


def expected_calibration_error(
    probabilities: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS
) -> float:
    """ECE: the images-weighted mean |accuracy - confidence| over bins of the top probability."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == np.asarray(labels)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    error = 0.0
    for index in range(bins):
        members = which == index
        if members.any():
            gap = abs(correct[members].mean() - confidence[members].mean())
            error += members.mean() * gap
    return float(error)


def negative_log_likelihood(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Mean -log p(true class), with p clipped away from 0."""
    chosen = probabilities[np.arange(len(labels)), np.asarray(labels)]
    return float(-np.log(np.clip(chosen, 1e-12, 1.0)).mean())


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood of ``labels``.

    A bounded one-dimensional search over log T (``scipy.optimize.minimize_scalar``): the NLL
    is smooth in log T, and T stays in [0.05, 20].

    Raises:
        ValueError: no images to fit on.
    """
    from scipy.optimize import minimize_scalar

    if len(labels) == 0:
        raise ValueError("Calibration needs validation images; this run has none.")

    def loss(log_t: float) -> float:
        return negative_log_likelihood(
            apply_temperature(probabilities, float(np.exp(log_t))), labels
        )

    found = minimize_scalar(loss, bounds=_LOG_T_RANGE, method="bounded")
    return float(np.exp(found.x))


@dataclass(frozen=True)
class SplitCalibration:
    """ECE and NLL of one split before and after temperature scaling."""

    images: int
    ece_before: float
    ece_after: float
    nll_before: float
    nll_after: float


@dataclass(frozen=True)
class CalibrationResult:
    """The fitted temperature and what it changed per split ("val", and "test" when present)."""

    temperature: float
    splits: dict[str, SplitCalibration]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types."""
        return {
            "temperature": self.temperature,
            "splits": {name: asdict(value) for name, value in self.splits.items()},
        }


def calibrate_probabilities(
    held_out: dict[str, tuple[np.ndarray, np.ndarray]],
) -> CalibrationResult:
    """Fits T on ``held_out["val"]`` and scores every given split before and after.

    Args:
        held_out: split name -> (probabilities (N, K), labels (N,)); "val" is required.
    """
    if "val" not in held_out:
        raise ValueError("Calibration needs a validation split; this run has none.")
    temperature = fit_temperature(*held_out["val"])
    splits = {}
    for name, (probabilities, labels) in held_out.items():
        calibrated = apply_temperature(probabilities, temperature)
        splits[name] = SplitCalibration(
            images=len(labels),
            ece_before=round(expected_calibration_error(probabilities, labels), 4),
            ece_after=round(expected_calibration_error(calibrated, labels), 4),
            nll_before=round(negative_log_likelihood(probabilities, labels), 4),
            nll_after=round(negative_log_likelihood(calibrated, labels), 4),
        )
    return CalibrationResult(round(temperature, 4), splits)


def calibrate_run(
    run_dir: str | os.PathLike[str],
    settings: Settings | None = None,
    *,
    class_thresholds: dict[str, float] | None = None,
    write: bool = True,
    when_helped: bool = False,
) -> CalibrationResult:
    """Fits the run's temperature on validation and stores it in ``labels.json``.

    Args:
        run_dir: a finished run (``model.keras``, ``labels.json``, ``split.json``).
        settings: where the feature cache is.
        class_thresholds: optional class name -> least probability to answer that class
            (stored for ``Predictor.threshold_for``; applied in calibrated probability).
        write: store the result (False only measures).
        when_helped: store it only when ``calibration_verdict`` says it helped (the studio's
            "Store" button; the CLI stores what it is asked to).

    Raises:
        ValueError: no validation split, or a threshold names an unknown class or is not
            between 0 and 1.
        ModelFileError: the run has no trained model.
    """
    folder = Path(run_dir)
    predictor = Predictor.from_run(folder)
    _check_thresholds(class_thresholds or {}, predictor.classes)
    result = calibrate_probabilities(run_probabilities(folder, predictor, settings))
    if when_helped and not calibration_verdict(result.to_dict()["splits"])[0]:
        write = False
    if write:
        labels_file = folder / "labels.json"
        labels = json.loads(labels_file.read_text(encoding="utf-8"))
        labels["temperature"] = result.temperature
        labels["calibration"] = {"fitted_on": "val", **result.to_dict()["splits"]}
        if class_thresholds is not None:
            labels["class_thresholds"] = dict(class_thresholds)
        write_json_atomic(labels_file, labels)
    return result


def _check_thresholds(thresholds: dict[str, float], classes: list[str]) -> None:
    for name, value in thresholds.items():
        if name not in classes:
            raise ValueError(f"'{name}' is not one of the classes ({', '.join(classes)}).")
        if not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"The threshold of '{name}' must be between 0 and 1, got {value}.")


def run_probabilities(
    run_dir: Path, predictor: Predictor, settings: Settings | None = None
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Uncalibrated probabilities and labels of the run's validation and test images.

    With a frozen feature extractor the saved head runs on the cached features (no backbone
    pass); a fine-tuned model runs on the images.
    """
    head = _frozen_head(predictor.model)
    splits = ("val", "test") if head is not None else ()
    loaded = load_run_features(run_dir, settings, splits=splits, pooled=False)
    if list(loaded.classes) != list(predictor.classes):
        raise StudioError("This run's labels.json does not match its split; train it again.")
    raw = Predictor(predictor.model, predictor.classes, predictor.resize_mode)  # T = 1
    result = {}
    for name in ("val", "test"):
        items = loaded.items(name)
        if not items:
            continue
        labels = np.asarray([label for _, label in items], dtype=np.int64)
        if head is not None:
            outputs = _batched(head, loaded.features[name])
            result[name] = (raw.to_probabilities(outputs).astype(np.float64), labels)
        else:
            probabilities = raw.predict_sources([path for path, _ in items])
            result[name] = (probabilities.astype(np.float64), labels)
    return result


def _frozen_head(model: Any) -> Any:
    """The saved model's head when its feature extractor has no trainable weight, else None."""
    try:
        extractor, head = model.get_layer("feature_extractor"), model.get_layer("head")
    except ValueError:
        return None
    return None if extractor.trainable_weights else head


def _batched(head: Any, features: np.ndarray) -> np.ndarray:
    """The head's raw outputs on cached features, in bounded batches (``core.model.forward``)."""
    return forward_in_batches(lambda batch: head(batch, training=False), features)


def calibration_verdict(splits: dict[str, dict[str, Any]]) -> tuple[bool, str]:
    """Did temperature scaling help? (helped, one plain sentence), from ECE before and after.

    It helped when ECE fell on at least one split and rose on none: the test split (unseen
    when T was fitted) counts as much as validation. Otherwise it is not worth storing.

    Args:
        splits: split name -> ``{"ece_before": ..., "ece_after": ...}`` (``to_dict()["splits"]``).
    """
    changes = {
        name: (float(split["ece_before"]), float(split["ece_after"]))
        for name, split in splits.items()
    }
    worse = [name for name, (before, after) in changes.items() if after > before]
    better = [name for name, (before, after) in changes.items() if after < before]
    shown = "test" if "test" in changes else "val"
    before, after = changes.get(shown, (0.0, 0.0))
    where = "test" if shown == "test" else "validation"
    if better and not worse:
        return True, (
            f"Helped: calibration error fell from {before:.3f} to {after:.3f} on the {where} "
            "images. Store it so Predict's threshold and the export use calibrated probabilities."
        )
    names = ", ".join("validation" if name == "val" else name for name in worse) or "any split"
    return False, (
        f"Did not help: calibration error got worse on {names} ({where}: {before:.3f} to "
        f"{after:.3f}); not stored, the model's own probabilities are kept."
        if worse
        else f"Did not help: calibration error did not change on {names}; not stored."
    )
