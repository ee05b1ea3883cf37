"""build_model: the seeds' exact parameter counts, shared parts, saving, BatchNorm mode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.config.model import ConvBlockConfig, DenseConfig, FreezeConfig, HeadConfig, ModelConfig
from core.errors import StudioError
from core.model.builder import BuiltModel, build_model, set_trainable_from
from core.model.summary import count_params

SEED_HEAD = HeadConfig(
    conv_blocks=(ConvBlockConfig(64, 3),),
    pooling="flatten",
    dense=(DenseConfig(256, dropout=0.5),),
    dropout=0.0,
)


def _vgg_seed(freeze: FreezeConfig) -> BuiltModel:
    spec = ModelConfig(
        backbone="vgg16", input_size=160, weights="none", cut_layer="block2_pool",
        head=SEED_HEAD, freeze=freeze,
    )  # fmt: skip
    return build_model(spec, 10)


def _vgg_by_hand() -> object:
    """The seed built directly in Keras (with the same frozen 1x1 caffe preprocessing conv)."""
    import keras

    base = keras.applications.VGG16(weights=None, include_top=False, input_shape=(160, 160, 3))
    for layer in base.layers[:7]:
        layer.trainable = False
    body = keras.Model(base.input, base.get_layer("block2_pool").output)
    inputs = keras.Input((160, 160, 3))
    preprocess = keras.layers.Conv2D(3, 1, trainable=False)
    x = body(preprocess(inputs))
    x = keras.layers.Conv2D(64, 3, activation="relu")(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(256, activation="relu")(x)
    x = keras.layers.Dropout(0.5)(x)
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))


def test_vgg16_seed_matches_hand_built_counts() -> None:
    built = _vgg_seed(FreezeConfig("first_n", n=7))
    expected = count_params(_vgg_by_hand())  # type: ignore[arg-type]
    assert built.param_counts() == expected
    assert expected["non_trainable"] == 12 + 1792 + 36928 + 73856 + 147584
    assert built.fully_frozen_extractor
    assert built.feature_shape == (40, 40, 128)


def test_all_but_last_layer_frozen() -> None:
    built = _vgg_seed(FreezeConfig("all_but_last"))
    counts = built.param_counts()
    assert counts["trainable"] == 256 * 10 + 10
    assert counts["total"] == counts["trainable"] + counts["non_trainable"]


@pytest.mark.parametrize(
    ("freeze", "trainable_layers"),
    [
        (FreezeConfig("backbone"), []),
        (FreezeConfig("first_n", n=5), ["block2_conv2", "block2_pool"]),
        (FreezeConfig("up_to", layer="block2_conv1"), ["block2_conv2", "block2_pool"]),
        (FreezeConfig("last_n_trainable", n=1), ["block2_pool"]),
        (FreezeConfig("none"), ["block1_conv1", "block1_conv2", "block1_pool",
                              "block2_conv1", "block2_conv2", "block2_pool"]),
    ],
)  # fmt: skip
def test_freeze_policies(freeze: FreezeConfig, trainable_layers: list[str]) -> None:
    built = _vgg_seed(freeze)
    names = built.backbone_layer_names()
    assert names[0] == "image" and names[-1] == "block2_pool"
    trainable = [n for n in names[1:] if built.feature_extractor.get_layer(n).trainable]
    assert trainable == trainable_layers
    assert all(layer.trainable for layer in built.head.layers)


@pytest.fixture(scope="module")
def mobilenet() -> BuiltModel:
    spec = ModelConfig(backbone="mobilenet_v2", input_size=32, weights="none",
                     freeze=FreezeConfig("none"))  # fmt: skip
    return build_model(spec, 3)


def _images(count: int = 4) -> np.ndarray:
    return np.random.default_rng(0).uniform(0, 255, (count, 32, 32, 3)).astype("float32")


def test_parts_share_layers_and_compose(mobilenet: BuiltModel) -> None:
    images = _images()
    probabilities = np.asarray(mobilenet.model(images))
    assert probabilities.shape == (4, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    composed = np.asarray(mobilenet.head(mobilenet.feature_extractor(images)))
    np.testing.assert_allclose(probabilities, composed, atol=1e-6)
    assert mobilenet.model.get_layer("Conv1") is mobilenet.feature_extractor.get_layer("Conv1")
    assert tuple(mobilenet.head.input.shape[1:]) == mobilenet.feature_shape
    assert not mobilenet.fully_frozen_extractor


def test_batchnorm_stays_in_inference_mode_while_training(mobilenet: BuiltModel) -> None:
    model = mobilenet.model
    layer = model.get_layer("bn_Conv1")
    assert not layer.trainable  # even with the "none" policy: frozen BN = inference mode
    conv = model.get_layer("Conv1")
    moving_mean, kernel = np.array(layer.moving_mean), np.array(conv.kernel)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(_images(8), np.arange(8) % 3, epochs=1, batch_size=4, verbose=0)
    np.testing.assert_array_equal(np.array(layer.moving_mean), moving_mean)
    assert not np.array_equal(np.array(conv.kernel), kernel)  # the rest does train


def test_save_and_reload_safe_mode(mobilenet: BuiltModel, tmp_path: Path) -> None:
    import keras

    path = tmp_path / "model.keras"
    mobilenet.model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    images = _images()
    np.testing.assert_array_equal(np.asarray(reloaded(images)), np.asarray(mobilenet.model(images)))
    layer = reloaded.get_layer("bn_Conv1")
    moving_mean = np.array(layer.moving_mean)
    reloaded.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    reloaded.fit(_images(4), np.arange(4) % 3, epochs=1, verbose=0)
    np.testing.assert_array_equal(np.array(layer.moving_mean), moving_mean)


def test_set_trainable_from_keeps_batchnorm_frozen() -> None:
    spec = ModelConfig(backbone="mobilenet_v2", input_size=32, weights="none")
    built = build_model(spec, 2)
    assert built.fully_frozen_extractor
    unfrozen = set_trainable_from(built, layer_name="block_16_expand")
    names = built.backbone_layer_names()
    top = names[names.index("block_16_expand") :]
    bn = {"block_16_expand_BN", "block_16_depthwise_BN", "block_16_project_BN", "Conv_1_bn"}
    assert unfrozen == len(top) - len(bn)
    for name in top:
        assert built.feature_extractor.get_layer(name).trainable == (name not in bn)
    assert not built.feature_extractor.get_layer("block_15_add").trainable
    assert set_trainable_from(built, last_n=3) == 2  # Conv_1, out_relu (Conv_1_bn stays)
    with pytest.raises(StudioError, match="layer name or a number"):
        set_trainable_from(built)


def test_sigmoid_output_and_errors() -> None:
    spec = ModelConfig(backbone="mobilenet_v2", input_size=32, weights="none",
                     head=HeadConfig(output="sigmoid"))  # fmt: skip
    built = build_model(spec, 2)
    assert built.model.output.shape[-1] == 1
    with pytest.raises(StudioError, match="only works for 2 classes"):
        build_model(spec, 3)
    with pytest.raises(StudioError, match="no layer named 'block9_pool'"):
        build_model(ModelConfig(backbone="vgg16", input_size=32, weights="none",
                              cut_layer="block9_pool"), 2)  # fmt: skip


def test_conv_head_too_big_for_feature_map() -> None:
    spec = ModelConfig(backbone="vgg16", input_size=32, weights="none",
                     head=HeadConfig(conv_blocks=(ConvBlockConfig(8, 3),)))  # fmt: skip
    with pytest.raises(StudioError, match="feature map is only 1x1"):
        build_model(spec, 2)


@pytest.mark.weights
def test_imagenet_mobilenet_v2_builds_offline(local_weights: Path) -> None:
    built = build_model(ModelConfig(backbone="mobilenet_v2", input_size=96), 2)
    assert built.fully_frozen_extractor
    assert np.asarray(built.model(_images(1)[:, :32, :32].repeat(3, 1).repeat(3, 2))).shape == (
        1,
        2,
    )
