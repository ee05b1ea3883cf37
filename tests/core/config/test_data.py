"""DataConfig / AugmentConfig: JSON round trip, validation with plain messages."""

from __future__ import annotations

import pytest

from core.config.data import AugmentConfig, DataConfig


def test_round_trip_through_json():
    augmentation = AugmentConfig(flip_horizontal=True, rotation=15, zoom=0.1)
    spec = DataConfig("data", 0.2, 0.1, seed=3, resize_mode="pad", augmentation=augmentation)
    assert DataConfig.from_json(spec.to_json()) == spec
    assert spec.to_dict()["augmentation"]["rotation"] == 15


def test_augmentation_off_by_default():
    assert not AugmentConfig().enabled
    assert AugmentConfig(brightness=0.1).enabled and AugmentConfig(flip_vertical=True).enabled


def test_unknown_key_is_named():
    with pytest.raises(ValueError, match=r"'augmentation\.blur'"):
        DataConfig.from_dict({"path": "d", "augmentation": {"blur": 1}})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rotation": 400}, "Rotation"),
        ({"translation": -0.1}, "Translation"),
        ({"zoom": 1.5}, "Zoom"),
        ({"contrast": "lots"}, "Contrast must be a number"),
        ({"flip_horizontal": "yes"}, "true or false"),
    ],
)
def test_bad_augmentation_values(kwargs: dict, message: str):
    with pytest.raises(ValueError, match=message):
        AugmentConfig(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"path": ""}, "data path is empty"),
        ({"path": "d", "val_ratio": 0.5, "test_ratio": 0.5}, "leave images for training"),
        ({"path": "d", "seed": -1}, "Seed"),
        ({"path": "d", "resize_mode": "squash"}, "Resize mode"),
    ],
)
def test_bad_data_values(kwargs: dict, message: str):
    with pytest.raises(ValueError, match=message):
        DataConfig(**kwargs)
