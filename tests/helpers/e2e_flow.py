"""Steps through the studio in a browser (shared by the e2e tests and bench/app_startup.py)."""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path
from typing import Any

# Test screenshots (to look at after a failure) go to a temporary folder; only
# scripts/screenshots.py writes the README's docs/screenshots.
SCREENSHOTS = Path(tempfile.gettempdir()) / "studio-e2e-screenshots"
QUESTION_TIMEOUT_MS = 240_000  # a page's question to a worker, on a loaded 2-core machine
# Streamlit marks its root element with the script state ("running" / "notRunning").
SCRIPT_STATE = """() => document.querySelector('[data-testid="stApp"]')
    ?.getAttribute('data-test-script-state')"""


_SCROLL_TOP = """() => { window.scrollTo(0, 0);
    document.querySelectorAll('[data-testid="stMain"], [data-testid="stAppViewContainer"]')
        .forEach((element) => element.scrollTo(0, 0)); }"""


def wait_idle(page: Any, timeout: float = 120.0) -> None:
    """Waits until the script run is over (the app is "notRunning" for 0.5 s in a row)."""
    deadline = time.monotonic() + timeout
    quiet_since: float | None = None
    while time.monotonic() < deadline:
        if page.evaluate(SCRIPT_STATE) == "notRunning":
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= 0.5:
                return
        else:
            quiet_since = None
        page.wait_for_timeout(100)
    raise AssertionError("the app kept running for too long")


def open_home(page: Any, url: str) -> float:
    """Opens Home and returns the seconds until its title is visible."""
    start = time.perf_counter()
    page.goto(url)
    page.get_by_role("heading", name="Transfer-learning studio").wait_for()
    elapsed = time.perf_counter() - start
    wait_idle(page)
    return elapsed


def nav(page: Any, title: str) -> None:
    """Clicks a page in the sidebar navigation and waits for it to render."""
    page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
    wait_idle(page)


def shot(page: Any, name: str, height: int = 2200, *, main_only: bool = False) -> None:
    """Saves a screenshot of the page to ``SCREENSHOTS``/<name>.png (a temporary folder).

    Streamlit scrolls inside its own container, so a "full page" screenshot would stop at the
    viewport: the viewport is made ``height`` pixels tall for the shot instead. ``main_only``
    crops the sidebar away (the main column only), which keeps image-heavy pages small.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": height})
    # Back to the top of the page (a mouse wheel over a table would scroll the table instead).
    page.evaluate(_SCROLL_TOP)
    page.wait_for_timeout(800)  # let Plotly redraw at the new size
    path = str(SCREENSHOTS / f"{name}.png")
    if main_only:
        page.locator('[data-testid="stMain"]').screenshot(path=path)
    else:
        page.screenshot(path=path)
    page.set_viewport_size(size)


def load_sample(page: Any) -> None:
    """Home -> the sample dataset button (by its key: its label changed over time) -> Data."""
    page.locator(".st-key-home_sample button").click()
    page.get_by_role("heading", name="1. Data").wait_for()
    page.get_by_text("Images per class and split").first.wait_for()
    wait_idle(page)


def choose_model(page: Any, size: int = 96, weights: str | None = None) -> None:
    """Model page: MobileNetV2 (the default) at ``size`` px, then "Use this model".

    Args:
        page: The browser tab.
        size: Input size in pixels.
        weights: "imagenet" or "none" to click that radio; None keeps the page's default.
    """
    nav(page, "Model")
    if weights is not None:
        label = "Pretrained on ImageNet" if weights == "imagenet" else "Random (no pretraining)"
        page.get_by_text(label, exact=True).click()
        wait_idle(page)
    field = page.get_by_label(re.compile(r"^Input size"))
    field.fill(str(size))
    field.press("Enter")
    wait_idle(page)
    # The layer list and the summary come from short worker jobs (a fresh process importing
    # TensorFlow each): the button appears once the backbone's layers are listed.
    page.get_by_role("button", name="Use this model").click(timeout=QUESTION_TIMEOUT_MS)
    page.get_by_role("heading", name="Summary").wait_for(timeout=QUESTION_TIMEOUT_MS)
    wait_idle(page)


def start_training(page: Any, epochs: int) -> str:
    """Train page: set the epochs, press Start, return the run id from the URL."""
    prepare_training(page, epochs)
    return press_start(page)


def prepare_training(page: Any, epochs: int) -> None:
    """Opens the Train page and types the number of epochs (Start not pressed yet)."""
    nav(page, "Train")
    field = page.get_by_label("Epochs", exact=True)
    field.fill(str(epochs))
    field.press("Tab")


def press_start(page: Any) -> str:
    """Presses Start on the Train page and returns the new run id from the URL."""
    page.get_by_role("button", name="Start training").click()
    page.wait_for_url(re.compile(r"[?&]run="), timeout=60_000)
    match = re.search(r"[?&]run=([^&]+)", page.url)
    assert match, page.url
    return match.group(1)


def wait_finished(page: Any, timeout_s: float = 300.0) -> None:
    """Waits for the result card of the watched run."""
    page.get_by_text("Training finished.").wait_for(timeout=timeout_s * 1000)
    wait_idle(page)


# The Train page's progress bar of an active run: "training: training the head — epoch 1/2 —
# about 20 s left" (status, phase, epochs done / total); "queued" runs show no bar.
_PROGRESS = re.compile(r"^(?P<status>[a-z-]+): .*epoch (?P<done>\d+)/(?P<total>\d+)")
# Statuses of a run whose worker is at work on it (``core.store.runs.ACTIVE_STATUSES`` minus
# "queued"): its backbone features, its head epochs or its fine-tuning epochs.
WORKING_STATUSES = ("training", "extracting", "fine-tuning")
_LIVE_STATE = """() => {
    const main = document.querySelector('[data-testid="stMain"]');
    const stop = main?.querySelector('.st-key-train_stop button');
    const bar = main?.querySelector('[data-testid="stProgress"]');
    const finished = [...(main?.querySelectorAll('[data-testid="stAlert"]') ?? [])]
        .some((alert) => alert.innerText.includes('Training finished.'));
    return {stop: !!stop && stop.offsetParent !== null, text: bar ? bar.innerText : '',
            finished: finished};
}"""


def live_state(page: Any) -> tuple[str | None, int | None, bool, bool]:
    """What the Train page shows of the watched run, read in one go.

    Returns:
        ``(status, epochs done, Stop visible, "Training finished." shown)``; status and epochs
        are None without a progress bar (a queued run, or one that is over).
    """
    state = page.evaluate(_LIVE_STATE)
    match = _PROGRESS.match(str(state["text"]).strip())
    status = match.group("status") if match else None
    done = int(match.group("done")) if match else None
    return status, done, bool(state["stop"]), bool(state["finished"])


def wait_training(page: Any, timeout_s: float = 300.0) -> int:
    """Waits until the watched run's worker is at work on it; returns its epochs done.

    "At work" is what the page shows: the Stop button and a progress bar whose status is one
    of ``WORKING_STATUSES`` (not "queued"). Called right before a test leaves the page, it
    proves the run was still training when the page switched.

    Raises:
        AssertionError: the run was over before it was seen training (make it longer), or
            it never started within ``timeout_s``.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status, done, stop, finished = live_state(page)
        if stop and status in WORKING_STATUSES and done is not None:
            return done
        if finished:
            raise AssertionError("the run finished before the test saw it training")
        page.wait_for_timeout(100)
    raise AssertionError(f"the run was not seen training within {timeout_s} s")


def wait_past_epoch(page: Any, done_before: int, timeout_s: float = 300.0) -> None:
    """Waits until the watched run shows more than ``done_before`` epochs done, or finished.

    After a page switch or a reload this proves the run went on (it was not left stalled).
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status, done, _, finished = live_state(page)
        if finished or (status in WORKING_STATUSES and done is not None and done > done_before):
            return
        page.wait_for_timeout(200)
    raise AssertionError(f"the run did not get past epoch {done_before} within {timeout_s} s")


def chart_epochs(page: Any) -> int:
    """Epochs drawn on the training chart (the page's "Epochs on the chart: N" caption)."""
    text = page.get_by_text(re.compile(r"Epochs on the chart: \d+")).first.inner_text()
    return int(text.rsplit(":", 1)[1])


def chart_markers(page: Any) -> int:
    """Marker points Plotly drew on the training chart (train and validation curves)."""
    return int(page.locator(".js-plotly-plot .scatterlayer path.point").count())


def evaluate_heatmap(page: Any) -> Any:
    """Opens Evaluate and returns the visible confusion-matrix heatmap (Plotly's drawn cells)."""
    nav(page, "Evaluate")
    page.get_by_role("heading", name="4. Evaluate").wait_for()
    heatmap = page.locator(".st-key-eval_cm .js-plotly-plot .heatmaplayer image").first
    heatmap.wait_for(state="visible", timeout=180_000)
    wait_idle(page)
    return heatmap


# The Predict card says "**class** (87.5%)", "Not sure: the best guess, class, is only 40%." or,
# for an image unlike the validation images, "This looks like none of the classes the model
# knows (its best guess, class, is only 41%, ...)" (``core.predict.ood.unknown_sentence``).
_ANSWER = re.compile(
    r"^(?:Not sure: the best guess, (?P<unsure>.+?), is only (?P<low>[\d.]+)%"
    r"|This looks like none of the classes the model knows \(its best guess, "
    r"(?P<unknown>.+?), is only (?P<weak>[\d.]+)%"
    r"|(?P<sure>.+?) \((?P<high>[\d.]+)%\))"
)


def predict_upload(page: Any, image_path: Path) -> tuple[str, float]:
    """Opens Predict, uploads ``image_path`` for the watched run.

    Waits for the top-k bar chart (Plotly's drawn bars) of the uploaded image first.

    Returns:
        The class the app shows first and its probability in percent, as displayed (one
        decimal when sure; a whole percent when "not sure" or the image looks unknown).
    """
    nav(page, "Predict")
    page.get_by_role("heading", name="5. Predict").wait_for()
    page.locator('.st-key-predict_files input[type="file"]').set_input_files(str(image_path))
    bars = page.locator(".st-key-predict_bar_0 .js-plotly-plot .barlayer .point path").first
    bars.wait_for(state="visible", timeout=180_000)
    wait_idle(page)
    texts = page.locator('[data-testid="stMain"] [data-testid="stAlert"]').all_inner_texts()
    for text in texts:
        match = _ANSWER.match(text.strip())
        if match:
            name = match.group("unsure") or match.group("unknown") or match.group("sure")
            shown = match.group("low") or match.group("weak") or match.group("high")
            return str(name).strip(), float(shown)
    raise AssertionError(f"no prediction shown on the Predict page: {texts}")


def download_keras(page: Any, dest: Path) -> Path:
    """Opens Runs and downloads the selected run's ``.keras`` file into ``dest``."""
    nav(page, "Runs")
    button = page.locator(".st-key-runs_keras_download button")
    button.wait_for(state="visible")
    with page.expect_download(timeout=120_000) as info:
        button.click()
    download = info.value
    target = dest / download.suggested_filename
    download.save_as(str(target))
    return target
