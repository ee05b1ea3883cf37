"""The app keeps Streamlit from resetting Keras after script runs (training runs in threads)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.runtime.scriptrunner import script_runner

from ui import keras_guard

pytestmark = pytest.mark.apptest


def test_install_replaces_the_hook_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(script_runner, "_clean_problem_modules", lambda: calls.append("reset"))
    assert keras_guard.install()
    hook = script_runner._clean_problem_modules
    assert keras_guard.install() and script_runner._clean_problem_modules is hook
    hook()
    assert calls == []  # the original (Keras-resetting) hook is no longer called


def test_a_script_run_does_not_reset_keras_names(new_app: Callable) -> None:
    import keras

    before = keras.layers.Dense(1).name
    new_app().run()  # Home: app.py installs the guard, then the run ends
    after = keras.layers.Dense(1).name
    # clear_session() would have reset the name counter, giving "dense" again.
    assert after != before and after != "dense"
