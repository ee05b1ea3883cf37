"""Starts the studio with ``streamlit run`` on a free loopback port, for e2e tests and benches.

The server gets its own run/data/cache folders (``STUDIO_*_DIR``) and random-weight models
(``STUDIO_DEFAULT_WEIGHTS=none``) unless the caller overrides them, and is always killed on
exit, together with the children it may have started (job workers run in their own process
sessions, so they are found through the server's process tree before it is killed).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.helpers.answers import share_answers

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    """Returns a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class StudioServer:
    """``with StudioServer(tmp_dir) as server: ... server.url ...``."""

    def __init__(
        self,
        work_dir: Path,
        env: dict[str, str] | None = None,
        app_dir: Path | None = None,
        answers: Path | None = None,
    ) -> None:
        """Prepares a server whose files live under ``work_dir`` (reused by a restart).

        ``app_dir`` is the checkout whose ``app.py`` is served (default: this repository), so a
        bench can measure another version of the studio with the same steps. ``answers`` is a
        folder of model answers shared with other servers (``tests.helpers.apptest``'s
        ``share_answers``); None keeps them private, as a bench measuring first visits needs.
        """
        self.work_dir = Path(work_dir)
        self.answers = answers
        self.app_dir = Path(app_dir) if app_dir is not None else REPO_ROOT
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra_env = env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = self.work_dir / "streamlit.log"

    def environment(self) -> dict[str, str]:
        """The server's environment: private folders, random weights, quiet TensorFlow."""
        env = dict(os.environ)
        env.update(
            STUDIO_RUNS_DIR=str(self.work_dir / "runs"),
            STUDIO_DATA_DIR=str(self.work_dir / "data"),
            STUDIO_CACHE_DIR=str(self.work_dir / "cache"),
            STUDIO_DEFAULT_WEIGHTS="none",
            TF_CPP_MIN_LOG_LEVEL="2",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 60.0) -> None:
        """Starts ``streamlit run app.py`` and waits until its health endpoint answers."""
        if self.answers is not None:
            share_answers(self.work_dir / "cache", self.answers)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable, "-m", "streamlit", "run", "app.py",
            "--server.headless=true", "--server.address=127.0.0.1",
            f"--server.port={self.port}", "--browser.gatherUsageStats=false",
            "--server.fileWatcherType=none",
        ]  # fmt: skip
        log = open(self.log_path, "wb")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            command, cwd=self.app_dir, env=self.environment(), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited early:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"streamlit did not answer within {timeout} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """Kills the server's process group (SIGTERM, then SIGKILL) and its job workers."""
        if self.process is None or self.process.poll() is not None:
            return
        workers = self.workers()
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        for worker in workers:
            with contextlib.suppress(Exception):
                worker.kill()

    def workers(self) -> list[Any]:
        """The server's child processes (job workers included), as ``psutil.Process``."""
        import psutil

        if self.process is None:
            return []
        try:
            return list(psutil.Process(self.process.pid).children(recursive=True))
        except psutil.Error:
            return []

    def crash(self) -> None:
        """Kills the server at once (SIGKILL), as a crash or an out-of-memory kill would."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the server's output (for failure messages)."""
        if not self.log_path.is_file():
            return ""
        return self.log_path.read_text(errors="replace")[-chars:]

    def rss_mb(self) -> float:
        """Resident memory of the server process in MB."""
        import psutil

        assert self.process is not None
        return float(psutil.Process(self.process.pid).memory_info().rss) / 2**20

    def __enter__(self) -> StudioServer:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()
