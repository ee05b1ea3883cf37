"""Browser fixtures: the studio server and a headless Debian chromium page.

Under ``CI=true`` a missing chromium or Playwright is a failure, not a skip: CI must prove the
browser tests ran.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import in_ci, unavailable, weights_dir
from tests.helpers.e2e_server import CHROMIUM, CHROMIUM_ARGS, StudioServer


@pytest.fixture(scope="session")
def e2e_answers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The model answers every e2e server shares (``tests.helpers.answers``)."""
    return tmp_path_factory.mktemp("e2e-answers")


@pytest.fixture(scope="module")
def studio_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, e2e_answers: Path
) -> Iterator[StudioServer]:
    """A studio started headless on a free loopback port, killed after the module.

    A test module may set ``SERVER_ENV`` (a dict) to add to the server's environment.
    """
    env = {"STUDIO_MAX_JOBS": "1", **getattr(request.module, "SERVER_ENV", {})}
    weights = weights_dir()
    if weights is None and in_ci():
        pytest.fail("the browser tests train on real ImageNet features in CI: weights not found")
    if weights is not None:  # lets the first test train on real ImageNet features
        env["STUDIO_WEIGHTS_DIR"] = str(weights)
    server = StudioServer(tmp_path_factory.mktemp("studio"), env=env, answers=e2e_answers)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium driven by Playwright (Playwright cannot download browsers here)."""
    if not Path(CHROMIUM).is_file():
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -r requirements-dev.txt)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def page(browser: Any, studio_server: StudioServer) -> Iterator[Any]:
    """A fresh browser tab (its own Streamlit session) at a desktop size."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture
def new_tab(browser: Any) -> Iterator[Callable[..., Any]]:
    """Opens tabs of other visitors (each its own browser context); all closed after the test.

    Call it as ``new_tab()`` or ``new_tab(timeout_ms)`` (the tab's default wait).
    """
    contexts: list[Any] = []

    def open_tab(timeout_ms: float = 120_000) -> Any:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        contexts.append(context)
        tab = context.new_page()
        tab.set_default_timeout(timeout_ms)
        return tab

    try:
        yield open_tab
    finally:
        for context in contexts:
            context.close()
