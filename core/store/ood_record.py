"""A run's ``ood.json``: the score under which an image looks like none of the known classes.

A classifier has no "none of these" answer: a photo of a document still gets a class. The cheap
signal used here is the maximum class probability (Hendrycks & Gimpel, 2017): images like the
training data usually get one confident class, images unlike it are spread out more. The
threshold is calibrated when training ends, on the validation split (images the model did not
train on): its ``percentile``-th percentile (5 by default), so about 5 % of in-distribution
images are flagged by construction and the rest depends on how unlike the data an image is.

The score comes from the probabilities alone, so Keras, LiteRT and exported models apply it
alike (``core.predict.ood``). ``temperature`` is the calibration temperature the probabilities
had when the threshold was set (1.0 at the end of training); a run calibrated later is scored at
that temperature again, so the threshold keeps its meaning. A run without the file (an older
run, or too few validation images) has no unknown-image verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np

from core.atomic import read_json_object, write_json_atomic
from core.store.json_record import JsonFileRecord, JsonObject, Reader, integer, number, text

OOD_FILE = "ood.json"
OOD_PERCENTILE = 5.0
MAX_PROBABILITY = "max_probability"
# Below this many validation images a 5th percentile is the minimum of a handful of numbers:
# no threshold is stored rather than a noisy one.
MIN_CALIBRATION_IMAGES = 8


@dataclass(frozen=True)
class OodThreshold(JsonFileRecord):
    """``ood.json``: an image whose score is below ``threshold`` looks like none of the classes.

    Attributes:
        score: how the score is computed (``"max_probability"``).
        threshold: the calibrated threshold on that score.
        percentile: the percentile of validation scores the threshold is.
        temperature: the probabilities' temperature when the threshold was set.
        images: validation images the threshold was calibrated on.
        flagged_share: the share of those images under the threshold.
    """

    score: str | None = None
    threshold: float | None = None
    percentile: float | None = None
    temperature: float | None = None
    images: int | None = None
    flagged_share: float | None = None
    extra: JsonObject = field(default_factory=dict)
    keys: tuple[str, ...] | None = field(default=None, repr=False, compare=False)

    READERS: ClassVar[dict[str, Reader]] = {
        "score": text, "threshold": number, "percentile": number, "temperature": number,
        "images": integer, "flagged_share": number,
    }  # fmt: skip


def max_probability(probabilities: np.ndarray) -> np.ndarray:
    """Per row, the largest class probability (one sigmoid column counts as ``[1 - p, p]``)."""
    values = np.asarray(probabilities, dtype=np.float64)
    if values.ndim == 2 and values.shape[1] == 1:
        values = np.concatenate([1.0 - values, values], axis=1)
    return values.max(axis=1)


def calibrate_ood(
    validation_probabilities: np.ndarray, percentile: float = OOD_PERCENTILE
) -> OodThreshold | None:
    """The threshold at ``percentile`` of the validation images' scores (temperature 1).

    Returns:
        The record, or None when there are fewer than ``MIN_CALIBRATION_IMAGES`` images.
    """
    if not 0 < percentile < 50:
        raise ValueError(f"The percentile must be between 0 and 50, got {percentile}.")
    scores = max_probability(validation_probabilities)
    if len(scores) < MIN_CALIBRATION_IMAGES:
        return None
    threshold = float(np.percentile(scores, percentile))
    return OodThreshold(
        score=MAX_PROBABILITY,
        threshold=threshold,
        percentile=percentile,
        temperature=1.0,
        images=len(scores),
        flagged_share=float(np.mean(scores < threshold)),
    )


def store_ood_threshold(
    run_dir: Path, validation: tuple[np.ndarray, np.ndarray] | None
) -> OodThreshold | None:
    """Calibrates on the validation (probabilities, targets) and writes ``ood.json``.

    Returns:
        The stored record; None (nothing stored) without enough validation images.
    """
    record = calibrate_ood(validation[0]) if validation is not None else None
    if record is not None:
        write_json_atomic(Path(run_dir) / OOD_FILE, record.to_dict())
    return record


def read_ood_record(folder: Path) -> OodThreshold | None:
    """The folder's usable record; None when it has none or it is damaged or of another score."""
    record = OodThreshold.from_dict(read_json_object(Path(folder) / OOD_FILE))
    usable = (
        record.score == MAX_PROBABILITY
        and record.threshold is not None
        and record.temperature is not None
        and record.temperature > 0
    )
    return record if usable else None
