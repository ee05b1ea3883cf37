"""Freeze policy arithmetic and the fine-tune helper's errors."""

from __future__ import annotations

import pytest

from core.errors import StudioError
from core.model.builder import build_model, set_trainable_from
from core.model.freezing import frozen_count
from core.model.spec import FreezeSpec, ModelSpec


class _Layer:
    def __init__(self, name: str) -> None:
        self.name = name


LAYERS = [_Layer(name) for name in ("input", "conv1", "bn1", "relu1", "conv2", "pool")]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (FreezeSpec("backbone"), 6),
        (FreezeSpec("all_but_last"), 6),
        (FreezeSpec("none"), 0),
        (FreezeSpec("first_n", n=2), 2),
        (FreezeSpec("first_n", n=99), 6),
        (FreezeSpec("last_n_trainable", n=2), 4),
        (FreezeSpec("last_n_trainable", n=99), 0),
        (FreezeSpec("up_to", layer="relu1"), 4),
    ],
)
def test_frozen_count(spec: FreezeSpec, expected: int) -> None:
    assert frozen_count(LAYERS, spec) == expected


def test_unknown_freeze_layer() -> None:
    with pytest.raises(StudioError, match="'conv9' is not below the cut"):
        frozen_count(LAYERS, FreezeSpec("up_to", layer="conv9"))


def test_fine_tune_helper_errors_and_counts() -> None:
    built = build_model(ModelSpec(backbone="vgg16", input_size=32, weights="none"), 2)
    with pytest.raises(StudioError, match="not below the cut"):
        set_trainable_from(built, layer_name="predictions")
    with pytest.raises(StudioError, match="layer name or a number"):
        set_trainable_from(built, layer_name="block5_conv1", last_n=2)
    assert set_trainable_from(built, layer_name="block5_conv1") == 4
    assert not built.fully_frozen_extractor
    assert set_trainable_from(built, last_n=0) == 0
    assert built.fully_frozen_extractor
