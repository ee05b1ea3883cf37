"""Every page driven through AppTest in THIS process, which must end without TensorFlow.

``python -m tests.helpers.page_tour TOKEN RUN_ID ZIP IMAGE`` (run by
``tests/ui/test_web_process_imports.py`` in a fresh interpreter, with the test's ``STUDIO_*``
folders in the environment): uploads a dataset zip on Data and draws the augmentation preview,
picks a model and confirms it on Model (its layers and summary), opens Train (the fine-tune
layer picker), predicts one image with the workspace's run on Predict, evaluates it on Evaluate,
presents it (and tries the photo) on the presentation page and opens Runs. Every job a page
queues runs in a worker; the tour waits for them and reruns the page, as a browser's poll
would. It prints one JSON line: what each page showed, and which of ``tensorflow`` and
``keras`` are in ``sys.modules`` at the end (the web process's promise: none).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

from tests.helpers.apptest import APP, run_until_answered, texts

USE = "FormSubmitter:model_head_form-Use this model"


def _shown(app: AppTest) -> dict[str, Any]:
    """What a page showed that a test asserts on: exceptions, errors, and the metrics."""
    return {
        "exceptions": [e.message for e in app.exception],
        "errors": texts(app, "error"),
        "metrics": {m.label: str(m.value) for m in app.metric},
    }


def _data(app: AppTest, zip_path: Path) -> dict[str, Any]:
    app.switch_page("app_pages/data.py").run()
    app.segmented_control(key="data_source").set_value("Zip upload").run()
    app.file_uploader(key="data_zip").upload("d.zip", zip_path.read_bytes(), "application/zip")
    app.run()
    app.button(key="data_zip_load").click().run()
    app.button(key="data_preview_start").click()
    run_until_answered(app)
    return {**_shown(app), "images": len(app.get("image"))}


def _model(app: AppTest) -> dict[str, Any]:
    app.switch_page("app_pages/model.py")
    run_until_answered(app)  # the backbone's layers, listed by a worker
    app.number_input(key="model_size_mobilenet_v2").set_value(32)
    run_until_answered(app)
    app.button(key=USE).click()
    run_until_answered(app)  # the summary, built by a worker
    return _shown(app)


def _predict(app: AppTest, image: Path) -> dict[str, Any]:
    app.switch_page("app_pages/predict.py").run()
    uploader: Any = next(u for u in app.get("file_uploader") if getattr(u, "label", "") == "Images")
    uploader.set_value([("photo.png", image.read_bytes(), "image/png")])
    run_until_answered(app)  # the run's quick-prediction model, made once by a worker
    return {**_shown(app), "verdicts": texts(app, "success") + texts(app, "warning")}


def _present(app: AppTest, image: Path) -> dict[str, Any]:
    """The presentation page: the evaluation above, then "try it on your photo" (LiteRT)."""
    app.switch_page("app_pages/present.py")
    run_until_answered(app)
    uploader: Any = next(u for u in app.get("file_uploader") if u.key == "present_photo")
    uploader.set_value([("photo.png", image.read_bytes(), "image/png")])
    run_until_answered(app)  # the run's quick-prediction model is ready since Predict
    return {**_shown(app), "verdicts": texts(app, "success") + texts(app, "warning")}


def tour(token: str, run_id: str, zip_path: Path, image: Path) -> dict[str, Any]:
    """Visits every page in one session; returns what each showed and the modules loaded."""
    app = AppTest.from_file(APP, default_timeout=120)
    app.query_params["ws"] = token
    app.query_params["run"] = run_id
    app.run()
    shown: dict[str, Any] = {"home": _shown(app), "data": _data(app, zip_path)}
    shown["model"] = _model(app)
    app.switch_page("app_pages/train.py")
    shown["train"] = _shown(run_until_answered(app))
    shown["predict"] = _predict(app, image)
    app.switch_page("app_pages/evaluate.py")
    shown["evaluate"] = _shown(run_until_answered(app))
    shown["present"] = _present(app, image)
    app.switch_page("app_pages/runs.py")
    shown["runs"] = _shown(run_until_answered(app))
    shown["modules"] = sorted(name for name in ("tensorflow", "keras") if name in sys.modules)
    return shown


if __name__ == "__main__":
    token, run_id, zip_file, image_file = sys.argv[1:5]
    print(json.dumps(tour(token, run_id, Path(zip_file), Path(image_file))))
