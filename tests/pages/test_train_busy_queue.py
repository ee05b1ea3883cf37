"""AppTest of the Train page while another process holds the queue's lock (issue 27 item 6).

A real process (multiprocessing, spawned) takes ``<runs>/.jobs.lock`` and keeps it until the
test is done; the page must come back with a short wait, say that the queue is busy, show the
run from what was last saved, and keep ``?run=`` in the URL.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.apptest import no_exception, texts
from tests.helpers.lock_holder import hold_lock
from tests.helpers.runs import named_config

pytestmark = pytest.mark.apptest
DEADLINE_S = 120.0


def test_a_busy_queue_shows_the_last_known_state_and_keeps_the_run(new_app: Callable) -> None:
    from core.config.settings import Settings
    from core.jobs.registry import LOCK_FILE
    from core.store.workspace import create_workspace, workspace_store

    settings = Settings.from_env()
    token = create_workspace(settings)
    store = workspace_store(settings, token)
    run_id = store.create(named_config("busy"))
    store.update_status(run_id, status="finished")

    context = multiprocessing.get_context("spawn")
    taken, release = context.Event(), context.Event()
    holder = context.Process(
        target=hold_lock,
        args=(str(Path(settings.runs_dir) / LOCK_FILE), taken, release, DEADLINE_S),
    )
    holder.start()
    try:
        assert taken.wait(DEADLINE_S), "the other process never took the lock"
        app = new_app(ws=token, run=run_id).run(timeout=DEADLINE_S)
        app.switch_page("app_pages/train.py").run(timeout=DEADLINE_S)
        no_exception(app)
        assert app.query_params["run"] == run_id
        assert any("queue is busy" in text for text in texts(app, "info")), texts(app, "error")
        assert any(run_id in text for text in texts(app, "subheader"))
    finally:
        release.set()
        holder.join(DEADLINE_S)
