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
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from core.atomic import write_json_atomic
from core.config.run import RunConfig
from core.data.stored_split import SPLIT_FILE
from core.errors import StudioError

RUN_ID_PATTERN = re.compile(r"^\d{8}-\d{6}-\d{6}-[0-9a-f]{4}$")
ACTIVE_STATUSES = ("queued", "extracting", "training", "fine-tuning")
FINAL_STATUSES = ("finished", "stopped", "failed", "interrupted")
# Identifies this Python process: a run whose status.json names another owner is judged by
# its pid and heartbeat instead of this process's list of live runs.
PROCESS_OWNER = uuid.uuid4().hex
HOST = socket.gethostname()

_live_lock = threading.Lock()
_live_runs: set[str] = set()
# One lock for every read-modify-write of a status.json in this process, so the heartbeat
# thread can never write back a status the training thread has just replaced.
_status_lock = threading.Lock()


class RunNotFoundError(StudioError):
    """The run id is malformed or names no run in this workspace."""


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


def new_run_id() -> str:
    """Returns a fresh run id that sorts by creation time (UTC, microseconds)."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
    return f"{stamp}-{secrets.token_hex(2)}"


def validate_run_id(run_id: object) -> str:
    """Returns ``run_id`` if it has the exact run-id shape, else raises RunNotFoundError."""
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.fullmatch(run_id):
        raise RunNotFoundError("That run id is not valid (it does not look like a run id).")
    return run_id


def effective_status(info: dict[str, Any], run_dir: Path, stale_s: float) -> str:
    """Returns the status to show: an active run whose process is gone reads ``interrupted``."""
    status = str(info.get("status", "interrupted"))
    if status not in ACTIVE_STATUSES or _is_live_here(run_dir):
        return status
    if info.get("owner") == PROCESS_OWNER:
        return "interrupted"  # this process owns it but no longer works on it
    pid = info.get("pid")
    if info.get("host") == HOST and not _pid_running(pid):
        return "interrupted"
    heartbeat = info.get("heartbeat")
    if not isinstance(heartbeat, int | float) or time.time() - heartbeat > stale_s:
        return "interrupted"
    return status


def _pid_running(pid: object) -> bool:
    """True while process ``pid`` exists and is not a zombie (a dead child not yet reaped)."""
    if not isinstance(pid, int):
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def read_run_config(path: Path) -> RunConfig:
    """Reads a run folder's ``config.json`` as a ``RunConfig``, older run folders included.

    Raises:
        StudioError: the file is missing, not JSON, or not a valid run config (plain message).
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise StudioError(
            "This run's settings (config.json) cannot be read; the run folder is damaged."
        ) from error
    try:
        return RunConfig.from_dict(_upgrade_config(data))
    except (TypeError, ValueError) as error:
        raise StudioError(f"This run's settings (config.json) are not valid: {error}") from error


def _upgrade_config(data: Any) -> Any:
    """Fills in what run folders written before a setting existed leave out.

    Only settings whose default has changed since are filled here, with the value those runs
    really used; a missing setting whose default never changed takes it from ``from_dict``.
    """
    if isinstance(data, dict) and isinstance(data.get("data"), dict):
        section = data["data"]
        if "resize_mode" not in section:  # the default was "stretch" before "crop"
            data = {**data, "data": {**section, "resize_mode": "stretch"}}
    if isinstance(data, dict) and isinstance(data.get("train"), dict):
        train = data["train"]
        # "multi_worker" is refused for new runs (Keras 3 cannot train with it); a run folder
        # from before still opens, as what it can be re-run as.
        if train.get("strategy") == "multi_worker":
            data = {**data, "train": {**train, "strategy": "default"}}
    return data


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


@dataclass
class RunRecord:
    """Everything stored about one run (missing files give empty values)."""

    run_id: str
    path: Path
    config: RunConfig
    status: str
    status_info: dict[str, Any]
    history: list[dict[str, Any]]
    metrics: dict[str, Any]
    labels: dict[str, Any] | None
    paths: dict[str, Path] = field(default_factory=dict)

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
        write_json_atomic(folder / "status.json", info)

    def read_status(self, run_id: str) -> dict[str, Any]:
        """Returns the raw ``status.json`` content (without the interrupted check)."""
        data = _read_json(self.path(run_id) / "status.json", {})
        return data if isinstance(data, dict) else {}

    def update_status(self, run_id: str, **updates: Any) -> dict[str, Any]:
        """Merges ``updates`` into ``status.json``, refreshing pid, host, owner and heartbeat."""
        with _status_lock:
            info = self.read_status(run_id)
            info.update(updates)
            info.update(pid=os.getpid(), host=HOST, owner=PROCESS_OWNER, heartbeat=time.time())
            self._write_status_file(self.path(run_id), info)
        return info

    def write_json(self, run_id: str, name: str, data: Any) -> None:
        """Atomically writes one of the run's JSON files (history, metrics, labels)."""
        if name not in ("history", "metrics", "labels"):
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
        return effective_status(self.read_status(run_id), self.path(run_id), self.stale_s)

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
                ("status", "status.json"),
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
        history = _read_json(paths["history"], [])
        metrics = _read_json(paths["metrics"], {})
        labels = _read_json(paths["labels"], None)
        return RunRecord(
            run_id=run_id,
            path=folder,
            config=read_run_config(paths["config"]),
            status=effective_status(info, folder, self.stale_s),
            status_info=info,
            history=history if isinstance(history, list) else [],
            metrics=metrics if isinstance(metrics, dict) else {},
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
            best = record.metrics.get("best", {}) if record.metrics else {}
            summaries.append(
                RunSummary(
                    run_id=run_id,
                    name=config.name,
                    status=record.status,
                    backbone=config.model.backbone,
                    last_epoch=int(record.status_info.get("last_epoch", 0) or 0),
                    epochs=config.train.total_epochs,
                    val_accuracy=best.get("val_accuracy"),
                    created=run_id[:15],
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
