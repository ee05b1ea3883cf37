"""One job on disk: its id, its folder, what to run (``request.json``) and its state.

Every heavy job (training, export, evaluation, batch prediction) gets a folder, and everything
about it lives there, so any process (the web server, the worker, a restarted server, later a
cluster worker) can read it:

- a job of a run: ``<workspace>/<run_id>/jobs/<job_id>/``;
- a job without a run (batch prediction with an uploaded model or ImageNet):
  ``<workspace>/jobs/<job_id>/`` (``jobs`` is no run id, so run listings skip it).

Files: ``request.json`` (``JobRequest``: kind, workspace, run, parameters, settings),
``state.json`` (queued | running | finished | failed | stopped | interrupted, pid, heartbeat,
progress, message, error; see ``write_state``), ``result.json`` (the kind's summary),
``worker.log`` (the worker's stdout and stderr) and whatever files the kind writes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import shutil
import threading
import time
from pathlib import Path
from typing import IO, Any

from core.atomic import write_json_atomic
from core.config.settings import Settings
from core.errors import StudioError
from core.store.runs import RunStore, new_run_id, validate_run_id

REQUEST_FILE = "request.json"
STATE_FILE = "state.json"
RESULT_FILE = "result.json"
LOG_FILE = "worker.log"
STOP_FILE = "stop"  # in the run folder (training) or the job folder: "please stop"
JOBS_FOLDER = "jobs"
JOB_ID_PATTERN = re.compile(r"^[a-z][a-z_]{0,30}-\d{8}-\d{6}-\d{6}-[0-9a-f]{4}$")
FINAL_JOB_STATES = ("finished", "failed", "stopped", "interrupted")
JOB_STATES = ("queued", "running", *FINAL_JOB_STATES)
# One lock for every read-modify-write of a state.json in this process (the worker's heartbeat
# thread and its main thread both write it).
_state_lock = threading.Lock()


def new_job_id(kind: str) -> str:
    """A fresh job id that names its kind and sorts by creation time (``export-2026...``)."""
    return validate_job_id(f"{kind}-{new_run_id()}")


def validate_job_id(job_id: object) -> str:
    """Returns ``job_id`` if it has the job-id shape (so it cannot escape a folder)."""
    if not isinstance(job_id, str) or not JOB_ID_PATTERN.fullmatch(job_id):
        raise StudioError("That job id is not valid (it does not look like a job id).")
    return job_id


def job_folder(workspace: str | Path, run_id: str | None, job_id: str) -> Path:
    """The folder of job ``job_id`` (of run ``run_id``, or of the workspace when None)."""
    base = Path(workspace) if run_id is None else Path(workspace) / validate_run_id(run_id)
    return base / JOBS_FOLDER / validate_job_id(job_id)


def absolute_settings(settings: Settings) -> dict[str, Any]:
    """``settings`` as a dict with absolute folders, so a worker anywhere finds the same files."""
    data = settings.to_dict()
    for name in ("runs_dir", "cache_dir", "data_dir"):
        data[name] = str(Path(data[name]).resolve())
    data["folder_source_roots"] = [str(Path(p).resolve()) for p in data["folder_source_roots"]]
    return data


@dataclasses.dataclass(frozen=True)
class JobRequest:
    """What a worker needs to run one job (stored as ``request.json`` in the job folder).

    Attributes:
        job_id: the job's id (``<kind>-<timestamp>-<hex>``).
        kind: a key of ``core.jobs.kinds.KINDS``.
        workspace: absolute folder of the workspace's ``RunStore``.
        run_id: the run the job works on, or None.
        params: the kind's parameters (JSON types only).
        settings: ``Settings.to_dict()`` of the submitting process, folders made absolute.
        executor: name of the executor that runs it (``core.jobs.executor.executor_named``).
        submitted: submission time (seconds since the epoch).
    """

    job_id: str
    kind: str
    workspace: str
    run_id: str | None
    params: dict[str, Any]
    settings: dict[str, Any]
    executor: str = "local"
    submitted: float = 0.0

    @property
    def folder(self) -> Path:
        """The job folder."""
        return job_folder(self.workspace, self.run_id, self.job_id)

    def load_settings(self) -> Settings:
        """The submitting process's settings."""
        return Settings.from_dict(self.settings)

    def store(self) -> RunStore:
        """The workspace's run store."""
        return RunStore(self.workspace, stale_s=float(self.settings["heartbeat_stale_s"]))

    def save(self) -> None:
        """Writes ``request.json`` into the job folder (atomically)."""
        write_json_atomic(self.folder / REQUEST_FILE, dataclasses.asdict(self))

    @classmethod
    def load(cls, path: str | Path) -> JobRequest:
        """Reads a ``request.json`` (or the job folder holding one).

        Raises:
            StudioError: the file is missing or not a job request.
        """
        path = Path(path)
        if path.is_dir():
            path = path / REQUEST_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**data)
        except (OSError, ValueError, TypeError) as error:
            raise StudioError(f"The job request {path.name} cannot be read ({error}).") from error


def read_json(path: Path, default: Any = None) -> Any:
    """A JSON file's content, or ``default`` when it is missing or damaged (never raises)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


def read_state(folder: Path) -> dict[str, Any]:
    """The job's ``state.json`` (empty when missing)."""
    data = read_json(folder / STATE_FILE, {})
    return data if isinstance(data, dict) else {}


def write_state(folder: Path, **updates: Any) -> dict[str, Any]:
    """Merges ``updates`` into the job's ``state.json`` and refreshes its heartbeat.

    Writers never overlap on one field in practice: the runner writes ``queued`` (and
    ``stopped`` for a cancelled job), the worker everything while it runs, the reaper
    ``interrupted`` once the worker's process is gone.
    """
    with _state_lock:
        state = read_state(folder)
        state.update(updates)
        state["heartbeat"] = time.time()
        write_json_atomic(folder / STATE_FILE, state)
    return state


def write_upload(folder: Path, name: str, data: bytes | IO[bytes]) -> Path:
    """Copies an upload (bytes or a binary file object) into ``folder`` under its plain name."""
    target = folder / Path(name).name  # a name, never a path: nothing lands outside the job
    if isinstance(data, bytes | bytearray):
        target.write_bytes(data)
        return target
    with contextlib.suppress(AttributeError, OSError):
        data.seek(0)
    with open(target, "wb") as out:
        shutil.copyfileobj(data, out, 1 << 20)
    return target
