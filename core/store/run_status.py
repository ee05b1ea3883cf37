"""A run's ``status.json`` as a typed record, and the status a page should show.

``status.json`` holds the run's status (queued | extracting | training | fine-tuning |
finished | stopped | failed | interrupted) with who is working on it (pid, host, owner), a
heartbeat, the last good epoch and the plain reason of a failure. ``RunStatus`` reads it with
types (a missing or malformed value reads as its default); the file itself is written by
merging updates into it (``RunStore.update_status``), so it keeps every key it had.

``effective_status`` turns an active status whose process is gone into ``interrupted``: the
process that owns the run (this one, by ``mark_live``), its pid on this host, or its heartbeat
must still be alive.
"""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

STATUS_FILE = "status.json"
ACTIVE_STATUSES = ("queued", "extracting", "training", "fine-tuning")
FINAL_STATUSES = ("finished", "stopped", "failed", "interrupted")
# Identifies this Python process: a run whose status.json names another owner is judged by
# its pid and heartbeat instead of this process's list of live runs.
PROCESS_OWNER = uuid.uuid4().hex
HOST = socket.gethostname()

_live_lock = threading.Lock()
_live_runs: set[str] = set()


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class RunStatus:
    """The content of a run's ``status.json``.

    Attributes:
        status: the stored status ("interrupted" when the file has none).
        pid, host, owner: the process that last wrote the file (``owner`` is a process id
            of ``PROCESS_OWNER`` or the job queue's name while the run is queued).
        heartbeat: when that process last said it is alive (seconds since the epoch).
        created: when the run was created.
        last_epoch: the last finished epoch (checkpointed).
        error: the plain reason of a failed or interrupted run.
        job: the queued or running job of the run.
        best_value: the best monitored loss so far; checkpoint: the phase of the checkpoint.
        mlflow_run_id: the run's MLflow run, when tracking is on.
        extra: any other key of the file, kept as it was.
    """

    status: str = "interrupted"
    pid: int | None = None
    host: str | None = None
    owner: str | None = None
    heartbeat: float | None = None
    created: float | None = None
    last_epoch: int = 0
    error: str | None = None
    job: str | None = None
    best_value: float | None = None
    checkpoint: str | None = None
    mlflow_run_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    keys: tuple[str, ...] = field(default=(), repr=False, compare=False)  # the file's, in order

    @classmethod
    def from_dict(cls, data: Any) -> RunStatus:
        """Reads ``status.json``'s content; a missing or malformed value reads as its default."""
        data = data if isinstance(data, dict) else {}
        known = {f.name for f in dataclasses.fields(cls)} - {"extra", "keys"}
        pid = data.get("pid")
        last_epoch = data.get("last_epoch")
        return cls(
            status=str(data.get("status", "interrupted")),
            pid=pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
            host=_text(data.get("host")),
            owner=_text(data.get("owner")),
            heartbeat=_number(data.get("heartbeat")),
            created=_number(data.get("created")),
            last_epoch=int(last_epoch) if isinstance(last_epoch, int | float) else 0,
            error=_text(data.get("error")),
            job=_text(data.get("job")),
            best_value=_number(data.get("best_value")),
            checkpoint=_text(data.get("checkpoint")),
            mlflow_run_id=_text(data.get("mlflow_run_id")),
            extra={key: value for key, value in data.items() if key not in known},
            keys=tuple(data),
        )

    def to_dict(self) -> dict[str, Any]:
        """The record as ``status.json`` content: the keys of the file it was read from, in
        their order (a well-formed file reads back identical), else every set value."""
        values = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name not in ("extra", "keys")
        }
        if not self.keys:
            return {**{k: v for k, v in values.items() if v is not None}, **self.extra}
        return {key: self.extra[key] if key in self.extra else values[key] for key in self.keys}

    @property
    def active(self) -> bool:
        """True while the stored status is queued or training (its process may be gone)."""
        return self.status in ACTIVE_STATUSES


def mark_live(run_dir: Path, live: bool) -> None:
    """Records that this process is (or stops) working on ``run_dir``."""
    key = str(Path(run_dir).resolve())
    with _live_lock:
        if live:
            _live_runs.add(key)
        else:
            _live_runs.discard(key)


def _is_live_here(run_dir: Path) -> bool:
    with _live_lock:
        return str(Path(run_dir).resolve()) in _live_runs


def effective_status(info: RunStatus, run_dir: Path, stale_s: float) -> str:
    """Returns the status to show: an active run whose process is gone reads ``interrupted``."""
    if not info.active or _is_live_here(run_dir):
        return info.status
    if info.owner == PROCESS_OWNER:
        return "interrupted"  # this process owns it but no longer works on it
    if info.host == HOST and not _pid_running(info.pid):
        return "interrupted"
    if info.heartbeat is None or time.time() - info.heartbeat > stale_s:
        return "interrupted"
    return info.status


def _pid_running(pid: int | None) -> bool:
    """True while process ``pid`` exists and is not a zombie (a dead child not yet reaped)."""
    if pid is None:
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
