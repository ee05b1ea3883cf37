"""The cross-process list of queued and running jobs: one JSON file under a file lock.

``<runs_dir>/.jobs.json`` lists every job that is queued or running, in submission order (the
queue order); ``<runs_dir>/.jobs.lock`` (``filelock.FileLock``) guards each read-modify-write,
so the web server's sessions, its restarts and the workers all see one queue. A finished job
removes its own entry; a job whose process died is removed by the next ``settle``
(``core.jobs.scheduler``). Entries hold only what scheduling needs; everything else about a
job is in its folder (``core.jobs.request``).

``JobRegistry.locked()`` is reentrant within a thread (a nested call gets the same state), so
a check and the submission it guards run under one lock.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from core.atomic import write_json_atomic
from core.errors import StudioError
from core.jobs.request import read_json

REGISTRY_FILE = ".jobs.json"
LOCK_FILE = ".jobs.lock"
LOCK_TIMEOUT_S = 30.0


@dataclasses.dataclass
class JobEntry:
    """One queued or running job.

    Attributes:
        job_id: the job's id.
        kind: its kind (``core.jobs.kinds``).
        workspace: absolute folder of its workspace.
        run_id: its run, or None.
        folder: absolute job folder.
        state: "queued" or "running".
        executor: name of the executor that runs it.
        handle: what the executor returned at launch (e.g. pid and process start time).
        submitted: submission time.
        started: launch time, or None while queued.
    """

    job_id: str
    kind: str
    workspace: str
    run_id: str | None
    folder: str
    state: str = "queued"
    executor: str = "local"
    handle: dict[str, Any] | None = None
    submitted: float = 0.0
    started: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON types."""
        return dataclasses.asdict(self)


class RegistryState:
    """The entries read under the lock; changes are written back when the lock is released."""

    def __init__(self, entries: list[JobEntry]) -> None:
        self.entries = entries
        self.changed = False

    def get(self, job_id: str) -> JobEntry | None:
        """The entry of ``job_id``, or None."""
        return next((e for e in self.entries if e.job_id == job_id), None)

    def for_run(self, kind: str, workspace: str, run_id: str) -> JobEntry | None:
        """The queued or running job of ``kind`` on this run, or None."""
        return next(
            (
                e
                for e in self.entries
                if e.kind == kind and e.workspace == workspace and e.run_id == run_id
            ),
            None,
        )

    def add(self, entry: JobEntry) -> None:
        """Appends ``entry`` to the end of the queue."""
        self.entries.append(entry)
        self.changed = True

    def remove(self, job_id: str) -> JobEntry | None:
        """Removes and returns the entry of ``job_id`` (None when it is not listed)."""
        entry = self.get(job_id)
        if entry is not None:
            self.entries.remove(entry)
            self.changed = True
        return entry

    def mark_running(self, entry: JobEntry, handle: dict[str, Any], started: float) -> None:
        """Records that ``entry`` was launched."""
        entry.state, entry.handle, entry.started = "running", handle, started
        self.changed = True

    def running(self) -> list[JobEntry]:
        """Running entries."""
        return [e for e in self.entries if e.state == "running"]

    def queued(self) -> list[JobEntry]:
        """Queued entries, first in line first."""
        return [e for e in self.entries if e.state == "queued"]

    def position(self, job_id: str) -> int | None:
        """1-based place of a queued job in the queue; None when it runs or is not listed."""
        for index, entry in enumerate(self.queued(), start=1):
            if entry.job_id == job_id:
                return index
        return None


class JobRegistry:
    """The job list of one runs folder (shared by every process that uses that folder)."""

    def __init__(self, runs_root: str | Path) -> None:
        self.root = Path(runs_root)
        self.path = self.root / REGISTRY_FILE
        # thread_local (filelock's default): each thread holds its own lock file handle, so
        # threads of one server exclude each other as processes do.
        self._lock = FileLock(str(self.root / LOCK_FILE), timeout=LOCK_TIMEOUT_S)
        self._held = threading.local()

    def _read(self) -> list[JobEntry]:
        data = read_json(self.path, {})
        rows = data.get("jobs", []) if isinstance(data, dict) else []
        entries = []
        for row in rows:
            try:
                entries.append(JobEntry(**row))
            except TypeError:
                continue  # a damaged row must not block the queue
        return entries

    @contextmanager
    def locked(self) -> Iterator[RegistryState]:
        """Holds the lock and yields the entries; saves them on exit if they changed.

        Raises:
            StudioError: the lock could not be taken in ``LOCK_TIMEOUT_S`` seconds.
        """
        held = getattr(self._held, "state", None)
        if held is not None:  # nested in this thread: same lock, same state
            yield held
            return
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire()
        except Timeout as error:
            raise StudioError("The job queue is busy right now; try again in a moment.") from error
        try:
            state = RegistryState(self._read())
            self._held.state = state
            yield state
            if state.changed:
                write_json_atomic(self.path, {"jobs": [e.to_dict() for e in state.entries]})
        finally:
            self._held.state = None
            self._lock.release()

    def entries(self) -> list[JobEntry]:
        """A snapshot of the entries without taking the lock (the file is replaced atomically)."""
        return self._read()
