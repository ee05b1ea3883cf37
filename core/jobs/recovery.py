"""Rebuilding the job queue from the job folders when ``.jobs.json`` is damaged.

Every job keeps its own record in its folder (``core.jobs.request``): ``request.json`` (what,
for whom, when), ``state.json`` (queued, running or how it ended) and, once a worker was
started for it, ``launch.json`` (the executor's handle, written by the queue at launch), and
``plan.json`` (its memory plan and lane, ``core.jobs.memory_plan``). So a
registry file that no longer parses (truncated, overwritten, a full disk) loses nothing: the
unfinished jobs are found again, in submission order, the launched ones with their worker's
handle (the next settle reaps those whose worker is gone, as after any crash), the others as
queued. ``core.jobs.registry`` sets the damaged file aside, logs it and leaves a notice
(``NOTICE_FILE``) that the pages show.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.atomic import write_json_atomic
from core.errors import StudioError
from core.jobs.request import (
    FINAL_JOB_STATES,
    JOBS_FOLDER,
    REQUEST_FILE,
    JobRequest,
    read_json,
    read_state,
)

LAUNCH_FILE = "launch.json"
PLAN_FILE = "plan.json"
NOTICE_FILE = ".jobs-notice.json"
NOTICE_SHOWN_S = 24 * 3600.0  # how long the pages show a notice about a rebuilt queue


@dataclass(frozen=True)
class FoundJob:
    """An unfinished job found in its folder.

    Attributes:
        request: its ``request.json``.
        handle: the executor's handle when a worker was launched for it, else None.
        started: when it was launched (None while it was still queued).
        planned_mb: its memory plan (0 when its folder has none).
        lane: its queue lane (None when its folder has none).
    """

    request: JobRequest
    handle: dict[str, Any] | None
    started: float | None
    planned_mb: float = 0.0
    lane: str | None = None


def write_launch(folder: Path, executor: str, handle: dict[str, Any], started: float) -> None:
    """Records in the job folder that a worker was launched (skipped when the job is gone)."""
    if folder.is_dir():
        write_json_atomic(
            folder / LAUNCH_FILE, {"executor": executor, "handle": handle, "started": started}
        )


def write_plan(folder: Path, planned_mb: float, lane: str) -> None:
    """Records a job's memory plan and lane in its folder, so a rebuilt queue keeps them."""
    write_json_atomic(folder / PLAN_FILE, {"planned_mb": planned_mb, "lane": lane})


def _read_plan(folder: Path) -> tuple[float, str | None]:
    """The plan and lane of ``write_plan`` (0 and None when missing or unreadable)."""
    plan = read_json(folder / PLAN_FILE, {})
    plan = plan if isinstance(plan, dict) else {}
    planned, lane = plan.get("planned_mb"), plan.get("lane")
    return (
        float(planned) if isinstance(planned, int | float) else 0.0,
        lane if isinstance(lane, str) else None,
    )


def _job_folders(runs_root: Path) -> list[Path]:
    """Every job folder of every workspace: ``<ws>/jobs/*`` and ``<ws>/<run>/jobs/*``."""
    folders: list[Path] = []
    for workspace in (p for p in runs_root.iterdir() if p.is_dir()):
        for base in (workspace, *(p for p in workspace.iterdir() if p.is_dir())):
            jobs = base / JOBS_FOLDER
            if jobs.is_dir():
                folders += [p for p in jobs.iterdir() if (p / REQUEST_FILE).is_file()]
    return folders


def find_unfinished_jobs(runs_root: Path) -> list[FoundJob]:
    """Jobs whose state is not final, oldest submission first (unreadable folders skipped)."""
    found = []
    for folder in _job_folders(runs_root):
        try:
            request = JobRequest.load(folder)
        except StudioError:
            continue
        if (
            read_state(folder).get("state") in FINAL_JOB_STATES
            or request.folder.resolve() != folder.resolve()
        ):
            continue  # ended, or a request that names another folder (copied or forged)
        launch = read_json(folder / LAUNCH_FILE, {})
        launch = launch if isinstance(launch, dict) else {}
        handle = launch.get("handle") if isinstance(launch.get("handle"), dict) else None
        started = launch.get("started") if handle is not None else None
        started = started if isinstance(started, float) else None
        found.append(FoundJob(request, handle, started, *_read_plan(folder)))
    return sorted(found, key=lambda job: (job.request.submitted, job.request.job_id))


def set_aside(path: Path) -> Path:
    """Renames a damaged file to ``<name>.damaged-<time>`` (never over an earlier one)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target, number = path.with_name(f"{path.name}.damaged-{stamp}"), 1
    while target.exists():
        number += 1
        target = path.with_name(f"{path.name}.damaged-{stamp}-{number}")
    path.rename(target)
    return target


def write_notice(runs_root: Path, aside: str, queued: int, running: int) -> str:
    """Leaves the sentence the pages show about a rebuilt queue; returns it."""
    message = (
        f"The job queue's file was damaged and has been rebuilt from the job folders "
        f"({queued} waiting, {running} running). Nothing was lost; the damaged file was kept "
        f"as {aside} for whoever runs the studio."
    )
    write_json_atomic(runs_root / NOTICE_FILE, {"time": time.time(), "message": message})
    return message


def read_notice(runs_root: Path, now: float | None = None) -> str | None:
    """The notice about a rebuilt queue, while it is recent, else None."""
    notice = read_json(runs_root / NOTICE_FILE, {})
    if not isinstance(notice, dict) or not isinstance(notice.get("message"), str):
        return None
    when = notice.get("time")
    now = time.time() if now is None else now
    if not isinstance(when, int | float) or now - when > NOTICE_SHOWN_S:
        return None
    return str(notice["message"])
