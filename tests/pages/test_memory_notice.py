"""AppTest of the memory guard's answers on the Train page, after a real training in a worker.

``STUDIO_MEMORY_BUDGET_MB`` is what a job may use, minus what its own worker process already
holds (TensorFlow and the built model, some hundreds of MB). The guard (``core.train.memory``)
then lowers the batch size or refuses the run before the first epoch, and the Train page must
say so: the lowered batch as a notice on the finished run, the refusal as the failed run's
message. Other page tests raise the budget out of the way (``tests.helpers.apptest``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.analysis import colour_dataset
from tests.helpers.apptest import no_exception, run_until_answered, texts

pytestmark = pytest.mark.apptest
PAGE = "app_pages/train.py"
START = "FormSubmitter:train_settings-Start training"
# MobileNetV2 at 224 px estimates ~85 MB of activations per image, so a batch of 32 needs about
# 2.7 GB and a batch of 4 about 0.35 GB: a 2500 MB budget lowers the batch for any worker that
# holds less than ~2.1 GB itself, and never lets 32 through.
LOWERING_BUDGET_MB = "2500"
_LOWERED = re.compile(r"^Batch size lowered from 32 to (\d+) so the run fits the memory left")


def _store(token: str):  # returns the workspace's RunStore
    from core.config.settings import Settings
    from core.store.workspace import workspace_store

    return workspace_store(Settings.from_env(), token)


def test_a_lowered_batch_size_is_shown_on_the_finished_run(
    new_app: Callable, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.config.model import ModelConfig
    from core.config.run import RunConfig
    from core.config.settings import Settings
    from core.jobs.runner import get_runner
    from core.store.workspace import create_workspace
    from tests.helpers.training import tiny_config

    monkeypatch.setenv("STUDIO_MEMORY_BUDGET_MB", LOWERING_BUDGET_MB)  # the worker inherits it
    data, _ = colour_dataset(tmp_path / "data", per_class=8)
    tiny = tiny_config(data, epochs=1, batch_size=32)
    model = ModelConfig(input_size=224, weights="none")  # the whole backbone, frozen: cached
    config = RunConfig(data=tiny.data, model=model, train=tiny.train)
    token = create_workspace(Settings.from_env())
    store = _store(token)
    run_id = get_runner().submit_training(store, config)
    snapshot = get_runner().wait_for_run(store, run_id, timeout_s=300)
    assert snapshot.status == "finished", (snapshot.status, snapshot.error)

    app = new_app(ws=token, run=run_id).run()
    app.switch_page(PAGE).run()
    no_exception(app)
    assert "Training finished." in texts(app, "success")
    notices = [m for m in map(_LOWERED.match, texts(app, "warning")) if m]
    assert len(notices) == 1, texts(app, "warning")
    assert int(notices[0].group(1)) < 32
    assert notices[0].string in store.path(run_id).joinpath("log.txt").read_text()


def test_a_refused_run_says_why_on_the_page(
    new_app: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A budget of 1 MB: nothing fits, whatever the worker holds; the run is refused."""
    app = new_app().run()
    app.button(key="home_sample").click().run()
    app.switch_page("app_pages/model.py")
    run_until_answered(app)  # a worker lists the layers and builds the summary, once
    app.number_input(key="model_size_mobilenet_v2").set_value(96)
    run_until_answered(app)
    app.button(key="FormSubmitter:model_head_form-Use this model").click()
    run_until_answered(app)
    app.switch_page(PAGE).run()
    # Set now: at 1 MB the queue would refuse the Model page's questions above (each ~0.8 GB).
    monkeypatch.setenv("STUDIO_MEMORY_BUDGET_MB", "1")
    app.number_input(key="train_epochs").set_value(1)
    app.button(key=START).click().run()
    no_exception(app)
    token, run_id = app.query_params["ws"], app.query_params["run"]

    from core.jobs.runner import get_runner

    snapshot = get_runner().wait_for_run(_store(token), run_id, timeout_s=300)
    assert snapshot.status == "failed", snapshot.status
    app.run()
    no_exception(app)
    errors = texts(app, "error")
    assert any(
        text.startswith("This run would need about ")
        and "of memory is free for it (limit 1 MB from STUDIO_MEMORY_BUDGET_MB)" in text
        for text in errors
    ), errors
    assert not _store(token).load(run_id).history  # refused before the first epoch
