"""The run store: one folder per training run, written atomically, readable after a crash.

Layout of ``<root>/<run_id>/``: ``config.json`` (the ``RunConfig``), ``status.json`` (status,
pid, host, heartbeat, last good epoch), ``history.json`` (one row per epoch), ``metrics.json``,
``labels.json`` (classes, input_size, resize_mode), ``split.json`` (the images of each split,
written before the first epoch: ``core.data.stored_split``), ``model.keras`` (raw 0..255 RGB in,
preprocessing inside), ``log.txt`` (technical detail), and per-epoch checkpoints
``last.weights.h5``/``best.weights.h5`` so an interrupted run can be resumed.

Run ids sort by creation time (``20261126-083200-123456-ab12``) and are validated before they
touch the file system, so an id from a URL cannot escape the store.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.atomic import write_json_atomic
from core.config.run import RunConfig
from core.data.stored_split import SPLIT_FILE
from core.errors import StudioError
from core.store.run_config import read_run_config
from core.store.run_history import EpochRow, read_history
from core.store.run_metrics import RunMetrics, read_run_metrics
from core.store.run_status import (
    ACTIVE_STATUSES,
    HOST,
    PROCESS_OWNER,
    STATUS_FILE,
    RunStatus,
    effective_status,
)

RUN_ID_PATTERN = re.compile(r"^\d{8}-\d{6}-\d{6}-[0-9a-f]{4}$")
# One lock for every read-modify-write of a status.json in this process, so the heartbeat
# thread can never write back a status the training thread has just replaced.
_status_lock = threading.Lock()


class RunNotFoundError(StudioError):
    """The run id is malformed or names no run in this workspace."""


def new_run_id() -> str:
    """Returns a fresh run id that sorts by creation time (UTC, microseconds)."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
    return f"{stamp}-{secrets.token_hex(2)}"


def validate_run_id(run_id: object) -> str:
    """Returns ``run_id`` if it has the exact run-id shape, else raises RunNotFoundError."""
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.fullmatch(run_id):
        raise RunNotFoundError("That run id is not valid (it does not look like a run id).")
    return run_id


def _read_json(path: Path, default: Any) -> Any:
    """Reads JSON, returning ``default`` for a missing or unreadable file (never raises)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


@dataclass
class RunSummary:
    """One line of the run list."""

    run_id: str
    name: str
    status: str
    backbone: str
    last_epoch: int
    epochs: int
    val_accuracy: float | None
    created: str
    test_accuracy: float | None = None


@dataclass
class RunRecord:
    """Everything stored about one run (missing files give empty values)."""

    run_id: str
    path: Path
    config: RunConfig
    status: str
    status_info: dict[str, Any]  # status.json as stored (``run_status`` reads it typed)
    history: list[EpochRow]
    metrics: RunMetrics
    labels: dict[str, Any] | None
    paths: dict[str, Path] = field(default_factory=dict)

    @property
    def run_status(self) -> RunStatus:
        """``status.json`` as a typed record."""
        return RunStatus.from_dict(self.status_info)

    @property
    def has_model(self) -> bool:
        """True when ``model.keras`` exists (a finished or stopped run)."""
        return self.paths["model"].is_file()


class RunStore:
    """Creates, lists, loads and deletes runs under one folder (one workspace)."""

    def __init__(self, root: str | os.PathLike[str], stale_s: float = 60.0) -> None:
        self.root = Path(root)
        self.stale_s = stale_s
        self._log_lock = threading.Lock()

    def path(self, run_id: str) -> Path:
        """Returns the folder of an existing run (validated id, inside this store)."""
        folder = self.root / validate_run_id(run_id)
        if not (folder / "config.json").is_file():
            raise RunNotFoundError("There is no run with that id in this workspace.")
        return folder

    def create(self, config: RunConfig) -> str:
        """Creates a run folder holding ``config``; returns its id."""
        data = config.to_dict()
        run_id = new_run_id()
        folder = self.root / run_id
        folder.mkdir(parents=True, exist_ok=False)
        write_json_atomic(folder / "config.json", data)
        now = time.time()
        self._write_status_file(
            folder,
            {
                "status": "queued",
                "pid": os.getpid(),
                "host": HOST,
                "owner": PROCESS_OWNER,
                "heartbeat": now,
                "created": now,
                "last_epoch": 0,
                "error": None,
            },
        )
        return run_id

    def _write_status_file(self, folder: Path, info: dict[str, Any]) -> None:
        write_json_atomic(folder / STATUS_FILE, info)

    def read_status(self, run_id: str) -> dict[str, Any]:
        """Returns the raw ``status.json`` content (without the interrupted check)."""
        data = _read_json(self.path(run_id) / STATUS_FILE, {})
        return data if isinstance(data, dict) else {}

    def run_status(self, run_id: str) -> RunStatus:
        """``status.json`` as a typed record (without the interrupted check)."""
        return RunStatus.from_dict(self.read_status(run_id))

    def update_status(self, run_id: str, **updates: Any) -> dict[str, Any]:
        """Merges ``updates`` into ``status.json``, refreshing pid, host, owner and heartbeat."""
        with _status_lock:
            info = self.read_status(run_id)
            info.update(updates)
            info.update(pid=os.getpid(), host=HOST, owner=PROCESS_OWNER, heartbeat=time.time())
            self._write_status_file(self.path(run_id), info)
        return info

    def write_json(self, run_id: str, name: str, data: Any) -> None:
        """Atomically writes one of the run's JSON files (history, metrics, labels, recipe)."""
        if name not in ("history", "metrics", "labels", "recipe"):
            raise ValueError(f"Unknown run file '{name}'.")
        write_json_atomic(self.path(run_id) / f"{name}.json", data)

    def append_log(self, run_id: str, text: str) -> None:
        """Appends timestamped lines to ``log.txt`` (technical detail for the curious)."""
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
        lines = "".join(f"{stamp} {line}\n" for line in text.rstrip("\n").splitlines() or [""])
        with self._log_lock, open(self.path(run_id) / "log.txt", "a", encoding="utf-8") as log:
            log.write(lines)

    def status(self, run_id: str) -> str:
        """Returns the effective status (``interrupted`` when the process died)."""
        return effective_status(self.run_status(run_id), self.path(run_id), self.stale_s)

    def is_active(self, run_id: str) -> bool:
        """True while some live process is queued with or working on this run."""
        return self.status(run_id) in ACTIVE_STATUSES

    def load(self, run_id: str) -> RunRecord:
        """Loads everything stored about a run."""
        folder = self.path(run_id)
        info = self.read_status(run_id)
        paths = {
            name: folder / file
            for name, file in (
                ("config", "config.json"),
                ("status", STATUS_FILE),
                ("history", "history.json"),
                ("metrics", "metrics.json"),
                ("labels", "labels.json"),
                ("split", SPLIT_FILE),
                ("model", "model.keras"),
                ("log", "log.txt"),
                ("last_weights", "last.weights.h5"),
                ("best_weights", "best.weights.h5"),
            )
        }
        labels = _read_json(paths["labels"], None)
        return RunRecord(
            run_id=run_id,
            path=folder,
            config=read_run_config(paths["config"]),
            status=effective_status(RunStatus.from_dict(info), folder, self.stale_s),
            status_info=info,
            history=read_history(paths["history"]),
            metrics=read_run_metrics(paths["metrics"]),
            labels=labels if isinstance(labels, dict) else None,
            paths=paths,
        )

    def run_ids(self) -> list[str]:
        """Ids of all runs in the store, oldest first."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name
            for p in self.root.iterdir()
            if RUN_ID_PATTERN.fullmatch(p.name) and (p / "config.json").is_file()
        )

    def list_runs(self) -> list[RunSummary]:
        """Summaries of all runs, newest first."""
        summaries = []
        for run_id in reversed(self.run_ids()):
            try:
                record = self.load(run_id)
            except StudioError:
                continue  # a damaged run folder is not listed (opening it says why)
            config = record.config
            summaries.append(
                RunSummary(
                    run_id=run_id,
                    name=config.name,
                    status=record.status,
                    backbone=config.model.backbone,
                    last_epoch=record.run_status.last_epoch,
                    epochs=config.train.total_epochs,
                    val_accuracy=record.metrics.best_val_accuracy,
                    created=run_id[:15],
                    test_accuracy=record.metrics.held_out_accuracy,
                )
            )
        return summaries

    def size_bytes(self, run_id: str) -> int:
        """Disk size of one run folder."""
        return sum(p.stat().st_size for p in self.path(run_id).rglob("*") if p.is_file())

    def delete(self, run_id: str) -> None:
        """Deletes a run; refuses while it is queued or in progress.

        Raises:
            RunNotFoundError: unknown or malformed id.
            StudioError: the run is still in progress.
        """
        folder = self.path(run_id)
        if self.is_active(run_id):
            raise StudioError("This run is still in progress: stop it before deleting it.")
        # Rename first so a half-deleted folder never shows up as a run in a listing.
        trash = folder.with_name(f".deleting-{run_id}-{secrets.token_hex(2)}")
        folder.rename(trash)
        shutil.rmtree(trash, ignore_errors=True)
