"""AppTest of the Evaluate page: empty workspace, then a finished tiny run evaluated by a job.

The evaluation runs in a worker process; the test waits for the job and reruns the page, which
then reads the metrics, the mistakes and the Grad-CAM heatmaps from the job's files. The numbers
shown are those of a really trained run, recomputed here from core's held-out split and predictor.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.analysis import colour_dataset
from tests.helpers.apptest import no_exception, texts
from tests.helpers.eval_pages import workspace_with_run
from tests.helpers.trained_runs import trained_workspace
from tests.pages.job_waits import wait_for_job

pytestmark = pytest.mark.apptest
PAGE = "app_pages/evaluate.py"


def test_renders_in_an_empty_session(new_app: Callable) -> None:
    app = new_app().run()
    app.switch_page(PAGE).run()
    no_exception(app)
    assert any("no trained model" in text for text in texts(app, "info"))
    assert any("Train" in link for link in texts(app, "page_link"))


def test_finished_run_shows_metrics_heatmap_and_gradcam(new_app: Callable, tmp_path: Path) -> None:
    from core.config.settings import Settings
    from core.jobs.runner import get_runner
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


@pytest.mark.parametrize(("test_ratio", "split"), [(0.25, "test"), (0.0, "validation")])
def test_the_scores_shown_are_cores_on_the_runs_held_out_split(
    new_app: Callable, tmp_path: Path, test_ratio: float, split: str
) -> None:
    """Accuracy, macro F1 and image count equal core's for the run's test (or validation) split.

    Six red images filed as blue make the scores imperfect (87.5 % when this was written).
    Without a test split the page falls back to validation and says so.
    """
    import numpy as np

    from core.evaluate.held_out import held_out_items
    from core.evaluate.metrics import compute_metrics
    from core.predict.predictor import Predictor

    data, _ = colour_dataset(tmp_path / "data", per_class=16, flipped=6)
    token, run_id, run_dir = trained_workspace(data, test_ratio=test_ratio, epochs=3)
    held_out = held_out_items(run_dir)  # the split stored with the run
    assert held_out.split == split
    predictor = Predictor.from_run(run_dir)
    probabilities = predictor.predict_sources([path for path, _ in held_out.items])
    truth = np.array([predictor.classes.index(held_out.classes[i]) for _, i in held_out.items])
    accuracy = float(np.mean(probabilities.argmax(axis=1) == truth))
    macro_f1 = compute_metrics(truth, probabilities, predictor.classes).macro_f1

    app = new_app(ws=token, run=run_id).run()
    app.switch_page(PAGE).run()
    wait_for_job(token, run_id, "evaluate")
    app.run()
    no_exception(app)
    shown = {metric.label: metric.value for metric in app.metric}
    assert shown["Accuracy"] == f"{accuracy:.1%}", (shown, accuracy)
    assert shown["Macro F1"] == f"{macro_f1:.3f}", (shown, macro_f1)
    assert shown[f"Images ({split})"] == str(len(held_out.items))
    fallback = any("VALIDATION split" in text for text in texts(app, "warning"))
    assert fallback == (split == "validation")
