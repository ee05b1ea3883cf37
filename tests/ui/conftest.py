"""AppTest fixtures for the UI tests that run the app (e.g. the Keras guard)."""

from __future__ import annotations

from tests.helpers.apptest import new_app, shared_answers, studio_env

__all__ = ["new_app", "shared_answers", "studio_env"]  # pytest finds fixtures by name in a conftest
