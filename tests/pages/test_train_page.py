"""AppTest of the Train page: runs trained by worker processes, re-attach, isolation, notices.

AppTest runs the page in this process; the job runner starts each run's worker as a real
process, so a test waits for the run with ``JobRunner.wait_for_run`` and reruns the page.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.helpers.apptest import no_exception, run_until_answered, texts

pytestmark = pytest.mark.apptest
START = "FormSubmitter:train_settings-Start training"


def without_augmentation(app) -> None:  # app: an AppTest
    """Data page: the default flip and rotation switched off.

    These runs test the page, not augmentation (tests/pages/test_train_recipe.py and
    tests/core/train test that): without it the frozen backbone's features are extracted once
    per image instead of for 3 augmented views, a third of the work.
    """
    app.switch_page("app_pages/data.py").run()
    next(box for box in app.checkbox if box.label == "Flip left-right").uncheck().run()
    next(bar for bar in app.slider if bar.label == "Rotation (degrees)").set_value(0.0).run()
    assert not app.session_state["studio.data"].spec.augmentation.enabled


def open_train_with_model(new_app: Callable):  # returns AppTest
    """A new session: sample data (no augmentation), MobileNetV2 96 px (random weights), Train."""
    app = new_app().run()
    app.button(key="home_sample").click().run()
    without_augmentation(app)
    app.switch_page("app_pages/model.py")
    run_until_answered(app)  # a worker lists the backbone's layers (and builds the summary)
    app.number_input(key="model_size_mobilenet_v2").set_value(96)
    run_until_answered(app)
    app.button(key="FormSubmitter:model_head_form-Use this model").click()
    run_until_answered(app)
    app.switch_page("app_pages/train.py").run()  # the fine-tune layers: the same answer
    return app


def press_start(app, epochs: int) -> str:  # AppTest on the Train page; returns the run id
    """Sets the epochs and presses Start."""
    app.number_input(key="train_epochs").set_value(epochs)
    app.button(key=START).click().run()
    no_exception(app)
    return str(app.query_params["run"])


def start_from_sample(new_app: Callable, epochs: int = 1):  # returns (AppTest, run id)
    """A new session: sample data, MobileNetV2 96 px (random weights), Start."""
    app = open_train_with_model(new_app)
    return app, press_start(app, epochs)


def store_of(app):  # returns the RunStore of the app's workspace
    from core.config.settings import Settings
    from core.store.workspace import workspace_store

    return workspace_store(Settings.from_env(), app.query_params["ws"])


def wait_for_run(app, run_id: str) -> str:
    """Waits for the run's worker to end; returns the run's final status."""
    from core.jobs.runner import get_runner

    snapshot = get_runner().wait_for_run(store_of(app), run_id, timeout_s=300)
    assert not snapshot.active, f"the run is still {snapshot.status} after 300 s"
    return snapshot.status


def train_one_epoch(new_app: Callable):  # returns (AppTest, run id)
    """Sample data -> MobileNetV2 at 96 px with random weights -> 1 epoch, waited for."""
    app, run_id = start_from_sample(new_app, epochs=1)
    assert not texts(app, "error")
    assert wait_for_run(app, run_id) == "finished", store_of(app).load(run_id).status_info
    app.run()
    no_exception(app)
    return app, run_id


def test_empty_session_says_data_is_missing(new_app: Callable) -> None:
    app = new_app().run()
    app.switch_page("app_pages/train.py").run()
    no_exception(app)
    assert "3. Train" in texts(app, "title")
    assert any("No dataset yet" in text for text in texts(app, "info"))
    assert any("Go to Data" in link for link in texts(app, "page_link"))
    assert not app.button  # no Start without data


def test_one_epoch_run_finishes_and_reattaches_after_reload(new_app: Callable) -> None:
    app, run_id = train_one_epoch(new_app)
    assert "Training finished." in texts(app, "success")
    assert "Epochs on the chart: 1" in texts(app, "caption")
    assert app.get("plotly_chart")
    labels = [metric.label for metric in app.metric]
    assert {"Val accuracy", "Test accuracy"} <= set(labels)
    metrics = store_of(app).load(run_id).metrics
    shown = {metric.label: metric.value for metric in app.metric}
    assert metrics.test_accuracy is not None and metrics.val_accuracy is not None
    assert shown["Test accuracy"] == f"{metrics.test_accuracy:.1%}"  # as every page writes it
    assert shown["Val accuracy"] == f"{metrics.val_accuracy:.1%}"
    assert any(text.startswith("Scores of the model") for text in texts(app, "caption"))
    token = app.query_params["ws"]

    reloaded = new_app(ws=token, run=run_id).run()  # a reload: new session, same URL
    reloaded.switch_page("app_pages/train.py").run()
    no_exception(reloaded)
    assert reloaded.query_params["run"] == run_id
    # The new session re-attaches the workspace's dataset from the server, and shows the run.
    assert not any("No dataset yet" in text for text in texts(reloaded, "info"))
    assert "Training finished." in texts(reloaded, "success")
    assert "Epochs on the chart: 1" in texts(reloaded, "caption")

    stranger = new_app(run=run_id).run()  # another visitor, own fresh workspace
    stranger.button(key="home_sample").click().run()
    stranger.switch_page("app_pages/train.py").run()
    no_exception(stranger)
    assert any("no run with that id" in text.lower() for text in texts(stranger, "error"))
    assert "Training finished." not in texts(stranger, "success")


@pytest.mark.parametrize("bad_run", ["../../etc", "20261126-000000-000000-zzzz", "x" * 300])
def test_malformed_run_id_in_url_is_refused(new_app: Callable, bad_run: str) -> None:
    app = new_app().run()
    app.button(key="home_sample").click().run()
    app.switch_page("app_pages/train.py").run()
    app.query_params["run"] = bad_run
    app.run()
    no_exception(app)
    assert texts(app, "error")
    assert "run" not in app.query_params


def test_interrupted_run_shows_and_resumes(new_app: Callable) -> None:
    from core.config.data import DataConfig
    from core.config.model import ModelConfig
    from core.config.run import RunConfig
    from core.config.settings import Settings
    from core.config.train import TrainConfig
    from core.store.workspace import workspace_store

    app = new_app().run()
    app.button(key="home_sample").click().run()
    data_path = app.session_state["studio.data"].spec.path
    token = app.query_params["ws"]
    store = workspace_store(Settings.from_env(), token)
    config = RunConfig(
        data=DataConfig(path=data_path),
        model=ModelConfig(input_size=96, weights="none"),
        train=TrainConfig(epochs=1, batch_size=32),
    )
    run_id = store.create(config)  # queued by this process but never started: interrupted

    reloaded = new_app(ws=token, run=run_id).run()
    reloaded.switch_page("app_pages/train.py").run()
    no_exception(reloaded)
    assert any("interrupted" in text for text in texts(reloaded, "warning"))
    reloaded.button(key="train_resume").click().run()
    no_exception(reloaded)
    assert wait_for_run(reloaded, run_id) == "finished"
    reloaded.run()
    assert "Training finished." in texts(reloaded, "success")
    assert store.status(run_id) == "finished"


def test_second_session_is_queued_with_its_position(new_app: Callable) -> None:
    from core.jobs.runner import get_runner

    if get_runner().settings.max_jobs != 1:
        pytest.skip("STUDIO_MAX_JOBS is not 1 in this environment")
    # Both sessions are ready first (their model is checked by short worker jobs), so the
    # second Start comes while the first run is still training.
    first, second = open_train_with_model(new_app), open_train_with_model(new_app)
    first_run, second_run = press_start(first, epochs=2), press_start(second, epochs=1)
    queued = [text for text in texts(second, "info") if text.startswith("Queued")]
    assert queued and "position 1 in the queue" in queued[0]
    for app, run_id in ((first, first_run), (second, second_run)):
        assert wait_for_run(app, run_id) == "finished"
        app.run()
        assert "Training finished." in texts(app, "success")


def test_stop_button_stops_the_run(new_app: Callable) -> None:
    from core.jobs.progress import read_progress
    from tests.helpers.apptest import wait_until

    app, run_id = start_from_sample(new_app, epochs=50)
    store = store_of(app)
    # Stop once the worker trains (a queued run would simply be dropped from the queue).
    wait_until(lambda: bool(read_progress(store.path(run_id)).get("batches")), timeout=300)
    app.run()
    app.button(key="train_stop").click().run()
    no_exception(app)
    assert wait_for_run(app, run_id) == "stopped"
    app.run()
    assert store.status(run_id) == "stopped"
    assert any("stopped" in text for text in texts(app, "warning"))
    assert app.button(key="train_resume")  # a stopped run can be continued


def test_fine_tune_from_a_named_layer_runs_both_phases(new_app: Callable) -> None:
    app = open_train_with_model(new_app)
    no_exception(app)
    layer = app.selectbox(key="train_ft_layer")
    assert layer.value == "block_16_project_BN"  # the deepest recommended layer below the cut
    assert "block_16_expand" in layer.options[1] and "recommended" in layer.options[0]
    assert "Conv1" in {option.split("  ·  ")[0] for option in layer.options}
    app.number_input(key="train_epochs").set_value(1)
    app.checkbox(key="train_ft_enabled").check()
    app.radio(key="train_ft_mode").set_value("from_layer")
    layer.set_value("block_16_expand")
    app.number_input(key="train_ft_epochs").set_value(1)
    app.button(key=START).click().run()
    no_exception(app)
    assert not texts(app, "error")
    fine = app.session_state["studio.train_config"].fine_tune
    assert (fine.unfreeze_from, fine.last_n, fine.epochs) == ("block_16_expand", None, 1)

    run_id = app.query_params["run"]
    assert wait_for_run(app, run_id) == "finished"
    record = store_of(app).load(run_id)
    assert record.config.train.fine_tune is not None
    assert record.config.train.fine_tune.unfreeze_from == "block_16_expand"
    assert [row.phase for row in record.history] == ["head", "fine_tune"]
    app.run()
    assert "Training finished." in texts(app, "success")


def test_fine_tune_defaults_to_the_last_n_layers(new_app: Callable) -> None:
    app = new_app().run()
    app.button(key="home_sample").click().run()
    app.switch_page("app_pages/train.py")  # the default model, never confirmed
    run_until_answered(app)  # its layers, for the fine-tune picker, listed by a worker
    no_exception(app)
    assert app.radio(key="train_ft_mode").value == "last_n"
    assert app.number_input(key="train_ft_last_n").value == 20
    assert not app.checkbox(key="train_ft_enabled").value
    # The layer list is the default MobileNetV2 (224 px) up to its default cut.
    assert app.selectbox(key="train_ft_layer").value == "block_16_project_BN"


def test_a_setting_the_run_changed_is_shown_on_the_page(new_app: Callable) -> None:
    from core.config.data import DataConfig
    from core.config.model import ModelConfig
    from core.config.run import RunConfig
    from core.config.train import TrainConfig
    from core.jobs.progress import ProgressWriter

    app = new_app().run()
    app.button(key="home_sample").click().run()
    config = RunConfig(
        data=DataConfig(path=app.session_state["studio.data"].spec.path),
        model=ModelConfig(input_size=96, weights="none"),
        train=TrainConfig(epochs=1, batch_size=32),
    )
    store = store_of(app)
    run_id = store.create(config)
    note = "Batch size lowered from 32 to 16 so the run fits the memory left (900 MB)."
    ProgressWriter(store.path(run_id), 1).notice(note)  # what the worker's memory guard writes

    app.query_params["run"] = run_id
    app.switch_page("app_pages/train.py").run()
    no_exception(app)
    assert note in texts(app, "warning")
