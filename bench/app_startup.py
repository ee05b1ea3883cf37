"""Home page first render and server memory, before and after a 2-epoch MobileNetV2 run.

Starts the studio headless (``streamlit run app.py`` on a free loopback port, private folders)
and drives it with Debian's chromium through Playwright:

1. opens Home in a new tab (cold: the server's first script run) and again in a second tab
   (warm), timing until the title is visible;
2. reads the server's RSS at rest and whether TensorFlow's library is mapped in the process;
3. loads the sample dataset, picks MobileNetV2, trains 2 epochs, waits for the result card,
   and reads the server's peak RSS (``VmHWM``) and, 3 s later, its RSS at rest.

Run from the repository root and read the JSON it prints:
    python bench/app_startup.py [--size 224] [--weights imagenet|none] [--epochs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers import e2e_flow as flow
from tests.helpers.e2e_server import CHROMIUM, CHROMIUM_ARGS, StudioServer


def tensorflow_mapped(pid: int) -> bool:
    """True when the process has TensorFlow's shared library loaded (Linux /proc)."""
    maps = Path(f"/proc/{pid}/maps")
    return maps.is_file() and "libtensorflow" in maps.read_text(errors="replace")


def peak_rss_mb(pid: int) -> float:
    """The process's PEAK resident memory so far (``VmHWM`` in /proc), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def measure(size: int, weights: str, epochs: int) -> dict[str, object]:
    """Runs the scenario and returns the measurements."""
    from playwright.sync_api import sync_playwright

    env = {"STUDIO_DEFAULT_WEIGHTS": weights}
    with tempfile.TemporaryDirectory() as work, StudioServer(Path(work), env=env) as server:
        assert server.process is not None
        result: dict[str, object] = {"size": size, "weights": weights, "epochs": epochs}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.set_default_timeout(120_000)
            result["home_first_render_s"] = round(flow.open_home(page, server.url), 3)
            warm = context.new_page()
            result["home_warm_render_s"] = round(flow.open_home(warm, server.url), 3)
            warm.close()
            time.sleep(2.0)
            result["rss_after_home_mb"] = round(server.rss_mb(), 1)
            result["tensorflow_loaded_after_home"] = tensorflow_mapped(server.process.pid)
            flow.load_sample(page)
            flow.choose_model(page, size=size)
            start = time.perf_counter()
            flow.start_training(page, epochs)
            flow.wait_finished(page, timeout_s=1800)
            result["train_wall_s"] = round(time.perf_counter() - start, 1)
            result["chart_epochs"] = flow.chart_epochs(page)
            result["server_peak_rss_mb"] = peak_rss_mb(server.process.pid)
            time.sleep(3.0)
            result["server_rss_at_rest_after_training_mb"] = round(server.rss_mb(), 1)
            browser.close()
    return result


def main() -> None:
    """Parses the options, runs the scenario, prints one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224, help="MobileNetV2 input size")
    parser.add_argument("--weights", choices=("imagenet", "none"), default="imagenet")
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    shared_weights = Path(__file__).resolve().parents[2] / "shared" / "weights"
    if "STUDIO_WEIGHTS_DIR" not in os.environ and shared_weights.is_dir():
        os.environ["STUDIO_WEIGHTS_DIR"] = str(shared_weights)  # the server inherits it
    result = measure(args.size, args.weights, args.epochs)
    result["cpu_count"] = os.cpu_count()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
