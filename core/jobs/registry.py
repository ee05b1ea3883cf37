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
import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from core.atomic import write_json_atomic
from core.errors import StudioError
from core.jobs.fairness import turn_order
from core.jobs.recovery import find_unfinished_jobs, set_aside, write_launch, write_notice

REGISTRY_FILE = ".jobs.json"
LONG_LANE = "long"  # training, export, evaluation...: at most Settings.max_jobs at once
SHORT_LANE = "short"  # a page's question (model facts, preview, predict model): a lane apart
LOCK_FILE = ".jobs.lock"
LOCK_TIMEOUT_S = 30.0
PAGE_LOCK_TIMEOUT_S = 3.0
JOB_ENTRY_STATES = ("queued", "running")
BUSY_MESSAGE = "The job queue is busy right now; try again in a moment."
_log = logging.getLogger(__name__)


class QueueBusyError(StudioError):
    """The queue's lock stayed taken longer than the caller waits (the message says so)."""


class RegistryDamagedError(Exception):
    """``.jobs.json`` exists but is not a job list (internal: the registry rebuilds it)."""


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
        planned_mb: the memory planned for it (``core.jobs.memory_plan``; 0 for entries
            written before there was a plan).
        lane: ``LONG_LANE`` or ``SHORT_LANE`` (``core.jobs.scheduler`` caps each lane).
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
    planned_mb: float = 0.0
    lane: str = LONG_LANE

    def to_dict(self) -> dict[str, Any]:
        """JSON types."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, row: Any) -> JobEntry:
        """An entry read back from the file.

        Raises:
            RegistryDamagedError: the row is not an entry the registry wrote.
        """
        try:
            entry = cls(**row)
        except TypeError as error:
            raise RegistryDamagedError(f"a row is not a job entry ({error})") from error
        if entry.state not in JOB_ENTRY_STATES or not isinstance(entry.job_id, str):
            raise RegistryDamagedError(f"a row has the state {entry.state!r}")
        return entry


class RegistryState:
    """The entries read under the lock; changes are written back when the lock is released."""

    def __init__(self, entries: list[JobEntry], last_turn: dict[str, float] | None = None) -> None:
        self.entries = entries
        self.last_turn = last_turn or {}  # workspace -> when it last started a job
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
        """Records that ``entry`` was launched, here and in its job folder (for a rebuild)."""
        entry.state, entry.handle, entry.started = "running", handle, started
        self.last_turn[entry.workspace] = started
        write_launch(Path(entry.folder), entry.executor, handle, started)
        self.changed = True

    def running(self) -> list[JobEntry]:
        """Running entries."""
        return [e for e in self.entries if e.state == "running"]

    def queued(self) -> list[JobEntry]:
        """Queued entries, first in line first."""
        return [e for e in self.entries if e.state == "queued"]

    def in_turn(self) -> list[JobEntry]:
        """Queued entries in the order they start (``core.jobs.fairness``: workspaces take
        turns)."""
        return turn_order(self.entries, self.last_turn)

    def position(self, job_id: str) -> int | None:
        """1-based place of a queued job in its lane's line, in turn (``in_turn``); None when
        it runs or is not listed.

        Each lane has its own line (``core.jobs.scheduler``): a page's short question queued
        first does not push a training run back.
        """
        entry = self.get(job_id)
        if entry is None or entry.state != "queued":
            return None
        line = [e.job_id for e in self.in_turn() if e.lane == entry.lane]
        return line.index(job_id) + 1

    def for_workspace(self, workspace: str, kind: str | None = None) -> list[JobEntry]:
        """Queued and running entries of a workspace (of ``kind`` only, when given)."""
        return [e for e in self.entries if e.workspace == workspace and kind in (None, e.kind)]


class JobRegistry:
    """The job list of one runs folder (shared by every process that uses that folder).

    Args:
        runs_root: the runs folder.
        timeout_s: the longest wait for the lock before "the queue is busy".
    """

    def __init__(self, runs_root: str | Path, timeout_s: float = LOCK_TIMEOUT_S) -> None:
        self.root = Path(runs_root)
        self.path = self.root / REGISTRY_FILE
        # thread_local (filelock's default): each thread holds its own lock file handle, so
        # threads of one server exclude each other as processes do.
        self._lock = FileLock(str(self.root / LOCK_FILE), timeout=timeout_s)
        self._held = threading.local()

    def _parse(self) -> RegistryState:
        """The file's entries and turns (none when there is no file yet).

        Raises:
            RegistryDamagedError: the file exists but is not a job list.
        """
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return RegistryState([])
        except (OSError, UnicodeDecodeError) as error:
            raise RegistryDamagedError(f"it cannot be read ({error})") from error
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as error:
            raise RegistryDamagedError(f"it is not JSON ({error})") from error
        rows = data.get("jobs") if isinstance(data, dict) else None
        if not isinstance(rows, list):
            raise RegistryDamagedError("it holds no job list")
        turns = data.get("turns")
        last_turn = {
            str(ws): float(when)
            for ws, when in (turns.items() if isinstance(turns, dict) else [])
            if isinstance(when, int | float)
        }
        return RegistryState([JobEntry.from_dict(row) for row in rows], last_turn)

    def _rebuild(self, damage: RegistryDamagedError) -> list[JobEntry]:
        """Sets the damaged file aside and lists the unfinished jobs of the job folders."""
        aside = set_aside(self.path)
        entries = [
            JobEntry(
                job.request.job_id, job.request.kind, job.request.workspace, job.request.run_id,
                str(job.request.folder), state="running" if job.handle else "queued",
                executor=job.request.executor, handle=job.handle,
                submitted=job.request.submitted, started=job.started,
                planned_mb=job.planned_mb, lane=job.lane or LONG_LANE,
            )
            for job in find_unfinished_jobs(self.root)
        ]  # fmt: skip
        running = sum(1 for entry in entries if entry.state == "running")
        _log.warning(
            "%s was damaged (%s): set aside as %s; the queue was rebuilt from the job folders "
            "with %d queued and %d running jobs.",
            self.path, damage, aside.name, len(entries) - running, running,
        )  # fmt: skip
        write_notice(self.root, aside.name, len(entries) - running, running)
        return entries

    @contextmanager
    def locked(self) -> Iterator[RegistryState]:
        """Holds the lock and yields the entries; saves them on exit if they changed (also when
        the block raised: what it launched before must stay listed).

        Raises:
            QueueBusyError: the lock could not be taken in time.
        """
        held = getattr(self._held, "state", None)
        if held is not None:  # nested in this thread: same lock, same state
            yield held
            return
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire()
        except Timeout as error:
            raise QueueBusyError(BUSY_MESSAGE) from error
        state: RegistryState | None = None
        try:
            try:
                state = self._parse()
            except RegistryDamagedError as damage:
                state = RegistryState(self._rebuild(damage))
                state.changed = True
            self._held.state = state
            yield state
        finally:
            try:  # saved even when the caller then refused: a launched worker must be listed
                if state is not None and state.changed:
                    write_json_atomic(self.path, _file_data(state))
            finally:
                self._held.state = None
                self._lock.release()

    def entries(self) -> list[JobEntry]:
        """A snapshot of the entries (without the lock: the file is replaced atomically; a
        damaged file is rebuilt under it)."""
        try:
            return self._parse().entries
        except RegistryDamagedError:
            with self.locked() as state:
                return list(state.entries)


def _file_data(state: RegistryState) -> dict[str, Any]:
    """What ``.jobs.json`` holds: the entries, and the turns of workspaces still listed."""
    listed = {entry.workspace for entry in state.entries}
    turns = {ws: when for ws, when in state.last_turn.items() if ws in listed}
    return {"jobs": [entry.to_dict() for entry in state.entries], "turns": turns}
