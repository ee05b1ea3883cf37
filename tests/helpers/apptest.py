"""Helpers shared by the studio's AppTest modules, and their fixtures.

The fixtures (``studio_env``, ``new_app``) are made visible to a test folder by its conftest.py
(``tests/pages``, ``tests/ui``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.jobs.runner import get_runner
from tests.helpers.answers import share_answers

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture(scope="session")
def shared_answers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One answers folder (``core.store.answers``) for every page test of this test process."""
    return tmp_path_factory.mktemp("answers")


@pytest.fixture
def studio_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_answers: Path) -> Path:
    """Points every STUDIO_* folder at ``tmp_path`` and makes models use random weights."""
    for name in ("RUNS", "DATA", "CACHE"):
        monkeypatch.setenv(f"STUDIO_{name}_DIR", str(tmp_path / name.lower()))
    share_answers(tmp_path / "cache", shared_answers)
    monkeypatch.setenv("STUDIO_DEFAULT_WEIGHTS", "none")
    # The memory guard subtracts this process's RSS from the budget. In one pytest process that
    # RSS includes every model earlier tests built (all 40 backbones), which a real server never
    # holds, so page tests get a budget above it; the guard itself is tested in test_memory.py.
    monkeypatch.setenv("STUDIO_MEMORY_BUDGET_MB", "65536")
    # A finished run's quick-prediction model is made when a test's page asks for it (the
    # Predict tests wait for that job), not after every training of every test.
    monkeypatch.setenv("STUDIO_QUICK_PREDICT_AFTER_TRAINING", "0")
    monkeypatch.delenv("STUDIO_SHARED_WORKSPACE", raising=False)
    monkeypatch.delenv("STUDIO_DATA_ROOTS", raising=False)
    return tmp_path


@pytest.fixture
def new_app(studio_env: Path) -> Callable[..., AppTest]:
    """Returns a factory of fresh app sessions (one per call, like a new browser tab)."""

    def make(**query_params: str) -> AppTest:
        app = AppTest.from_file(APP, default_timeout=120)
        for key, value in query_params.items():
            app.query_params[key] = value
        return app

    return make


# A backslash before ASCII punctuation: how ui.common.escape_markdown keeps user text plain.
_MARKDOWN_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def texts(app: AppTest, kind: str) -> list[str]:
    """Returns the values of every element of one kind (``"error"``, ``"info"``...).

    Markdown escapes (and the invisible word joiners that keep bare addresses from becoming
    links) are removed, so a test reads the sentence as the page shows it
    (``"bad.png"``, not ``"bad\\.png"``); ``tests.helpers.hostile`` checks the escapes.
    """
    shown = (str(element.value).replace("\u2060", "") for element in getattr(app, kind))
    return [_MARKDOWN_ESCAPE.sub(r"\1", text) for text in shown]


def no_exception(app: AppTest) -> None:
    """Fails with the page's exception messages if a script run raised."""
    assert not app.exception, [e.message for e in app.exception]


def wait_until(predicate: Callable[[], bool], timeout: float = 240.0, step: float = 0.5) -> None:
    """Polls ``predicate`` until it is true, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(step)


def run_until_answered(app: AppTest, timeout_s: float = 240.0) -> AppTest:
    """Runs the page, waits for every job it queued to end, runs it again, until none is left.

    The web process never builds a model: a page asks a worker (a model's layers or summary,
    an augmentation preview, the quick-prediction model), shows the job's progress and stops;
    in a browser the poll reruns the page when the job ended, here the test does.
    """
    runner = get_runner()
    deadline = time.monotonic() + timeout_s
    app.run()
    while runner.active_jobs():
        while runner.active_jobs():
            if time.monotonic() > deadline:
                pytest.fail(f"the page's jobs were still running after {timeout_s} s")
            time.sleep(0.5)
        app.run()
    return app
