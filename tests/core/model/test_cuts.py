"""Layer listings, block ends, at most a few recommended cut points with reasons, default cut."""

from __future__ import annotations

import pytest

from core.errors import StudioError
from core.model.cuts import MAX_RECOMMENDED, check_cut, default_cut, list_layers


def recommended(backbone_id: str, size: int) -> dict[str, str]:
    """Recommended cut name -> its reason, in layer order."""
    return {
        layer.name: str(layer.reason)
        for layer in list_layers(backbone_id, size)
        if layer.recommended
    }


def test_vgg16_block2_pool_shape_and_params() -> None:
    layers = {layer.name: layer for layer in list_layers("vgg16", 224)}
    pool = layers["block2_pool"]
    assert pool.output_shape == [None, 56, 56, 128]
    assert pool.params_below == 1792 + 36928 + 73856 + 147584
    assert pool.recommended and pool.block_end and pool.position == 6
    assert not layers["block1_conv1"].block_end
    assert [name for name, info in layers.items() if info.block_end] == [
        f"block{i}_pool" for i in range(1, 6)
    ]
    # block1_pool (edges and colours at half the input size) is a block end, not a suggestion.
    assert list(recommended("vgg16", 224)) == [f"block{i}_pool" for i in range(2, 6)]


def test_default_cut_is_last_feature_map() -> None:
    assert default_cut("vgg16", 32) == "block5_pool"
    assert default_cut("mobilenet_v2", 32) == "out_relu"


def test_mobilenet_v2_block_ends_are_block_outputs_not_residual_insides() -> None:
    layers = {layer.name: layer for layer in list_layers("mobilenet_v2", 32)}
    assert layers["block_2_add"].block_end  # residual block output
    assert layers["block_1_project_BN"].block_end  # feeds the residual block_2
    # block_2_project_BN is inside the residual block: the shortcut jumps over it.
    assert not layers["block_2_project_BN"].block_end
    assert not layers["block_2_expand"].block_end
    last = list(layers.values())[-1]
    assert last.block_end and last.recommended and last.params_below == 2257984


def test_mobilenet_v2_recommends_one_cut_per_stage_with_a_reason() -> None:
    """24 block ends, but only the last block output of each of the deepest stages."""
    assert sum(layer.block_end for layer in list_layers("mobilenet_v2", 224)) == 24
    cuts = recommended("mobilenet_v2", 224)
    assert list(cuts) == ["block_2_add", "block_5_add", "block_12_add", "out_relu"]
    assert cuts["out_relu"].startswith("Final feature map 7×7×1280: ")
    assert cuts["block_12_add"].startswith("Last block at 14×14×96: high-level features")
    # The layer after a merge starts the next block: a block end, never a suggested cut.
    expand = next(x for x in list_layers("mobilenet_v2", 224) if x.name == "block_13_expand")
    assert expand.block_end and not expand.recommended and expand.reason is None


@pytest.mark.parametrize(
    ("backbone_id", "size"),
    [("mobilenet_v2", 96), ("resnet50", 224), ("efficientnet_b0", 224), ("densenet121", 224)],
)
def test_at_most_a_few_recommended_cuts_each_with_a_one_line_reason(
    backbone_id: str, size: int
) -> None:
    cuts = recommended(backbone_id, size)
    assert 2 <= len(cuts) <= MAX_RECOMMENDED <= 5
    assert all(reason and "\n" not in reason and len(reason) < 160 for reason in cuts.values())
    assert len(set(cuts.values())) == len(cuts)  # each says something of its own
    assert list(cuts)[-1] == default_cut(backbone_id, size)


def test_xception_residual_adds_are_block_ends() -> None:
    """Xception's shortcut leaves from the add, over the activation: the add ends the block."""
    cuts = recommended("xception", 299)
    assert list(cuts) == ["add", "add_1", "add_10", "block14_sepconv2_act"]


def test_resnet50_block_ends_are_block_outs() -> None:
    layers = {layer.name: layer for layer in list_layers("resnet50", 32)}
    assert layers["conv2_block1_out"].block_end
    assert not layers["conv2_block1_1_conv"].block_end
    assert not layers["conv2_block1_add"].block_end  # its activation is the block output
    assert list(recommended("resnet50", 224)) == [
        "conv2_block3_out",
        "conv3_block4_out",
        "conv4_block6_out",
        "conv5_block3_out",
    ]


def test_check_cut_names_close_layers() -> None:
    assert check_cut("vgg16", 32, "block3_pool").output_shape == [None, 4, 4, 256]
    with pytest.raises(StudioError, match=r"Did you mean .*block3_pool"):
        check_cut("vgg16", 32, "block3pool")
