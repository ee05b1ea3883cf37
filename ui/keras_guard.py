"""Stops Streamlit from resetting Keras after every script run while jobs train in threads.

After each script run (a fragment's rerun every second included) Streamlit calls
``keras.backend.clear_session()`` (``script_runner._clean_problem_modules``). That resets Keras's
global state for every thread, resets TensorFlow's default graph, clears the eager kernel cache
and runs a full garbage collection. The studio trains in background threads of the same
process, so each poll of the Train page would pull the ground from under a running job (lost
layer-name counters, a graph reset in the middle of a ``tf.function`` trace, recompiled kernels)
and take the GIL for a full GC: observed as runs stalling for minutes with three sessions open.

``install()`` replaces that hook with one that keeps Streamlit's matplotlib cleanup and skips
the Keras reset. The studio never keeps a model in a page's globals, so nothing leaks from it.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any

_INSTALLED_FLAG = "_studio_keras_guard"


def _clean_problem_modules_without_keras() -> None:
    """Streamlit's post-run cleanup minus ``keras.backend.clear_session()``."""
    pyplot: Any = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        with contextlib.suppress(Exception):  # a failed cleanup must never break the app
            pyplot.close("all")


def install() -> bool:
    """Installs the replacement hook once per process; returns True if it is in place."""
    try:
        from streamlit.runtime.scriptrunner import script_runner
    except ImportError:  # a Streamlit without this module: nothing to guard
        return False
    hook = getattr(script_runner, "_clean_problem_modules", None)
    if hook is None:
        return False
    if not getattr(hook, _INSTALLED_FLAG, False):
        setattr(_clean_problem_modules_without_keras, _INSTALLED_FLAG, True)
        script_runner._clean_problem_modules = _clean_problem_modules_without_keras
    return True
