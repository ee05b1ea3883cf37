"""Optional MLflow tracking of every run, on when ``STUDIO_MLFLOW_TRACKING_URI`` is set.

With the variable set (``Settings.mlflow_tracking_uri``), each run is also an MLflow run in the
experiment ``EXPERIMENT_NAME``: the run config flattened into params (``train.learning_rate``),
each epoch's history row as metrics (``loss``, ``val_accuracy``, ``lr``...; step = epoch), the
numbers of ``metrics.json`` under ``summary.`` (``summary.test_accuracy``,
``summary.per_class.<class>.f1``: the prefix keeps the final ``val_loss`` apart from the
per-epoch one), and ``model.keras`` plus ``labels.json`` as
artifacts under ``model/``. The two runs name each other: the MLflow run carries the tag
``studio_run_id`` and the studio run's ``status.json`` and ``metrics.json`` carry
``mlflow_run_id``; a resumed run continues its MLflow run.

Any tracking URI MLflow accepts works: ``http://host:5000`` (an ``mlflow server``),
``sqlite:///mlflow.db`` (a local database file; artifacts then go to ``./mlruns``), or a
``file:`` folder (MLflow 3 refuses it unless ``MLFLOW_ALLOW_FILE_STORE=true``).
Tracking never stops training: without the ``mlflow`` package the run log and the page say so
in one sentence, and an MLflow error mid-run turns tracking off for the rest of that run.
"""

from __future__ import annotations

import importlib.util
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras

from core.config.run import RunConfig
from core.store.runs import RunStore
from core.train.state import RunState

EXPERIMENT_NAME = "Transfer-Learning Studio"
RUN_ID_TAG = "studio_run_id"
SUMMARY_PREFIX = "summary."
MLFLOW_MISSING = (
    "MLflow tracking is switched on (STUDIO_MLFLOW_TRACKING_URI) but the mlflow package is not "
    "installed (pip install -r requirements-extra.txt), so this run is not tracked."
)
_ARTIFACTS = ("model.keras", "labels.json")
_EPOCH_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy", "lr")
_BATCH = 100  # MLflow's limit of params (and a safe number of metrics) per log_batch call
_PARAM_CHARS = 6000  # MLflow's longest param value


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts as one level with dotted keys (``{"train": {"seed": 1}}`` -> ``train.seed``)."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def metric_key(name: str) -> str:
    """``name`` with the characters MLflow refuses in a metric key replaced by ``_``."""
    return re.sub(r"[^\w\-. /]", "_", name)[:250]


def final_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """The numbers of ``metrics.json`` as ``summary.*`` MLflow metrics (no lists or flags)."""
    return {
        metric_key(f"{SUMMARY_PREFIX}{key}"): float(value)
        for key, value in flatten(metrics).items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }


def run_params(config: RunConfig) -> dict[str, str]:
    """The run config as MLflow params: dotted keys, lists as JSON, values cut to MLflow's max."""
    params = {}
    for key, value in flatten(config.to_dict()).items():
        text = value if isinstance(value, str) else json.dumps(value)
        params[metric_key(key)] = text[:_PARAM_CHARS]
    return params


class MlflowTracking:
    """One studio run's MLflow run: per-epoch metrics, final metrics, artifacts, status.

    Every MLflow call goes through ``_call``: the first error is reported in one sentence and
    turns tracking off for the rest of the run, so a tracking server going away never stops
    training.
    """

    def __init__(self, client: Any, mlflow_run_id: str, notify: Callable[[str], None]) -> None:
        self.client, self.run_id, self.notify = client, mlflow_run_id, notify
        self.active = True
        self.ended = False
        self._logged: int | None = None  # history rows already sent (set by the first phase)

    def _call(self, action: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self.active:
            return None
        try:
            return action(*args, **kwargs)
        except Exception as error:  # network, permissions, a server that went away
            self.active = False
            first_line = (str(error).strip().splitlines() or [""])[0][:200]
            self.notify(
                f"MLflow tracking stopped ({type(error).__name__}: {first_line}); "
                "the run goes on without it."
            )
            return None

    def _log_metrics(self, values: dict[str, float], step: int) -> None:
        from mlflow.entities import Metric

        stamp = int(time.time() * 1000)
        rows = [Metric(key, value, stamp, step) for key, value in values.items()]
        for start in range(0, len(rows), _BATCH):
            self._call(self.client.log_batch, self.run_id, metrics=rows[start : start + _BATCH])

    def log_params(self, params: dict[str, str]) -> None:
        """Logs the run's params (in batches of MLflow's limit)."""
        from mlflow.entities import Param

        rows = [Param(key, value) for key, value in params.items()]
        for start in range(0, len(rows), _BATCH):
            self._call(self.client.log_batch, self.run_id, params=rows[start : start + _BATCH])

    def log_history(self, state: RunState) -> None:
        """Logs the history rows added since the last call (one step per epoch)."""
        if self._logged is None:
            self._logged = len(state.history)
        self.log_rows(state.history[self._logged :])
        self._logged = len(state.history)

    def log_rows(self, rows: list[dict[str, Any]]) -> None:
        """Logs history rows as metrics, one step per row's epoch (the automatic recipe's
        candidates, or a manual run's new epochs)."""
        for row in rows:
            values = {key: float(row[key]) for key in _EPOCH_KEYS if row.get(key) is not None}
            self._log_metrics(values, step=int(row["epoch"]))

    def keras_callbacks(self, state: RunState) -> list[Any]:
        """A Keras callback that logs each epoch's history row as it is written."""
        if self._logged is None:  # a resumed run: the rows restored were logged before
            self._logged = len(state.history)
        return [_EpochLogger(self, state)]

    def finish(self, metrics: dict[str, Any], run_folder: Path, stopped: bool) -> dict[str, str]:
        """Logs the final metrics and artifacts, ends the MLflow run; returns the link back."""
        self._log_metrics(final_metrics(metrics), step=int(metrics.get("epochs_run") or 0))
        for name in _ARTIFACTS:
            if (run_folder / name).is_file():
                self._call(self.client.log_artifact, self.run_id, str(run_folder / name), "model")
        self._end("KILLED" if stopped else "FINISHED")
        return {"mlflow_run_id": self.run_id}

    def end(self) -> None:
        """Marks the MLflow run failed unless ``finish`` already ended it (the run failed)."""
        if not self.ended:
            self._end("FAILED")

    def _end(self, status: str) -> None:
        self.ended = True
        self._call(self.client.set_terminated, self.run_id, status)


class _EpochLogger(keras.callbacks.Callback):
    """Sends each new history row to MLflow (runs after ``RunCallback`` wrote it)."""

    def __init__(self, tracking: MlflowTracking, state: RunState) -> None:
        super().__init__()
        self.tracking, self.state = tracking, state

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.tracking.log_history(self.state)


def start_tracking(
    uri: str | None,
    config: RunConfig,
    store: RunStore,
    run_id: str,
    notify: Callable[[str], None],
) -> MlflowTracking | None:
    """Starts (or, for a resumed run, continues) the MLflow run of ``run_id``.

    Args:
        uri: the MLflow tracking URI (``Settings.mlflow_tracking_uri``); None: no tracking.
        config: the run config, logged as params.
        store: the run store; ``status.json`` gets ``mlflow_run_id``.
        run_id: the studio run.
        notify: tells the page and the run log one sentence (mlflow missing, MLflow errors).

    Returns:
        The tracking, or None when it is off or could not start (``notify`` said why).
    """
    if not uri:
        return None
    if importlib.util.find_spec("mlflow") is None:
        notify(MLFLOW_MISSING)
        return None
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    starting = MlflowTracking(client, "", notify)  # reports a failure to start like any other
    previous = store.run_status(run_id).mlflow_run_id
    mlflow_run_id = starting._call(_open_run, client, run_id, previous)
    if mlflow_run_id is None:
        return None
    tracking = MlflowTracking(client, mlflow_run_id, notify)
    if previous != mlflow_run_id:
        tracking.log_params(run_params(config))
    store.update_status(run_id, mlflow_run_id=mlflow_run_id)
    store.append_log(run_id, f"Tracked in MLflow as run {mlflow_run_id}.")
    return tracking


def _open_run(client: Any, run_id: str, previous: Any) -> str:
    """The MLflow run id: ``previous`` set running again when it exists, else a new run."""
    if isinstance(previous, str) and previous:
        try:
            client.update_run(previous, status="RUNNING")
            return previous
        except Exception:  # deleted, or another tracking server: start a new MLflow run
            pass
    experiment = client.get_experiment_by_name(EXPERIMENT_NAME)
    experiment_id = (
        experiment.experiment_id if experiment else client.create_experiment(EXPERIMENT_NAME)
    )
    run = client.create_run(experiment_id, tags={RUN_ID_TAG: run_id}, run_name=run_id)
    return str(run.info.run_id)
