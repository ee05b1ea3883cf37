"""ImageNet mode: 1000-class top with decode_predictions-style names; offline says so."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.errors import WeightsUnavailableError
from core.predict.imagenet import (
    build_imagenet_model,
    imagenet_predictor,
    load_imagenet_labels,
    top_weights_file,
)


def test_labels_follow_keras_class_index(local_weights: Path) -> None:
    labels = load_imagenet_labels()
    assert len(labels) == 1000
    assert labels[0] == "tench" and labels[1] == "goldfish"


def test_top_model_maps_outputs_to_imagenet_names(local_weights: Path) -> None:
    predictor = imagenet_predictor("mobilenet_v2", weights=None)
    assert predictor.input_size == 224 and predictor.num_classes == 1000
    image = np.random.default_rng(0).uniform(0, 255, (1, 224, 224, 3)).astype(np.float32)
    probabilities = predictor.predict_arrays(image)
    assert probabilities.shape == (1, 1000)
    best = predictor.top_k(probabilities, k=5)[0]
    assert best[0][0] == predictor.classes[int(probabilities[0].argmax())]
    assert [p for _, p in best] == sorted((p for _, p in best), reverse=True)


def test_offline_without_top_weights_says_so(
    local_weights: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keras.src.utils.file_utils as file_utils

    def offline(*args: object, **kwargs: object) -> str:
        raise Exception("URL fetch failure: Name or service not known")

    monkeypatch.setattr(file_utils, "get_file", offline)  # no download, even where online
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # and no cached copy
    assert top_weights_file("mobilenet_v2").endswith("_1.0_224.h5")
    with pytest.raises(WeightsUnavailableError, match="offline"):
        build_imagenet_model("mobilenet_v2", weights="imagenet")


def test_missing_class_index_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(WeightsUnavailableError, match="class names"):
        load_imagenet_labels()
