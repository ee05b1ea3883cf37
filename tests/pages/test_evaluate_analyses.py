"""AppTest of the Evaluate page's analyses: a confusion cell's images, label fixes and retrain,
the learning curve and calibration. Every analysis runs as an ``analyse`` job in a worker
process; the test waits for each job and reruns the page, which reads the job's files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from streamlit.testing.v1 import AppTest

from core.evaluate.calibration import calibration_verdict
from tests.helpers.analysis import colour_dataset
from tests.helpers.apptest import no_exception, texts
from tests.helpers.eval_pages import workspace_with_run
from tests.helpers.trained_runs import trained_workspace
from tests.pages.job_waits import wait_for_job

if TYPE_CHECKING:
    from core.jobs.snapshot import JobStatus

pytestmark = pytest.mark.apptest
PAGE = "app_pages/evaluate.py"


def _fingerprint(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha1(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _evaluated_page(new_app: Callable[..., AppTest], token: str, run_id: str) -> AppTest:
    app = new_app(ws=token, run=run_id).run()
    app.switch_page(PAGE).run()
    wait_for_job(token, run_id, "evaluate")
    app.run()
    no_exception(app)
    return app


def _latest_analysis(token: str, run_id: str) -> JobStatus:
    from core.config.settings import Settings
    from core.jobs.runner import get_runner
    from core.store.workspace import workspace_store

    store = workspace_store(Settings.from_env(), token)
    job = get_runner().latest_job(store, run_id, "analyse")
    assert job is not None and job.result is not None, "the analysis finished with a result"
    return job


def test_confusion_cell_choice_shows_that_cells_images(
    new_app: Callable[..., AppTest], tmp_path: Path
) -> None:
    from core.config.settings import Settings
    from core.jobs.kinds.evaluate import load_evaluation
    from core.jobs.runner import get_runner
    from core.store.workspace import workspace_store
    from ui.evaluate.confusion import cell_images

    token, run_id = workspace_with_run(tmp_path)
    app = _evaluated_page(new_app, token, run_id)
    store = workspace_store(Settings.from_env(), token)
    job = get_runner().latest_job(store, run_id, "evaluate")
    assert job is not None
    result = load_evaluation(job.folder)
    counts = {(t, p): len(cell_images(result, t, p)) for t in (0, 1) for p in (0, 1)}
    assert sum(counts.values()) == len(result.paths)
    for (true, predicted), count in counts.items():
        app.selectbox(key="eval_cell_true").set_value(true)
        app.selectbox(key="eval_cell_predicted").set_value(predicted).run()
        no_exception(app)
        names = ("cat", "dog")
        sentence = f"{count} image(s) of {names[true]} predicted as {names[predicted]}."
        assert sentence in texts(app, "markdown")
        captions = [caption for image in app.image for caption in image.captions]
        assert sum("png" in caption and "%)" in caption for caption in captions) == count


def test_a_click_on_a_cell_is_read_from_the_charts_selection() -> None:
    from ui.evaluate.confusion import clickable_figure, clicked_cell

    figure = clickable_figure([[3, 1], [0, 4]], ["cat", "dog"])
    markers = figure.data[1]
    assert [list(cell) for cell in markers.customdata] == [[0, 0], [0, 1], [1, 0], [1, 1]]
    event = {"selection": {"points": [{"customdata": [1, 0], "x": "cat", "y": "dog"}]}}
    assert clicked_cell(event, 2) == (1, 0)
    assert clicked_cell({"selection": {"points": []}}, 2) is None
    assert clicked_cell({"selection": {"points": [{"customdata": [5, 0]}]}}, 2) is None


def test_label_fixes_save_a_new_version_and_retrain_on_it(
    new_app: Callable[..., AppTest], tmp_path: Path
) -> None:
    from core.config.settings import Settings
    from core.data.dataset_version import read_version_manifest
    from core.jobs.runner import get_runner
    from core.store.workspace import workspace_store
    from tests.helpers.workspaces import plant_versions

    # not tmp_path / "data": that is the studio's data folder, where the version goes
    data, wrong = colour_dataset(tmp_path / "photos", per_class=16, flipped=2)
    before = _fingerprint(data)
    token, run_id, _ = trained_workspace(data)
    app = _evaluated_page(new_app, token, run_id)
    app.button(key="eval_issues_start").click().run()
    wait_for_job(token, run_id, "analyse")
    app.run()
    no_exception(app)
    assert not texts(app, "error")
    job = _latest_analysis(token, run_id)
    issues = (job.result or {})["issues"]
    assert {issue["path"] for issue in issues[:3]} >= set(wrong)
    first, second = issues[0]["path"], issues[1]["path"]
    prefix = f"eval_fix_{job.job_id}"
    offered = {box.key for box in app.selectbox}
    for index, issue in enumerate(issues[:24]):  # test images: no one-click edit by default
        assert (f"{prefix}_{index}_label" in offered) == (issue["split"] != "test")
    app.toggle(key="eval_fix_include_test").set_value(True).run()
    app.selectbox(key=f"{prefix}_0_label").set_value(issues[0]["suggested_label"])
    app.checkbox(key=f"{prefix}_1_remove").check().run()  # a browser reruns on each change
    app.button(key="eval_fix_save").click().run()
    no_exception(app)
    assert not texts(app, "error"), texts(app, "error")
    assert any("Saved a corrected copy" in text for text in texts(app, "success"))

    record = (job.folder / "corrected_version.json").read_text()
    images = Path(json.loads(record)["images"])
    manifest = read_version_manifest(images)
    assert manifest is not None and manifest["kind"] == "label-fix"
    assert {"path": second, "action": "remove"} in manifest["changes"]
    moved = [p for p in images.rglob(Path(first).name)]
    assert [p.parent.name for p in moved] == [issues[0]["suggested_label"]]
    assert not list(images.rglob(Path(second).name))
    assert _fingerprint(data) == before  # the original is never changed
    store = workspace_store(Settings.from_env(), token)
    folders = plant_versions(Settings.from_env(), store, 10)  # the most a workspace may keep
    app.button(key="eval_fix_save").click().run()  # an 11th is refused, nothing written
    assert any("already holds 10 saved dataset versions" in e for e in texts(app, "error"))
    assert plant_versions(Settings.from_env(), store, 10) == folders

    app.button(key="eval_fix_retrain").click().run()
    no_exception(app)
    new_runs = [rid for rid in store.run_ids() if rid != run_id]
    assert len(new_runs) == 1
    snapshot = get_runner().wait_for_run(store, new_runs[0], timeout_s=300)
    assert snapshot.status == "finished", snapshot
    assert store.load(new_runs[0]).config.data.path == str(images)


def test_learning_curve_and_calibration_are_drawn_from_their_jobs(
    new_app: Callable[..., AppTest], tmp_path: Path
) -> None:
    token, run_id = workspace_with_run(tmp_path)
    app = _evaluated_page(new_app, token, run_id)
    app.button(key="eval_curve_start").click().run()
    wait_for_job(token, run_id, "analyse")
    app.run()
    no_exception(app)
    assert any(text.startswith(("Likely", "Probably", "Unclear")) for text in texts(app, "info"))
    assert any("learning curve again" in button.label for button in app.button)

    app.button(key="eval_calibrate_start").click().run()
    wait_for_job(token, run_id, "analyse")
    app.run()
    no_exception(app)
    measured = _latest_analysis(token, run_id).result or {}
    if not calibration_verdict(measured["splits"])[0]:  # the tiny run's numbers decide
        assert not [b for b in app.button if b.key == "eval_calibrate_store"]
        assert any(text.startswith("Did not help") for text in texts(app, "warning"))
        return
    store_button = next(b for b in app.button if b.key == "eval_calibrate_store")
    store_button.click().run()
    wait_for_job(token, run_id, "analyse")
    app.run()
    no_exception(app)
    assert any("is stored in this run" in text for text in texts(app, "success"))
    assert not texts(app, "error")
    job = _latest_analysis(token, run_id)
    labels = json.loads((job.folder.parents[1] / "labels.json").read_text())
    assert labels["temperature"] == (job.result or {})["temperature"]
