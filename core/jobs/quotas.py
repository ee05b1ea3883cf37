"""Per-workspace limits on the queue, checked under the registry lock before jobs are added.

A shared server takes turns between workspaces (``core.jobs.fairness``), and these limits keep
one workspace from filling the queue (and the disk, and every queue check) in the first place:

- ``Settings.max_workspace_jobs``: jobs of one workspace queued or running at once;
- ``Settings.max_batch_jobs``: batch predictions of one workspace queued or running;
- ``Settings.max_sweep_runs``: runs one sweep may start (``check_sweep_size``).

Each refusal is one plain sentence with the numbers and what to do.
"""

from __future__ import annotations

from core.config.settings import Settings
from core.errors import StudioError
from core.jobs.registry import RegistryState

BATCH_KIND = "predict_batch"


class QuotaError(StudioError):
    """A workspace limit would be exceeded; nothing was queued."""


def check_job_quota(
    state: RegistryState, settings: Settings, workspace: str, kind: str, adding: int = 1
) -> None:
    """Refuses ``adding`` more jobs of ``kind`` when the workspace would go over its limits.

    Raises:
        QuotaError: too many jobs (or batch predictions) of this workspace are waiting.
    """
    mine = state.for_workspace(workspace)
    cap = settings.max_workspace_jobs
    if len(mine) + adding > cap:
        more = f"{adding} more" if adding > 1 else "another"
        raise QuotaError(
            f"This workspace already has {len(mine)} jobs queued or running and may have at "
            f"most {cap}, so {more} cannot be added. Wait for some to finish or stop some, "
            "then try again."
        )
    batches = sum(1 for entry in mine if entry.kind == BATCH_KIND)
    if kind == BATCH_KIND and batches + adding > settings.max_batch_jobs:
        raise QuotaError(
            f"This workspace already has {batches} batch predictions queued or running (at "
            f"most {settings.max_batch_jobs}). Wait for one to finish or cancel it first."
        )


def check_sweep_size(runs: int, settings: Settings) -> None:
    """Refuses a sweep of more runs than ``Settings.max_sweep_runs``.

    Raises:
        QuotaError: the sentence says how many runs the sweep asked for and the limit.
    """
    if runs > settings.max_sweep_runs:
        raise QuotaError(
            f"This sweep would start {runs:,} runs, but one sweep may start at most "
            f"{settings.max_sweep_runs}. Choose fewer backbones, cuts or heads."
        )
