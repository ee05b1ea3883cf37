"""Cut-point advisor: one row per recommended cut from one pass; a second visit is cached."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config.data import DataConfig
from core.evaluate.charts import cut_advice_figure
from core.evaluate.cut_advisor import advise_cut, advisor_cuts
from core.model.cuts import list_layers
from tests.helpers.analysis import colour_dataset
from tests.helpers.training import tiny_settings


def test_one_row_per_recommended_cut_then_all_from_the_cache(tmp_path: Path) -> None:
    data, _ = colour_dataset(tmp_path / "data", per_class=8)
    spec = DataConfig(path=str(data), val_ratio=0.25, test_ratio=0.25, seed=1)
    settings = tiny_settings(tmp_path)
    advice = advise_cut(spec, "mobilenet_v2", input_size=32, weights="none", settings=settings)
    layers = list_layers("mobilenet_v2", 32)
    recommended = [layer.name for layer in layers if layer.recommended]
    assert [row.cut for row in advice.rows] == recommended  # the last one is the default
    assert advice.rows[-1].default and sum(row.chosen for row in advice.rows) == 1
    assert advice.extracted_images == advice.images == 12 and advice.pass_seconds > 0
    assert all(0.0 <= row.val_accuracy <= 1.0 and not row.from_cache for row in advice.rows)
    assert advice.chosen.val_accuracy == max(row.val_accuracy for row in advice.rows)
    again = advise_cut(spec, "mobilenet_v2", input_size=32, weights="none", settings=settings)
    assert again.extracted_images == 0 and again.pass_seconds == 0
    assert all(row.from_cache for row in again.rows)
    assert [row.val_accuracy for row in again.rows] == [row.val_accuracy for row in advice.rows]
    figure = cut_advice_figure(advice.to_dict()["rows"], advice.seconds)
    assert len(figure.data[0].x) == len(recommended)
    assert advice.sentence() and advice.to_dict()["chosen"] == advice.chosen.cut


def test_an_extra_cut_is_scored_and_an_unknown_one_refused() -> None:
    cuts = [layer.name for layer in advisor_cuts("mobilenet_v2", 32, ("block_1_project_BN",))]
    assert "block_1_project_BN" in cuts and cuts[-1] == "out_relu"
    with pytest.raises(ValueError, match="no layer named"):
        advisor_cuts("mobilenet_v2", 32, ("nope",))


def test_no_validation_share_is_refused_in_plain_words(tmp_path: Path) -> None:
    data, _ = colour_dataset(tmp_path / "data", per_class=4)
    spec = DataConfig(path=str(data), val_ratio=0.0, test_ratio=0.25)
    with pytest.raises(ValueError, match="validation"):
        advise_cut(spec, "mobilenet_v2", input_size=32, weights="none")
