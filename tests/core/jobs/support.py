"""Helpers of the job tests: a runner over a temp runs folder, and waiting for a worker."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

from core.jobs.runner import JobRunner
from core.store.runs import RunStore
from tests.helpers.training import tiny_settings

TIMEOUT_S = 240.0


def make_runner(tmp_path: Path, **settings: Any) -> tuple[JobRunner, RunStore]:
    """A runner whose registry and workers use ``tmp_path/runs``, and a workspace store in it."""
    base = dataclasses.replace(tiny_settings(tmp_path), **settings)
    return JobRunner(base), RunStore(tmp_path / "runs" / "ws", stale_s=base.heartbeat_stale_s)


def wait_until(condition: Any, what: str, timeout_s: float = TIMEOUT_S) -> Any:
    """Polls ``condition()`` until it returns something truthy; fails naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")
