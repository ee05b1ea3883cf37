"""Submitting a sweep: many training runs queued in one step, all or none, within the quotas.

``submit_sweep`` checks the sweep's size (``Settings.max_sweep_runs``), the workspace's job
quota and the disk first; then it writes every run folder and job folder outside the queue's
lock and adds all the jobs under one lock with one settle. So 500 runs cost one queue update
instead of 500 (each of which re-read every queued run), and a refused sweep leaves nothing
behind. The queue takes turns between workspaces (``core.jobs.fairness``), so another
visitor's training starts before the sweep's second run.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence

from core.config.run import RunConfig
from core.jobs.quotas import check_job_quota, check_sweep_size
from core.jobs.request import job_folder, new_job_id
from core.jobs.runner import JobRunner
from core.jobs.scheduler import settle
from core.jobs.submission import NewJob, add_job, job_plan_mb, workspace_key
from core.store.disk import check_disk_room
from core.store.runs import RunStore

TRAIN = "train"


def submit_sweep(runner: JobRunner, store: RunStore, configs: Sequence[RunConfig]) -> list[str]:
    """Creates one run per config and queues their training; returns the run ids.

    Raises:
        QuotaError: the sweep is larger than a sweep may be, or the workspace would have more
            jobs waiting than it may. DiskFullError: no room under the disk cap.
    """
    settings, workspace = runner.settings, workspace_key(store)
    check_sweep_size(len(configs), settings)
    with runner.registry.locked() as state:  # refuse early, before writing 500 folders
        check_job_quota(state, settings, workspace, TRAIN, adding=len(configs))
    check_disk_room(settings, "this sweep")
    made: list[tuple[str, str, float]] = []
    try:
        for config in configs:
            run_id = store.create(config)
            store.append_log(run_id, f"config: {config.to_json(indent=None)}")
            job_id = new_job_id(TRAIN)
            folder = job_folder(workspace, run_id, job_id)
            folder.mkdir(parents=True)
            plan = job_plan_mb(runner.queue, TRAIN, store, run_id, {"resume": False}, folder)
            made.append((run_id, job_id, plan))
        with runner.registry.locked() as state:
            settle(state, runner.executor, settings)
            check_job_quota(state, settings, workspace, TRAIN, adding=len(configs))
            try:
                for run_id, job_id, plan in made:
                    job = NewJob(TRAIN, store, run_id, job_id, {"resume": False}, plan)
                    add_job(state, runner.queue, job)
            except BaseException:
                for _, job_id, _ in made:  # all or none: the registry is saved on the way out
                    state.remove(job_id)
                raise
            settle(state, runner.executor, settings)
    except BaseException:
        for run_id, _, _ in made:  # never queued: the registry was not saved
            shutil.rmtree(store.root / run_id, ignore_errors=True)
        raise
    return [run_id for run_id, _, _ in made]
