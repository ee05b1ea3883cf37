"""What a job kind's function gets in the worker: ``JobContext``.

A kind (a module of ``core.jobs.kinds``) has a function ``run(context) -> dict``: it reads its
parameters from ``context.params``, writes its files into ``context.folder`` (or the run
folder), reports progress with ``context.report`` and returns a JSON summary, which the worker
stores as ``result.json``. It raises ``StudioError`` with a plain sentence for anything the user
can fix; any other exception becomes "The <kind> failed unexpectedly ..." with the traceback in
``worker.log``. A kind that stopped on request sets ``context.outcome = "stopped"``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.config.data import DataConfig
from core.config.settings import Settings
from core.errors import StudioError, plain_errors
from core.jobs.request import STOP_FILE, JobRequest, write_state
from core.store.runs import RunStore

REPORT_INTERVAL_S = 0.5


@dataclass
class JobContext:
    """One job as its kind function sees it.

    Attributes:
        request: the job request (kind, workspace, run, params).
        settings: the submitting process's settings.
        store: the workspace's run store.
        folder: the job folder (exists).
        outcome: "finished" unless the kind sets "stopped".
    """

    request: JobRequest
    settings: Settings
    store: RunStore
    folder: Path
    outcome: str = "finished"
    _reported: float = field(default=0.0, repr=False)

    @classmethod
    def from_request(cls, request: JobRequest) -> JobContext:
        """The context of ``request`` (its folder must exist)."""
        return cls(request, request.load_settings(), request.store(), request.folder)

    @property
    def params(self) -> dict[str, Any]:
        """The kind's parameters."""
        return self.request.params

    @property
    def run_id(self) -> str:
        """The job's run id.

        Raises:
            StudioError: the job has no run.
        """
        if self.request.run_id is None:
            raise StudioError(f"A {self.request.kind} job needs a run.")
        return self.request.run_id

    def data_config(self) -> DataConfig:
        """The dataset of a job about the Data page's dataset (``params["data"]``).

        Raises:
            StudioError: the job names no dataset, or an invalid one (plain sentence).
        """
        data = self.params.get("data")
        if not isinstance(data, dict):
            raise StudioError("This job names no dataset; load one on the Data page.")
        with plain_errors():
            return DataConfig.from_dict(data)

    def run_dir(self) -> Path:
        """The run folder (validated; raises ``RunNotFoundError`` when it was deleted)."""
        return self.store.path(self.run_id)

    def report(self, fraction: float | None = None, message: str | None = None) -> None:
        """Records progress (0..1) and/or a plain-language line in ``state.json``.

        A new message is always written; progress alone at most every ``REPORT_INTERVAL_S``.
        """
        now = time.monotonic()
        if message is None and now - self._reported < REPORT_INTERVAL_S:
            return
        self._reported = now
        updates: dict[str, Any] = {}
        if fraction is not None:
            updates["progress"] = min(max(float(fraction), 0.0), 1.0)
        if message is not None:
            updates["message"] = message
            print(message, flush=True)  # into worker.log, with the technical lines
        write_state(self.folder, **updates)

    def should_stop(self) -> bool:
        """True once someone asked this job to stop (a ``stop`` file in the job folder)."""
        return (self.folder / STOP_FILE).exists()
