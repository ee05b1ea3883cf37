"""Regenerates the README's screenshots from a real demo run, at desktop and phone sizes.

Starts the studio headless on a free loopback port (private run/data/cache folders, the offline
ImageNet weights of ``STUDIO_WEIGHTS_DIR``), drives Debian's chromium through Playwright, and:

1. opens Home and presses "Train the demo" (the strong drawn-shapes recipe of
   ``core.config.recipes``), timing the click until the result card shows;
2. saves desktop (1400×900) shots of Home, Data, the Train result card, Evaluate and Predict;
3. opens the same workspace link in a phone-sized tab (390×844, another session) and saves the
   same pages there.

Each PNG is kept under 400 KB (reduced to a 256-colour palette when larger). Prints one JSON
object: the demo's seconds and accuracies, and every file written with its size.

    STUDIO_WEIGHTS_DIR=/path/to/weights python scripts/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers import e2e_flow as flow
from tests.helpers.e2e_server import CHROMIUM, CHROMIUM_ARGS, StudioServer

DESKTOP: Any = {"width": 1400, "height": 900}  # Playwright's ViewportSize
PHONE: Any = {"width": 390, "height": 844}
MAX_BYTES = 400 * 1024
OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"


def shrink(path: Path) -> None:
    """Re-saves ``path`` with a 256-colour palette when it is over ``MAX_BYTES``."""
    from PIL import Image

    if path.stat().st_size <= MAX_BYTES:
        return
    with Image.open(path) as image:
        palette = image.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT)
    palette.save(path, optimize=True)


def save(page: Any, out: Path, name: str, height: int | None = None) -> Path:
    """Saves the page (top of the page, ``height`` px tall; the viewport when None)."""
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": height or size["height"]})
    page.evaluate(flow._SCROLL_TOP)
    page.wait_for_timeout(800)  # let Plotly redraw at the new size
    path = out / f"{name}.png"
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    shrink(path)
    return path


def run_demo(page: Any) -> dict[str, Any]:
    """Home (open) -> "Train the demo" -> the result card; returns the seconds and the run id."""
    start = time.perf_counter()
    page.get_by_role("button", name="Train the demo").click()
    flow.wait_finished(page, timeout_s=300)
    seconds = time.perf_counter() - start
    run_id = page.url.split("run=", 1)[1].split("&", 1)[0]
    workspace = page.url.split("ws=", 1)[1].split("&", 1)[0]
    return {"seconds": round(seconds, 1), "run_id": run_id, "ws": workspace}


def desktop_shots(page: Any, out: Path, image: Path) -> list[Path]:
    """The watched demo run's pages at desktop size (the Train page is open)."""
    paths = [save(page, out, "train_result_desktop", height=1020)]
    flow.nav(page, "Data")
    paths.append(save(page, out, "data_desktop", height=1400))
    flow.evaluate_heatmap(page)
    paths.append(save(page, out, "evaluate_desktop", height=1500))
    flow.predict_upload(page, image)
    paths.append(save(page, out, "predict_desktop", height=1100))
    return paths


def phone_shots(browser: Any, url: str, demo: dict[str, Any], out: Path, image: Path) -> list[Path]:
    """The same workspace opened by its link in a phone-sized tab (a new session)."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(180_000)
    query = f"?ws={demo['ws']}&run={demo['run_id']}"
    try:
        flow.open_home(page, f"{url}/{query}")
        paths = [save(page, out, "home_phone")]  # the viewport: the main action above the fold
        for name, path, height in (("train_result", "train", 1900), ("data", "data", 2000)):
            page.goto(f"{url}/{path}{query}")
            flow.wait_idle(page)
            paths.append(save(page, out, f"{name}_phone", height=height))
        page.goto(f"{url}/evaluate{query}")
        page.locator(".st-key-eval_cm .js-plotly-plot").first.wait_for(timeout=180_000)
        flow.wait_idle(page)
        paths.append(save(page, out, "evaluate_phone", height=2000))
        page.goto(f"{url}/predict{query}")
        flow.wait_idle(page)
        page.locator('.st-key-predict_files input[type="file"]').set_input_files(str(image))
        page.locator(".st-key-predict_bar_0 .js-plotly-plot").first.wait_for(timeout=180_000)
        flow.wait_idle(page)
        paths.append(save(page, out, "predict_phone", height=1600))
    finally:
        context.close()
    return paths


def run_metrics(work_dir: Path, run_id: str) -> dict[str, float]:
    """The demo run's final validation and test accuracy (its ``metrics.json``)."""
    found = next(work_dir.rglob(f"{run_id}/metrics.json"))
    metrics = json.loads(found.read_text())
    return {key: round(float(metrics[key]), 4) for key in ("val_accuracy", "test_accuracy")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNG files")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    env = {"STUDIO_WEIGHTS_DIR": os.environ.get("STUDIO_WEIGHTS_DIR", "")}
    with (
        tempfile.TemporaryDirectory() as tmp,
        StudioServer(Path(tmp), env=env) as server,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport=DESKTOP).new_page()
        page.set_default_timeout(180_000)
        flow.open_home(page, server.url)
        paths = [save(page, args.out, "home_desktop")]
        demo = run_demo(page)
        print(f"demo: {demo['seconds']} s from the click to the result card", file=sys.stderr)
        # A drawn shape of the sample dataset the demo generated (any class will do).
        image = next(Path(tmp).rglob("*.jpg"))
        paths += desktop_shots(page, args.out, image)
        paths += phone_shots(browser, server.url, demo, args.out, image)
        browser.close()
        demo.update(run_metrics(Path(tmp), demo["run_id"]))
    sizes = {path.name: path.stat().st_size for path in paths}
    print(json.dumps({"demo": demo, "files": sizes}, indent=2))


if __name__ == "__main__":
    main()
