"""AppTest helpers for the studio pages: a private run/data/cache folder per test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers.apptest import APP


@pytest.fixture
def studio_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Points every STUDIO_* folder at ``tmp_path`` and makes models use random weights."""
    for name in ("RUNS", "DATA", "CACHE"):
        monkeypatch.setenv(f"STUDIO_{name}_DIR", str(tmp_path / name.lower()))
    monkeypatch.setenv("STUDIO_DEFAULT_WEIGHTS", "none")
    # The memory guard subtracts this process's RSS from the budget. In one pytest process that
    # RSS includes every model earlier tests built (all 40 backbones), which a real server never
    # holds, so page tests get a budget above it; the guard itself is tested in test_memory.py.
    monkeypatch.setenv("STUDIO_MEMORY_BUDGET_MB", "65536")
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
