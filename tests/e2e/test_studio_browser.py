"""The studio in a real browser: sample data -> MobileNetV2 -> a few epochs with live curves.

Training must survive a browser reload (the run id in the URL re-attaches the new session to the
job) and page switches: the test first sees the run training (Stop and a working status on the
progress bar), reloads, leaves for another page, and after coming back sees the same run get
past that epoch or finish (one run for both: a second training of the sample only repeated the
same feature extraction). The trained run is then evaluated (confusion-matrix heatmap), tried on
a generated image (top-k bar chart) and its ``.keras`` downloaded from the Runs page: the file
loads with ``safe_mode=True`` and predicts the class the app showed. Screenshots of every page go
to a temporary folder (``tests.helpers.e2e_flow.SCREENSHOTS``); scripts/screenshots.py makes the
README's.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.data.images import load_image_array
from core.data.sample import SAMPLE_CLASSES, draw_sample
from tests.conftest import weights_dir
from tests.helpers import e2e_flow as flow
from tests.helpers.e2e_server import StudioServer

pytestmark = pytest.mark.e2e
EPOCHS = 3


def url_param(page: Any, name: str) -> str | None:
    match = re.search(rf"[?&]{name}=([^&]+)", page.url)
    return match.group(1) if match else None


def test_train_through_a_reload_and_page_switches(
    page: Any, studio_server: StudioServer, tmp_path: Path
) -> None:
    flow.open_home(page, studio_server.url)
    token = url_param(page, "ws")
    assert token, "no workspace token in the URL"
    flow.shot(page, "home")
    flow.load_sample(page)
    flow.shot(page, "data")
    # With the offline ImageNet weights (CI has them) the curves in the screenshot show real
    # learning; without them the run uses random weights. Either way the backbone is frozen.
    flow.choose_model(page, size=96, weights="imagenet" if weights_dir() else "none")
    flow.shot(page, "model")
    run_id = flow.start_training(page, EPOCHS)
    page.get_by_role("heading", name=f"Run {run_id}").wait_for()

    done_before = flow.wait_training(page)  # the worker is at work on it (Stop, its status)
    assert done_before < EPOCHS
    page.reload()  # a new Streamlit session: only the URL remembers the run
    page.get_by_role("heading", name=f"Run {run_id}").wait_for()
    assert url_param(page, "run") == run_id
    flow.nav(page, "Data")  # leave ...
    page.get_by_role("heading", name="1. Data").wait_for()
    assert url_param(page, "ws") == token and url_param(page, "run") == run_id
    flow.nav(page, "Train")  # ... and come back: the same run, gone on or finished
    page.get_by_role("heading", name=f"Run {run_id}").wait_for()
    flow.wait_past_epoch(page, done_before)  # the re-attached page follows the same run on

    flow.wait_finished(page)
    assert flow.chart_epochs(page) == EPOCHS
    assert flow.chart_markers(page) >= 2 * EPOCHS  # train and validation points per epoch
    assert url_param(page, "run") == run_id
    flow.shot(page, "train")
    check_evaluate_predict_export(page, studio_server, run_id, tmp_path)


def run_folder(server: StudioServer, run_id: str) -> Path:
    """The run's folder on the server (under the workspace folder, whose name is opaque)."""
    found = sorted((server.work_dir / "runs").glob(f"*/{run_id}/labels.json"))
    assert found, f"no labels.json for run {run_id}"
    return found[0].parent


def check_evaluate_predict_export(
    page: Any, server: StudioServer, run_id: str, tmp_path: Path
) -> None:
    """The trained run of the same session: heatmap, a prediction, the downloaded model.

    The downloaded ``.keras`` must load in plain Keras with ``safe_mode=True`` and predict the
    class the app showed for the same image (same decoder, same size and resize mode).
    """
    assert flow.evaluate_heatmap(page).is_visible()
    flow.shot(page, "evaluate", height=1500, main_only=True)

    image_path = tmp_path / "my_photo.png"
    draw_sample(SAMPLE_CLASSES[0], np.random.default_rng(123), size=96).save(image_path)
    shown, shown_percent = flow.predict_upload(page, image_path)
    labels = json.loads((run_folder(server, run_id) / "labels.json").read_text())
    assert shown in labels["classes"], (shown, labels["classes"])
    flow.shot(page, "predict", height=1100, main_only=True)

    model_path = flow.download_keras(page, tmp_path)
    assert model_path.suffix == ".keras" and model_path.stat().st_size > 0
    flow.shot(page, "runs", height=1300, main_only=True)

    import keras

    model = keras.saving.load_model(str(model_path), safe_mode=True)
    pixels = load_image_array(
        image_path.read_bytes(), int(labels["input_size"]), str(labels["resize_mode"])
    )
    probabilities = np.asarray(model.predict(pixels[None], verbose=0))
    assert probabilities.shape == (1, len(labels["classes"]))
    best = int(np.argmax(probabilities[0]))
    assert labels["classes"][best] == shown
    # The app rounds to 0.1 % (1 % when "not sure"): the file gives the same probability.
    assert abs(100 * float(probabilities[0][best]) - shown_percent) <= 0.5
