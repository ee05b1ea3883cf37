"""A shared deployment in a real browser: queueing and isolation between workspaces.

Three sessions start training at once with the cap at one job: one runs, two wait with their
queue position, all finish, and Home still renders meanwhile. A visitor cannot open another
workspace's run by URL. (A crashed server and a killed worker: tests/e2e/test_workers.py.)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers import e2e_flow as flow
from tests.helpers.e2e_server import StudioServer

pytestmark = pytest.mark.e2e
# No Predict here: no quick-prediction model after each training (its job would hold the one slot
# the next training waits for; tests/core/jobs/kinds tests that default).
SERVER_ENV = {"STUDIO_QUICK_PREDICT_AFTER_TRAINING": "0"}


def url_param(page: Any, name: str) -> str:
    match = re.search(rf"[?&]{name}=([^&]+)", page.url)
    assert match, f"no {name} in {page.url}"
    return match.group(1)


def ready_to_train(tab: Any, url: str, epochs: int) -> None:
    flow.open_home(tab, url)
    flow.load_sample(tab)
    flow.choose_model(tab, size=96, weights="none")
    flow.prepare_training(tab, epochs)


def test_three_sessions_queue_finish_and_stay_isolated(
    new_tab: Callable[..., Any], studio_server: StudioServer
) -> None:
    tabs = [new_tab() for _ in range(3)]
    epochs = [12, 1, 1]  # the first run (extraction, then 12 epochs) outlasts the queueing
    for tab, count in zip(tabs, epochs, strict=True):
        ready_to_train(tab, studio_server.url, count)
    run_ids = [flow.press_start(tabs[0])]
    for position, tab in enumerate(tabs[1:], start=1):
        run_ids.append(flow.press_start(tab))
        tab.get_by_text(f"Queued: position {position} in the queue").wait_for()
    assert len(set(run_ids)) == 3

    # The first run is training while the others wait: the load is real when Home opens.
    assert flow.wait_training(tabs[0]) < epochs[0]
    home = new_tab()  # the server stays responsive under load
    flow.open_home(home, studio_server.url)

    for tab, count in zip(tabs, epochs, strict=True):
        flow.wait_finished(tab, timeout_s=600)
        assert flow.chart_epochs(tab) == count

    # Another workspace cannot open the first run by URL.
    stranger_ws = url_param(tabs[1], "ws")
    tabs[1].goto(f"{studio_server.url}/train?ws={stranger_ws}&run={run_ids[0]}")
    tabs[1].get_by_text("There is no run with that id in this workspace.").wait_for()
    flow.wait_idle(tabs[1])
    assert tabs[1].get_by_text("Training finished.").count() == 0
