"""A measuring parent: runs a command, reaps it with ``os.wait4`` and writes its peak memory.

``python bench/peak_rss.py ARGS...`` runs ``python ARGS...`` (a job worker, when a bench uses
``python_wrapper`` as the executor's interpreter) and writes ``peak.json`` beside the worker's
``request.json`` (its last argument), or to ``$PEAK_OUT``:

- ``peak_mb``: ``ru_maxrss`` of the reaped child (the largest resident set it, or any child it
  waited for, ever had: a true peak, not a reading taken afterwards);
- ``tree_peak_mb``: the largest SUM of resident sets of the child and all its descendants,
  sampled every ``SAMPLE_S`` seconds with psutil (catches children that run at the same time);
- ``timeline``: (seconds, tree MB) samples, to see which phase of the job peaks.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

PEAK_FILE = "peak.json"
SAMPLE_S = 0.1


def _another_job(process: psutil.Process) -> bool:
    """True for the worker of ANOTHER job: a worker launches the next queued one as it ends."""
    with contextlib.suppress(psutil.Error):
        command = " ".join(process.cmdline())
        return "core.jobs.worker" in command or Path(__file__).name in command
    return False


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and its own descendants now (0 once it is gone).

    Workers of other jobs that it started (the queue's next job, launched from a worker's
    last settle) are not its children in memory terms and are left out, with their subtrees.
    """
    try:
        root = psutil.Process(pid)
    except psutil.Error:
        return 0
    total, pending = 0, [root]
    while pending:
        process = pending.pop()
        with contextlib.suppress(psutil.Error):  # a child that just ended
            total += process.memory_info().rss
            pending += [c for c in process.children() if not _another_job(c)]
    return total


def peak_of(arguments: list[str]) -> int:
    """Runs ``python ARGUMENTS``, reaps it, writes ``peak.json``; returns its exit code."""
    target = Path(os.environ.get("PEAK_OUT") or Path(arguments[-1]).parent / PEAK_FILE)
    child = subprocess.Popen([sys.executable, *arguments])
    samples: list[tuple[float, float]] = []
    done = threading.Event()
    start = time.monotonic()

    def sample() -> None:
        while not done.wait(SAMPLE_S):
            samples.append((round(time.monotonic() - start, 2), tree_rss(child.pid) / 2**20))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(child.pid, 0)  # this child's own rusage (and its reaped ones)
    done.set()
    sampler.join()
    tree_peak = max((mb for _, mb in samples), default=0.0)
    report = {
        "peak_mb": round(usage.ru_maxrss / 1024, 1),
        "tree_peak_mb": round(tree_peak, 1),
        "tree_peak_at_s": next((t for t, mb in samples if mb == tree_peak), None),
        "wall_s": round(time.monotonic() - start, 1),
        "timeline": [(t, round(mb)) for t, mb in samples[:: max(1, len(samples) // 300)]],
    }
    temp = target.with_suffix(".tmp")
    temp.write_text(json.dumps(report))
    os.replace(temp, target)  # a reader sees the whole file or none
    return os.waitstatus_to_exitcode(status)


def python_wrapper(folder: Path) -> str:
    """An executable that acts as ``python`` for a job executor but measures the worker."""
    path = folder / "python-peak"
    path.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{Path(__file__).resolve()}" "$@"\n')
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


if __name__ == "__main__":
    sys.exit(peak_of(sys.argv[1:]))
