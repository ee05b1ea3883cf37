"""A workspace's dataset survives a reload: a NEW session with the same ``?ws=`` finds it again,
with its settings; a read-only link never gets it (issue 14).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.config.settings import Settings
from core.store.workspace import view_token
from tests.helpers.apptest import no_exception, texts
from tests.helpers.data_pages import dataset_zip, facts, load_zip, open_data

pytestmark = pytest.mark.apptest


def reopen_data(new_app: Callable, **params: str) -> AppTest:
    """A reload: a new session with only the URL (no session state), on the Data page."""
    app = new_app(**params).run()
    app.switch_page("app_pages/data.py").run()
    no_exception(app)
    return app


def test_an_uploaded_zip_is_there_after_a_reload(new_app: Callable, studio_env: Path) -> None:
    app = open_data(new_app)
    load_zip(app, dataset_zip(5))
    token = app.query_params["ws"]
    assert facts(app)["Images"] == "10"
    again = reopen_data(new_app, ws=token)
    assert facts(again)["Images"] == "10"
    assert facts(again)["Classes"] == "2"
    assert not texts(again, "error")
    home = new_app(ws=token).run()
    assert {m.label: m.value for m in home.metric}["Data"] == "ready"
    assert any("pets.zip" in caption for caption in texts(home, "caption"))


def seed_input(app: AppTest):  # type: ignore[no-untyped-def]
    return next(field for field in app.number_input if field.label == "Seed")


def test_the_sample_and_its_split_settings_come_back(new_app: Callable) -> None:
    app = open_data(new_app)
    app.button(key="data_sample").click().run()
    seed_input(app).set_value(7)
    app.button(key="FormSubmitter:data_split_form-Apply split").click().run()
    no_exception(app)
    token = app.query_params["ws"]
    again = reopen_data(new_app, ws=token)
    assert seed_input(again).value == 7
    assert facts(again)["Images"] == facts(app)["Images"]


def test_a_read_only_link_does_not_get_the_owners_dataset(new_app: Callable) -> None:
    app = open_data(new_app)
    load_zip(app, dataset_zip(5))
    token = app.query_params["ws"]
    view = view_token(Settings.from_env(), token)
    viewer = new_app(view=view).run()
    no_exception(viewer)
    assert {m.label: m.value for m in viewer.metric}["Data"] == "missing"
