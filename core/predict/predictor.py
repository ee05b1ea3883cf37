"""Loads a trained image classifier and turns images into class probabilities.

A ``Predictor`` wraps one Keras model that takes RAW RGB float32 pixels (0..255, shape
``(batch, size, size, 3)``; preprocessing lives inside the model) and returns probabilities. It
comes either from a finished run folder (``model.keras`` + ``labels.json``) or from a ``.keras``
file a user uploads, which is loaded with ``safe_mode=True`` so a file carrying Python code (a
``Lambda`` layer) is refused instead of executed.

Images are decoded by ``core.data.images.load_image_array``, the same function the training pipeline
uses, so the app, the CLI and the exported model all see identical pixels.

A run calibrated with ``python -m core calibrate`` (``core.evaluate.calibration``) has a
``temperature`` in ``labels.json``; every probability this class returns is then the calibrated
one (``apply_temperature``), so the "not sure" threshold works in calibrated probability. Optional
``class_thresholds`` raise that threshold for single classes (``threshold_for``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.data.images import load_image_array
from core.errors import ModelFileError
from core.model.forward import FORWARD_BATCH, forward_in_batches, traced_forward
from core.predict.model_file import image_input_size, load_keras_file, read_labels
from core.predict.ood import unknown_flags
from core.predict.probabilities import checked_temperature, probabilities_from_raw, top_k_labels
from core.store.ood_record import OodThreshold, read_ood_record

# Probabilities may be off by float rounding; beyond this the output is treated as logits.
_PROBABILITY_TOLERANCE = 1e-3
_RESIZE_MODES = ("stretch", "crop", "pad")


class Predictor:
    """A loaded classifier with its class names; read-only after construction.

    Attributes:
        model: the Keras model (raw 0..255 RGB in).
        classes: class names, one per output probability.
        input_size: side of the square input in pixels.
        resize_mode: how images are fitted to the input ("stretch", "crop" or "pad").
        output_kind: "softmax", "sigmoid" (one unit, two classes) or "logits" (softmax applied
            here because the model's last layer has no activation).
        source: where the model came from (run folder or file name), for display.
        temperature: divides the log-probabilities before they are normalised again
            (``apply_temperature``); 1.0 leaves them unchanged.
        class_thresholds: per class name, the least probability to answer that class.
        ood: the run's unknown-image threshold (None: no unknown-image verdict).
    """

    def __init__(
        self,
        model: Any,
        classes: Sequence[str] | None = None,
        resize_mode: str = "stretch",
        source: str = "",
        temperature: float = 1.0,
        class_thresholds: dict[str, float] | None = None,
        ood: OodThreshold | None = None,
    ) -> None:
        """Checks the model's shape, matches class names and warms the model up.

        Raises:
            ModelFileError: the model is not an image classifier or the names do not match.
        """
        self.model = model
        self.input_size = image_input_size(model)
        units = int(model.outputs[0].shape[1])
        num_classes = 2 if units == 1 else units
        names = list(classes) if classes else [f"class_{i}" for i in range(num_classes)]
        if len(names) != num_classes:
            raise ModelFileError(
                f"The model predicts {num_classes} classes but {len(names)} class names were "
                "given; the labels do not belong to this model."
            )
        if resize_mode not in _RESIZE_MODES:
            raise ModelFileError(f"Unknown resize mode '{resize_mode}'.")
        self.classes = names
        self.resize_mode = resize_mode
        self.source = source
        self.temperature = checked_temperature(temperature)
        self.class_thresholds = dict(class_thresholds or {})
        self.ood = ood
        self._units = units
        # A traced graph function: much faster than model.predict for one image, and the fixed
        # signature (any batch size) means it is traced once, not per batch size.
        self._forward = traced_forward(model, self.input_size)
        self.output_kind = self._detect_output_kind()

    @property
    def num_classes(self) -> int:
        """Number of classes (2 for a single sigmoid unit)."""
        return len(self.classes)

    def _detect_output_kind(self) -> str:
        """Runs two probe images (warming the graph up) to see if outputs are probabilities."""
        probe = np.stack(
            [
                np.zeros((self.input_size, self.input_size, 3), np.float32),
                np.random.default_rng(0).uniform(0, 255, (self.input_size, self.input_size, 3)),
            ]
        ).astype(np.float32)
        raw = np.asarray(self._forward(probe))
        if self._units == 1:
            in_range = bool(np.all(raw >= -_PROBABILITY_TOLERANCE) and np.all(raw <= 1 + 1e-3))
            return "sigmoid" if in_range else "sigmoid_logits"
        sums_to_one = np.allclose(raw.sum(axis=1), 1.0, atol=_PROBABILITY_TOLERANCE)
        non_negative = bool(np.all(raw >= -_PROBABILITY_TOLERANCE))
        return "softmax" if sums_to_one and non_negative else "logits"

    def to_probabilities(self, raw: np.ndarray) -> np.ndarray:
        """Maps the model's raw output to (N, num_classes) probabilities."""
        return probabilities_from_raw(raw, self.output_kind, self._units, self.temperature)

    def threshold_for(self, class_name: str, threshold: float) -> float:
        """The "not sure" threshold for an answer of ``class_name``: the larger of the two."""
        return max(threshold, float(self.class_thresholds.get(class_name, 0.0)))

    def is_unknown(self, probabilities: np.ndarray) -> np.ndarray:
        """Per row of ``predict_*``'s probabilities, True when it looks like none of the classes."""
        return unknown_flags(probabilities, self.ood, self.temperature)

    def predict_arrays(self, images: np.ndarray, batch_size: int = FORWARD_BATCH) -> np.ndarray:
        """Predicts class probabilities for already decoded images, in bounded batches.

        Args:
            images: float array (N, size, size, 3) with RGB values 0..255.
            batch_size: images per forward pass (``core.model.forward``).

        Returns:
            float32 array (N, num_classes); each row sums to 1.
        """
        images = np.asarray(images, dtype=np.float32)
        expected = (self.input_size, self.input_size, 3)
        if images.ndim != 4 or images.shape[1:] != expected:
            raise ModelFileError(
                f"Images must have shape (N, {self.input_size}, {self.input_size}, 3), "
                f"got {images.shape}."
            )
        if len(images) == 0:
            return np.zeros((0, self.num_classes), np.float32)
        raw = forward_in_batches(self._forward, images, batch_size=batch_size)
        return self.to_probabilities(raw)

    def load_images(self, sources: Iterable[Any]) -> np.ndarray:
        """Decodes image files/bytes with the training pipeline's decoder.

        Raises:
            DataError: an image cannot be decoded (the message names the reason).
        """
        arrays = [load_image_array(src, self.input_size, self.resize_mode) for src in sources]
        if not arrays:
            return np.zeros((0, self.input_size, self.input_size, 3), np.float32)
        return np.stack(arrays).astype(np.float32)

    def predict_sources(
        self, sources: Iterable[Any], batch_size: int = FORWARD_BATCH
    ) -> np.ndarray:
        """Decodes and predicts paths, bytes or file objects, one bounded batch at a time."""
        sources = list(sources)
        if not sources:
            return np.zeros((0, self.num_classes), np.float32)
        raw = forward_in_batches(
            self._forward, sources, decode=self.load_images, batch_size=batch_size
        )
        return self.to_probabilities(raw)

    def top_k(self, probabilities: np.ndarray, k: int = 3) -> list[list[tuple[str, float]]]:
        """Returns, per row, the k most likely (class name, probability) pairs, best first."""
        return top_k_labels(probabilities, self.classes, k)

    # -- constructors ---------------------------------------------------------------------------

    @classmethod
    def from_run(cls, run_dir: str | os.PathLike[str]) -> Predictor:
        """Loads a finished run's ``model.keras`` with the class names from ``labels.json``.

        Raises:
            ModelFileError: the run has no trained model or its files are damaged.
        """
        run_dir = Path(run_dir)
        model_path, labels_path = run_dir / "model.keras", run_dir / "labels.json"
        if not model_path.is_file() or not labels_path.is_file():
            raise ModelFileError(
                f"Run {run_dir.name} has no trained model yet (it may still be training, "
                "or it stopped before saving one)."
            )
        labels = read_labels(labels_path)
        thresholds = labels.get("class_thresholds")
        predictor = cls(
            load_keras_file(model_path),
            classes=labels["classes"],
            resize_mode=str(labels.get("resize_mode", "stretch")),
            source=run_dir.name,
            temperature=labels.get("temperature", 1.0),
            class_thresholds=thresholds if isinstance(thresholds, dict) else None,
            ood=read_ood_record(run_dir),
        )
        if int(labels.get("input_size", predictor.input_size)) != predictor.input_size:
            raise ModelFileError(f"Run {run_dir.name}: labels.json does not match the model.")
        return predictor

    @classmethod
    def from_model_file(
        cls,
        path: str | os.PathLike[str],
        classes: Sequence[str] | None = None,
        resize_mode: str = "stretch",
    ) -> Predictor:
        """Loads a user's ``.keras`` file with ``safe_mode=True`` (see ``load_keras_file``)."""
        model = load_keras_file(path)
        return cls(model, classes=classes, resize_mode=resize_mode, source=Path(path).name)

    @classmethod
    def from_model_bytes(
        cls, data: bytes, classes: Sequence[str] | None = None, resize_mode: str = "stretch"
    ) -> Predictor:
        """Loads an uploaded ``.keras`` file's bytes (Keras needs a real ``.keras`` path)."""
        if not data.startswith(b"PK"):
            raise ModelFileError("The uploaded file is not a .keras model (it is not a zip file).")
        with tempfile.TemporaryDirectory(prefix="studio_upload_") as folder:
            path = Path(folder) / "uploaded.keras"
            path.write_bytes(data)
            return cls.from_model_file(path, classes=classes, resize_mode=resize_mode)
