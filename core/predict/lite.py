"""Single-image prediction in the web process: a run's TFLite model on LiteRT, no TensorFlow.

The web process never imports TensorFlow or Keras (about 650 MB and seconds of import). The
Predict page answers from ``LitePredictor``: the model converted once to a float32 TFLite file
by a worker job (the ``predict_model`` kind, ``core.export.lite_model.prepare_lite_model``) and
run with ``ai_edge_litert``'s interpreter (a few MB of runtime). Pixels come from the one decoder
(``core.data.images.load_image_array``) with the model's size and resize mode, and the raw output
becomes probabilities exactly as ``Predictor.to_probabilities`` does
(``core.predict.probabilities``: same output kind, same temperature), so the answers match the
Keras model. That is checked when the file is made: the largest probability difference on the
run's parity images is stored next to the file, and a file that misses the float goal is not
kept.

Files, in ``<folder>/lite/`` (a run folder, or the job folder of an uploaded or ImageNet model):
``model.tflite`` and ``model.json`` (input size, output kind, units, parity, and the mtime of
the ``model.keras`` it was made from, so a retrained run's old file is never used).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.data.images import load_image_array
from core.errors import ModelFileError
from core.model.forward import forward_in_batches
from core.predict.model_file import read_labels
from core.predict.ood import unknown_flags
from core.predict.probabilities import checked_temperature, probabilities_from_raw, top_k_labels
from core.store.ood_record import read_ood_record

LITE_FOLDER = "lite"
LITE_MODEL = "model.tflite"
LITE_FACTS = "model.json"
LITE_THREADS = 2


def lite_files(folder: Path) -> tuple[Path, Path]:
    """The folder's (TFLite model, facts JSON) paths."""
    return folder / LITE_FOLDER / LITE_MODEL, folder / LITE_FOLDER / LITE_FACTS


def keras_mtime(folder: Path) -> float:
    """The mtime of the folder's ``model.keras`` (0 when it has none: a stock network)."""
    path = folder / "model.keras"
    return path.stat().st_mtime if path.is_file() else 0.0


def lite_model_ready(folder: Path) -> bool:
    """True when the folder has a TFLite model made from its current ``model.keras``."""
    model, facts_path = lite_files(folder)
    if not model.is_file() or not facts_path.is_file():
        return False
    try:
        facts = json.loads(facts_path.read_text(encoding="utf-8"))
        return float(facts["keras_mtime"]) == keras_mtime(folder)
    except (OSError, ValueError, KeyError, TypeError):
        return False


class TfliteForward:
    """A ``.tflite`` model as a batch function ``raw = forward(images)``; thread-safe.

    The input is resized only when the batch shape changes, so a run of equal batches
    allocates once. One lock per interpreter: Streamlit sessions share a cached one.

    Args:
        path: the ``.tflite`` file.
        interpreter: an interpreter already made for it (default: LiteRT's, ``num_threads``).
        num_threads: threads of a new LiteRT interpreter.
    """

    def __init__(
        self, path: Path, interpreter: Any = None, num_threads: int = LITE_THREADS
    ) -> None:
        if interpreter is None:
            from ai_edge_litert.interpreter import Interpreter  # type: ignore[import-not-found]

            interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
        self._interpreter = interpreter
        self._input = interpreter.get_input_details()[0]["index"]
        self._output = interpreter.get_output_details()[0]["index"]
        self._shape: list[int] = []
        self._lock = threading.Lock()

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        with self._lock:
            if list(batch.shape) != self._shape:
                self._shape = list(batch.shape)
                self._interpreter.resize_tensor_input(self._input, self._shape)
                self._interpreter.allocate_tensors()
            self._interpreter.set_tensor(self._input, batch.astype(np.float32))
            self._interpreter.invoke()
            return np.array(self._interpreter.get_tensor(self._output))


class LitePredictor:
    """A classifier on LiteRT with the answers of ``core.predict.predictor.Predictor``.

    Args:
        folder: a folder with ``labels.json`` and a ready ``lite/`` model (``lite_model_ready``).
        source: the name shown for the model (default: the folder's name).

    Attributes:
        classes, input_size, resize_mode, output_kind, temperature, class_thresholds, ood,
            source: as on ``Predictor``.
        parity: the largest probability difference to the Keras model, measured when the file
            was made.
        size_mb: the model file's size (what the web process's model cache counts).

    Raises:
        ModelFileError: no ready model in ``folder``, or its labels are damaged.
    """

    def __init__(self, folder: str | Path, source: str | None = None) -> None:
        folder = Path(folder)
        model_path, facts_path = lite_files(folder)
        if not lite_model_ready(folder):
            raise ModelFileError(f"{folder.name} has no quick-prediction model yet.")
        facts = json.loads(facts_path.read_text(encoding="utf-8"))
        labels = read_labels(folder / "labels.json")
        self.classes: list[str] = list(labels["classes"])
        self.input_size = int(facts["input_size"])
        self.resize_mode = str(labels.get("resize_mode", "stretch"))
        self.output_kind = str(facts["output_kind"])
        self.parity = float(facts["parity"])
        self.temperature = checked_temperature(labels.get("temperature", 1.0))
        thresholds = labels.get("class_thresholds")
        self.class_thresholds = dict(thresholds) if isinstance(thresholds, dict) else {}
        self.ood = read_ood_record(folder)  # a run's; a job folder (uploaded model) has none
        self.source = source or str(facts.get("source") or folder.name)
        self.size_mb = model_path.stat().st_size / 2**20
        self._units = int(facts["units"])
        self._forward = TfliteForward(model_path)

    @property
    def num_classes(self) -> int:
        """Number of classes (2 for a single sigmoid unit)."""
        return len(self.classes)

    def to_probabilities(self, raw: np.ndarray) -> np.ndarray:
        """Raw outputs to probabilities, as ``Predictor.to_probabilities``."""
        return probabilities_from_raw(raw, self.output_kind, self._units, self.temperature)

    def load_images(self, sources: Iterable[Any]) -> np.ndarray:
        """Decodes images with the training pipeline's decoder (the model's size and mode)."""
        arrays = [load_image_array(src, self.input_size, self.resize_mode) for src in sources]
        if not arrays:
            return np.zeros((0, self.input_size, self.input_size, 3), np.float32)
        return np.stack(arrays).astype(np.float32)

    def predict_arrays(self, images: np.ndarray) -> np.ndarray:
        """Probabilities (N, num_classes) of decoded images, in bounded batches."""
        if len(images) == 0:
            return np.zeros((0, self.num_classes), np.float32)
        return self.to_probabilities(forward_in_batches(self._forward, images))

    def predict_sources(self, sources: Sequence[Any]) -> np.ndarray:
        """Decodes and predicts paths, bytes or file objects, one bounded batch at a time."""
        if len(sources) == 0:
            return np.zeros((0, self.num_classes), np.float32)
        raw = forward_in_batches(self._forward, list(sources), decode=self.load_images)
        return self.to_probabilities(raw)

    def is_unknown(self, probabilities: np.ndarray) -> np.ndarray:
        """Per row, True when it looks like none of the classes (as ``Predictor.is_unknown``)."""
        return unknown_flags(probabilities, self.ood, self.temperature)

    def threshold_for(self, class_name: str, threshold: float) -> float:
        """The "not sure" threshold for ``class_name`` (as ``Predictor.threshold_for``)."""
        return max(threshold, float(self.class_thresholds.get(class_name, 0.0)))

    def top_k(self, probabilities: np.ndarray, k: int = 3) -> list[list[tuple[str, float]]]:
        """Per row, the k most likely (class name, probability) pairs, best first."""
        return top_k_labels(probabilities, self.classes, k)
