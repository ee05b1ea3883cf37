"""AppTest of the Evaluate page: empty workspace, then a finished tiny run evaluated by a job.

The evaluation runs in a worker process; the test waits for the job and reruns the page, which
then reads the metrics, the mistakes and the Grad-CAM heatmaps from the job's files.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.apptest import no_exception, texts
from tests.helpers.eval_pages import workspace_with_run

pytestmark = pytest.mark.apptest
PAGE = "app_pages/evaluate.py"


def test_renders_in_an_empty_session(new_app: Callable) -> None:
    app = new_app().run()
    app.switch_page(PAGE).run()
    no_exception(app)
    assert any("no trained model" in text for text in texts(app, "info"))
    assert any("Train" in link for link in texts(app, "page_link"))


def test_finished_run_shows_metrics_heatmap_and_gradcam(new_app: Callable, tmp_path: Path) -> None:
    from core.jobs.runner import get_runner
    from core.settings import Settings
    from core.store.workspace import workspace_store

    token, run_id = workspace_with_run(tmp_path)
    app = new_app(ws=token, run=run_id).run()
    app.switch_page(PAGE).run()
    no_exception(app)
    assert not texts(app, "error")
    store = workspace_store(Settings.from_env(), token)
    job = get_runner().latest_job(store, run_id, "evaluate")
    assert job is not None, "opening the page starts the run's evaluation"
    assert get_runner().wait_for_job(store, job.job_id, run_id, 240).state == "finished"
    app.run()
    no_exception(app)
    assert [m.label for m in app.metric][:2] == ["Accuracy", "Macro F1"]
    charts = app.get("plotly_chart")
    assert len(charts) >= 4  # two confusion matrices, ROC and PR (two classes)
    assert any("Grad-CAM" in text for text in texts(app, "subheader"))
    assert len(app.get("image")) >= 2  # input and Grad-CAM overlay

    reloaded = new_app(ws=token, run=run_id).run()  # a reload re-attaches: no second job
    reloaded.switch_page(PAGE).run()
    no_exception(reloaded)
    assert len(reloaded.get("plotly_chart")) >= 4
    assert len(list((store.path(run_id) / "jobs").glob("evaluate-*"))) == 1
