"""In-model preprocessing equals each family's ``preprocess_input``."""

from __future__ import annotations

import numpy as np
import pytest

from core.config.backbones import get_backbone, list_backbones
from core.model.preprocessing import add_preprocessing, preprocessing_model

# Every backbone of the catalogue: a new one must say how its pictures are preprocessed.
BACKBONE_IDS = tuple(info.id for info in list_backbones())
BACKBONE_COUNT = 40  # keras.applications' constructors (tests/core/model/test_backbones.py)


def test_every_backbone_is_checked() -> None:
    assert len(BACKBONE_IDS) == BACKBONE_COUNT


@pytest.mark.parametrize("backbone_id", BACKBONE_IDS)
def test_matches_keras_preprocess_input(backbone_id: str) -> None:
    info = get_backbone(backbone_id)
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (2, 8, 8, 3)).astype("float32")
    expected = np.asarray(info.preprocess_input(images.copy()))
    actual = np.asarray(preprocessing_model(info.preprocess, 8)(images))
    np.testing.assert_allclose(actual, expected, atol=1e-4)


def test_caffe_layer_is_frozen_and_rgb_sensitive() -> None:
    model = preprocessing_model("caffe", 4)
    assert not model.trainable_weights
    red = np.zeros((1, 4, 4, 3), "float32")
    red[..., 0] = 255.0
    out = np.asarray(model(red))
    # RGB red lands in the last (R of BGR) channel.
    np.testing.assert_allclose(out[0, 0, 0], [-103.939, -116.779, 255 - 123.68], atol=1e-4)


def test_unknown_mode() -> None:
    import keras

    with pytest.raises(ValueError, match="Unknown preprocessing mode"):
        add_preprocessing(keras.Input((4, 4, 3)), "bgr")
