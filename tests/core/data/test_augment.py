"""Augmentation layers and the deterministic preview."""

from __future__ import annotations

import numpy as np
import pytest

from core.config.data import AugmentConfig
from core.data.augment import build_augmenter, preview_augmentations, preview_figure

FULL = AugmentConfig(flip_horizontal=True, flip_vertical=True, rotation=30, translation=0.1,
                   zoom=0.2, contrast=0.3, brightness=0.2)  # fmt: skip


def _image() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.uniform(0, 255, (32, 32, 3)).astype(np.float32)


def test_no_augmenter_when_everything_is_off():
    assert build_augmenter(AugmentConfig(), seed=0) is None
    assert build_augmenter(None, seed=0) is None


def test_one_layer_per_switched_on_augmentation():
    augmenter = build_augmenter(FULL, seed=0)
    assert augmenter is not None
    names = [type(layer).__name__ for layer in augmenter.layers]
    assert names == ["RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom",
                     "RandomContrast", "RandomBrightness"]  # fmt: skip
    assert augmenter.layers[1].factor == pytest.approx((-30 / 360, 30 / 360))


def test_preview_is_deterministic_with_a_seed():
    first = preview_augmentations(_image(), FULL, n=4, seed=5)
    again = preview_augmentations(_image(), FULL, n=4, seed=5)
    other = preview_augmentations(_image(), FULL, n=4, seed=6)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))
    assert not np.array_equal(first[0], first[1])  # each version differs
    assert all(p.shape == (32, 32, 3) and p.min() >= 0 and p.max() <= 255 for p in first)


def test_preview_without_augmentation_returns_copies():
    previews = preview_augmentations(_image(), AugmentConfig(), n=2)
    assert all(np.array_equal(p, _image()) for p in previews)


def test_preview_refuses_non_rgb():
    with pytest.raises(ValueError, match="RGB"):
        preview_augmentations(np.zeros((8, 8)), FULL)


def test_preview_figure_has_original_plus_n_images():
    figure = preview_figure(_image(), FULL, n=5, seed=1)
    assert len(figure.data) == 6 and figure.layout.annotations[0].text == "original"
