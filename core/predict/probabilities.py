"""From a classifier's raw output to the probabilities every page and job shows.

Shared by ``core.predict.predictor.Predictor`` (Keras, in workers) and
``core.predict.lite.LitePredictor`` (LiteRT, in the web process), so both runtimes turn the
same raw numbers into the same answers: the output kind (softmax, sigmoid, logits), the
calibration temperature of the run (``apply_temperature``) and the top-k order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from core.errors import ModelFileError


def probabilities_from_raw(
    raw: np.ndarray, output_kind: str, units: int, temperature: float
) -> np.ndarray:
    """A classifier's raw output (N, units) as (N, num_classes) calibrated probabilities.

    Shared by ``Predictor`` (Keras) and ``core.predict.lite.LitePredictor`` (LiteRT), so both
    runtimes turn the same raw numbers into the same answers.
    """
    raw = np.asarray(raw).astype(np.float64)
    if output_kind == "sigmoid_logits":
        raw = 1.0 / (1.0 + np.exp(-raw))
    if units == 1:
        positive = raw[:, 0]
        return np.stack([1.0 - positive, positive], axis=1).astype(np.float32)
    if output_kind == "logits":
        shifted = np.exp(raw - raw.max(axis=1, keepdims=True))
        raw = shifted / shifted.sum(axis=1, keepdims=True)
    return apply_temperature(raw, temperature).astype(np.float32)


def apply_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """Temperature scaling of probabilities: ``softmax(log(p) / T)``, row by row.

    Written as ``p ** (1/T)`` normalised, which is the same and needs no logits: for one sigmoid
    unit seen as ``[1 - p, p]`` it equals ``sigmoid(logit(p) / T)``. T > 1 softens over-confident
    probabilities, T = 1 changes nothing; the most likely class never changes. The exported
    bundle's README applies the same two lines (``core.export.bundle``).
    """
    if temperature == 1.0 or len(probabilities) == 0:
        return probabilities
    scaled = np.power(np.clip(probabilities.astype(np.float64), 0.0, None), 1.0 / temperature)
    total = scaled.sum(axis=1, keepdims=True)
    return np.divide(
        scaled, total, out=np.full_like(scaled, 1.0 / scaled.shape[1]), where=total > 0
    )


def checked_temperature(value: Any) -> float:
    """A positive finite temperature, or ModelFileError (a damaged ``labels.json``)."""
    try:
        temperature = float(value)
    except (TypeError, ValueError):
        temperature = float("nan")
    if not np.isfinite(temperature) or temperature <= 0:
        raise ModelFileError("The labels file has an invalid temperature (it must be above 0).")
    return temperature


def top_k_labels(
    probabilities: np.ndarray, classes: Sequence[str], k: int = 3
) -> list[list[tuple[str, float]]]:
    """Returns, per row, the k most likely (class name, probability) pairs, best first."""
    probabilities = np.asarray(probabilities)
    k = max(1, min(k, probabilities.shape[1]))
    order = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
    return [
        [(classes[j], float(row[j])) for j in idx]
        for row, idx in zip(probabilities, order, strict=True)
    ]
