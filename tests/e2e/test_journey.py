"""The issue's journey in a real browser: a demo that goes on after a visitor exported.

Visitor A uploads a two-class zip, trains, exports with the parity check and classifies a zip
of images; then visitor B trains the sample dataset, and that run finishes (an export used to
leave the server's memory too full for anyone's next run). Heavy work runs in worker processes,
so the server's own memory stays small throughout. Tiny sizes: input 96, random weights,
1 epoch, a few images.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import unavailable
from tests.helpers import e2e_flow as flow
from tests.helpers import e2e_journey as journey
from tests.helpers.e2e_server import StudioServer

pytestmark = pytest.mark.e2e
# No Predict here: no quick-prediction model after each training (its job would hold the one slot
# the next training waits for; tests/core/jobs/kinds tests that default).
SERVER_ENV = {"STUDIO_QUICK_PREDICT_AFTER_TRAINING": "0"}
HYMENOPTERA = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "hymenoptera_data"
SIZE = 96


def test_upload_train_export_batch_then_another_visitor_trains(
    new_tab: Callable[..., Any], studio_server: StudioServer, tmp_path: Path
) -> None:
    if not HYMENOPTERA.is_dir():
        unavailable(f"{HYMENOPTERA} is missing")
    dataset = journey.class_zip(HYMENOPTERA / "train", tmp_path / "two.zip", per_class=12)
    batch = journey.images_zip(HYMENOPTERA / "val", tmp_path / "batch.zip", count=6)

    visitor_a = new_tab(180_000)
    flow.open_home(visitor_a, studio_server.url)
    journey.upload_dataset_zip(visitor_a, dataset)
    flow.choose_model(visitor_a, size=SIZE, weights="none")
    flow.start_training(visitor_a, 1)
    flow.wait_finished(visitor_a, timeout_s=600)
    journey.export_with_parity(visitor_a, timeout_s=600)
    journey.predict_batch(visitor_a, batch, timeout_s=600)
    visitor_a.get_by_text("6 images classified").wait_for(state="visible", timeout=60_000)

    visitor_b = new_tab(180_000)
    journey.sample_run(visitor_b, studio_server.url, SIZE, epochs=1, timeout_s=600)
    assert flow.chart_epochs(visitor_b) == 1
    # The server process never loaded a training model: it stays far below the old 1.35 GB.
    assert studio_server.rss_mb() < 1024
