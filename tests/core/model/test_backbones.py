"""Registry facts, lookups, weight resolution and (slow) every backbone at its minimum size."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config.backbones import _SPEED_MS, BACKBONES, SPEED_SOURCE, get_backbone, list_backbones
from core.errors import WeightsUnavailableError
from core.model.backbones import build_backbone
from core.model.cuts import list_layers
from core.model.weights import has_offline_weights

# Built in the fast run; the rest are marked slow (they take seconds each and lots of memory).
FAST_IDS = {"mobilenet_v2", "vgg16", "mobilenet_v3_small", "efficientnet_b0"}


def test_registry_covers_keras_applications() -> None:
    import keras

    constructors = {name for name in dir(keras.applications) if name[0].isupper()}
    registered = {info.keras_name for info in list_backbones()}
    assert registered == constructors
    assert len(BACKBONES) == 40  # the count asserted in tests/core/model/test_preprocessing.py
    for required in ("mobilenet_v2", "vgg16", "resnet50", "inception_v3", "xception",
                     "efficientnet_b0", "convnext_tiny"):  # fmt: skip
        assert required in BACKBONES


def test_registry_rows_are_consistent() -> None:
    for info in list_backbones():
        assert info.min_size <= info.default_size
        assert info.preprocess in ("tf", "torch", "caffe", "none")
        assert 0 < info.imagenet_top1 < 100
        assert info.weights_file.endswith(".h5")
        assert callable(info.preprocess_input)


def test_every_entry_has_a_speed_or_none() -> None:
    for info in list_backbones():
        for figure in (info.cpu_ms, info.gpu_ms):
            assert figure is None or (isinstance(figure, float) and figure >= 0), info.id
        # The table gives both figures or neither.
        assert (info.cpu_ms is None) == (info.gpu_ms is None), info.id
    assert set(_SPEED_MS) <= set(BACKBONES)  # no figure for an unknown id (typo)
    assert get_backbone("mobilenet_v2").cpu_ms == 25.9
    assert get_backbone("mobilenet_v2").gpu_ms == 3.8
    assert get_backbone("convnext_tiny").cpu_ms is None  # not in the Keras table
    assert "keras.io" in SPEED_SOURCE


def test_unknown_backbone_suggests_close_names() -> None:
    with pytest.raises(ValueError, match=r"Did you mean .*mobilenet_v2"):
        get_backbone("mobilenetv2")


def test_build_rejects_small_size_and_bad_weights() -> None:
    with pytest.raises(ValueError, match="at least 71x71"):
        build_backbone("xception", 32, weights="none")
    with pytest.raises(ValueError, match="'imagenet' or 'none'"):
        build_backbone("vgg16", 32, weights="random")


def test_offline_weights_lookup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_WEIGHTS_DIR", str(tmp_path))
    assert not has_offline_weights("vgg16")
    (tmp_path / get_backbone("vgg16").weights_file).write_bytes(b"x")
    assert has_offline_weights("vgg16")


def test_missing_weights_give_one_clear_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A corrupt local file fails to load without any network access.
    monkeypatch.setenv("STUDIO_WEIGHTS_DIR", str(tmp_path))
    (tmp_path / get_backbone("mobilenet_v2").weights_file).write_bytes(b"not an h5 file")
    with pytest.raises(WeightsUnavailableError) as caught:
        build_backbone("mobilenet_v2", 32, weights="imagenet")
    message = str(caught.value)
    assert "MobileNetV2" in message and get_backbone("mobilenet_v2").weights_file in message
    assert "random initialisation" in message and "\n" not in message


@pytest.mark.weights
def test_mobilenet_v2_loads_imagenet_weights_offline(local_weights: Path) -> None:
    import numpy as np

    model = build_backbone("mobilenet_v2", 160, weights="imagenet")
    random_model = build_backbone("mobilenet_v2", 160, weights="none")
    kernel = model.get_layer("Conv1").get_weights()[0]
    assert not np.array_equal(kernel, random_model.get_layer("Conv1").get_weights()[0])
    assert has_offline_weights("mobilenet_v2")


def _check_builds(backbone_id: str) -> None:
    """Builds the backbone at its minimum size (via the cut listing) and checks its facts."""
    import keras

    info = get_backbone(backbone_id)
    layers = list_layers(backbone_id, info.min_size)
    # Every layer feeds the output, so the last layer's params_below is the whole network.
    assert layers[-1].params_below == info.params_no_top
    assert layers[-1].recommended and layers[0].type == "InputLayer"
    assert any(layer.block_end for layer in layers[1:-1]), "no intermediate cut point"
    keras.backend.clear_session()


@pytest.mark.parametrize("backbone_id", sorted(FAST_IDS))
def test_small_backbones_build_at_min_size(backbone_id: str) -> None:
    _check_builds(backbone_id)


@pytest.mark.slow
@pytest.mark.parametrize("backbone_id", sorted(set(BACKBONES) - FAST_IDS))
def test_every_backbone_builds_at_min_size(backbone_id: str) -> None:
    _check_builds(backbone_id)
