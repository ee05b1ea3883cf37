"""Building a backbone: a ``keras.applications`` network without its classifier top.

The facts of each backbone are in the registry (``core.config.backbones``). ImageNet weights
come from the folder in ``STUDIO_WEIGHTS_DIR`` when it holds the file Keras would download
(passed to the constructor as an explicit path, so any input size works), otherwise Keras
downloads them (``core.model.weights``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from core.config.backbones import WEIGHT_CHOICES, get_backbone, validate_input_size
from core.errors import WeightsUnavailableError
from core.model.keras_graph import snake_case
from core.model.weights import local_weights_path

if TYPE_CHECKING:
    import keras


def _canonical_names(model: keras.Model) -> keras.Model:
    """Renames auto-named layers (``conv2d_187``) by their order inside this model (``conv2d``,
    ``conv2d_1``...).

    Keras numbers auto-named layers with a process-wide counter, so the same backbone built
    twice gets different names (InceptionV3, DenseNet, ...). Users pick cut and freeze layers by
    name from a cached listing, so names must not depend on what was built before.
    """
    seen: dict[str, int] = {}
    for operation in model.operations:
        base = snake_case(type(operation).__name__)
        if re.fullmatch(rf"{re.escape(base)}(_\d+)?", operation.name):
            count = seen.get(base, 0)
            operation.name = base if count == 0 else f"{base}_{count}"
            seen[base] = count + 1
    return model


def build_backbone(backbone_id: str, input_size: int, weights: str = "imagenet") -> keras.Model:
    """Builds the backbone without its classifier for square RGB inputs of ``input_size``.

    The returned network expects inputs already preprocessed the way the backbone's
    ``preprocess_input`` does it (``core.model.preprocessing`` adds that part).

    Args:
        backbone_id: A registry id such as ``mobilenet_v2``.
        input_size: Height and width of the input images in pixels.
        weights: ``"imagenet"`` for pretrained weights or ``"none"`` for random initialisation.

    Raises:
        ValueError: for an unknown backbone, weights choice or an unsuitable size.
        WeightsUnavailableError: when the ImageNet weights cannot be found or downloaded.
    """
    info = get_backbone(backbone_id)
    if weights not in WEIGHT_CHOICES:
        raise ValueError(f"Weights must be 'imagenet' or 'none', got '{weights}'.")
    validate_input_size(info, input_size)
    shape = (input_size, input_size, 3)
    if weights == "none":
        return _canonical_names(
            info.constructor(weights=None, include_top=False, input_shape=shape)
        )
    local = local_weights_path(backbone_id)
    # An explicit file path loads at any input size; "imagenet" makes some constructors look
    # for a size-specific file (e.g. MobileNetV2 at 160 wants ..._160_no_top.h5).
    source = str(local) if local is not None else "imagenet"
    try:
        model = info.constructor(weights=source, include_top=False, input_shape=shape)
    except Exception as error:  # download refused, file corrupt or of another network
        raise WeightsUnavailableError(
            f"The ImageNet weights for {info.keras_name} could not be loaded: put the file "
            f"'{info.weights_file}' in the server's weights folder (STUDIO_WEIGHTS_DIR) or "
            "allow the download, or choose random initialisation instead."
        ) from error
    return _canonical_names(model)
