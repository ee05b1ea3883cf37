"""Reading model files a user or a run provides: the ``.keras`` model and its ``labels.json``.

A ``.keras`` file is loaded with ``safe_mode=True`` so a file carrying Python code (a ``Lambda``
layer) is refused instead of executed; every failure becomes a plain ``ModelFileError``.
``image_input_size`` checks that the model is an image classifier this studio can run.

Before a visitor's file is built, ``check_keras_archive`` reads the archive itself (a ``.keras``
file is a zip of ``config.json`` and ``model.weights.h5``) without TensorFlow: the model's input
side and its parameter count (the weights file's dataset shapes) are compared with the caps of
``core.config.settings.Settings``. A 16 KB file declaring an 8000x8000 input is refused there,
before Keras would allocate anything for it.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from core.errors import ModelFileError

CONFIG_MEMBER = "config.json"
WEIGHTS_MEMBER = "model.weights.h5"
MAX_CONFIG_BYTES = 20 * 2**20  # a config.json is kilobytes; a bigger one is not a model
# Keras stores float32 weights; an HDF5 file has a few KB of structure on top.
_BYTES_PER_PARAM = 4
_H5_OVERHEAD_BYTES = 2**20
_SHAPE_KEYS = ("batch_shape", "batch_input_shape")


@dataclass(frozen=True)
class ArchiveFacts:
    """What ``check_keras_archive`` read from a ``.keras`` file without building it.

    Attributes:
        input_side: the largest spatial side of the model's inputs (None when not declared).
        params: parameters stored in the weights file.
    """

    input_side: int | None
    params: int


def _input_shapes(node: Any, root: bool = True) -> list[list[Any]]:
    """Input shapes a Keras config declares: every InputLayer's, and the model's build shape."""
    shapes: list[list[Any]] = []
    if isinstance(node, dict):
        config = node.get("config")
        if node.get("class_name") == "InputLayer" and isinstance(config, dict):
            shapes += [config[key] for key in _SHAPE_KEYS if isinstance(config.get(key), list)]
        if root:  # a Sequential model without an InputLayer keeps its input in build_config
            build = node.get("build_config")
            if isinstance(build, dict) and isinstance(build.get("input_shape"), list):
                shapes.append(build["input_shape"])
        for value in node.values():
            shapes += _input_shapes(value, root=False)
    elif isinstance(node, list):
        for value in node:
            shapes += _input_shapes(value, root=False)
    return shapes


def _largest_side(shapes: list[list[Any]]) -> int | None:
    """The largest spatial size of ``(batch, height, width, channels)``-like shapes."""
    sides = []
    for shape in shapes:
        spatial = shape[1:-1] if len(shape) >= 3 else shape[1:]
        sides += [int(v) for v in spatial if isinstance(v, int) and not isinstance(v, bool)]
    return max(sides) if sides else None


def _count_h5_params(handle: IO[bytes], size: int) -> int:
    """The model's values in a Keras weights file (dataset shapes only; no weight is read).

    An optimizer's slots (``optimizer/...``) are not the model's and are never loaded for
    inference (``compile=False``), so they are left out.
    """
    import h5py

    with tempfile.TemporaryDirectory(prefix="studio_weights_") as folder:
        path = Path(folder) / WEIGHTS_MEMBER
        with open(path, "wb") as out:
            shutil.copyfileobj(handle, out, 2**20)
        total = 0
        try:
            with h5py.File(path, "r") as weights:

                def add(name: str, item: Any) -> None:
                    nonlocal total
                    if name.startswith("optimizer"):
                        return
                    if isinstance(item, h5py.Dataset) and item.shape is not None:
                        total += math.prod(item.shape)

                weights.visititems(add)
        except (OSError, ValueError):  # not HDF5: judge it by its size
            return size // _BYTES_PER_PARAM
    return total


def check_keras_archive(
    source: str | os.PathLike[str] | bytes, max_input: int, max_params: int
) -> ArchiveFacts:
    """Refuses a ``.keras`` file whose input side or parameter count is above the caps.

    Only the archive's directory, ``config.json`` and the weights file's structure are read:
    nothing is built, so a file declaring a huge input costs no memory to refuse.

    Args:
        source: the file's path, or its bytes (an upload).
        max_input: largest input side in pixels (``Settings.max_model_input``).
        max_params: most parameters (``Settings.max_model_params``).

    Raises:
        ModelFileError: not a Keras archive, or above a cap (a plain sentence with the numbers).
    """
    import io

    opened = io.BytesIO(source) if isinstance(source, bytes) else Path(source)
    try:
        with zipfile.ZipFile(opened) as archive:
            names = {info.filename: info for info in archive.infolist()}
            config_info = names.get(CONFIG_MEMBER)
            if config_info is None or config_info.file_size > MAX_CONFIG_BYTES:
                raise ModelFileError(
                    "The file is not a Keras model saved with model.save('name.keras') "
                    "(it has no readable config.json)."
                )
            config = json.loads(archive.read(config_info).decode("utf-8"))
            side = _largest_side(_input_shapes(config))
            if side is not None and side > max_input:
                raise ModelFileError(
                    f"This model expects images of {side} pixels a side, but models uploaded "
                    f"here may take at most {max_input}. Use a model with a smaller input "
                    "size (for example 224)."
                )
            weights = names.get(WEIGHTS_MEMBER)
            params = 0
            if weights is not None:
                if weights.file_size > max_params * _BYTES_PER_PARAM + _H5_OVERHEAD_BYTES:
                    params = weights.file_size // _BYTES_PER_PARAM
                else:
                    with archive.open(weights) as handle:
                        params = _count_h5_params(handle, weights.file_size)
    except (zipfile.BadZipFile, OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelFileError(
            "The file could not be read as a Keras model (.keras is a zip archive)."
        ) from error
    if params > max_params:
        raise ModelFileError(
            f"This model has about {params:,} parameters, but models uploaded here may have "
            f"at most {max_params:,}. Use a smaller model."
        )
    return ArchiveFacts(input_side=side, params=params)


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


def read_labels(source: str | os.PathLike[str] | bytes) -> dict[str, Any]:
    """Reads and checks a ``labels.json`` (classes, input_size, resize_mode).

    Args:
        source: The file's path, or its content (an uploaded ``labels.json``).

    Raises:
        ModelFileError: the file is not valid JSON or has no list of class names.
    """
    try:
        text = (
            source.decode("utf-8")
            if isinstance(source, bytes)
            else Path(source).read_text(encoding="utf-8")
        )
        labels = json.loads(text)
    except (OSError, ValueError) as error:  # UnicodeDecodeError is a ValueError
        raise ModelFileError(f"The labels file could not be read: {error}.") from error
    classes = labels.get("classes") if isinstance(labels, dict) else None
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
        raise ModelFileError("The labels file must contain a list of class names under 'classes'.")
    return dict(labels)
