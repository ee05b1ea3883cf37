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

from core.model.forward import forward_in_batches
from core.model.release import collecting_garbage

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
    with warnings.catch_warnings(), collecting_garbage():  # see collecting_garbage: -550 MB
        # Keras's tf2onnx shim probes the removed np.object
        warnings.filterwarnings("ignore", message=".*np.object.*", category=FutureWarning)
        model.export(str(path), format="onnx", verbose=False)
    return path


def onnx_session(path: Path) -> Any:
    """An onnxruntime CPU session without the memory arena.

    The arena keeps the largest batch's buffers for the session's life (+360 MB after one call
    on 32 images at 224); without it each call frees what it took.
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.enable_cpu_mem_arena = False
    return onnxruntime.InferenceSession(
        str(path), sess_options=options, providers=["CPUExecutionProvider"]
    )


def run_onnx(path: Path, images: np.ndarray) -> np.ndarray:
    """Runs an ONNX file on images in bounded batches with onnxruntime (CPU); raw outputs."""
    session = onnx_session(path)
    input_name = session.get_inputs()[0].name
    return forward_in_batches(lambda batch: session.run(None, {input_name: batch})[0], images)
