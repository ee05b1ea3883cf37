"""The ``train`` job kind: train (or resume) one run in the worker process.

Parameters: ``{"resume": bool}``. The run folder is the source of truth: ``status.json`` and its
heartbeat (``RunStore``), ``history.json`` and the checkpoints (the trainer's callback),
``progress.json`` (``core.jobs.progress.ProgressWriter``: phase, epoch, ETA, per-batch losses,
events, notices) and ``log.txt``. Stop is a ``stop`` file in the run folder. The result is
``{"status": "finished" | "stopped", "metrics": {...}}``.

Seeds: ``run_training`` seeds Python's, NumPy's and TensorFlow's global generators; in a
worker process they belong to this one job, so concurrent runs no longer reseed each other.
"""

from __future__ import annotations

import contextlib
import traceback
from typing import Any

from core.errors import StudioError
from core.jobs.context import JobContext
from core.jobs.progress import ProgressWriter, read_progress
from core.jobs.request import STOP_FILE
from core.store.trim import trim_after_run
from core.train.errors import explain_error


def run(context: JobContext) -> dict[str, Any]:
    """Trains the job's run to the end (or until Stop); see the module docstring.

    Raises:
        StudioError: the run failed; the message is plain, the run reads ``failed`` and the
            traceback is in the run's ``log.txt``.
    """
    from core.train.trainer import run_training  # Keras at import: only in the worker

    store, run_id = context.store, context.run_id
    run_dir = context.run_dir()
    resume = bool(context.params.get("resume"))
    writer = ProgressWriter(run_dir, 0, read_progress(run_dir) if resume else None)
    writer.message(
        "Resuming in a new worker process." if resume else "Started in its own worker process."
    )
    try:
        config = store.load(run_id).config
        writer.data["epochs"] = config.train.total_epochs
        metrics = run_training(
            config, store, run_id, writer, settings=context.settings, resume=resume
        )
    except Exception as error:  # every failure must end as a clean "failed" run
        message = explain_error(error)
        with contextlib.suppress(OSError, StudioError):  # folder gone: nothing to record
            store.append_log(run_id, traceback.format_exc())
            store.update_status(run_id, status="failed", error=message)
        writer.message(f"Failed: {message}")
        raise StudioError(message) from error
    finally:
        (run_dir / STOP_FILE).unlink(missing_ok=True)
    stopped = bool(metrics.get("stopped"))
    context.outcome = "stopped" if stopped else "finished"
    trimmed = trim_after_run(context.settings)  # the last step: the disk cap
    if trimmed is not None:
        writer.message(trimmed)
    writer.flush(force=True)
    return {"status": context.outcome, "metrics": metrics}
