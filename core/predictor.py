"""Loads a trained image classifier and turns images into class probabilities.

A ``Predictor`` wraps one Keras model that takes RAW RGB float32 pixels (0..255, shape
``(batch, size, size, 3)``; preprocessing lives inside the model) and returns probabilities. It
comes either from a finished run folder (``model.keras`` + ``labels.json``) or from a ``.keras``
file a user uploads, which is loaded with ``safe_mode=True`` so a file carrying Python code (a
``Lambda`` layer) is refused instead of executed.

Images are decoded by ``core.images.load_image_array``, the same function the training pipeline
uses, so the app, the CLI and the exported model all see identical pixels.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ModelFileError

# Probabilities may be off by float rounding; beyond this the output is treated as logits.
_PROBABILITY_TOLERANCE = 1e-3
_RESIZE_MODES = ("stretch", "crop", "pad")


def load_keras_file(path: str | os.PathLike[str]) -> Any:
    """Loads a ``.keras`` file with ``safe_mode=True`` and turns any failure into a plain error.

    Args:
        path: a file whose name ends in ``.keras``.

    Returns:
        The loaded ``keras.Model`` (not compiled: only inference is needed).

    Raises:
        ModelFileError: the file is missing, not a Keras archive, or unsafe to load.
    """
    import keras

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"The model file {path.name} does not exist.")
    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many types; all mean "cannot use this file"
        text = str(error)
        if "safe_mode" in text or "Lambda" in text or "arbitrary code" in text:
            raise ModelFileError(
                "This model file contains Python code (for example a Lambda layer), which could "
                "run anything on the server, so it was refused. Save the model using only "
                "built-in Keras layers and upload it again."
            ) from error
        raise ModelFileError(
            f"The file {path.name} could not be read as a Keras model ({type(error).__name__}). "
            "Upload a model saved with model.save('name.keras') using built-in Keras layers."
        ) from error
    if not isinstance(model, keras.Model):
        raise ModelFileError("The file does not contain a Keras model.")
    return model


def _input_size(model: Any) -> int:
    """Returns the square input size of an image classifier or raises ModelFileError."""
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ModelFileError(
            "The model must have exactly one input (an image) and one output (class scores); "
            f"it has {len(model.inputs)} inputs and {len(model.outputs)} outputs."
        )
    shape = tuple(model.inputs[0].shape)
    if len(shape) != 4 or shape[3] != 3 or shape[1] is None or shape[1] != shape[2]:
        raise ModelFileError(
            "The model is not an image classifier this studio can use: its input must be "
            f"square RGB images, shape (batch, size, size, 3), but it is {shape}."
        )
    out_shape = tuple(model.outputs[0].shape)
    if len(out_shape) != 2 or out_shape[1] is None:
        raise ModelFileError(
            "The model is not an image classifier: its output must be one score per class, "
            f"shape (batch, classes), but it is {out_shape}."
        )
    return int(shape[1])


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
    """

    def __init__(
        self,
        model: Any,
        classes: Sequence[str] | None = None,
        resize_mode: str = "stretch",
        source: str = "",
    ) -> None:
        """Checks the model's shape, matches class names and warms the model up.

        Raises:
            ModelFileError: the model is not an image classifier or the names do not match.
        """
        import tensorflow as tf

        self.model = model
        self.input_size = _input_size(model)
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
        self._units = units
        # A traced graph function: much faster than model.predict for one image, and the fixed
        # signature (any batch size) means it is traced once, not per batch size.
        spec = tf.TensorSpec((None, self.input_size, self.input_size, 3), tf.float32)
        self._forward = tf.function(lambda x: model(x, training=False), input_signature=[spec])
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
        raw = raw.astype(np.float64)
        if self.output_kind == "sigmoid_logits":
            raw = 1.0 / (1.0 + np.exp(-raw))
        if self._units == 1:
            positive = raw[:, 0]
            return np.stack([1.0 - positive, positive], axis=1).astype(np.float32)
        if self.output_kind == "logits":
            shifted = np.exp(raw - raw.max(axis=1, keepdims=True))
            raw = shifted / shifted.sum(axis=1, keepdims=True)
        return raw.astype(np.float32)

    def predict_arrays(self, images: np.ndarray, batch_size: int = 32) -> np.ndarray:
        """Predicts class probabilities for already decoded images.

        Args:
            images: float array (N, size, size, 3) with RGB values 0..255.
            batch_size: images per forward pass (bounds memory).

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
        outputs = [
            np.asarray(self._forward(images[start : start + batch_size]))
            for start in range(0, len(images), batch_size)
        ]
        return self.to_probabilities(np.concatenate(outputs, axis=0))

    def load_images(self, sources: Iterable[Any]) -> np.ndarray:
        """Decodes image files/bytes with the training pipeline's decoder.

        Raises:
            DataError: an image cannot be decoded (the message names the reason).
        """
        from core.images import load_image_array

        arrays = [load_image_array(src, self.input_size, self.resize_mode) for src in sources]
        if not arrays:
            return np.zeros((0, self.input_size, self.input_size, 3), np.float32)
        return np.stack(arrays).astype(np.float32)

    def predict_sources(self, sources: Iterable[Any], batch_size: int = 32) -> np.ndarray:
        """Decodes and predicts paths, bytes or file objects; returns (N, num_classes)."""
        sources = list(sources)
        rows = [
            self.predict_arrays(self.load_images(sources[start : start + batch_size]))
            for start in range(0, len(sources), batch_size)
        ]
        return np.concatenate(rows) if rows else np.zeros((0, self.num_classes), np.float32)

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
        predictor = cls(
            load_keras_file(model_path),
            classes=labels["classes"],
            resize_mode=str(labels.get("resize_mode", "stretch")),
            source=run_dir.name,
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


def read_labels(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Reads and checks a ``labels.json`` (classes, input_size, resize_mode).

    Raises:
        ModelFileError: the file is not valid JSON or has no list of class names.
    """
    try:
        labels = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ModelFileError(f"The labels file could not be read: {error}.") from error
    classes = labels.get("classes") if isinstance(labels, dict) else None
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
        raise ModelFileError("The labels file must contain a list of class names under 'classes'.")
    return dict(labels)


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


IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")
NOT_SURE = "not sure"


def prediction_rows(
    predictor: Predictor,
    sources: Sequence[tuple[str, Any]],
    k: int = 3,
    threshold: float = 0.0,
) -> list[dict[str, Any]]:
    """Predicts named images; one row per image, also for images that cannot be decoded.

    Args:
        predictor: the loaded model.
        sources: (display name, path/bytes/file) pairs.
        k: number of top classes listed per image.
        threshold: below this top probability the answer is "not sure".

    Returns:
        Rows with file, predicted, confidence, top_k (text) and error (empty when fine).
    """
    from core.errors import DataError
    from core.images import load_image_array

    arrays, ok_rows, rows = [], [], []
    for name, source in sources:
        row: dict[str, Any] = {"file": name, "predicted": "", "confidence": None, "top_k": ""}
        try:
            arrays.append(load_image_array(source, predictor.input_size, predictor.resize_mode))
            ok_rows.append(row)
            row["error"] = ""
        except DataError as error:
            row["error"] = str(error)
        rows.append(row)
    if arrays:
        probabilities = predictor.predict_arrays(np.stack(arrays))
        for row, top in zip(ok_rows, predictor.top_k(probabilities, k), strict=True):
            best_name, best_p = top[0]
            row["predicted"] = best_name if best_p >= threshold else NOT_SURE
            row["confidence"] = round(best_p, 6)
            row["top_k"] = "; ".join(f"{name} {p:.3f}" for name, p in top)
    return rows


def image_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Expands files and folders (recursively) into image files, sorted within each folder."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES))
        else:
            files.append(path)
    return files


def predict_zip(
    predictor: Predictor, file: Any, k: int = 3, threshold: float = 0.0
) -> list[dict[str, Any]]:
    """Predicts every image in an uploaded zip (extracted safely, then deleted).

    Raises:
        DataError: the zip is unsafe, too large, or holds no image.
    """
    from core.errors import DataError
    from core.zipsafe import extract_zip

    with tempfile.TemporaryDirectory(prefix="studio_batch_") as folder:
        root = extract_zip(file, Path(folder) / "batch")
        files = image_files([root])
        if not files:
            raise DataError("The zip file holds no images (jpg, png, bmp, gif, webp or tiff).")
        named = [(str(path.relative_to(root)), path) for path in files]
        return prediction_rows(predictor, named, k, threshold)
