"""AppTest of the Runs page: empty workspace, table + comparison, delete, export."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.apptest import no_exception, texts
from tests.helpers.eval_pages import workspace_with_run

pytestmark = pytest.mark.apptest
PAGE = "pages/runs.py"


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
    assert any("max |Δp|" in str(frame.value.columns) for frame in app.dataframe)
    assert len(app.get("download_button")) == 2  # .keras and the bundle


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
