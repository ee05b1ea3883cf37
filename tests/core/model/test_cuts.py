"""Layer listings, recommended cut points, default cut."""

from __future__ import annotations

import pytest

from core.errors import StudioError
from core.model.cuts import check_cut, default_cut, list_layers


def test_vgg16_block2_pool_shape_and_params() -> None:
    layers = {layer.name: layer for layer in list_layers("vgg16", 224)}
    pool = layers["block2_pool"]
    assert pool.output_shape == [None, 56, 56, 128]
    assert pool.params_below == 1792 + 36928 + 73856 + 147584
    assert pool.recommended and pool.position == 6
    assert not layers["block1_conv1"].recommended
    assert [name for name, info in layers.items() if info.recommended] == [
        f"block{i}_pool" for i in range(1, 6)
    ]


def test_default_cut_is_last_feature_map() -> None:
    assert default_cut("vgg16", 32) == "block5_pool"
    assert default_cut("mobilenet_v2", 32) == "out_relu"


def test_mobilenet_v2_recommends_block_outputs_not_residual_insides() -> None:
    layers = {layer.name: layer for layer in list_layers("mobilenet_v2", 32)}
    assert layers["block_2_add"].recommended  # residual block output
    assert layers["block_1_project_BN"].recommended  # feeds the residual block_2
    # block_2_project_BN is inside the residual block: the shortcut jumps over it.
    assert not layers["block_2_project_BN"].recommended
    assert not layers["block_2_expand"].recommended
    last = list(layers.values())[-1]
    assert last.recommended and last.params_below == 2257984


def test_resnet50_recommends_block_outs() -> None:
    layers = {layer.name: layer for layer in list_layers("resnet50", 32)}
    assert layers["conv2_block1_out"].recommended
    assert not layers["conv2_block1_1_conv"].recommended
    assert not layers["conv2_block1_add"].recommended  # its activation is the block output


def test_check_cut_names_close_layers() -> None:
    assert check_cut("vgg16", 32, "block3_pool").output_shape == [None, 4, 4, 256]
    with pytest.raises(StudioError, match=r"Did you mean .*block3_pool"):
        check_cut("vgg16", 32, "block3pool")
