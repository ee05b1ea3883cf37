"""Hostile ``.keras`` uploads, refused from ``config.json`` alone before anything is built.

Rows of the hostile table for model files (``core.predict.model_file.check_keras_archive``):
the parameter count comes from the config (not the weights file's size), a config nested
100,000 brackets deep is a plain refusal, and the weights file must exist, be readable and
hold exactly the config's variables. The files are written by hand (tests/helpers/
hostile_models.py), so no test here imports Keras.
"""

from __future__ import annotations

import json
from pathlib import Path

import psutil
import pytest

from core.errors import ModelFileError
from core.predict.keras_config import parse_config, read_config
from core.predict.model_file import check_keras_archive
from tests.helpers.hostile_models import (
    dense_config,
    dense_params,
    nested_brackets,
    write_keras,
    zero_weights_file,
)

MAX_INPUT, MAX_PARAMS = 1024, 100_000_000  # Settings' defaults


def _check(source: Path) -> object:
    return check_keras_archive(source, MAX_INPUT, MAX_PARAMS)


def test_an_895_byte_file_declaring_307_million_parameters_is_refused(tmp_path: Path) -> None:
    # No weights file at all: main counted parameters from the weights and let this through.
    path = write_keras(tmp_path / "big.keras", dense_config(32, 100_000))
    assert path.stat().st_size < 2048
    rss = psutil.Process().memory_info().rss
    with pytest.raises(ModelFileError, match=r"about 307,300,000 parameters.*at most 100,000,000"):
        _check(path)
    assert psutil.Process().memory_info().rss - rss < 50 * 2**20
    assert dense_params(32, 100_000) == 307_300_000


def test_a_config_of_100000_nested_brackets_is_a_plain_refusal(tmp_path: Path) -> None:
    path = write_keras(tmp_path / "deep.keras", nested_brackets(100_000))
    with pytest.raises(ModelFileError, match="nested more than 100 levels"):
        _check(path)
    deep_object = b'{"a":' * 500 + b"1" + b"}" * 500  # under the C decoder's limit: walked
    with pytest.raises(ModelFileError, match="nested more than 100 levels"):
        parse_config(deep_object)


def test_a_model_without_its_weights_file_is_refused(tmp_path: Path) -> None:
    path = write_keras(tmp_path / "noweights.keras", dense_config(8, 2))
    with pytest.raises(ModelFileError, match="no readable weights"):
        _check(path)
    garbage = write_keras(tmp_path / "garbage.keras", dense_config(8, 2),
                          {"model.weights.h5": b"not hdf5" * 100})  # fmt: skip
    with pytest.raises(ModelFileError, match="no readable weights"):
        _check(garbage)


def test_weights_of_other_shapes_than_the_config_are_refused(tmp_path: Path) -> None:
    weights = zero_weights_file(tmp_path / "w.h5", 8, 3)  # 3 units stored, the config has 2
    path = write_keras(
        tmp_path / "swapped.keras", dense_config(8, 2), {"model.weights.h5": weights}
    )
    with pytest.raises(ModelFileError, match="does not match its config"):
        _check(path)


def test_matching_weights_pass_with_the_count_from_the_config(tmp_path: Path) -> None:
    weights = zero_weights_file(tmp_path / "w.h5", 8, 2)
    path = write_keras(tmp_path / "ok.keras", dense_config(8, 2), {"model.weights.h5": weights})
    facts = check_keras_archive(path, MAX_INPUT, MAX_PARAMS)
    assert (facts.input_side, facts.params) == (8, dense_params(8, 2))


def test_weights_of_zeros_packed_a_thousand_times_smaller_are_refused(tmp_path: Path) -> None:
    weights = zero_weights_file(tmp_path / "w.h5", 32, 100)  # 1.2 MB of zeros
    path = write_keras(
        tmp_path / "bomb.keras", dense_config(32, 100), {"model.weights.h5": weights}
    )
    assert path.stat().st_size < 64 * 1024
    with pytest.raises(ModelFileError, match=r"expand [\d,]+ times.*limit is 200"):
        _check(path)


@pytest.mark.parametrize(
    ("layer", "message"),
    [("Lambda", "Python code"), ("MyCustomLayer", "type the studio does not know")],
)
def test_layers_that_cannot_be_counted_are_refused(layer: str, message: str) -> None:
    config = dense_config(8, 2)
    config["config"]["layers"][1]["class_name"] = layer
    with pytest.raises(ModelFileError, match=message):
        read_config(json.loads(json.dumps(config)))
