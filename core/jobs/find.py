"""Finding a job again by its kind and parameters: a page re-attaches after a reload.

A page that queued a job about the Data page's dataset (duplicates, cut advice) has no id to
keep across a reload; ``find_job`` looks for the newest workspace job of the kind submitted
with exactly the same parameters, which also tells a result of the current dataset (and
model) from one of an earlier choice.
"""

from __future__ import annotations

import json
from typing import Any

from core.jobs.runner import JobRunner
from core.jobs.snapshot import JobStatus
from core.store.runs import RunStore

MAX_JOBS_SEARCHED = 20  # newest job folders of a kind that ``find_job`` reads


def find_job(
    runner: JobRunner, store: RunStore, kind: str, params: dict[str, Any]
) -> JobStatus | None:
    """The newest workspace job of ``kind`` submitted with exactly ``params``, or None.

    Lets a page re-attach to its job after a reload, and tell a result of the current
    dataset (and model) from one of an earlier choice. Reads at most ``MAX_JOBS_SEARCHED``
    job folders.
    """
    wanted = json.loads(json.dumps(params))  # as request.json holds them (tuples -> lists)
    return runner.latest_job(
        store, None, kind, where=lambda request: request.kind == kind and request.params == wanted,
        limit=MAX_JOBS_SEARCHED,
    )  # fmt: skip
