"""AppTest of the Runs page: empty workspace, table + comparison, delete, export, re-run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from core.config.data import AugmentConfig
from core.config.model import DenseConfig, HeadConfig
from core.config.run import RunConfig
from core.config.train import FineTuneConfig
from tests.helpers.apptest import no_exception, texts
from tests.helpers.eval_pages import workspace_with_run
from tests.helpers.runs import write_dataset
from tests.helpers.training import tiny_config
from tests.pages.job_waits import wait_for_job

pytestmark = pytest.mark.apptest
PAGE = "app_pages/runs.py"
START = "FormSubmitter:train_settings-Start training"


def test_renders_in_an_empty_session(new_app: Callable) -> None:
    app = new_app().run()
    app.switch_page(PAGE).run()
    no_exception(app)
    assert any("No runs yet" in text for text in texts(app, "info"))


def test_table_comparison_and_export(new_app: Callable, tmp_path: Path) -> None:
    token, run_id = workspace_with_run(tmp_path)
    app = new_app(ws=token).run()
    app.switch_page(PAGE).run()
    no_exception(app)
    table = app.dataframe[0].value
    assert list(table["run"]) == [run_id]
    assert app.get("plotly_chart")  # overlay of the selected run
    assert app.get("download_button")  # the .keras file
    app.button(key="FormSubmitter:runs_export_form-Export and check").click().run()
    no_exception(app)
    assert not texts(app, "error")
    wait_for_job(token, run_id, "export")  # the export runs in a worker process
    app.run()
    no_exception(app)
    assert any("max |Δp|" in str(frame.value.columns) for frame in app.dataframe)
    verdicts = [t for t in texts(app, "success") + texts(app, "error") if "studio's model" in t]
    assert len(verdicts) == 1 and verdicts[0].endswith(("pass.", "fail."))  # the parity line
    assert len(app.get("download_button")) == 3  # .keras, the model card and the bundle

    reloaded = new_app(ws=token).run()  # a reload shows the run's last export again
    reloaded.switch_page(PAGE).run()
    no_exception(reloaded)
    assert len(reloaded.get("download_button")) == 3


def test_delete_needs_confirmation_and_removes_the_run(new_app: Callable, tmp_path: Path) -> None:
    token, _ = workspace_with_run(tmp_path)
    app = new_app(ws=token).run()
    app.switch_page(PAGE).run()
    assert app.button(key="runs_delete").disabled
    app.checkbox(key="runs_delete_confirm").check().run()
    app.button(key="runs_delete").click().run()
    no_exception(app)
    assert any("No runs yet" in text for text in texts(app, "info"))


def test_rerun_loads_the_settings_and_opens_train(new_app: Callable, tmp_path: Path) -> None:
    token, _ = workspace_with_run(tmp_path)
    app = new_app(ws=token).run()
    app.switch_page(PAGE).run()
    app.button(key="runs_rerun").click().run()
    no_exception(app)
    assert "3. Train" in texts(app, "title")
    assert app.session_state["studio.model_spec"].input_size == 32
    assert app.session_state["studio.train_config"].epochs == 2


def unusual_config(dataset: Path) -> RunConfig:
    """A tiny run config with a non-default value in every part, shown on the form or not."""
    config = tiny_config(dataset)
    return replace(
        config,
        name="pad + flips, try #2",
        data=replace(
            config.data,
            val_ratio=0.2,
            test_ratio=0.3,
            seed=7,
            resize_mode="pad",
            augmentation=AugmentConfig(flip_horizontal=True, rotation=10.0, zoom=0.1),
        ),
        model=replace(
            config.model,
            head=HeadConfig(
                pooling="max", dense=(DenseConfig(units=16, dropout=0.1),), dropout=0.3
            ),
        ),
        train=replace(
            config.train,
            optimizer="sgd",
            learning_rate=0.003,
            momentum=0.8,  # not on the Train page's form: must be carried over as well
            epochs=1,
            early_stopping=True,
            patience=2,
            class_weights=True,
            label_smoothing=0.1,
            reduce_lr_on_plateau=True,
            seed=5,
            augment_views=2,
            fine_tune=FineTuneConfig(unfreeze_from="Conv1", epochs=1, lr_factor=0.05),
        ),
    )


def test_rerun_then_start_writes_the_same_config(new_app: Callable, tmp_path: Path) -> None:
    from core.config.settings import Settings
    from core.jobs.runner import get_runner
    from core.store.workspace import create_workspace, workspace_store

    settings = Settings.from_env()
    token = create_workspace(settings)
    store = workspace_store(settings, token)
    dataset = write_dataset(tmp_path / "dataset", {"cat": (200, 40, 40), "dog": (40, 40, 200)}, 10)
    original = store.create(unusual_config(dataset))

    app = new_app(ws=token).run()
    app.switch_page(PAGE).run()
    app.button(key="runs_rerun").click().run()
    no_exception(app)
    assert "3. Train" in texts(app, "title")
    app.switch_page("app_pages/train.py").run()  # AppTest's next run is the page it last opened
    assert app.text_input(key="train_run_name").value == "pad + flips, try #2"
    app.button(key=START).click().run()
    no_exception(app)
    assert not texts(app, "error")
    again = app.query_params["run"]
    snapshot = get_runner().wait_for_run(store, again, timeout_s=300)
    assert not snapshot.active, "the re-run did not end in time"

    assert again != original
    written = (store.path(again) / "config.json").read_bytes()
    assert written == (store.path(original) / "config.json").read_bytes()
