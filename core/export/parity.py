"""Parity checking of exported models: the images they are checked on and how they are run.

Every exported model file is reloaded from disk and run on the same batch as the in-app model
(up to ``PARITY_IMAGES`` held-out images, or seeded random pixels when the dataset is gone); a
largest absolute probability difference above ``FLOAT_PARITY_GOAL`` becomes a warning.

"The in-app model" is the run's ``model.keras`` as the app's ``Predictor`` loads it: the model
the Predict and Evaluate pages use. The model that trained lived in another worker process and
is gone by export time, so the ``keras`` row compares two loads of the same file (it catches a
broken copy or loader, not a save that lost something). That the saved file reproduces the
trained in-memory model is shown by ``tests/core/export/test_parity_real_run.py``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import DataError, StudioError
from core.evaluate.held_out import held_out_items
from core.model.forward import forward_in_batches
from core.predict.lite import TfliteForward

FLOAT_PARITY_GOAL = 1e-4  # float exports should agree with the app to 4 decimals
PARITY_IMAGES = 32


@dataclass(frozen=True)
class ParityBatch:
    """The images every export is checked on, their labels and where they came from."""

    images: np.ndarray
    labels: np.ndarray | None  # model class indices; None for random pixels
    source: str  # "validation images", "test images" or "random pixel images"
    notes: list[str] = field(default_factory=list)  # e.g. the dataset changed since training


def parity_batch(run_dir: Path, predictor: Any, data_path: str | None) -> ParityBatch:
    """Up to 32 held-out images (validation first) or, if the data is gone, seeded random pixels.

    The images come from the split stored with the run (``core.evaluate.held_out``), so they
    were never trained on; what changed in the dataset folder since is in ``notes``.
    """
    try:
        held_out = held_out_items(run_dir, data_path, prefer="validation")
        items = held_out.items[:PARITY_IMAGES]
        images = predictor.load_images([path for path, _ in items])
        labels = np.array([predictor.classes.index(held_out.classes[i]) for _, i in items])
        return ParityBatch(images, labels, f"{held_out.split} images", held_out.notes)
    except (DataError, StudioError, ValueError):
        size = predictor.input_size
        rng = np.random.default_rng(0)
        images = rng.uniform(0, 255, (8, size, size, 3)).astype(np.float32)
        return ParityBatch(images, None, "random pixel images")


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
    """Runs a .tflite file on images in bounded batches; returns raw outputs."""
    return forward_in_batches(TfliteForward(path, _tflite_interpreter(path)), images)


def parity_warnings(parity: dict[str, float]) -> list[str]:
    """One warning per artifact whose largest probability difference misses the goal."""
    return [
        f"The {name} export differs from the app by up to {diff:.2g} in probability "
        f"(goal: below {FLOAT_PARITY_GOAL:g}); check it before relying on it."
        for name, diff in parity.items()
        if diff > FLOAT_PARITY_GOAL
    ]


def parity_verdict(parity: dict[str, float]) -> tuple[bool, str]:
    """The export check in one line: (passed, sentence), e.g. "... within 1e-4 ...: pass".

    Every float format must agree with the studio's own prediction to below
    ``FLOAT_PARITY_GOAL``; no format checked is a fail (there is nothing to trust yet).
    """
    goal = f"{FLOAT_PARITY_GOAL:.0e}".replace("e-0", "e-")  # "1e-4", as people write it
    if not parity:
        return False, "No model file was checked: fail (export again)."
    over = [name for name, diff in parity.items() if not diff < FLOAT_PARITY_GOAL]
    if not over:
        return True, f"All formats within {goal} of the studio's model: pass."
    worst = max(parity[name] for name in over)
    return False, (
        f"{', '.join(over)} differ(s) from the studio's model by up to {worst:.2g} "
        f"(goal: below {goal}): fail."
    )
