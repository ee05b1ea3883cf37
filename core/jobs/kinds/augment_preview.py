"""The ``augment_preview`` job kind: augmented views of one training image, for the Data page.

The views are drawn by Keras's own random layers (``core.data.augment``, the training
augmentation), so they need TensorFlow and run here, never in the web process. They are stored
as PNG files beside a shared answer (``core.store.answers``): the same image, settings and
seed give the same pictures, so every later visit shows them at once.

Parameters: ``{"image": path, "augment": AugmentConfig dict, "seed": N, "count": N, "size": N}``
(``size``: the side the image is decoded at). The answer: ``{"files": [PNG names]}``, in the
folder ``core.store.answers.answer_files`` gives. The result: ``{"answer": key}``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from core.config.data import AugmentConfig
from core.data.augment import preview_augmentations
from core.data.images import load_image_array
from core.errors import plain_errors
from core.jobs.context import JobContext
from core.store.answers import answer_files, answer_key, write_answer

KIND = "augment_preview"


def run(context: JobContext) -> dict[str, Any]:
    """Draws and stores the views; see the module docstring."""
    params = context.params
    context.report(0.1, "Drawing augmented examples.")
    with plain_errors():
        augment = AugmentConfig.from_dict(params["augment"])
        image = load_image_array(str(params["image"]), int(params.get("size", 160)))
        views = preview_augmentations(
            image, augment, int(params.get("count", 6)), int(params.get("seed", 0))
        )
    folder = answer_files(context.settings, KIND, params)
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for index, view in enumerate(views):
        name = f"view_{index}.png"
        Image.fromarray(np.clip(view, 0, 255).astype(np.uint8)).save(folder / name)
        files.append(name)
    write_answer(context.settings, KIND, params, {"files": files})
    return {"answer": answer_key(KIND, params)}
