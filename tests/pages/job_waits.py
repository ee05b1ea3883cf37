"""Waiting for the worker process of a page's job (AppTest runs the page; jobs run outside)."""

from __future__ import annotations

from core.jobs.runner import get_runner


def wait_for_job(token: str, run_id: str | None, kind: str, timeout_s: float = 240.0) -> None:
    """Waits for the newest job of ``kind`` of the run to finish; fails if it did not."""
    from core.config.settings import Settings
    from core.store.workspace import workspace_store

    store = workspace_store(Settings.from_env(), token)
    job = get_runner().latest_job(store, run_id, kind)
    assert job is not None, f"no {kind} job was submitted"
    done = get_runner().wait_for_job(store, job.job_id, run_id, timeout_s=timeout_s)
    assert done.state == "finished", done.error
