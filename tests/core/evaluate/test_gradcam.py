"""Grad-CAM on nested studio-style models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.errors import StudioError
from core.evaluate.gradcam import find_target_layer, grad_cam, overlay
from tests.helpers.runs import tiny_classifier


def test_uses_last_feature_map_inside_nested_model() -> None:
    model = tiny_classifier(2)
    layer_name = find_target_layer(model)
    assert layer_name == "conv_b"
    image = np.random.default_rng(0).uniform(0, 255, (32, 32, 3)).astype(np.float32)
    heatmap, used = grad_cam(model, image, class_index=1)
    assert used == "conv_b"
    assert heatmap.shape == (16, 16)  # conv_b has stride 2
    assert heatmap.min() >= 0.0 and heatmap.max() <= 1.0
    blended = overlay(image, heatmap)
    assert blended.shape == (32, 32, 3) and blended.dtype == np.uint8


def test_conv_layer_in_head_is_preferred() -> None:
    import keras

    image = keras.Input((32, 32, 3))
    extractor = keras.Model(image, keras.layers.Conv2D(4, 3, name="cut")(image), name="fe")
    features = keras.Input(extractor.output.shape[1:])
    x = keras.layers.Conv2D(4, 3, activation="relu", name="head_conv")(features)
    x = keras.layers.GlobalAveragePooling2D()(x)
    head = keras.Model(features, keras.layers.Dense(3, activation="softmax")(x), name="head")
    model = keras.Model(image, head(extractor(image)))
    assert find_target_layer(model) == "head_conv"
    heatmap, _ = grad_cam(model, np.full((32, 32, 3), 120.0, np.float32), class_index=2)
    assert heatmap.shape == (28, 28)


def test_sigmoid_model_and_dense_only_model() -> None:
    import keras

    model = tiny_classifier(output="sigmoid")
    image = np.random.default_rng(1).uniform(0, 255, (32, 32, 3)).astype(np.float32)
    assert grad_cam(model, image, class_index=0)[0].shape == (16, 16)
    flat_in = keras.Input((32, 32, 3))
    flat = keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(flat_in))
    with pytest.raises(StudioError, match="convolutional feature map"):
        grad_cam(keras.Model(flat_in, flat), image, class_index=0)


@pytest.mark.parametrize(
    ("conv_blocks", "expected_layer", "map_side"),
    [
        ((), "out_relu", 3),
        (({"filters": 8, "kernel_size": 1, "padding": "same", "pool_size": 0},), None, 3),
    ],
)
def test_studio_model_reloaded_from_disk(
    tmp_path: Path, conv_blocks: tuple, expected_layer: str | None, map_side: int
) -> None:
    """A saved studio model is flat (backbone layers inlined) with a nested head."""
    import keras

    from core.config.model import ModelConfig
    from core.model.builder import build_model

    spec = ModelConfig.from_dict(
        {
            "backbone": "mobilenet_v2",
            "input_size": 96,
            "weights": "none",
            "head": {"conv_blocks": list(conv_blocks)},
        }
    )
    build_model(spec, num_classes=3).model.save(tmp_path / "model.keras")
    model = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    image = np.random.default_rng(2).uniform(0, 255, (96, 96, 3)).astype(np.float32)
    heatmap, layer = grad_cam(model, image, class_index=2)
    head_layers = {sub.name for sub in model.layers[-1].layers}
    if expected_layer:
        assert layer == expected_layer  # the cut point
    else:
        assert layer in head_layers  # the convolution inside the head
    assert heatmap.shape == (map_side, map_side)


def test_flat_model_with_skip_connection() -> None:
    import keras

    image = keras.Input((32, 32, 3))
    a = keras.layers.Conv2D(4, 3, padding="same", name="a")(image)
    b = keras.layers.Conv2D(4, 3, padding="same", name="b")(a)
    joined = keras.layers.Add(name="join")([a, b])
    x = keras.layers.GlobalAveragePooling2D()(joined)
    model = keras.Model(image, keras.layers.Dense(2, activation="softmax")(x))
    heatmap, layer = grad_cam(model, np.full((32, 32, 3), 80.0, np.float32), class_index=1)
    assert layer == "join" and heatmap.shape == (32, 32)
