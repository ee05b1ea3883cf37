"""TrainConfig / FineTuneConfig / RunConfig validation and JSON round trips."""

from __future__ import annotations

import pytest

from core.config.data import AugmentConfig, DataConfig
from core.config.model import ModelConfig
from core.config.run import RunConfig
from core.config.train import FineTuneConfig, TrainConfig


def test_run_config_json_round_trip() -> None:
    config = RunConfig(
        data=DataConfig(path="/data", augmentation=AugmentConfig(flip_horizontal=True)),
        model=ModelConfig(backbone="mobilenet_v2", input_size=96, weights="none"),
        train=TrainConfig(
            optimizer="sgd",
            epochs=4,
            fine_tune=FineTuneConfig(unfreeze_from="block_16_expand"),
            strategy="mirrored",
            label_smoothing=0.1,
            augment_views=2,
        ),
        name="ants vs bees",
    )
    again = RunConfig.from_json(config.to_json())
    assert again == config and again.train.total_epochs == 9


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"optimizer": "adamw2"}, "Unknown optimizer"),
        ({"strategy": "tpu"}, "Unknown strategy"),
        ({"learning_rate": 0.0}, "learning rate"),
        ({"batch_size": 0}, "Batch size"),
        ({"label_smoothing": 0.9}, "Label smoothing"),
        ({"epochs": 1.5}, "Epochs"),
    ],
)
def test_invalid_train_config_is_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kwargs)  # type: ignore[arg-type]


def test_fine_tune_needs_exactly_one_start() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        FineTuneConfig()
    with pytest.raises(ValueError, match="exactly one"):
        FineTuneConfig(unfreeze_from="a", last_n=3)
    with pytest.raises(ValueError, match="factor"):
        FineTuneConfig(last_n=3, lr_factor=0.0)


def test_unknown_key_is_named() -> None:
    with pytest.raises(ValueError, match=r"train\.epoch"):
        RunConfig.from_dict({"data": {"path": "/d"}, "train": {"epoch": 3}})
