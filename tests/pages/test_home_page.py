"""AppTest of the Home page: fast first render, workspace token, the sample-data shortcut."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.apptest import APP, no_exception, texts
from ui.common import PAGES

pytestmark = pytest.mark.apptest

TOKEN_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def test_home_renders_in_empty_session_and_creates_a_workspace(new_app: Callable) -> None:
    app = new_app().run()
    no_exception(app)
    assert "Transfer-learning studio" in texts(app, "title")
    token = app.query_params["ws"]
    assert isinstance(token, str) and len(token) >= 22 and set(token) <= TOKEN_CHARS
    assert any("Next: load data" in link for link in texts(app, "page_link"))


def test_home_does_not_import_tensorflow(studio_env: Path) -> None:
    # A fresh interpreter: the test process may already hold TensorFlow from other tests.
    code = (
        "import json, sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"app = AppTest.from_file({APP!r}, default_timeout=60).run()\n"
        "print(json.dumps({'exc': len(app.exception), 'tf': 'tensorflow' in sys.modules,"
        " 'keras': 'keras' in sys.modules}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
        check=True,
    )
    facts = json.loads(result.stdout.strip().splitlines()[-1])
    assert facts == {"exc": 0, "tf": False, "keras": False}


def test_reload_with_the_same_token_keeps_the_workspace(new_app: Callable) -> None:
    first = new_app().run()
    token = first.query_params["ws"]
    again = new_app(ws=token).run()
    no_exception(again)
    assert again.query_params["ws"] == token
    assert not texts(again, "error")


@pytest.mark.parametrize(
    "token", ["A" * 32, "../../etc/passwd", "short", "%2e%2e%2f" * 4, "x" * 200]
)
def test_unknown_or_malformed_token_is_refused(new_app: Callable, token: str) -> None:
    app = new_app(ws=token).run()
    no_exception(app)
    errors = texts(app, "error")
    assert errors and "workspace" in errors[0].lower()
    assert not texts(app, "title")  # the page stopped before showing anything else
    app.button(key="studio_fresh_ws").click().run()
    no_exception(app)
    assert app.query_params["ws"] != token
    assert not texts(app, "error")


def test_shared_workspace_puts_no_token_in_the_url(
    new_app: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDIO_SHARED_WORKSPACE", "1")
    app = new_app().run()
    no_exception(app)
    assert "ws" not in app.query_params


def test_sample_button_loads_the_data_and_opens_the_data_page(new_app: Callable) -> None:
    app = new_app().run()
    token = app.query_params["ws"]
    app.button(key="home_sample").click().run()
    no_exception(app)
    assert "1. Data" in texts(app, "title")
    assert app.query_params["ws"] == token  # kept across st.switch_page
    metrics = {m.label: m.value for m in app.metric}
    assert int(metrics["Classes"]) >= 2 and int(metrics["Images"]) > 0


def test_status_panel_shows_loaded_data(new_app: Callable) -> None:
    app = new_app().run()
    app.button(key="home_sample").click().run()
    app.switch_page("app_pages/home.py").run()
    no_exception(app)
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Data"] == "ready"
    assert any("Next: choose a model" in link for link in texts(app, "page_link"))


def test_no_legacy_pages_folder_next_to_the_app() -> None:
    """A ``pages/`` folder beside app.py makes Streamlit skip ``st.navigation`` on deep links.

    (tests/e2e/test_deep_links.py shows it in a browser; this catches it without one.)
    """
    app_dir = Path(APP).parent
    assert not (app_dir / "pages").exists()
    assert all((app_dir / path).is_file() for path, _, _ in PAGES.values())


def test_the_demo_button_trains_the_sample_to_a_strong_result(
    new_app: Callable, local_weights: Path
) -> None:
    from core.config.recipes import DEMO_RECIPE, demo_config
    from core.config.settings import Settings
    from core.jobs.runner import get_runner
    from core.store.workspace import workspace_store

    app = new_app().run()
    assert DEMO_RECIPE in texts(app, "caption")  # which recipe runs, before the click
    token = app.query_params["ws"]
    app.button(key="home_demo").click().run()
    no_exception(app)
    assert "3. Train" in texts(app, "title")
    run_id = app.query_params["run"]
    store = workspace_store(Settings.from_env(), token)
    snapshot = get_runner().wait_for_run(store, run_id, timeout_s=300)
    assert snapshot.status == "finished", snapshot.error
    record = store.load(run_id)
    assert record.config == demo_config(record.config.data.path)
    assert (record.metrics.test_accuracy or 0.0) >= 0.9
    app.run()
    no_exception(app)
    labels = {metric.label: str(metric.value) for metric in app.metric}
    assert float(labels["Test accuracy"].rstrip("%")) >= 90  # the result card, e.g. "97.5%"
    links = texts(app, "page_link")
    assert any("Evaluate" in link for link in links) and any("new images" in link for link in links)


def test_without_weights_the_demo_says_how_to_get_them(
    new_app: Callable, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("STUDIO_WEIGHTS_DIR", str(tmp_path / "no_weights"))
    monkeypatch.setenv("STUDIO_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    app = new_app().run()
    app.button(key="home_demo").click().run()
    no_exception(app)
    warning = " ".join(texts(app, "warning"))
    assert "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5" in warning
    assert str(tmp_path) not in warning  # no server path
    assert "run" not in app.query_params  # nothing was started
    assert app.button(key="home_sample")  # the sample is offered instead


def test_a_rebuilt_job_queue_is_noticed_on_the_pages(new_app: Callable, studio_env: Path) -> None:
    from core.jobs.recovery import write_notice

    (studio_env / "runs").mkdir(exist_ok=True)
    write_notice(studio_env / "runs", ".jobs.json.damaged-20261207-120000", 2, 1)
    app = new_app().run()
    no_exception(app)
    notices = [text for text in texts(app, "info") if "rebuilt from the job folders" in text]
    assert len(notices) == 1 and "2 waiting, 1 running" in notices[0]
    assert str(studio_env) not in notices[0]
