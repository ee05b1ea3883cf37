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

from core.config.run import RunConfig
from core.errors import StudioError
from core.jobs.context import JobContext
from core.jobs.progress import ProgressWriter, read_progress
from core.jobs.request import STOP_FILE


def run(context: JobContext) -> dict[str, Any]:
    """Trains the job's run to the end (or until Stop); see the module docstring.

    Raises:
        StudioError: the run failed; the message is plain, the run reads ``failed`` and the
            traceback is in the run's ``log.txt``.
    """
    from core.train.callbacks import explain_error
    from core.train.trainer import run_training

    store, run_id = context.store, context.run_id
    run_dir = context.run_dir()
    resume = bool(context.params.get("resume"))
    writer = ProgressWriter(run_dir, 0, read_progress(run_dir) if resume else None)
    writer.message(
        "Resuming in a new worker process." if resume else "Started in its own worker process."
    )
    try:
        config = _run_config(store.load(run_id).config)
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
    _trim_disk(context, writer)
    writer.flush(force=True)
    return {"status": context.outcome, "metrics": metrics}


def _run_config(config: Any) -> RunConfig:
    """The run's config as a ``RunConfig`` (the store gives one; older stores gave a dict)."""
    return config if isinstance(config, RunConfig) else RunConfig.from_dict(config)


def _trim_disk(context: JobContext, writer: ProgressWriter) -> None:
    """A finished run may push the disk over the cap: trim the cache and old finished runs."""
    from core.store.disk import trim_disk

    try:
        trim = trim_disk(context.settings)
    except OSError:
        return
    if trim.runs or trim.feature_entries:
        writer.message(
            f"Disk cap reached: deleted {len(trim.runs)} old finished run(s) and "
            f"{trim.feature_entries} cached feature file(s)."
        )
