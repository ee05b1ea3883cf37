"""AppTest of the Runs page's sweep form: one run per head, sharing the cut's features."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from core.config.data import AugmentConfig
from tests.helpers.answers import keep_answers_private
from tests.helpers.apptest import no_exception, texts
from tests.helpers.runs import write_dataset
from tests.helpers.training import tiny_config

pytestmark = pytest.mark.apptest
PAGE = "app_pages/runs.py"


def test_a_sweep_from_a_run_trains_one_run_per_head(new_app: Callable, tmp_path: Path) -> None:
    from core.config.settings import Settings
    from core.jobs.runner import get_runner
    from core.store.workspace import create_workspace, workspace_store

    settings = Settings.from_env()
    token = create_workspace(settings)
    store = workspace_store(settings, token)
    dataset = write_dataset(tmp_path / "dataset", {"cat": (200, 40, 40), "dog": (40, 40, 200)}, 8)
    base = tiny_config(dataset, epochs=1)
    base = replace(base, data=replace(base.data, augmentation=AugmentConfig()))
    original = store.create(base)

    app = new_app(ws=token).run()
    app.switch_page(PAGE).run()
    assert app.text_input(key="sweep_cuts").value == "Conv1_relu"  # the run's own cut
    app.multiselect(key="sweep_heads").set_value(["linear", "max"])
    app.button(key="FormSubmitter:runs_sweep_form-Start sweep").click().run()
    no_exception(app)
    assert not texts(app, "error")
    assert any("This sweep starts 2 runs." in text for text in texts(app, "success"))

    swept = [run_id for run_id in store.run_ids() if run_id != original]
    assert len(swept) == 2
    for run_id in swept:
        snapshot = get_runner().wait_for_run(store, run_id, timeout_s=300)
        assert snapshot.status == "finished", snapshot.error
    pools = sorted(store.load(run_id).config.model.head.pooling for run_id in swept)
    assert pools == ["avg", "max"]
    logs = [(store.path(run_id) / "log.txt").read_text() for run_id in swept]
    assert sum("Features loaded from the cache" in log for log in logs) == 1


def test_the_web_sweep_leaves_out_cuts_the_listed_layers_do_not_hold(
    new_app: Callable, tmp_path: Path, studio_env: Path
) -> None:
    from core.config.settings import Settings
    from core.store.answers import MODEL_FACTS, layers_question, write_answer
    from core.store.workspace import create_workspace, workspace_store

    # Its own answers folder: the short layer list below must not reach the other page tests.
    keep_answers_private(studio_env / "cache")
    settings = Settings.from_env()
    token = create_workspace(settings)
    store = workspace_store(settings, token)
    original = store.create(tiny_config(tmp_path / "dataset"))
    layers = {"layers": [{"name": name} for name in ("input_layer", "Conv1", "Conv1_relu")]}
    write_answer(settings, MODEL_FACTS, layers_question("mobilenet_v2", 32), layers)  # Model page

    app = new_app(ws=token).run()
    app.switch_page(PAGE).run()
    app.text_input(key="sweep_cuts").set_value("block_99_typo, nope")
    app.button(key="FormSubmitter:runs_sweep_form-Start sweep").click().run()
    no_exception(app)
    assert any("None of the sweep's cuts is a layer" in text for text in texts(app, "error"))
    assert store.run_ids() == [original]  # nothing queued
