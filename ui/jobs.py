"""Heavy jobs as the pages show them: submit through the runner, poll while they work.

Export, evaluation and batch prediction run in worker processes (``core.jobs.runner``); a page
submits one, keeps nothing but its id, and shows ``watch`` while it is queued or running: a
fragment that reads the job's status every second and reruns the whole page once the job
ended, so the page then shows the result from the job's files.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from core.jobs.request import JobRequest
from core.jobs.runner import JobRunner, get_runner
from core.jobs.snapshot import JobStatus
from core.store.access import require_owner
from ui import common, session

POLL_S = 1.0


def runner() -> JobRunner:
    """The web process's job runner for this deployment's settings."""
    return get_runner(session.get_settings())


def submit(
    kind: str,
    run_id: str | None,
    params: dict[str, Any] | None = None,
    files: dict[str, Any] | None = None,
) -> str:
    """Queues a job of ``kind`` for this workspace (owner only); returns its id.

    Raises:
        ReadOnlyError: a read-only link. StudioError: the kind's check refused the input.
    """
    store = session.get_run_store()
    require_owner(store, f"starting a {kind.replace('_', ' ')}")
    return runner().submit(kind, store, run_id, params, files)


def status(job_id: str, run_id: str | None) -> JobStatus | None:
    """The job's status, or None when it is not (any more) in this workspace."""
    try:
        return runner().job_status(session.get_run_store(), job_id, run_id)
    except ValueError:
        return None


def latest(
    run_id: str | None, kind: str, where: Callable[[JobRequest], bool] | None = None
) -> JobStatus | None:
    """The newest job of ``kind`` of the run (re-attach after a reload), or None.

    ``where`` keeps only jobs whose request passes it (``JobRunner.latest_job``).
    """
    try:
        return runner().latest_job(session.get_run_store(), run_id, kind, where)
    except ValueError:
        return None


def show_progress(job: JobStatus, label: str) -> None:
    """The queue position, the worker starting, or a progress bar with the job's message."""
    if job.state == "queued" and job.queue_position:
        st.info(
            f"{label}: waiting in the queue (position {job.queue_position}). The server runs "
            f"{session.get_settings().max_jobs} heavy job(s) at a time; this one starts by "
            "itself. You can leave this page.",
            icon=":material/hourglass_top:",
        )
    elif job.state == "queued" and session.get_settings().ray_address:
        # Launched on the Ray cluster, not started yet: Ray holds it until a node is free.
        st.info(f"{label}: waiting for a cluster slot...", icon=":material/hourglass_top:")
    elif job.state == "queued":
        st.info(f"{label}: starting a worker process...", icon=":material/hourglass_top:")
    else:
        text = common.escape_markdown(job.message or f"{label}...")
        st.progress(min(max(job.progress, 0.0), 1.0), text=text)


def show_ended(job: JobStatus, label: str) -> None:
    """A job that failed, was stopped or lost its worker: one plain sentence."""
    if job.state == "stopped":
        st.warning(f"{label} was cancelled.")
    elif job.state in ("failed", "interrupted"):
        st.error(common.escape_markdown(job.error or f"{label} failed."), icon=":material/error:")


@st.fragment(run_every=POLL_S)
def watch(job_id: str, run_id: str | None, label: str, key: str) -> None:
    """Polls a queued or running job every second; reruns the page once it ended."""
    job = status(job_id, run_id)
    if job is None or job.done:
        st.rerun(scope="app")
        return
    show_progress(job, label)
    if session.is_owner() and st.button("Cancel", key=f"{key}_cancel", icon=":material/cancel:"):
        runner().cancel(session.get_run_store(), job_id, run_id)
        st.rerun(scope="app")


def job_panel(
    job: JobStatus | None,
    *,
    label: str,
    button: str,
    key: str,
    start: Callable[[], object],
    run_id: str | None = None,
    icon: str | None = None,
    again_when_finished: bool = False,
) -> JobStatus | None:
    """The life of an on-demand job on a page; returns the job once it finished with a result.

    No job yet: the ``button`` that calls ``start()`` (which submits the job). Queued or
    running: ``watch``. Failed, stopped or lost: why, and the button again ("... again").
    An error from ``start`` (a full disk) is shown as one sentence. A read-only link gets no
    button at all (starting a job writes into the workspace): it sees the owner's results.

    Args:
        job: the newest job of this kind for what the page shows (None: never started).
        label: what the job does, for progress and messages ("Comparing cut points").
        button: the start button's text.
        key: widget key prefix (one per panel on a page).
        start: submits the job; a False return means it did not (and said why itself).
        run_id: the run the job belongs to (None for jobs without a run).
        icon: the start button's icon.
        again_when_finished: also offer "``button`` again" beside a finished result.
    """
    if job is not None and not job.done:
        watch(job.job_id, run_id, label, key)
        return None
    finished = job is not None and job.state == "finished" and job.result is not None
    if job is not None and not finished:
        show_ended(job, label)
    if not session.is_owner():
        if job is None:
            st.caption("Not measured yet: the workspace's owner can start it.")
        return job if finished else None
    if not finished or again_when_finished:
        text = button if job is None else f"{button} again"
        if st.button(text, key=f"{key}_start", icon=icon):
            try:
                started = start()
            except Exception as error:  # a read-only link, a full disk, ...: one sentence
                common.show_error(error, label.lower())
                return None
            if started is not False:
                st.rerun()
    return job if finished else None
