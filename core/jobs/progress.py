"""A training run's live progress as a file: ``progress.json`` in the run folder.

The worker's ``ProgressWriter`` receives the trainer's events (``TrainingEvents``) and rewrites
the file atomically at most every ``WRITE_INTERVAL_S`` seconds (at once for a status change, a
message, a notice or an epoch). The page reads it with ``read_progress``. Fields:

- ``status``, ``phase`` (extract | head | fine_tune), ``epoch``, ``epochs``, ``progress`` (0..1),
  ``eta_s``, ``updated`` (time of the write);
- ``batches``: the last ``MAX_BATCH_ROWS`` per-batch rows ``{"step", "epoch", "fraction",
  "loss"}``;
- ``events``: the last ``MAX_EVENTS`` plain-language lines, each prefixed with the time;
- ``notices``: settings the run changed on its own (a lowered batch size), for the page to show.

While features are extracted, ``progress`` and ``eta_s`` come from ``ExtractionRate``: the
images/s measured so far over the images the run planned (``extraction_planned``), so the
estimate settles as the rate does instead of waiting for the first epoch.

Stop: ``should_stop`` is True once a ``stop`` file exists in the run folder (written by
``JobRunner.stop`` from any process); Keras then ends the epoch after the current batch.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.atomic import write_text_atomic
from core.jobs.request import STOP_FILE, read_json
from core.train.events import TrainingEvents

PROGRESS_FILE = "progress.json"
MAX_BATCH_ROWS = 5000
MAX_EVENTS = 300
WRITE_INTERVAL_S = 0.5
PHASES = {"extracting": "extract", "training": "head", "fine-tuning": "fine_tune"}
# No extraction estimate before this long and this many images: the first batch includes
# TensorFlow's warm-up and would promise far too long.
MIN_RATE_S = 2.0
MIN_RATE_IMAGES = 8


class ExtractionRate:
    """Images/s of the extraction measured so far, and the seconds left at that rate.

    Args:
        planned: images the extraction passes at most (all parts; cached parts skip).
        start: the clock's time when extraction began.
    """

    def __init__(self, planned: int, start: float) -> None:
        self.planned, self.start = max(planned, 1), start
        self._before = 0  # images of the parts already finished
        self._part: tuple[str, int] = ("", 0)  # (name, images done) of the current part

    def update(self, part: str, done: int, now: float) -> tuple[float, float | None]:
        """Records ``done`` images of ``part``; returns (fraction done, seconds left or None)."""
        name, last = self._part
        if part != name or done < last:  # a new part (another split, or the next view)
            self._before += last
        self._part = (part, done)
        images, elapsed = self._before + done, now - self.start
        fraction = min(images / self.planned, 1.0)
        if elapsed < MIN_RATE_S or images < MIN_RATE_IMAGES:
            return fraction, None
        return fraction, max(self.planned - images, 0) * elapsed / images


def read_progress(run_dir: Path) -> dict[str, Any]:
    """The run's ``progress.json`` (empty when there is none yet)."""
    data = read_json(Path(run_dir) / PROGRESS_FILE, {})
    return data if isinstance(data, dict) else {}


class ProgressWriter(TrainingEvents):
    """Writes a run's progress to ``progress.json`` and reads Stop from the ``stop`` file."""

    def __init__(
        self,
        run_dir: Path,
        epochs: int,
        previous: dict[str, Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Starts the file; ``previous`` (a resumed run's old progress) keeps its lines.

        Args:
            run_dir: the run folder.
            epochs: total epochs of the run (both phases).
            previous: the ``progress.json`` of the interrupted attempt, when resuming; its
                events and notices are kept, and its batch rows up to its last epoch.
            clock: seconds of a monotonic clock (the extraction rate is measured with it).
        """
        self.run_dir = Path(run_dir)
        self.clock = clock
        self._planned = 0
        self._rate: ExtractionRate | None = None
        previous = previous or {}
        done = int(previous.get("epoch") or 0)
        self.data: dict[str, Any] = {
            "status": "queued",
            "phase": None,
            "epoch": done,
            "epochs": epochs,
            "progress": float(previous.get("progress") or 0.0) if previous else 0.0,
            "eta_s": None,
            "notices": list(previous.get("notices") or []),
        }
        old_batches = [r for r in previous.get("batches") or [] if r.get("epoch", 0) <= done]
        self.batches: deque[dict[str, Any]] = deque(old_batches, maxlen=MAX_BATCH_ROWS)
        self.events: deque[str] = deque(previous.get("events") or [], maxlen=MAX_EVENTS)
        self._written = 0.0

    def flush(self, force: bool = False) -> None:
        """Writes the file (throttled unless ``force``)."""
        now = time.monotonic()
        if not force and now - self._written < WRITE_INTERVAL_S:
            return
        self._written = now
        data = {
            **self.data,
            "updated": time.time(),
            "batches": list(self.batches),
            "events": list(self.events),
        }
        write_text_atomic(self.run_dir / PROGRESS_FILE, json.dumps(data, allow_nan=True))

    # --- TrainingEvents --------------------------------------------------------------------
    def status(self, status: str) -> None:
        self.data.update(status=status, phase=PHASES.get(status, self.data["phase"]))
        if status == "extracting":
            self.data.update(progress=0.0, eta_s=None)
            self._rate = ExtractionRate(self._planned, self.clock())
        elif status == "finished":
            self.data.update(progress=1.0, eta_s=0.0)
        self.flush(force=True)

    def message(self, text: str) -> None:
        self.events.append(f"{time.strftime('%H:%M:%S')} {text}")
        self.flush(force=True)

    def notice(self, text: str) -> None:
        self.data["notices"].append(text)
        self.message(text)

    def extraction_planned(self, images: int) -> None:
        self._planned = images

    def extraction(self, split: str, done: int, total: int) -> None:
        if self._rate is None or not self._planned:  # no plan told: this part's share only
            self.data["progress"] = done / total if total else 1.0
        else:
            fraction, eta_s = self._rate.update(split, done, self.clock())
            self.data.update(progress=fraction, eta_s=eta_s)
        self.flush()

    def epoch(self, row: dict[str, Any]) -> None:
        self.data["epoch"] = int(row["epoch"])
        self.flush(force=True)

    def batch(self, row: dict[str, Any]) -> None:
        self.batches.append(row)
        self.flush()

    def progress(self, fraction: float, eta_s: float | None, epoch: int, epochs: int) -> None:
        self.data.update(progress=min(max(fraction, 0.0), 1.0), eta_s=eta_s, epochs=epochs)
        self.flush()

    def should_stop(self) -> bool:
        return (self.run_dir / STOP_FILE).exists()
