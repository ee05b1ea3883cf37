"""ImageNet mode: predict with a stock backbone and its original 1000-class top.

Useful before any training: "what does the pretrained network see in my photo?". The model is
``Input(raw 0..255) -> the backbone's preprocessing layers -> keras.applications.<Net>
(include_top=True)``, wrapped in a ``Predictor`` whose class names come from
``imagenet_class_index.json`` (the file Keras's ``decode_predictions`` reads), so top-k labels
look the same as ``decode_predictions`` output.

The WITH-top weights are a different file from the no-top ones used for transfer learning.
They are looked up in ``STUDIO_WEIGHTS_DIR``, then Keras's cache, then downloaded by Keras; when
none of that works (offline), a ``WeightsUnavailableError`` says so plainly.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from core.config.backbones import get_backbone
from core.errors import WeightsUnavailableError
from core.model.preprocessing import add_preprocessing
from core.model.weights import can_download
from core.predict.predictor import Predictor

CLASS_INDEX_FILE = "imagenet_class_index.json"
IMAGENET_CLASSES = 1000


def _candidate_folders() -> list[Path]:
    """Folders that may hold weights files: STUDIO_WEIGHTS_DIR, then Keras's cache."""
    folders = []
    if os.environ.get("STUDIO_WEIGHTS_DIR"):
        folders.append(Path(os.environ["STUDIO_WEIGHTS_DIR"]))
    keras_home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    folders.append(keras_home / "models")
    return folders


def find_file(name: str) -> Path | None:
    """Returns the first existing ``name`` in the candidate folders, or None."""
    for folder in _candidate_folders():
        if (folder / name).is_file():
            return folder / name
    return None


def load_imagenet_labels(path: str | os.PathLike[str] | None = None) -> list[str]:
    """Returns the 1000 ImageNet class names in output order (e.g. ``"tench"``).

    Raises:
        WeightsUnavailableError: the class index file is missing or damaged.
    """
    source = Path(path) if path else find_file(CLASS_INDEX_FILE)
    if source is None:
        raise WeightsUnavailableError(
            f"The ImageNet class names ({CLASS_INDEX_FILE}) are not available on this server: "
            "put the file in the folder named by STUDIO_WEIGHTS_DIR or in ~/.keras/models."
        )
    try:
        index = json.loads(source.read_text(encoding="utf-8"))
        names = [str(index[str(i)][1]) for i in range(IMAGENET_CLASSES)]
    except (OSError, ValueError, KeyError, IndexError, TypeError) as error:
        raise WeightsUnavailableError(f"The file {source.name} is damaged: {error}.") from error
    return names


def top_weights_file(backbone_id: str) -> str:
    """The file name Keras uses for a backbone's ImageNet weights WITH the classifier top."""
    name = get_backbone(backbone_id).weights_file
    for marker in ("_no_top", "_notop"):
        name = name.replace(marker, "")
    return name


def _top_weights_unavailable(backbone_id: str) -> WeightsUnavailableError:
    """The sentence for ImageNet mode without the with-top weights file."""
    info = get_backbone(backbone_id)
    return WeightsUnavailableError(
        f"ImageNet mode needs the {info.keras_name} weights WITH the ImageNet classifier "
        f"({top_weights_file(backbone_id)}), and they are not available here: this server "
        "is offline and only has the weights without the classifier. It works where Keras "
        "can download them, or when the file is put in STUDIO_WEIGHTS_DIR."
    )


def check_imagenet_weights(backbone_id: str) -> None:
    """Refuses ImageNet mode at once when its files cannot be had (web side: no TensorFlow).

    The class names must be here, and the with-top weights here or downloadable.

    Raises:
        WeightsUnavailableError: the same sentences as building the network would give.
    """
    load_imagenet_labels()
    if find_file(top_weights_file(backbone_id)) is None and not can_download():
        raise _top_weights_unavailable(backbone_id)


def build_imagenet_model(
    backbone_id: str = "mobilenet_v2", weights: str | None = "imagenet"
) -> Any:
    """Builds raw-pixel-in, 1000-probabilities-out ImageNet classifier.

    Args:
        backbone_id: a backbone registry id.
        weights: "imagenet", or None for random weights (tests check shapes and labels).

    Raises:
        WeightsUnavailableError: the with-top weights cannot be found nor downloaded.
    """
    import keras

    info = get_backbone(backbone_id)
    size = info.default_size  # the ImageNet top only fits the size it was trained at
    source: str | None = None
    if weights == "imagenet":
        local = find_file(top_weights_file(backbone_id))
        source = str(local) if local is not None else "imagenet"
    try:
        network = info.constructor(weights=source, include_top=True, input_shape=(size, size, 3))
    except Exception as error:  # mostly: no internet to download the file
        raise _top_weights_unavailable(backbone_id) from error
    inputs = keras.Input((size, size, 3), name="image")
    outputs = network(add_preprocessing(inputs, info.preprocess))
    return keras.Model(inputs, outputs, name=f"{backbone_id}_imagenet")


def imagenet_predictor(backbone_id: str = "mobilenet_v2", weights: str | None = "imagenet") -> Any:
    """A ``Predictor`` over the stock ImageNet classifier, labelled with the 1000 class names."""
    labels = load_imagenet_labels()  # fail on the cheap check before building the network
    model = build_imagenet_model(backbone_id, weights)
    return Predictor(model, classes=labels, resize_mode="stretch", source=f"ImageNet {backbone_id}")
