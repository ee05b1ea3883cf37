"""Freeze policy arithmetic, the fine-tune helper's errors and the layers it can unfreeze."""

from __future__ import annotations

import pytest

from core.config.model import FreezeConfig, ModelConfig, SurgeryConfig
from core.errors import StudioError
from core.model.builder import build_model, set_trainable_from
from core.model.cuts import LayerInfo, list_layers
from core.model.freezing import frozen_count, unfreeze_candidates


class _Layer:
    def __init__(self, name: str) -> None:
        self.name = name


LAYERS = [_Layer(name) for name in ("input", "conv1", "bn1", "relu1", "conv2", "pool")]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (FreezeConfig("backbone"), 6),
        (FreezeConfig("all_but_last"), 6),
        (FreezeConfig("none"), 0),
        (FreezeConfig("first_n", n=2), 2),
        (FreezeConfig("first_n", n=99), 6),
        (FreezeConfig("last_n_trainable", n=2), 4),
        (FreezeConfig("last_n_trainable", n=99), 0),
        (FreezeConfig("up_to", layer="relu1"), 4),
    ],
)
def test_frozen_count(spec: FreezeConfig, expected: int) -> None:
    assert frozen_count(LAYERS, spec) == expected


def test_unknown_freeze_layer() -> None:
    with pytest.raises(StudioError, match="'conv9' is not below the cut"):
        frozen_count(LAYERS, FreezeConfig("up_to", layer="conv9"))


def test_fine_tune_helper_errors_and_counts() -> None:
    built = build_model(ModelConfig(backbone="vgg16", input_size=32, weights="none"), 2)
    with pytest.raises(StudioError, match="not below the cut"):
        set_trainable_from(built, layer_name="predictions")
    with pytest.raises(StudioError, match="layer name or a number"):
        set_trainable_from(built, layer_name="block5_conv1", last_n=2)
    assert set_trainable_from(built, layer_name="block5_conv1") == 4
    assert not built.fully_frozen_extractor
    assert set_trainable_from(built, last_n=0) == 0
    assert built.fully_frozen_extractor


def _layer(name: str, position: int, recommended: bool = False) -> LayerInfo:
    return LayerInfo(name, "Conv2D", [None, 8, 8, 4], 0, 0, position, recommended)


# input, then two blocks: block_1 ends at "add_1", block_2 at "add_2" (recommended cuts).
TOY = [
    _layer(name, position, name.startswith("add"))
    for position, name in enumerate(
        ["input", "conv_1a", "conv_1b", "add_1", "conv_2a", "conv_2b", "add_2", "top"]
    )
]


def test_unfreeze_candidates_stop_at_the_cut_recommended_first() -> None:
    names = [layer.name for layer in unfreeze_candidates(TOY, "conv_2b")]
    # Nothing above the cut; "add_1" (recommended) first, then the rest deepest first.
    assert names == ["add_1", "conv_2b", "conv_2a", "conv_1b", "conv_1a", "input"]


def test_unfreeze_candidates_without_a_cut_use_the_last_layer() -> None:
    names = [layer.name for layer in unfreeze_candidates(TOY, None)]
    assert names[:2] == ["add_2", "add_1"] and names[2] == "top" and len(names) == len(TOY)
    # The cut layer itself is never offered as "recommended" (unfreezing it trains nothing).
    cut_at_add = [layer.name for layer in unfreeze_candidates(TOY, "add_2")]
    assert cut_at_add[:2] == ["add_1", "add_2"]


def test_unfreeze_candidates_leave_out_replaced_layers_only() -> None:
    replace = SurgeryConfig(action="replace", first="conv_1a", last="conv_1b")
    insert = SurgeryConfig(action="insert_after", first="conv_2a", layer_type="Dropout")
    names = [layer.name for layer in unfreeze_candidates(TOY, "top", (replace, insert))]
    assert "conv_1a" not in names and "conv_1b" not in names
    assert {"conv_2a", "add_1", "input"} <= set(names)
    unknown = SurgeryConfig(action="replace", first="nowhere")  # checked when the model is built
    assert len(unfreeze_candidates(TOY, "top", (unknown,))) == len(TOY)


def test_unfreeze_candidates_of_a_real_backbone() -> None:
    layers = list_layers("mobilenet_v2", 96)
    names = [layer.name for layer in layers]
    cut = "block_13_expand_relu"
    options = unfreeze_candidates(layers, cut)
    assert {layer.name for layer in options} == set(names[: names.index(cut) + 1])
    flags = [layer.block_end for layer in options]
    assert flags[0] and flags == sorted(flags, reverse=True)
    recommended = [layer.name for layer in options if layer.block_end]
    assert recommended == sorted(recommended, key=names.index, reverse=True)

    replaced = SurgeryConfig(action="replace", first="block_12_expand", last="block_12_depthwise")
    remaining = {layer.name for layer in unfreeze_candidates(layers, cut, (replaced,))}
    assert "block_12_expand" not in remaining and "block_12_depthwise" not in remaining
    assert "block_12_expand_BN" not in remaining and "block_11_add" in remaining
