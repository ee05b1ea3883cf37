"""A bookmarked deep link opened first after a server restart shows the studio's own menu.

Streamlit decides once per server process whether the app is an old-style multipage app: when
a folder named ``pages`` sits next to ``app.py`` it runs that folder's files directly until
``st.navigation`` has run once (its first visit to ``/``). A deep link opened before that
showed raw file names in the sidebar, ran the page without ``app.py`` (narrow layout, no URL
sync) and lost the workspace and run on the next page switch. The page scripts now live in
``app_pages/``, so every first load goes through ``app.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from core.store.workspace import create_workspace, workspace_store
from tests.helpers.e2e_flow import wait_idle
from tests.helpers.e2e_server import StudioServer
from tests.helpers.workspaces import finished_run, studio_settings

pytestmark = pytest.mark.e2e
MENU = ["Home", "Data", "Model", "Train", "Evaluate", "Predict", "Runs", "Presentation"]


@pytest.fixture
def restarted_server(tmp_path: Path) -> Iterator[tuple[StudioServer, str, str]]:
    """A server started after its workspace and run were written (nobody has opened ``/``)."""
    settings = studio_settings(tmp_path)
    token = create_workspace(settings)
    run_id = finished_run(workspace_store(settings, token), size=10, name="bookmarked")
    server = StudioServer(tmp_path)  # the same folders as ``settings``
    server.start()
    try:
        yield server, token, run_id
    finally:
        server.stop()


def _menu(page: Any) -> list[str]:
    """The sidebar's page titles (each link's last line: the first is its icon's name)."""
    links = page.locator('[data-testid="stSidebarNav"] a')
    links.first.wait_for()
    return [text.strip().splitlines()[-1].strip() for text in links.all_inner_texts()]


def test_deep_link_after_restart_shows_the_menu_and_keeps_the_run(
    browser: Any, restarted_server: tuple[StudioServer, str, str]
) -> None:
    server, token, run_id = restarted_server
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{server.url}/runs?ws={token}&run={run_id}")
        page.get_by_role("heading", name="Runs").first.wait_for()
        wait_idle(page)
        assert _menu(page) == MENU  # the navigation titles, not app/data/evaluate...
        chosen = page.locator('[data-testid="stMultiSelect"]').get_by_text("bookmarked ·")
        chosen.first.wait_for(state="visible")  # the bookmarked run, in the comparison picker
        page.locator('[data-testid="stSidebarNav"] a', has_text="Data").first.click()
        page.get_by_role("heading", name="1. Data").wait_for()
        wait_idle(page)
        query = parse_qs(urlparse(page.url).query)
        assert query.get("ws") == [token] and query.get("run") == [run_id], page.url
    finally:
        context.close()
