"""The web sweep form's cut check: layer lists read from the stored ``model_facts`` answers."""

from __future__ import annotations

from pathlib import Path

from core.config.sweep import plan_sweep
from core.store.answers import MODEL_FACTS, layers_question, stored_cut_names, write_answer
from tests.helpers.training import TINY_MODEL, tiny_config
from tests.helpers.workspaces import studio_settings

LAYERS = {"layers": [{"name": n} for n in ("input_layer", "Conv1", "Conv1_relu")]}


def test_a_sweep_leaves_out_cuts_the_stored_layer_list_does_not_hold(tmp_path: Path) -> None:
    settings = studio_settings(tmp_path)
    write_answer(settings, MODEL_FACTS, layers_question("mobilenet_v2", 32), LAYERS)
    names = stored_cut_names(settings, TINY_MODEL)
    assert names("mobilenet_v2") == ["Conv1", "Conv1_relu"]  # the input layer is no cut
    assert names("efficientnet_b0") is None  # never listed: its cuts go unchecked
    assert names("no_such_backbone") is None
    cuts = ["Conv1", "nope", "input_layer", "Conv1"]
    plan = plan_sweep(tiny_config(tmp_path), ["mobilenet_v2"], cuts, ["linear"], names)
    assert [config.model.cut_layer for config in plan.configs] == ["Conv1"]
    assert plan.unknown_cuts == ["mobilenet_v2: nope", "mobilenet_v2: input_layer"]
    assert "left out 1 duplicate entry and 2 cut(s)" in plan.summary()
