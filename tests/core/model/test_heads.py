"""The head builder: layers, shapes and errors."""

from __future__ import annotations

import pytest

from core.config.model import ConvBlockConfig, DenseConfig, HeadConfig
from core.errors import StudioError
from core.model.heads import build_head


def test_seed_conv_head_layers_and_params() -> None:
    spec = HeadConfig(conv_blocks=(ConvBlockConfig(64, 3),), pooling="flatten",
                    dense=(DenseConfig(256, dropout=0.5),), dropout=0.0)  # fmt: skip
    head = build_head((None, 40, 40, 128), spec, 10)
    types = [type(layer).__name__ for layer in head.layers]
    assert types == ["InputLayer", "Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dropout",
                     "Dense"]  # fmt: skip
    expected = (3 * 3 * 128 * 64 + 64) + (19 * 19 * 64 * 256 + 256) + (256 * 10 + 10)
    assert head.count_params() == expected
    assert list(head.output.shape) == [None, 10]


@pytest.mark.parametrize("pooling", ["avg", "max", "flatten"])
def test_poolings_and_vector_input(pooling: str) -> None:
    head = build_head((4, 4, 8), HeadConfig(pooling=pooling), 3)
    assert list(head.output.shape) == [None, 3]
    assert build_head((None, 8), HeadConfig(pooling=pooling), 3).count_params() == 8 * 3 + 3


def test_sigmoid_and_errors() -> None:
    assert list(build_head((2, 2, 4), HeadConfig(output="sigmoid"), 2).output.shape) == [None, 1]
    with pytest.raises(StudioError, match="at least 2 classes"):
        build_head((2, 2, 4), HeadConfig(), 1)
    with pytest.raises(StudioError, match="pool size"):
        build_head((3, 3, 4), HeadConfig(conv_blocks=(ConvBlockConfig(4, 1, pool_size=4),)), 2)
