"""A new tab or device on the owner's ``?ws=`` link shows the workspace, not an empty session:
its newest run, its dataset (named on Train) and its confirmed model (issue 26, item 6).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from core.config.model import ModelConfig
from core.config.settings import Settings
from core.store.model_choice import save_model_choice, stored_model_choice
from core.store.workspace import view_token, workspace_store
from tests.helpers.apptest import no_exception, texts
from tests.helpers.eval_pages import workspace_with_run

pytestmark = pytest.mark.apptest


def test_a_new_tab_shows_the_workspaces_last_run(new_app: Callable, tmp_path: Path) -> None:
    token, run_id = workspace_with_run(tmp_path)
    home = new_app(ws=token).run()  # a new tab: nothing in its session, no run in the URL
    no_exception(home)
    assert {m.label: m.value for m in home.metric}["Last run"] == "finished"
    assert "tiny · best validation accuracy 75.0%" in texts(home, "caption")
    home.switch_page("app_pages/train.py").run()
    no_exception(home)
    assert f"Run {run_id}" in texts(home, "subheader")
    assert "tiny · dataset dataset" in texts(home, "caption")  # the run's dataset, by name
    assert str(tmp_path) not in " ".join(texts(home, "caption") + texts(home, "markdown"))


def test_train_names_the_dataset_a_new_run_uses(new_app: Callable) -> None:
    app = new_app().run()
    app.button(key="home_sample").click().run()
    token = app.query_params["ws"]
    again = new_app(ws=token).run()  # another device: the workspace's dataset comes back
    again.switch_page("app_pages/train.py").run()
    no_exception(again)
    line = next(text for text in texts(again, "markdown") if text.startswith("Dataset:"))
    assert line.startswith("Dataset: **Sample dataset**") and "classes" in line


def test_the_confirmed_model_comes_back_for_the_owner_only(new_app: Callable) -> None:
    app = new_app().run()
    token = app.query_params["ws"]
    store = workspace_store(Settings.from_env(), token)
    chosen = replace(ModelConfig(weights="none"), backbone="efficientnet_b0", input_size=96)
    save_model_choice(store, chosen)
    assert stored_model_choice(store) == chosen
    home = new_app(ws=token).run()
    no_exception(home)
    metrics = {m.label: m.value for m in home.metric}
    assert metrics["Model"] == "efficientnet_b0"
    assert "confirmed" in texts(home, "caption")
    viewer = new_app(view=view_token(Settings.from_env(), token)).run()
    no_exception(viewer)
    assert {m.label: m.value for m in viewer.metric}.get("Model") != "efficientnet_b0"
