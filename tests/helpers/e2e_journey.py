"""Browser steps of a visitor's whole journey: upload a zip, train, export, batch-predict.

Shared by the journey e2e test (tests/e2e/test_journey.py) and bench/server_memory.py. The
steps find widgets by their visible labels and keys, which the studio kept the same before and
after heavy work moved to worker processes, so the bench can drive either version.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

from tests.helpers import e2e_flow as flow

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def class_zip(source: Path, dest: Path, per_class: int | None = None) -> Path:
    """Zips ``source``'s class folders (``per_class`` images each, all when None) to ``dest``."""
    with zipfile.ZipFile(dest, "w") as archive:
        for class_dir in sorted(p for p in source.iterdir() if p.is_dir()):
            files = sorted(p for p in class_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            for path in files[:per_class]:
                archive.write(path, f"{class_dir.name}/{path.name}")
    return dest


def images_zip(source: Path, dest: Path, count: int) -> Path:
    """Zips ``count`` images found under ``source`` flat into ``dest`` (a batch to classify)."""
    files = sorted(p for p in source.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)[:count]
    with zipfile.ZipFile(dest, "w") as archive:
        for index, path in enumerate(files):
            archive.write(path, f"photos/{index:04d}_{path.name}")
    return dest


def upload_dataset_zip(page: Any, zip_path: Path, timeout_s: float = 300.0) -> None:
    """Data page: "Zip upload" -> the zip -> "Load the zip" -> the dataset report."""
    flow.nav(page, "Data")
    page.get_by_role("heading", name="1. Data").wait_for()
    page.get_by_text("Zip upload", exact=True).click()
    flow.wait_idle(page)
    page.locator('.st-key-data_zip input[type="file"]').set_input_files(str(zip_path))
    flow.wait_idle(page)
    page.get_by_role("button", name="Load the zip").click()
    page.get_by_text("Images per class and split").first.wait_for(timeout=timeout_s * 1000)
    flow.wait_idle(page)


def show_augmentation_preview(page: Any, timeout_s: float = 300.0) -> None:
    """Data page: "Show augmented examples" -> waits for the pictures a worker drew."""
    page.get_by_role("button", name="Show augmented examples").click()
    page.get_by_text("view 1", exact=True).first.wait_for(timeout=timeout_s * 1000)
    flow.wait_idle(page)


def train_again(page: Any, timeout_s: float = 900.0) -> str:
    """Train page: Start with the settings already in the form; waits for the result card."""
    flow.nav(page, "Train")
    before = run_param(page.url)
    page.get_by_role("button", name="Start training").click()
    page.wait_for_url(lambda url: run_param(url) not in (None, before), timeout=60_000)
    run_id = str(run_param(page.url))
    page.get_by_role("heading", name=f"Run {run_id}").wait_for()
    flow.wait_finished(page, timeout_s=timeout_s)
    return run_id


def run_param(url: str) -> str | None:
    """The ``run`` query parameter of ``url`` (None when absent)."""
    match = re.search(r"[?&]run=([^&]+)", url)
    return match.group(1) if match else None


def export_with_parity(page: Any, timeout_s: float = 900.0) -> None:
    """Runs page: the newest run -> "Export and check" -> waits for the parity table and the
    bundle's download button."""
    flow.nav(page, "Runs")
    start = page.get_by_role("button", name="Export and check")
    if not start.is_visible():  # the expander is closed
        page.get_by_text("Export (Keras, SavedModel, TFLite, ONNX) with a parity check").click()
        flow.wait_idle(page)
    start.click()
    download = page.get_by_role("button", name="Download the export bundle (.zip)")
    download.wait_for(timeout=timeout_s * 1000)
    page.get_by_text(re.compile(r"^Checked on \d+ ")).first.wait_for()
    flow.wait_idle(page)


def predict_batch(page: Any, zip_path: Path, timeout_s: float = 600.0) -> None:
    """Predict page (the watched run): "Batch (zip)" -> the zip -> waits for the CSV download."""
    flow.nav(page, "Predict")
    page.get_by_role("heading", name="5. Predict").wait_for()
    page.get_by_role("tab", name="Batch (zip)").click()
    page.locator('.st-key-predict_zip input[type="file"]').set_input_files(str(zip_path))
    download = page.get_by_role("button", name="Download predictions (CSV)")
    download.wait_for(timeout=timeout_s * 1000)
    flow.wait_idle(page)


def sample_run(page: Any, url: str, size: int, epochs: int, timeout_s: float = 900.0) -> str:
    """A new visitor: Home -> sample -> MobileNetV2 at ``size`` (random weights) -> trained."""
    flow.open_home(page, url)
    flow.load_sample(page)
    flow.choose_model(page, size=size, weights="none")
    run_id = flow.start_training(page, epochs)
    flow.wait_finished(page, timeout_s=timeout_s)
    return run_id
