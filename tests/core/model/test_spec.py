"""ModelSpec validation and JSON round trip."""

from __future__ import annotations

import pytest

from core.model.spec import (
    ConvBlockSpec,
    DenseSpec,
    FreezeSpec,
    HeadSpec,
    ModelSpec,
    SurgeryOp,
)


def _full_spec() -> ModelSpec:
    return ModelSpec(
        backbone="vgg16",
        input_size=160,
        weights="none",
        cut_layer="block2_pool",
        surgery=(
            SurgeryOp(
                action="replace",
                first="block1_conv1",
                last="block1_conv2",
                filters=64,
                kernel_size=5,
            ),
        ),
        head=HeadSpec(
            conv_blocks=(ConvBlockSpec(64, 3),),
            pooling="flatten",
            dense=(DenseSpec(256, dropout=0.5),),
            dropout=0.0,
        ),
        freeze=FreezeSpec("first_n", n=7),
    )


def test_json_round_trip() -> None:
    spec = _full_spec()
    assert ModelSpec.from_json(spec.to_json()) == spec
    assert ModelSpec.from_dict(ModelSpec().to_dict()) == ModelSpec()


def test_defaults_and_resolved_size() -> None:
    spec = ModelSpec()
    assert spec.backbone == "mobilenet_v2" and spec.resolved_input_size == 224
    assert ModelSpec(backbone="xception").resolved_input_size == 299
    assert ModelSpec(input_size=96).resolved_input_size == 96


def test_unknown_key_is_named() -> None:
    data = ModelSpec().to_dict()
    data["head"]["pool"] = "avg"
    with pytest.raises(ValueError, match=r"head\.pool"):
        ModelSpec.from_dict(data)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ModelSpec(backbone="vgg17"), "Unknown backbone"),
        (lambda: ModelSpec(backbone="xception", input_size=64), "at least 71x71"),
        (lambda: ModelSpec(weights="random"), "'imagenet' or 'none'"),
        (lambda: DenseSpec(units=0), "between 1 and 65536"),
        (lambda: DenseSpec(dropout=1.5), "Dropout must be between 0 and 1"),
        (lambda: DenseSpec(activation="relu6"), "activation must be one of"),
        (lambda: HeadSpec(pooling="sum"), "Pooling must be one of"),
        (lambda: HeadSpec(output="linear"), "'softmax' or 'sigmoid'"),
        (lambda: FreezeSpec(policy="half"), "Freeze policy must be one of"),
        (lambda: FreezeSpec(policy="up_to"), "needs the name"),
        (lambda: SurgeryOp(first=""), "needs the name"),
        (lambda: SurgeryOp(first="a", layer_type="LSTM"), "New layer type"),
        (lambda: SurgeryOp(action="insert_after", first="a", last="b"), "one layer name"),
    ],
)
def test_validation_messages(make: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()  # type: ignore[operator]
