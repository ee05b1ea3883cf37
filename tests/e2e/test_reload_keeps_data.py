"""A reload keeps the uploaded dataset; another device with the same link gets it too (#14).

A browser reload starts a new Streamlit session with an empty ``st.session_state``: the dataset
must come back from the workspace on the server, found through the ``?ws=`` of the URL. A new
browser context has no cookies nor storage of the first one, as another device would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import e2e_flow as flow
from tests.helpers import e2e_journey as journey
from tests.helpers.e2e_page import metrics, query_param
from tests.helpers.e2e_server import StudioServer
from tests.helpers.zips import png, zip_of

pytestmark = pytest.mark.e2e
COLORS = {"apples": (200, 30, 30), "limes": (40, 190, 40), "plums": (90, 30, 120)}
PER_CLASS = 7


def fruit_zip(path: Path) -> Path:
    """A real zip of three classes of small PNGs (sizes differ, so no two files are equal)."""
    entries = {
        f"fruit/{name}/{index}.png": png(color, size=24 + index)
        for name, color in COLORS.items()
        for index in range(PER_CLASS)
    }
    return zip_of(path, entries)


def data_facts(page: Any) -> dict[str, Any]:
    """What the Data page says about the dataset: metrics and its source line."""
    page.get_by_text("Images per class and split").first.wait_for()
    # The metrics can come after the caption in a loaded browser: wait for them and the run's end.
    page.locator('[data-testid="stMetric"]').first.wait_for()
    flow.wait_idle(page)
    source = page.get_by_text("Source:").first.inner_text()
    return {**metrics(page), "source": source.strip()}


def open_data(browser: Any, url: str) -> Any:
    """The Data page of ``url`` in a new browser context (its own cookies and storage)."""
    tab = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    tab.set_default_timeout(60_000)
    tab.goto(url)
    tab.get_by_role("heading", name="1. Data").wait_for()
    flow.wait_idle(tab)
    return tab


def test_a_reload_and_another_device_keep_the_uploaded_dataset(
    browser: Any, page: Any, studio_server: StudioServer, tmp_path: Path
) -> None:
    dataset = fruit_zip(tmp_path / "fruit.zip")
    flow.open_home(page, studio_server.url)
    journey.upload_dataset_zip(page, dataset, timeout_s=120)
    before = data_facts(page)
    assert before["Classes"] == "3" and before["Images"] == str(3 * PER_CLASS), before
    assert "fruit.zip" in before["source"]
    token = query_param(page.url, "ws")
    assert token, page.url

    page.reload()  # a new session: nothing of the old one but the URL
    page.get_by_role("heading", name="1. Data").wait_for()
    flow.wait_idle(page)
    assert query_param(page.url, "ws") == token
    assert data_facts(page) == before

    other_device = open_data(browser, f"{studio_server.url}/data?ws={token}")
    try:
        assert data_facts(other_device) == before
        # The link's owner keeps the dataset on every page: Train offers Start, not "No dataset".
        flow.nav(other_device, "Train")
        other_device.get_by_role("button", name="Start training").wait_for()
        assert not other_device.get_by_text("No dataset yet").count()
    finally:
        other_device.context.close()

    stranger = open_data(browser, f"{studio_server.url}/data")  # no link: a fresh workspace
    try:
        assert not stranger.get_by_text("Images per class and split").count()
        assert metrics(stranger).get("Images") != before["Images"]
    finally:
        stranger.context.close()
