"""Real worker processes whose jobs do nothing but wait to be released (no TensorFlow).

``python -m tests.helpers.held_jobs JOB_FOLDER/request.json`` is ``core.jobs.worker``'s main with
every kind's work replaced by ``hold``: the job waits until ``release_all`` or ``release`` lets
it end (with a deadline), then the worker removes its registry entry and launches the next
queued job as always, with this module again. So the queue, its lock, the cap, the order and
the registry file are the real ones, and a test controls when each job ends. The queue tests
use it (``held_runner``) where the claim is about order and cap, not about what a job does.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

import core.jobs.worker
from core.config.settings import Settings
from core.jobs.context import JobContext
from core.jobs.executor import Executor, LocalProcessExecutor
from core.jobs.kinds.registry import KINDS
from core.jobs.runner import JobRunner

MODULE = "tests.helpers.held_jobs"
HOLD_DEADLINE_S = 180.0  # a job never released still ends, so no worker outlives its test


def _release_files(settings: Settings, job_id: str) -> tuple[Path, Path]:
    root = Path(settings.runs_dir)
    return root / "release-all", root / f"release-{job_id}"


def hold(context: JobContext) -> dict[str, Any]:
    """Waits until the job is released (or the deadline passes)."""
    files = _release_files(context.settings, context.request.job_id)
    deadline = time.monotonic() + HOLD_DEADLINE_S
    while time.monotonic() < deadline and not any(path.exists() for path in files):
        time.sleep(0.05)
    return {"held": True}


def release(settings: Settings, job_id: str) -> None:
    """Lets one held job end."""
    _release_files(settings, job_id)[1].touch()


def release_all(settings: Settings) -> None:
    """Lets every held job end, now and later."""
    _release_files(settings, "")[0].touch()


def held_executor() -> Executor:
    """The local executor, starting this module instead of ``core.jobs.worker``."""
    return LocalProcessExecutor(MODULE)


def held_runner(settings: Settings) -> JobRunner:
    """A runner over ``settings`` whose workers hold their jobs."""
    return JobRunner(settings, held_executor())


def main(argv: list[str]) -> int:
    """Runs one job with every kind held (and the next ones started by this module too)."""
    for name, kind in list(KINDS.items()):
        KINDS[name] = dataclasses.replace(kind, run=hold)
    core.jobs.worker.executor_named = lambda name: held_executor()  # type: ignore[assignment]
    return core.jobs.worker.main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
