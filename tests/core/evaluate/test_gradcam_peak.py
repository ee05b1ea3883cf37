"""Grad-CAM points at the evidence: a trained model's heatmap peaks where the object is.

The generated images hold one coloured square (red for class "red", blue for class "blue") in
one corner of a noisy grey background. During training the square visits every corner, so the
class is told by the colour, never by the place. A heatmap that ignored the picture (all
zeros, whose argmax is the top-left cell, or one fixed spot) fails for at least three of the
four corners.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from core.evaluate.gradcam import grad_cam
from tests.helpers.runs import tiny_classifier

SIZE = 32
SQUARE = 8
COLOURS = {0: (220, 30, 30), 1: (30, 30, 220)}  # class index -> RGB of its square
CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")


def _image(label: int, corner: str, rng: np.random.Generator) -> np.ndarray:
    """A noisy grey 32x32 picture with the class's square in ``corner`` (a few pixels in)."""
    grey = rng.uniform(60, 180, (SIZE, SIZE, 1))
    image = np.repeat(grey, 3, axis=2) + rng.normal(0, 10, (SIZE, SIZE, 3))
    margin = int(rng.integers(1, 4))
    top = margin if corner.startswith("top") else SIZE - SQUARE - margin
    left = margin if corner.endswith("left") else SIZE - SQUARE - margin
    image[top : top + SQUARE, left : left + SQUARE] = COLOURS[label]
    return np.clip(image, 0, 255).astype(np.float32)


def _dataset(count: int, seed: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``count`` images cycling through both classes and all four corners."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % 2
    corners = [CORNERS[(index // 2) % 4] for index in range(count)]
    images = np.stack([_image(int(y), c, rng) for y, c in zip(labels, corners, strict=True)])
    return images, labels, corners


def _quadrant(heatmap: np.ndarray) -> str:
    """The quadrant of the heatmap's hottest cell."""
    row, column = np.unravel_index(int(np.argmax(heatmap)), heatmap.shape)
    half_rows, half_columns = heatmap.shape[0] / 2, heatmap.shape[1] / 2
    return ("top" if row < half_rows else "bottom") + (
        "-left" if column < half_columns else "-right"
    )


@pytest.fixture(scope="module")
def trained() -> Any:
    """The studio-shaped toy classifier, trained until it separates the two colours."""
    import keras

    model = tiny_classifier(2, size=SIZE, seed=3)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    images, labels, _ = _dataset(64, seed=0)
    model.fit(images, labels, epochs=30, batch_size=16, verbose=0)
    return model


def test_heatmap_peaks_in_the_quadrant_of_the_object(trained: Any) -> None:
    images, labels, corners = _dataset(16, seed=1)  # new pictures, every corner twice per class
    predicted = np.asarray(trained(images, training=False)).argmax(axis=1)
    assert (predicted == labels).all()  # the model separates the classes
    for image, label, corner in zip(images, labels, corners, strict=True):
        heatmap, layer = grad_cam(trained, image, class_index=int(label))
        assert layer == "conv_b"
        assert heatmap.max() == pytest.approx(1.0)  # not all zeros (normalised to its peak)
        assert _quadrant(heatmap) == corner, (corner, np.round(heatmap, 1))
        # Most of the heat is in that quadrant, not just its single hottest cell.
        half = heatmap.shape[0] // 2
        rows = slice(0, half) if corner.startswith("top") else slice(half, None)
        columns = slice(0, half) if corner.endswith("left") else slice(half, None)
        assert heatmap[rows, columns].sum() > 0.5 * heatmap.sum()


def _two_squares(corners: dict[int, str], rng: np.random.Generator) -> np.ndarray:
    """One picture with both classes' squares, each in its own corner."""
    image = _image(0, corners[0], rng)
    margin = 2
    top = margin if corners[1].startswith("top") else SIZE - SQUARE - margin
    left = margin if corners[1].endswith("left") else SIZE - SQUARE - margin
    image[top : top + SQUARE, left : left + SQUARE] = COLOURS[1]
    return image


@pytest.mark.parametrize(
    "corners",
    [{0: "top-left", 1: "bottom-right"}, {0: "bottom-right", 1: "top-left"},
     {0: "top-right", 1: "bottom-left"}, {0: "bottom-left", 1: "top-right"}],
)  # fmt: skip
def test_the_class_to_explain_decides_the_map(trained: Any, corners: dict[int, str]) -> None:
    """Both squares in one picture: each class's map is hot on its own square.

    One class is the model's answer; the other is explained on request (Evaluate shows why a
    mistake was made by explaining the true class too). A version that always explains the
    top class gives the same map twice and points at the wrong square for the other class.
    """
    image = _two_squares(corners, np.random.default_rng(5))
    probabilities = np.asarray(trained(image[None], training=False))[0]
    top = int(np.argmax(probabilities))
    maps = {label: grad_cam(trained, image, class_index=label)[0] for label in (0, 1)}
    for label, heatmap in maps.items():
        assert _quadrant(heatmap) == corners[label], (label, top, np.round(heatmap, 1))
    assert np.abs(maps[0] - maps[1]).max() > 0.5
