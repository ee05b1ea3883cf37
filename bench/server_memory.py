"""Memory of the web server process over a demo that goes on: one visitor's journey, then more.

Starts the studio headless (``streamlit run app.py`` on a free loopback port, private folders)
and drives it with Debian's chromium through Playwright, as the issue's visitors did:

1. visitor A uploads a two-class zip (``--per-class`` images of each class of hymenoptera's
   ``train`` folder), draws the augmentation preview, picks MobileNetV2 (its layers and summary),
   trains, opens Evaluate, predicts one photo on Predict (LiteRT in the web process), exports
   with the parity check on Runs, and classifies a zip of ``--batch-images`` images on Predict;
2. visitor B (a new browser context) trains the sample dataset; the run must finish;
3. the server's RSS is read at rest (3 s after the journey), then visitor A trains and
   exports again until ``--cycles`` train + export cycles are done, with the RSS at rest
   after each.

Only the web server's own process is measured (``VmRSS``/``VmHWM`` in /proc): job workers are
other processes and take their memory with them when they end; each job's peak is read from
``VmHWM`` (the process's own peak RSS), read every 0.2 s while it runs, and reported per kind.
At the end the server's ``/proc/<pid>/maps`` tells whether TensorFlow was ever loaded in it.
``--app-dir`` serves another checkout (e.g. the code before heavy work moved to workers) with
the same steps, for a before/after comparison. Run from the repository root and read the JSON
it prints:

    python bench/server_memory.py                       # the defaults of the issue (224 px)
    python bench/server_memory.py --size 96 --epochs 1 --per-class 20 --cycles 2  # smoke run
    python bench/server_memory.py --app-dir /path/to/old/checkout --budget-mb 20000

(``--budget-mb`` lifts the old code's fixed 2,700 MB budget, which otherwise refuses visitor B's
run once visitor A's export has grown the server: that refusal is the bug, not a number.)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import HYMENOPTERA, require_weights
from tests.helpers import e2e_flow as flow
from tests.helpers import e2e_journey as journey
from tests.helpers.e2e_server import CHROMIUM, CHROMIUM_ARGS, REPO_ROOT, StudioServer

GOAL_REST_MB = 300.0
GOAL_GROWTH = 0.01  # flat: RSS at rest may move by an allocator page or two
GOAL_JOB_MB = 1500.0
REST_S = 3.0


def proc_status_mb(pid: int, field: str) -> float:
    """A memory line of /proc/<pid>/status (``VmRSS``, ``VmHWM``) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def at_rest(server: StudioServer) -> float:
    """The server's RSS after ``REST_S`` seconds without a request of ours."""
    assert server.process is not None
    time.sleep(REST_S)
    return proc_status_mb(server.process.pid, "VmRSS")


def new_page(browser: Any) -> Any:
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(180_000)
    return page


def visitor_a(
    page: Any, server: StudioServer, args: argparse.Namespace, work: Path
) -> dict[str, float]:
    """Upload, train, export with parity, batch-predict; returns the timings."""
    dataset = journey.class_zip(HYMENOPTERA / "train", work / "two_classes.zip", args.per_class)
    batch = journey.images_zip(HYMENOPTERA / "val", work / "batch.zip", args.batch_images)
    photo = next(iter(sorted((HYMENOPTERA / "val" / "bees").glob("*.jpg"))))
    times: dict[str, float] = {}
    start = time.perf_counter()
    flow.open_home(page, server.url)
    journey.upload_dataset_zip(page, dataset)
    journey.show_augmentation_preview(page)
    flow.choose_model(page, size=args.size, weights=args.weights)
    times["upload_preview_and_model_s"] = time.perf_counter() - start
    start = time.perf_counter()
    flow.start_training(page, args.epochs)
    flow.wait_finished(page, timeout_s=args.timeout)
    times["train_s"] = time.perf_counter() - start
    start = time.perf_counter()
    flow.evaluate_heatmap(page)
    times["evaluate_s"] = time.perf_counter() - start
    start = time.perf_counter()
    flow.predict_upload(page, photo)
    times["predict_one_photo_s"] = time.perf_counter() - start
    start = time.perf_counter()
    journey.export_with_parity(page, timeout_s=args.timeout)
    times["export_s"] = time.perf_counter() - start
    start = time.perf_counter()
    journey.predict_batch(page, batch, timeout_s=args.timeout)
    times["predict_batch_s"] = time.perf_counter() - start
    return {key: round(value, 1) for key, value in times.items()}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Runs the journey and the cycles; returns the measurements."""
    from playwright.sync_api import sync_playwright

    env = {"STUDIO_DEFAULT_WEIGHTS": args.weights, "STUDIO_MAX_JOBS": "1"}
    if args.budget_mb:  # the old code's fixed budget refuses visitor B after A's export
        env["STUDIO_MEMORY_BUDGET_MB"] = str(args.budget_mb)
    app_dir = Path(args.app_dir).resolve() if args.app_dir else None
    result: dict[str, Any] = {
        "app_dir": str(app_dir or REPO_ROOT),
        "size": args.size, "epochs": args.epochs, "weights": args.weights,
        "zip_images": 2 * args.per_class if args.per_class else "all", "cycles": args.cycles,
    }  # fmt: skip
    with (
        tempfile.TemporaryDirectory() as tmp,
        StudioServer(Path(tmp) / "studio", env=env, app_dir=app_dir) as server,
    ):
        assert server.process is not None
        peaks = JobPeaks(server.process.pid)
        peaks.start()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page_a = new_page(browser)
            flow.open_home(page_a, server.url)
            result["rss_after_home_mb"] = at_rest(server)
            result["visitor_a_s"] = visitor_a(page_a, server, args, Path(tmp))
            result["rss_after_visitor_a_mb"] = at_rest(server)
            start = time.perf_counter()
            journey.sample_run(new_page(browser), server.url, 96, args.epochs, args.timeout)
            result["visitor_b_train_s"] = round(time.perf_counter() - start, 1)
            rest = [at_rest(server)]
            try:
                for _ in range(args.cycles - 1):
                    journey.train_again(page_a, timeout_s=args.timeout)
                    journey.export_with_parity(page_a, timeout_s=args.timeout)
                    rest.append(at_rest(server))
            except Exception as error:  # report what was measured, and where it stopped
                result["cycles_stopped"] = f"{type(error).__name__}: {str(error).splitlines()[0]}"
                result["rss_when_stopped_mb"] = at_rest(server)
            result["server_vmhwm_mb"] = proc_status_mb(server.process.pid, "VmHWM")
            result["tensorflow_in_server"] = tensorflow_loaded(server.process.pid)
            browser.close()
        peaks.done.set()
    result["rss_at_rest_after_journey_mb"] = rest[0]
    result["rss_at_rest_after_each_cycle_mb"] = rest
    growth = (rest[-1] - rest[0]) / rest[0] if rest[0] else float("nan")
    result["growth_last_vs_first_cycle"] = round(growth, 3)
    result["goal_rest_at_most_300mb"] = rest[0] <= GOAL_REST_MB
    result["goal_growth_within_1pct"] = growth <= GOAL_GROWTH
    result["job_peaks_mb"] = dict(sorted(peaks.peaks.items()))
    result["goal_jobs_at_most_1500mb"] = all(
        peak <= GOAL_JOB_MB for peak in result["job_peaks_mb"].values()
    )
    return result


class JobPeaks(threading.Thread):
    """Reads the ``VmHWM`` (peak RSS) of the server's job workers while they run, per kind."""

    def __init__(self, server_pid: int) -> None:
        super().__init__(daemon=True)
        self.server_pid = server_pid
        self.peaks: dict[str, float] = {}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.2):
            with contextlib.suppress(psutil.Error):
                for child in psutil.Process(self.server_pid).children(recursive=True):
                    self._read(child)

    def _read(self, process: psutil.Process) -> None:
        with contextlib.suppress(psutil.Error, OSError, ValueError):
            request = next(a for a in process.cmdline() if a.endswith("request.json"))
            kind = Path(request).parent.name.split("-", 1)[0]
            peak = proc_status_mb(process.pid, "VmHWM")
            self.peaks[kind] = max(self.peaks.get(kind, 0.0), peak)


def tensorflow_loaded(pid: int) -> bool:
    """Whether the process has TensorFlow's shared library mapped (it never unloads)."""
    return "libtensorflow" in Path(f"/proc/{pid}/maps").read_text()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size", type=int, default=224, help="input size of visitor A's model")
    parser.add_argument("--weights", choices=("imagenet", "none"), default="imagenet")
    parser.add_argument("--epochs", type=int, default=5, help="epochs of every run")
    parser.add_argument("--per-class", type=int, default=0, help="zip images per class (0: all)")
    parser.add_argument("--batch-images", type=int, default=50, help="images in the batch zip")
    parser.add_argument("--cycles", type=int, default=3, help="train + export cycles of A")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per step")
    parser.add_argument("--app-dir", default="", help="checkout to serve (default: this one)")
    parser.add_argument(
        "--budget-mb", type=int, default=0, help="STUDIO_MEMORY_BUDGET_MB for the server (0: unset)"
    )
    args = parser.parse_args()
    args.per_class = args.per_class or None
    if args.weights == "imagenet":
        require_weights()
    print(json.dumps(measure(args), indent=2))


if __name__ == "__main__":
    main()
