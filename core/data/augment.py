"""Training-time augmentation as Keras preprocessing layers (``keras.layers.Random*``).

``build_augmenter`` turns an ``AugmentConfig`` into a seeded ``keras.Sequential`` that the tf.data
pipeline applies to training batches only. ``preview_augmentations`` shows the user what the
settings do on one of their images; with the same seed it always returns the same pictures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from core.config.data import AugmentConfig
from core.data.charts import image_grid_figure

if TYPE_CHECKING:
    import keras
    import plotly.graph_objects as go

VALUE_RANGE = (0.0, 255.0)  # the pipeline's raw RGB range; contrast/brightness clip to it


def build_augmenter(spec: AugmentConfig | None, seed: int = 0) -> keras.Sequential | None:
    """Builds the augmentation layers for ``spec``.

    Args:
        spec: which augmentations are on and how strong (None or all off: no augmenter).
        seed: base seed; each layer gets its own seed derived from it.

    Returns:
        A ``keras.Sequential`` taking and returning float32 (B, H, W, 3) in 0..255, to be called
        with ``training=True``; or None when nothing is switched on.
    """
    if spec is None or not spec.enabled:
        return None
    import keras  # lazy: importing Keras/TensorFlow takes seconds

    layers: list[keras.layers.Layer] = []
    flip = {
        (True, False): "horizontal",
        (False, True): "vertical",
        (True, True): "horizontal_and_vertical",
    }.get((spec.flip_horizontal, spec.flip_vertical))
    if flip:
        layers.append(keras.layers.RandomFlip(flip, seed=seed))
    if spec.rotation:
        # Keras expresses rotation as a fraction of a full turn.
        layers.append(keras.layers.RandomRotation(spec.rotation / 360.0, seed=seed + 1))
    if spec.translation:
        layers.append(
            keras.layers.RandomTranslation(spec.translation, spec.translation, seed=seed + 2)
        )
    if spec.zoom:
        layers.append(keras.layers.RandomZoom(spec.zoom, spec.zoom, seed=seed + 3))
    if spec.contrast:
        layers.append(
            keras.layers.RandomContrast(spec.contrast, value_range=VALUE_RANGE, seed=seed + 4)
        )
    if spec.brightness:
        layers.append(
            keras.layers.RandomBrightness(spec.brightness, value_range=VALUE_RANGE, seed=seed + 5)
        )
    return keras.Sequential(layers, name="augmentation")


def preview_augmentations(
    image_array: np.ndarray, spec: AugmentConfig, n: int = 8, seed: int = 0
) -> list[np.ndarray]:
    """Returns ``n`` augmented versions of one image (deterministic for a given seed).

    Args:
        image_array: float32 or uint8 (H, W, 3) RGB in 0..255 (e.g. from ``load_image_array``).
        spec: the augmentation settings to preview.
        n: how many versions.
        seed: the same seed gives the same pictures.

    Returns:
        ``n`` float32 (H, W, 3) arrays clipped to 0..255 (copies of the image when all is off).
    """
    if n < 1:
        raise ValueError(f"The number of previews must be at least 1, got {n}.")
    image = np.asarray(image_array, dtype=np.float32)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"Expected an RGB image of shape (H, W, 3), got {image.shape}.")
    augmenter = build_augmenter(spec, seed)
    batch = np.repeat(image[None], n, axis=0)
    if augmenter is not None:
        # Fresh layers with a fixed seed: the same random draws every time for the same seed.
        batch = np.asarray(augmenter(batch, training=True), dtype=np.float32)
    batch = np.clip(batch, *VALUE_RANGE)
    return [batch[index] for index in range(n)]


def preview_figure(
    image_array: np.ndarray, spec: AugmentConfig, n: int = 8, seed: int = 0, columns: int = 3
) -> go.Figure:
    """A grid figure: the original image followed by ``n`` augmented versions."""
    images = [
        np.asarray(image_array, dtype=np.float32),
        *preview_augmentations(image_array, spec, n, seed),
    ]
    titles = ["original"] + [f"augmented {index + 1}" for index in range(n)]
    return image_grid_figure(images, titles, columns=columns)
