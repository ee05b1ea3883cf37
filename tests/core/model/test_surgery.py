"""Layer surgery: replace a single-path run, insert after a layer, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.config.model import FreezeConfig, ModelConfig, SurgeryConfig
from core.model.backbones import build_backbone
from core.model.builder import build_model
from core.model.surgery import SurgeryError, restack

VGG_REPLACE = SurgeryConfig(action="replace", first="block1_conv1", last="block1_conv2",
                        filters=64, kernel_size=5, padding="same")  # fmt: skip


def _restacked(
    backbone_id: str, cut: str, ops: tuple[SurgeryConfig, ...], size: int = 32
) -> object:
    import keras

    backbone = build_backbone(backbone_id, size, weights="none")
    inputs = keras.Input((size, size, 3))
    return keras.Model(inputs, restack(backbone, inputs, cut, ops))


def test_vgg16_replace_keeps_untouched_weights(tmp_path: Path) -> None:
    import keras

    keras.utils.set_random_seed(7)
    source = build_backbone("vgg16", 64, weights="none")
    keras.utils.set_random_seed(7)  # same initial weights for the backbone built inside
    spec = ModelConfig(backbone="vgg16", input_size=64, weights="none", surgery=(VGG_REPLACE,),
                     freeze=FreezeConfig("none"))  # fmt: skip
    built = build_model(spec, 2)
    names = built.backbone_layer_names()
    assert "block1_conv1" not in names and "block1_conv2" not in names
    new_layer = built.feature_extractor.get_layer("surgery1_conv2d")
    assert tuple(new_layer.kernel.shape) == (5, 5, 3, 64)
    untouched = [layer.name for layer in source.layers[1:] if layer.name in names]
    assert len(untouched) == len(source.layers) - 3  # input and the two replaced convs
    for name in untouched:
        for kept, original in zip(built.feature_extractor.get_layer(name).get_weights(),
                                  source.get_layer(name).get_weights(), strict=True):  # fmt: skip
            assert np.array_equal(kept, original), name
    # Still a normal Keras model: saves and reloads safely with the same weights.
    path = tmp_path / "surgery.keras"
    built.model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    assert np.array_equal(reloaded.get_layer("block3_conv1").get_weights()[0],
                          source.get_layer("block3_conv1").get_weights()[0])  # fmt: skip


def test_surgery_layer_can_be_kept_frozen() -> None:
    op = SurgeryConfig(action="insert_after", first="block2_conv1", layer_type="BatchNormalization",
                   trainable=False)  # fmt: skip
    spec = ModelConfig(backbone="vgg16", input_size=32, weights="none", surgery=(op,),
                     freeze=FreezeConfig("none"))  # fmt: skip
    built = build_model(spec, 2)
    names = built.backbone_layer_names()
    assert names[names.index("block2_conv1") + 1] == "surgery1_batchnormalization"
    assert not built.feature_extractor.get_layer("surgery1_batchnormalization").trainable
    assert built.feature_extractor.get_layer("block2_conv2").trainable


def test_mobilenet_v2_single_path_replace_and_insert() -> None:
    ops = (
        SurgeryConfig(action="replace", first="block_1_expand", last="block_1_expand_relu",
                  filters=96, kernel_size=1),
        SurgeryConfig(action="insert_after", first="block_3_project_BN", layer_type="Dropout",
                  rate=0.2),
    )  # fmt: skip
    model = _restacked("mobilenet_v2", "out_relu", ops)
    names = [layer.name for layer in model.layers]  # type: ignore[attr-defined]
    assert "surgery1_conv2d" in names and "surgery2_dropout" in names
    assert "block_1_expand_BN" not in names
    assert list(model.output.shape) == [None, 1, 1, 1280]  # type: ignore[attr-defined]


def test_shape_mismatch_names_layers_and_shapes() -> None:
    op = SurgeryConfig(action="replace", first="block1_conv1", last="block1_conv2", filters=32)
    with pytest.raises(
        SurgeryError, match=r"\[None, 32, 32, 64\] to \[None, 32, 32, 32\].*block1_pool"
    ):
        _restacked("vgg16", "block5_pool", (op,))
    insert = SurgeryConfig(action="insert_after", first="block3_conv1", filters=16)
    with pytest.raises(SurgeryError, match="Inserting Conv2D after 'block3_conv1'"):
        _restacked("vgg16", "block5_pool", (insert,))


def test_replacing_the_cut_layer_may_change_shape() -> None:
    op = SurgeryConfig(action="replace", first="block2_conv2", filters=8)
    model = _restacked("vgg16", "block2_conv2", (op,))
    assert list(model.output.shape) == [None, 16, 16, 8]  # type: ignore[attr-defined]


def test_branched_region_is_refused() -> None:
    op = SurgeryConfig(action="replace", first="conv2_block1_1_conv", last="conv2_block1_add")
    with pytest.raises(SurgeryError, match=r"not one straight path|branched"):
        _restacked("resnet50", "conv5_block3_out", (op,))
    # pool1_pool also feeds the shortcut conv, so a run ending there cannot continue past it.
    op = SurgeryConfig(action="replace", first="pool1_pool", last="conv2_block1_1_conv")
    with pytest.raises(SurgeryError, match=r"branched region.*conv2_block1_0_conv"):
        _restacked("resnet50", "conv5_block3_out", (op,))


def test_unknown_or_above_cut_layers() -> None:
    with pytest.raises(SurgeryError, match="'block9_conv1' is not part"):
        _restacked("vgg16", "block5_pool", (SurgeryConfig(first="block9_conv1"),))
    with pytest.raises(SurgeryError, match="'block4_conv1' is not part"):
        _restacked("vgg16", "block2_pool", (SurgeryConfig(first="block4_conv1"),))
    ops = (
        SurgeryConfig(first="block1_conv1"),
        SurgeryConfig(action="insert_after", first="block1_conv1"),
    )
    with pytest.raises(SurgeryError, match="same layers"):
        _restacked("vgg16", "block5_pool", ops)


@pytest.mark.weights
def test_pretrained_weights_survive_surgery(local_weights: Path) -> None:
    op = SurgeryConfig(action="insert_after", first="block_3_project_BN", layer_type="Dropout")
    spec = ModelConfig(backbone="mobilenet_v2", input_size=64, surgery=(op,))
    built = build_model(spec, 2)
    source = build_backbone("mobilenet_v2", 64, weights="imagenet")
    for name in ("Conv1", "block_3_project", "block_16_project", "Conv_1"):
        kept = built.feature_extractor.get_layer(name).get_weights()[0]
        assert np.array_equal(kept, source.get_layer(name).get_weights()[0]), name
