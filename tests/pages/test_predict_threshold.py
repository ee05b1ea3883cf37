"""AppTest of Predict's "not sure": a class's own threshold and the calibrated probabilities.

A run calibrated with ``python -m core calibrate`` keeps ``temperature`` and optional
``class_thresholds`` in ``labels.json``; the single-image verdict must apply the larger of the
page's threshold and the class's own, and the page must say the run is calibrated.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.apptest import no_exception, run_until_answered, texts
from tests.helpers.eval_pages import png_bytes, workspace_with_run

pytestmark = pytest.mark.apptest
PAGE = "app_pages/predict.py"


def _run_folder(token: str, run_id: str) -> Path:
    from core.config.settings import Settings
    from core.store.workspace import workspace_store

    return workspace_store(Settings.from_env(), token).path(run_id)


def _predict_one(new_app: Callable, token: str, run_id: str):  # returns an AppTest
    app = new_app(ws=token, run=run_id).run()
    app.switch_page(PAGE).run()
    no_exception(app)
    app.slider(key="predict_threshold").set_value(0.0).run()  # the page never says "not sure"
    uploader = next(u for u in app.get("file_uploader") if u.label == "Images")
    uploader.set_value([("red.png", png_bytes(), "image/png")])
    run_until_answered(app)  # the run's quick-prediction model is made by a worker, once
    no_exception(app)
    return app


def test_without_class_thresholds_a_zero_threshold_always_answers(
    new_app: Callable, tmp_path: Path
) -> None:
    token, run_id = workspace_with_run(tmp_path)
    app = _predict_one(new_app, token, run_id)
    assert texts(app, "success") and not texts(app, "warning")
    assert not any("Calibrated" in caption for caption in texts(app, "caption"))


def test_a_raised_class_threshold_says_not_sure_and_calibration_is_shown(
    new_app: Callable, tmp_path: Path
) -> None:
    token, run_id = workspace_with_run(tmp_path, classes=("cat*", "dog"))
    labels_file = _run_folder(token, run_id) / "labels.json"
    labels = json.loads(labels_file.read_text())
    labels.update(temperature=1.5, class_thresholds={"cat*": 0.999, "dog": 0.999})
    labels_file.write_text(json.dumps(labels))
    app = _predict_one(new_app, token, run_id)
    warnings = texts(app, "warning")
    assert not texts(app, "success")
    assert any(w.startswith("Not sure") and "(this class needs 100%)" in w for w in warnings)
    captions = texts(app, "caption")
    assert any("Calibrated (temperature 1.50" in caption for caption in captions)
    assert any("cat* 100%" in caption and "dog 100%" in caption for caption in captions)
    # The class name is shown as typed: its "*" is escaped, never read as emphasis.
    shown = [str(element.value) for element in app.caption] + [str(w.value) for w in app.warning]
    assert any("cat\\*" in text for text in shown)


def test_an_image_unlike_the_data_is_answered_none_of_the_classes(
    new_app: Callable, tmp_path: Path
) -> None:
    """A run's ``ood.json`` whose threshold no answer reaches: the page says "none of them"."""
    from core.store.ood_record import OOD_FILE

    token, run_id = workspace_with_run(tmp_path)
    record = {"score": "max_probability", "threshold": 1.01, "temperature": 1.0, "images": 9}
    (_run_folder(token, run_id) / OOD_FILE).write_text(json.dumps(record))
    app = _predict_one(new_app, token, run_id)
    assert not texts(app, "success")
    assert any("none of the classes the model knows" in w for w in texts(app, "warning"))
    assert any("only knows the classes it was trained on" in c for c in texts(app, "caption"))
