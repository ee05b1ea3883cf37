"""Checks of an uploaded ``.keras`` file before it is built: input side, parameter caps, weights."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import psutil
import pytest

from core.errors import ModelFileError
from core.predict.model_file import check_keras_archive


def _save(model: object, path: Path) -> Path:
    model.save(path)  # type: ignore[attr-defined]
    return path


def huge_input_model(path: Path, side: int = 8000) -> Path:
    """A valid, tiny (about 20 KB) classifier whose input is ``side`` x ``side`` pixels."""
    import keras

    image = keras.Input((side, side, 3))
    features = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3)(image))
    return _save(keras.Model(image, keras.layers.Dense(2, activation="softmax")(features)), path)


def small_classifier(path: Path, compiled: bool = False) -> Path:
    import keras

    model = keras.Sequential(
        [keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(2)]
    )
    if compiled:  # an optimizer's slots are stored too; they are not the model's parameters
        model.compile("adam", "mse")
        model.optimizer.build(model.trainable_variables)
    return _save(model, path)


def test_an_8000_pixel_input_is_refused_without_building_it(tmp_path: Path) -> None:
    path = huge_input_model(tmp_path / "huge.keras")
    assert path.stat().st_size < 64 * 1024
    process = psutil.Process()
    before = process.memory_info().rss
    with pytest.raises(ModelFileError, match=r"8000 pixels a side.*at most 1024"):
        check_keras_archive(path.read_bytes(), max_input=1024, max_params=10**8)
    assert process.memory_info().rss - before < 100 * 2**20
    # Under a higher cap the same file passes, with what was read from it.
    facts = check_keras_archive(path, max_input=8000, max_params=10**8)
    assert (facts.input_side, facts.params) == (8000, 3 * 3 * 3 * 4 + 4 + 4 * 2 + 2)


def test_parameters_are_counted_from_the_config_and_match_the_weights(tmp_path: Path) -> None:
    expected = 32 * 32 * 3 * 2 + 2
    plain = small_classifier(tmp_path / "plain.keras")
    compiled = small_classifier(tmp_path / "compiled.keras", compiled=True)
    for path in (plain, compiled):
        assert check_keras_archive(path, 1024, expected).params == expected
    with pytest.raises(ModelFileError, match=rf"about {expected:,} parameters.*at most 1,000"):
        check_keras_archive(plain, 1024, 1000)


@pytest.mark.parametrize(
    "content",
    [b"not a zip at all", b"PK\x03\x04broken", "zip without config"],
)
def test_files_that_are_not_keras_archives_are_refused(content: bytes | str) -> None:
    if isinstance(content, str):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("model.weights.h5", b"x")
        content = buffer.getvalue()
    with pytest.raises(ModelFileError, match="Keras model"):
        check_keras_archive(content, 1024, 10**8)
