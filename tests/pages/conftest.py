"""AppTest fixtures for the studio pages: a private run/data/cache folder per test."""

from __future__ import annotations

from tests.helpers.apptest import new_app, shared_answers, studio_env

__all__ = ["new_app", "shared_answers", "studio_env"]  # pytest finds fixtures by name in a conftest
