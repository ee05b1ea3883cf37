"""Reading model files a user or a run provides: the ``.keras`` model and its ``labels.json``.

A ``.keras`` file is loaded with ``safe_mode=True`` so a file carrying Python code (a ``Lambda``
layer) is refused instead of executed; every failure becomes a plain ``ModelFileError``.
``image_input_size`` checks that the model is an image classifier this studio can run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from core.errors import ModelFileError


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


def image_input_size(model: Any) -> int:
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
