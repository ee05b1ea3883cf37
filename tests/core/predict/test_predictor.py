"""Predictor: run folders and uploaded files in, probabilities out; unsafe files refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.errors import ModelFileError
from core.predict.batch import NOT_SURE, prediction_rows
from core.predict.predictor import Predictor
from core.predict.probabilities import top_k_labels
from tests.helpers.runs import make_finished_run, tiny_classifier, write_dataset
from tests.helpers.zips import png


def _images(count: int = 5, size: int = 32) -> np.ndarray:
    return np.random.default_rng(1).uniform(0, 255, (count, size, size, 3)).astype(np.float32)


def test_from_run_matches_model_and_names_classes(tmp_path: Path) -> None:
    dataset = write_dataset(tmp_path / "data", {"cat": (200, 40, 40), "dog": (40, 40, 200)}, 4)
    model = tiny_classifier(2)
    run_id = make_finished_run(tmp_path / "runs", dataset, model, ["cat", "dog"])
    predictor = Predictor.from_run(tmp_path / "runs" / run_id)
    images = _images()
    probabilities = predictor.predict_arrays(images, batch_size=2)
    assert predictor.classes == ["cat", "dog"]
    assert probabilities.shape == (5, 2)
    np.testing.assert_allclose(probabilities, np.asarray(model(images)), atol=1e-6)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_predict_sources_uses_the_training_decoder(tmp_path: Path) -> None:
    from core.data.images import load_image_array

    dataset = write_dataset(tmp_path / "data", {"a": (200, 40, 40)}, 3)
    files = sorted(dataset.rglob("*.png"))
    predictor = Predictor(tiny_classifier(3))
    expected = predictor.predict_arrays(np.stack([load_image_array(f, 32) for f in files]))
    from_files = predictor.predict_sources(files)
    from_bytes = predictor.predict_sources([f.read_bytes() for f in files])
    np.testing.assert_allclose(from_files, expected, atol=1e-6)
    np.testing.assert_allclose(from_bytes, expected, atol=1e-6)


def test_sigmoid_output_becomes_two_class_probabilities() -> None:
    model = tiny_classifier(output="sigmoid")
    predictor = Predictor(model, classes=["no", "yes"])
    images = _images(3)
    positive = np.asarray(model(images))[:, 0]
    probabilities = predictor.predict_arrays(images)
    assert predictor.output_kind == "sigmoid"
    np.testing.assert_allclose(probabilities[:, 1], positive, atol=1e-6)
    np.testing.assert_allclose(probabilities[:, 0], 1 - positive, atol=1e-6)


def test_logits_output_gets_softmax() -> None:
    model = tiny_classifier(3, output="logits")
    predictor = Predictor(model)
    images = _images(2)
    logits = np.asarray(model(images), np.float64)
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert predictor.output_kind == "logits"
    np.testing.assert_allclose(predictor.predict_arrays(images), expected, atol=1e-5)


def test_lambda_layer_file_is_refused_under_safe_mode(tmp_path: Path) -> None:
    import keras

    image = keras.Input((32, 32, 3))
    x = keras.layers.Lambda(lambda t: t * 2.0)(image)  # could be any Python code
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(image, keras.layers.Dense(2, activation="softmax")(x))
    path = tmp_path / "malicious.keras"
    model.save(path)
    with pytest.raises(ModelFileError, match="Python code"):
        Predictor.from_model_file(path)
    with pytest.raises(ModelFileError, match="Python code"):
        Predictor.from_model_bytes(path.read_bytes())


def test_non_image_model_and_garbage_are_refused(tmp_path: Path) -> None:
    import keras

    vector = keras.Input((10,))
    keras.Model(vector, keras.layers.Dense(2)(vector)).save(tmp_path / "tabular.keras")
    with pytest.raises(ModelFileError, match="square RGB images"):
        Predictor.from_model_file(tmp_path / "tabular.keras")
    with pytest.raises(ModelFileError, match=r"not a \.keras model"):
        Predictor.from_model_bytes(b"hello world")
    with pytest.raises(ModelFileError, match="could not be read"):
        Predictor.from_model_bytes(b"PK\x03\x04broken zip")


def test_class_names_must_match_outputs() -> None:
    with pytest.raises(ModelFileError, match="3 classes but 2"):
        Predictor(tiny_classifier(3), classes=["a", "b"])


def test_run_without_model_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="no trained model"):
        Predictor.from_run(tmp_path)


def test_top_k_labels_orders_best_first() -> None:
    top = top_k_labels(np.array([[0.1, 0.7, 0.2]]), ["a", "b", "c"], k=2)
    assert top == [[("b", pytest.approx(0.7)), ("c", pytest.approx(0.2))]]


def _constant_run(folder: Path, probabilities: tuple[float, ...], **labels: Any) -> Path:
    """A run folder whose model answers ``probabilities`` for every image (16 px input)."""
    import keras

    inputs = keras.Input((16, 16, 3))
    pooled = keras.layers.GlobalAveragePooling2D()(inputs)
    logits = keras.layers.Dense(
        len(probabilities),
        kernel_initializer="zeros",
        bias_initializer=keras.initializers.Constant(np.log(probabilities)),
    )(pooled)
    folder.mkdir(parents=True)
    keras.Model(inputs, keras.layers.Softmax()(logits)).save(folder / "model.keras")
    names = {"classes": ["cat", "dog"], "input_size": 16, "resize_mode": "stretch", **labels}
    (folder / "labels.json").write_text(json.dumps(names))
    return folder


def test_calibration_and_class_thresholds_decide_the_not_sure_verdict(tmp_path: Path) -> None:
    """The model is 85 % sure of "cat" on every image; the threshold is 80 %.

    Uncalibrated, the answer is "cat". Calibrated with temperature 2 (stored in labels.json
    as ``python -m core calibrate`` does), the same output is 70.4 % and the verdict turns
    into "not sure". A class's own threshold counts for answers of that class only.
    """
    image = [("photo.png", png((120, 90, 60), size=16))]
    plain = Predictor.from_run(_constant_run(tmp_path / "plain", (0.85, 0.15)))
    row = prediction_rows(plain, image, threshold=0.8)[0]
    assert (row["predicted"], row["confidence"]) == ("cat", pytest.approx(0.85, abs=1e-5))

    calibrated = Predictor.from_run(_constant_run(tmp_path / "cal", (0.85, 0.15), temperature=2))
    row = prediction_rows(calibrated, image, threshold=0.8)[0]
    expected = 0.85**0.5 / (0.85**0.5 + 0.15**0.5)  # softmax(log p / T)
    assert (row["predicted"], row["confidence"]) == (NOT_SURE, pytest.approx(expected, abs=1e-5))
    assert prediction_rows(calibrated, image, threshold=0.7)[0]["predicted"] == "cat"

    for name, verdict in (("cat", NOT_SURE), ("dog", "cat")):
        strict = _constant_run(tmp_path / name, (0.85, 0.15), class_thresholds={name: 0.9})
        row = prediction_rows(Predictor.from_run(strict), image, threshold=0.5)[0]
        assert row["predicted"] == verdict, name
