"""Where a job's worker runs: the ``Executor`` protocol and the local process executor.

An executor starts the worker of a job folder by the worker's module name
(``python -m core.jobs.worker <job>/request.json``, or its equivalent elsewhere), says whether
it is still alive, and can kill it. It never imports the worker: the module name is given to
it (``core.jobs.worker.executor_named`` passes its own), so the worker can use executors to
start the next queued jobs without an import cycle. Everything the worker needs is in the job
folder and everything it produces goes to the job and run folders, so an executor never passes
Python objects around. The handle it returns is a small JSON object stored in the job
registry; any process (a restarted server, another worker) can give it back to an executor of
the same name to ask about the job.

``LocalProcessExecutor`` (the default, name "local") runs each job in a FRESH Python process:
TensorFlow's memory is returned to the OS when the job ends, RNG seeds are per job, and the
worker is the leader of its own session, so it survives a restart of the web server.
``core.jobs.ray_executor.RayExecutor`` (name "ray") runs each job on a Ray cluster instead;
``core.jobs.worker.executor_for`` picks it when ``Settings.ray_address`` is set.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Protocol

import psutil

from core.jobs.request import LOG_FILE, REQUEST_FILE

REPO_ROOT = Path(__file__).resolve().parents[2]
HOST = socket.gethostname()
# A pid's process must have started within this many seconds of the recorded start time to
# be the same process (pids are reused).
_START_TIME_SLACK_S = 1.0


class Executor(Protocol):
    """Starts, watches and kills job workers. Handles are JSON objects (stored in the registry).

    Attributes:
        name: stored with each job, so the process that later asks about the job picks the
            same kind of executor (``executor_named``).
    """

    name: str

    def launch(self, job_dir: Path) -> dict[str, Any]:
        """Starts the worker of ``job_dir`` (holding ``request.json``); returns its handle.

        Raises:
            OSError: the worker could not be started.
        """
        ...

    def is_alive(self, handle: dict[str, Any]) -> bool:
        """True while the worker of ``handle`` may still be working (False = gone for good)."""
        ...

    def kill(self, handle: dict[str, Any]) -> None:
        """Ends the worker of ``handle`` now (no-op when it is gone)."""
        ...


class LocalProcessExecutor:
    """Runs each job as ``python -m <worker_module>`` in a new process on this machine.

    The worker's stdout and stderr go to ``worker.log`` in the job folder. Its working folder
    is this process's, so relative dataset paths mean the same; the repository root is put on
    ``PYTHONPATH`` so ``core`` imports from anywhere.

    Args:
        worker_module: the module that runs one job (``core.jobs.worker.WORKER_MODULE``).
        python: the interpreter (default: this process's).
    """

    name = "local"

    def __init__(self, worker_module: str, python: str | None = None) -> None:
        self.worker_module = worker_module
        self.python = python or sys.executable

    def launch(self, job_dir: Path) -> dict[str, Any]:
        """Starts the worker process of ``job_dir``; returns ``{"pid", "started", "host"}``."""
        env = dict(os.environ)
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
        )
        with open(job_dir / LOG_FILE, "ab") as log:
            process = subprocess.Popen(
                [self.python, "-m", self.worker_module, str(job_dir / REQUEST_FILE)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                close_fds=True,
                start_new_session=True,  # not killed with the server; its own process group
            )
        # Wait for the child in a thread, so it is reaped the moment it exits: a zombie would
        # keep its pid "existing" and its run would not read interrupted after a kill.
        threading.Thread(target=process.wait, name=f"reap-{process.pid}", daemon=True).start()
        try:
            started = psutil.Process(process.pid).create_time()
        except psutil.Error:
            started = None  # already gone: is_alive says so
        return {"pid": process.pid, "started": started, "host": HOST}

    def is_alive(self, handle: dict[str, Any]) -> bool:
        """True while the recorded process runs (a zombie or a reused pid counts as gone)."""
        if handle.get("host") != HOST:
            return True  # another machine's process: this one cannot tell, so keep it
        pid = handle.get("pid")
        if not isinstance(pid, int):
            return False
        try:
            process = psutil.Process(pid)
            if process.status() == psutil.STATUS_ZOMBIE:
                return False
            started = handle.get("started")
            return started is None or abs(process.create_time() - started) < _START_TIME_SLACK_S
        except psutil.Error:
            return False

    def kill(self, handle: dict[str, Any]) -> None:
        """Sends SIGTERM to the worker's process group (the worker and anything it started)."""
        if not self.is_alive(handle) or handle.get("host") != HOST:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(int(handle["pid"]), signal.SIGTERM)
