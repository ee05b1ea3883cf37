"""Helpers shared by the studio's AppTest modules (the fixtures are in conftest.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def texts(app: AppTest, kind: str) -> list[str]:
    """Returns the values of every element of one kind (``"error"``, ``"info"``...)."""
    return [str(element.value) for element in getattr(app, kind)]


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
