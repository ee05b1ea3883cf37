"""Steps through the studio in a browser (shared by the e2e tests and bench/app_startup.py)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# Streamlit marks its root element with the script state ("running" / "notRunning").
SCRIPT_STATE = """() => document.querySelector('[data-testid="stApp"]')
    ?.getAttribute('data-test-script-state')"""


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


def shot(page: Any, name: str, height: int = 2200) -> None:
    """Saves a screenshot of the whole page to docs/screenshots/<name>.png.

    Streamlit scrolls inside its own container, so a "full page" screenshot would stop at the
    viewport: the viewport is made ``height`` pixels tall for the shot instead.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": height})
    page.mouse.move(size["width"] // 2, 400)
    page.mouse.wheel(0, -20_000)  # back to the top of the page
    page.wait_for_timeout(800)  # let Plotly redraw at the new size
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    page.set_viewport_size(size)


def load_sample(page: Any) -> None:
    """Home -> "Try it with the sample dataset" -> the Data page with its report."""
    page.get_by_role("button", name="Try it with the sample dataset").click()
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
    page.get_by_role("button", name="Use this model").click()
    page.get_by_role("heading", name="Summary").wait_for(timeout=120_000)
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


def chart_epochs(page: Any) -> int:
    """Epochs drawn on the training chart (the page's "Epochs on the chart: N" caption)."""
    text = page.get_by_text(re.compile(r"Epochs on the chart: \d+")).first.inner_text()
    return int(text.rsplit(":", 1)[1])


def chart_markers(page: Any) -> int:
    """Marker points Plotly drew on the training chart (train and validation curves)."""
    return int(page.locator(".js-plotly-plot .scatterlayer path.point").count())
