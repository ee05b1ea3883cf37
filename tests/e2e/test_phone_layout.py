"""The studio on a phone (390×844, issue 14): the main action above the fold, charts stacked,
nothing over the title, no sideways scrolling on Train and Runs.

The runs are written into the server's workspace folder (no training): the layout is what is
tested, and a finished run with a few epochs draws both training charts. Screenshots of each
page go to the temporary ``SCREENSHOTS`` folder (phone_layout_*.png).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.store.workspace import create_workspace, workspace_store
from tests.helpers.e2e_flow import SCREENSHOTS, wait_idle
from tests.helpers.e2e_page import box, inside_viewport, overlap, scroll_width
from tests.helpers.e2e_server import StudioServer
from tests.helpers.workspaces import finished_run, studio_settings

pytestmark = pytest.mark.e2e
PHONE = {"width": 390, "height": 844}
CHARTS = '[data-testid="stPlotlyChart"]'
TOP_BAR = '[data-testid="stHeader"], [data-testid="stToolbar"]'


def history(epochs: int) -> list[dict[str, Any]]:
    """Training rows of a run that learned a little every epoch."""
    return [
        {
            "epoch": epoch,
            "phase": "head",
            "loss": 1.0 / epoch,
            "accuracy": 0.5 + 0.05 * epoch,
            "val_loss": 1.1 / epoch,
            "val_accuracy": 0.5 + 0.04 * epoch,
            "lr": 0.001,
        }
        for epoch in range(1, epochs + 1)
    ]


@pytest.fixture
def workspace(studio_server: StudioServer) -> tuple[str, str]:
    """A workspace of the running server with one finished 5-epoch run, a long name included."""
    settings = studio_settings(studio_server.work_dir)  # the server's own folders
    token = create_workspace(settings)
    store = workspace_store(settings, token)
    finished_run(store, size=10, name="an older run with a rather long name to wrap")
    run_id = finished_run(store, size=10, name="phone")
    store.write_json(run_id, "history", history(5))
    store.write_json(run_id, "metrics", {"val_accuracy": 0.7, "test_accuracy": 0.68})
    store.update_status(run_id, last_epoch=5)
    return token, run_id


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A phone-sized tab (touch, mobile viewport)."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    try:
        yield tab
    finally:
        context.close()


def open_page(tab: Any, url: str, heading: str) -> None:
    """Opens ``url`` and waits for the page's title and the end of its script run."""
    tab.goto(url)
    tab.get_by_role("heading", name=heading).first.wait_for()
    wait_idle(tab)


def save(tab: Any, name: str) -> Path:
    """A screenshot of the phone's viewport (what the visitor sees without scrolling)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"phone_layout_{name}.png"
    tab.screenshot(path=str(path))
    return path


def title_is_clear(tab: Any, heading: str) -> None:
    """The page title is on screen and no header or toolbar covers it."""
    title = box(tab.get_by_role("heading", name=heading))
    assert inside_viewport(title, PHONE), title
    for bar in tab.locator(TOP_BAR).all():
        found = bar.bounding_box()
        if found and found["width"] and found["height"]:
            assert not overlap(found, title), (found, title)


def test_home_train_and_runs_fit_a_phone(
    phone: Any, studio_server: StudioServer, workspace: tuple[str, str]
) -> None:
    token, run_id = workspace
    query = f"?ws={token}&run={run_id}"

    open_page(phone, f"{studio_server.url}/{query}", "Transfer-learning studio")
    demo = box(phone.get_by_role("button", name="Train the demo"))
    save(phone, "home")
    assert inside_viewport(demo, PHONE), demo  # seen without scrolling
    title_is_clear(phone, "Transfer-learning studio")

    open_page(phone, f"{studio_server.url}/train{query}", "3. Train")
    phone.locator(CHARTS).nth(1).wait_for(state="visible")
    wait_idle(phone)
    save(phone, "train")
    title_is_clear(phone, "3. Train")
    loss, accuracy = box(phone.locator(CHARTS).nth(0)), box(phone.locator(CHARTS).nth(1))
    assert accuracy["y"] >= loss["y"] + loss["height"] - 0.5, (loss, accuracy)  # stacked
    assert loss["width"] > 0.8 * PHONE["width"] - 60, loss  # each chart gets the full width
    assert scroll_width(phone) <= PHONE["width"] + 1
    phone.locator(CHARTS).nth(0).scroll_into_view_if_needed()
    phone.wait_for_timeout(500)
    save(phone, "train_charts")

    open_page(phone, f"{studio_server.url}/runs{query}", "Runs")
    phone.locator('[data-testid="stDataFrame"], [data-testid="stTable"]').first.wait_for()
    save(phone, "runs")
    title_is_clear(phone, "Runs")
    assert scroll_width(phone) <= PHONE["width"] + 1
