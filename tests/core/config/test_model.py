"""ModelConfig validation and JSON round trip."""

from __future__ import annotations

import pytest

from core.config.model import (
    ConvBlockConfig,
    DenseConfig,
    FreezeConfig,
    HeadConfig,
    ModelConfig,
    SurgeryConfig,
)


def _full_spec() -> ModelConfig:
    return ModelConfig(
        backbone="vgg16",
        input_size=160,
        weights="none",
        cut_layer="block2_pool",
        surgery=(
            SurgeryConfig(
                action="replace",
                first="block1_conv1",
                last="block1_conv2",
                filters=64,
                kernel_size=5,
            ),
        ),
        head=HeadConfig(
            conv_blocks=(ConvBlockConfig(64, 3),),
            pooling="flatten",
            dense=(DenseConfig(256, dropout=0.5),),
            dropout=0.0,
        ),
        freeze=FreezeConfig("first_n", n=7),
    )


def test_json_round_trip() -> None:
    spec = _full_spec()
    assert ModelConfig.from_json(spec.to_json()) == spec
    assert ModelConfig.from_dict(ModelConfig().to_dict()) == ModelConfig()


def test_defaults_and_resolved_size() -> None:
    spec = ModelConfig()
    assert spec.backbone == "mobilenet_v2" and spec.resolved_input_size == 224
    assert ModelConfig(backbone="xception").resolved_input_size == 299
    assert ModelConfig(input_size=96).resolved_input_size == 96


def test_unknown_key_is_named() -> None:
    data = ModelConfig().to_dict()
    data["head"]["pool"] = "avg"
    with pytest.raises(ValueError, match=r"head\.pool"):
        ModelConfig.from_dict(data)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ModelConfig(backbone="vgg17"), "Unknown backbone"),
        (lambda: ModelConfig(backbone="xception", input_size=64), "at least 71x71"),
        (lambda: ModelConfig(weights="random"), "'imagenet' or 'none'"),
        (lambda: DenseConfig(units=0), "between 1 and 65536"),
        (lambda: DenseConfig(dropout=1.5), "Dropout must be between 0 and 1"),
        (lambda: DenseConfig(activation="relu6"), "activation must be one of"),
        (lambda: HeadConfig(pooling="sum"), "Pooling must be one of"),
        (lambda: HeadConfig(output="linear"), "'softmax' or 'sigmoid'"),
        (lambda: FreezeConfig(policy="half"), "Freeze policy must be one of"),
        (lambda: FreezeConfig(policy="up_to"), "needs the name"),
        (lambda: SurgeryConfig(first=""), "needs the name"),
        (lambda: SurgeryConfig(first="a", layer_type="LSTM"), "New layer type"),
        (lambda: SurgeryConfig(action="insert_after", first="a", last="b"), "one layer name"),
    ],
)
def test_validation_messages(make: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()  # type: ignore[operator]
