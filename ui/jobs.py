"""Heavy jobs as the pages show them: submit through the runner, poll while they work.

Export, evaluation and batch prediction run in worker processes (``core.jobs.runner``); a page
submits one, keeps nothing but its id, and shows ``watch`` while it is queued or running: a
fragment that reads the job's status every second and reruns the whole page once the job
ended, so the page then shows the result from the job's files. A page's question about a built
model (its layers, its summary, an augmentation preview) is a short job too, whose answer is
stored for every visitor (``stored_answer``): this process never imports TensorFlow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from core.errors import StudioError
from core.jobs.find import find_job
from core.jobs.request import JobRequest
from core.jobs.runner import JobRunner, get_runner
from core.jobs.snapshot import JobStatus
from core.store.access import require_owner
from core.store.answers import read_answer
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
            f"{session.get_settings().max_jobs} heavy job(s) at a time, each when enough "
            "memory is free; this one starts by itself. You can leave this page.",
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
def watch(job_id: str, run_id: str | None, label: str, key: str, cancel: bool = True) -> None:
    """Polls a queued or running job every second; reruns the page once it ended.

    Args:
        job_id, run_id: the job (and its run, None for a workspace job).
        label: what the job does, for its progress line.
        key: widget key prefix.
        cancel: offer a Cancel button (not for a page's few-second question).
    """
    job = status(job_id, run_id)
    if job is None or job.done:
        st.rerun(scope="app")
        return
    show_progress(job, label)
    if (
        cancel
        and session.is_owner()
        and st.button("Cancel", key=f"{key}_cancel", icon=":material/cancel:")
    ):
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


def stored_answer(
    kind: str, params: dict[str, Any], label: str, key: str, *, retry: bool = False
) -> dict[str, Any]:
    """The stored answer of a page's question; until it is there the page stops here.

    See ``asked_answer``; the poll reruns the page when the job ended.

    Raises:
        StudioError: the last job for these parameters failed (its sentence) or was stopped.
    """
    answer = asked_answer(kind, params, label, key, retry=retry)
    if answer is None:
        st.stop()
    return answer


def asked_answer(
    kind: str, params: dict[str, Any], label: str, key: str, *, retry: bool = False
) -> dict[str, Any] | None:
    """The stored answer of a page's question (``core.store.answers``), asking a worker once.

    The web process never imports TensorFlow: a question about a built model is a short job
    (``model_facts``, ``augment_preview``). With no answer stored yet, that job is submitted
    (or the one already queued or running is found again), its progress is shown, and None
    is returned; the poll reruns the page when the job ended.

    Args:
        kind, params: the job kind and its parameters (they key the answer).
        label: what the job does ("Listing the backbone's layers").
        key: widget key prefix.
        retry: ask again when the last job for these parameters failed (a user's explicit
            action); else its failure is raised.

    Raises:
        StudioError: the last job for these parameters failed (its sentence) or was stopped.
    """
    answer = read_answer(session.get_settings(), kind, params)
    if answer is not None:
        return answer
    store = session.get_run_store()
    job = find_job(runner(), store, kind, params)
    if job is not None and job.done and job.state != "finished" and not retry:
        raise StudioError(job.error or f"{label} was stopped.")
    if job is not None and not job.done:
        job_id = job.job_id
    else:  # none yet, a retry, or a finished job whose answer was trimmed since: ask (again)
        job_id = runner().submit(kind, store, None, params)
    watch(job_id, None, label, key, cancel=False)
    return None
