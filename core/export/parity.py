"""Parity checking of exported models: the images they are checked on and how they are run.

Every exported model file is reloaded from disk and run on the same batch as the in-app model
(up to ``PARITY_IMAGES`` held-out images, or seeded random pixels when the dataset is gone); a
largest absolute probability difference above ``FLOAT_PARITY_GOAL`` becomes a warning.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import DataError, StudioError

FLOAT_PARITY_GOAL = 1e-4  # float exports should agree with the app to 4 decimals
PARITY_IMAGES = 32


def parity_batch(
    run_dir: Path, predictor: Any, data_path: str | None
) -> tuple[np.ndarray, np.ndarray | None, str]:
    """Up to 32 validation images (with labels) or, if the data is gone, seeded random pixels."""
    from core.evaluate.metrics import held_out_items

    try:
        split, items, data_classes = held_out_items(run_dir, data_path, prefer="validation")
        items = items[:PARITY_IMAGES]
        images = predictor.load_images([path for path, _ in items])
        labels = np.array([predictor.classes.index(data_classes[i]) for _, i in items])
        return images, labels, f"{split} images"
    except (DataError, StudioError, ValueError):
        size = predictor.input_size
        rng = np.random.default_rng(0)
        images = rng.uniform(0, 255, (8, size, size, 3)).astype(np.float32)
        return images, None, "random pixel images"


def _tflite_interpreter(path: Path) -> Any:
    """The LiteRT interpreter when installed, else TensorFlow's (deprecated but working) one."""
    try:
        from ai_edge_litert.interpreter import Interpreter  # type: ignore[import-not-found]

        return Interpreter(model_path=str(path))
    except ImportError:
        import tensorflow as tf

        with warnings.catch_warnings():  # tf.lite.Interpreter warns that it is deprecated
            warnings.simplefilter("ignore")
            return tf.lite.Interpreter(model_path=str(path))


def run_tflite(path: Path, images: np.ndarray) -> np.ndarray:
    """Runs a .tflite file on a batch (input resized to the batch size); returns raw outputs."""
    interpreter = _tflite_interpreter(path)
    input_index = interpreter.get_input_details()[0]["index"]
    interpreter.resize_tensor_input(input_index, list(images.shape))
    interpreter.allocate_tensors()
    interpreter.set_tensor(input_index, images.astype(np.float32))
    interpreter.invoke()
    return np.array(interpreter.get_tensor(interpreter.get_output_details()[0]["index"]))


def parity_warnings(parity: dict[str, float]) -> list[str]:
    """One warning per artifact whose largest probability difference misses the goal."""
    return [
        f"The {name} export differs from the app by up to {diff:.2g} in probability "
        f"(goal: below {FLOAT_PARITY_GOAL:g}); check it before relying on it."
        for name, diff in parity.items()
        if diff > FLOAT_PARITY_GOAL
    ]
