"""ONNX export of a run's model, and running the file with onnxruntime for the parity check.

ONNX is the format most inference stacks take (onnxruntime, TensorRT, OpenVINO, ML.NET). Keras
writes it itself through tf2onnx (``model.export(path, format="onnx")``); checked with
tf2onnx 1.17, onnxruntime 1.32, TensorFlow 2.21, Keras 3.15 and numpy 2. Both packages are
optional (``requirements-extra.txt``): without them the format is unavailable and
``missing_onnx_packages`` says how to enable it in one sentence.

The exported graph has the same contract as ``model.keras``: float32 RGB 0..255 in, shape
``(batch, size, size, 3)`` with any batch size, probabilities out.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ONNX_PACKAGES = ("tf2onnx", "onnxruntime", "onnx")
ONNX_MISSING = "ONNX export needs the optional packages: pip install -r requirements-extra.txt"


def missing_onnx_packages() -> str | None:
    """The one sentence telling how to enable ONNX export, or None when it is available."""
    if all(importlib.util.find_spec(name) is not None for name in ONNX_PACKAGES):
        return None
    return ONNX_MISSING


def export_onnx(model: Any, path: Path, sample: np.ndarray) -> Path:
    """Writes ``model`` as an ONNX file at ``path``.

    Args:
        model: the in-app Keras model (raw 0..255 RGB in, probabilities out).
        path: the ``.onnx`` file to write.
        sample: one or more input images; the model is called on them first, because
            Keras needs a model that has been called to trace its serving function.
    """
    model(sample[:1], training=False)
    with warnings.catch_warnings():  # Keras's tf2onnx shim probes the removed np.object
        warnings.filterwarnings("ignore", message=".*np.object.*", category=FutureWarning)
        model.export(str(path), format="onnx", verbose=False)
    return path


def run_onnx(path: Path, images: np.ndarray) -> np.ndarray:
    """Runs an ONNX file on a batch with onnxruntime (CPU); returns the raw outputs."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    return np.asarray(session.run(None, {input_name: images.astype(np.float32)})[0])
