"""Reading model files a user or a run provides: the ``.keras`` model and its ``labels.json``.

A ``.keras`` file is loaded with ``safe_mode=True`` so a file carrying Python code (a ``Lambda``
layer) is refused instead of executed; every failure becomes a plain ``ModelFileError``.
``image_input_size`` checks that the model is an image classifier this studio can run.

Before a visitor's file is built, ``check_keras_archive`` reads the archive itself (a ``.keras``
file is a zip of ``config.json`` and ``model.weights.h5``) without TensorFlow: a pure function
the web process and a worker both call. The parameter count and the input side come from the
config alone (``core.predict.keras_config``: what building each layer will allocate), and the
weights file must be there, readable and hold exactly the config's variables
(``core.predict.weights_file``). So an 895-byte file declaring 307 million parameters, a
config of 100,000 nested brackets or a zip-bomb of zeros is refused before Keras sees it.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.data.zipsafe import ZipLimits
from core.errors import ModelFileError
from core.predict.keras_config import CODE_REFUSAL, parse_config, read_config
from core.predict.weights_file import check_weights_member

CONFIG_MEMBER = "config.json"
MAX_CONFIG_BYTES = 8 * 2**20  # a config.json is kilobytes to a few MB; parsing costs ~10x it


@dataclass(frozen=True)
class ArchiveFacts:
    """What ``check_keras_archive`` read from a ``.keras`` file without building it.

    Attributes:
        input_side: the largest spatial side of the model's inputs (None when not declared).
        params: parameters building the model creates (from the config; the weights match).
        largest_input: the most numbers one layer takes in per image (a memory plan's input).
    """

    input_side: int | None
    params: int
    largest_input: int = 0


def check_keras_archive(
    source: str | os.PathLike[str] | bytes,
    max_input: int,
    max_params: int,
    limits: ZipLimits | None = None,
) -> ArchiveFacts:
    """Refuses a ``.keras`` file above the caps or whose weights do not match its config.

    Only the archive's directory, ``config.json`` and the weights file's structure are read:
    nothing is built and no weight value is read, so a hostile file costs next to no memory.

    Args:
        source: the file's path, or its bytes (an upload).
        max_input: largest input side in pixels (``Settings.max_model_input``).
        max_params: most parameters (``Settings.max_model_params``).
        limits: zip limits for the weights member (the Data page's ``ZipLimits()`` default).

    Raises:
        ModelFileError: not a Keras archive, above a cap, or weights missing or mismatched.
    """
    opened = io.BytesIO(source) if isinstance(source, bytes) else Path(source)
    try:
        with zipfile.ZipFile(opened) as archive:
            config_info = _config_info(archive)
            facts = read_config(parse_config(archive.read(config_info)))
            _check_caps(facts.input_side, facts.params, max_input, max_params)
            check_weights_member(archive, facts.variables, limits or ZipLimits())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as error:
        raise ModelFileError(
            "The file could not be read as a Keras model (.keras is a zip archive)."
        ) from error
    return ArchiveFacts(facts.input_side, facts.params, facts.largest_input)


def _config_info(archive: zipfile.ZipFile) -> zipfile.ZipInfo:
    try:
        info = archive.getinfo(CONFIG_MEMBER)
    except KeyError:
        info = None
    if info is None or info.file_size > MAX_CONFIG_BYTES:
        raise ModelFileError(
            "The file is not a Keras model saved with model.save('name.keras') "
            "(it has no readable config.json)."
        )
    return info


def _check_caps(side: int | None, params: int, max_input: int, max_params: int) -> None:
    if side is not None and side > max_input:
        raise ModelFileError(
            f"This model expects images of {side} pixels a side, but models uploaded "
            f"here may take at most {max_input}. Use a model with a smaller input "
            "size (for example 224)."
        )
    if params > max_params:
        raise ModelFileError(
            f"This model has about {params:,} parameters, but models uploaded here may have "
            f"at most {max_params:,}. Use a smaller model."
        )


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
            raise ModelFileError(CODE_REFUSAL) from error
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
