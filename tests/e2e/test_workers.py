"""Training workers in a real browser: a worker killed with SIGKILL, then resumed.

The run trains in a worker process, not in the server: killing the worker (as an out-of-memory
kill would) leaves the server serving pages; the Train page says the run was interrupted, in a
plain sentence, and Resume finishes it with every epoch on the chart.
"""

from __future__ import annotations

import json
import re
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import e2e_flow as flow
from tests.helpers.e2e_server import StudioServer

pytestmark = pytest.mark.e2e
# No Predict here: no quick-prediction model after each training (its job would hold the one slot
# the next training waits for; tests/core/jobs/kinds tests that default).
SERVER_ENV = {"STUDIO_QUICK_PREDICT_AFTER_TRAINING": "0"}
EPOCHS = 8  # killed (or the server crashes) after the first: 7 left to see it mid-run


def training_worker(server: StudioServer) -> Any:
    """The server's job worker process (``python -m core.jobs.worker``)."""
    workers = [p for p in server.workers() if "core.jobs.worker" in " ".join(p.cmdline())]
    assert len(workers) == 1, [p.cmdline() for p in server.workers()]
    return workers[0]


def test_killed_worker_reads_interrupted_and_resume_finishes(
    new_tab: Callable[..., Any], studio_server: StudioServer
) -> None:
    tab = new_tab()
    flow.open_home(tab, studio_server.url)
    flow.load_sample(tab)
    flow.choose_model(tab, size=96, weights="none")
    flow.start_training(tab, EPOCHS)
    tab.get_by_text(re.compile(r"Epochs on the chart: [1-9]")).wait_for(timeout=300_000)
    server_pid = studio_server.process.pid if studio_server.process else None

    worker = training_worker(studio_server)
    assert flow.wait_training(tab, timeout_s=30) < EPOCHS  # killed mid-run, not after it
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)

    message = tab.get_by_text(re.compile("This run was interrupted. The training process stopped"))
    message.wait_for(timeout=60_000)
    flow.wait_idle(tab)
    home = new_tab()  # the server kept serving: Home renders
    assert flow.open_home(home, studio_server.url) < 30
    assert studio_server.process is not None and studio_server.process.pid == server_pid
    assert studio_server.process.poll() is None

    tab.get_by_role("button", name="Resume this run").click()
    flow.wait_finished(tab, timeout_s=600)
    assert flow.chart_epochs(tab) == EPOCHS


def test_server_crash_keeps_the_worker_and_a_restart_reattaches(
    new_tab: Callable[..., Any], tmp_path: Path, e2e_answers: Path
) -> None:
    env = {"STUDIO_MAX_JOBS": "1", **SERVER_ENV}
    server = StudioServer(tmp_path / "studio", env=env, answers=e2e_answers)
    server.start()
    tab = new_tab()
    try:
        flow.open_home(tab, server.url)
        flow.load_sample(tab)
        flow.choose_model(tab, size=96, weights="none")
        run_id = flow.start_training(tab, EPOCHS)
        workspace = re.search(r"[?&]ws=([^&]+)", tab.url)
        assert workspace
        tab.get_by_text(re.compile(r"Epochs on the chart: [1-9]")).wait_for(timeout=300_000)
        worker = training_worker(server)
        done_before = flow.wait_training(tab, timeout_s=30)  # the crash comes mid-run
        assert done_before < EPOCHS
        server.crash()  # the server only: the worker is in its own process session
    finally:
        server.stop()
    assert worker.is_running()
    restarted = StudioServer(tmp_path / "studio", env=env, answers=e2e_answers)
    restarted.start()
    try:
        tab.goto(f"{restarted.url}/train?ws={workspace.group(1)}&run={run_id}")
        tab.get_by_role("heading", name=f"Run {run_id}").wait_for()
        flow.wait_past_epoch(tab, done_before)
        flow.wait_finished(tab, timeout_s=600)
        assert flow.chart_epochs(tab) == EPOCHS
        assert tab.get_by_text("This run was interrupted").count() == 0
        # The same worker finished the run: it wrote the last status (none was started anew).
        status = next((tmp_path / "studio" / "runs").glob(f"*/{run_id}/status.json"))
        assert json.loads(status.read_text())["pid"] == worker.pid
    finally:
        restarted.stop()
        if worker.is_running():
            worker.kill()
