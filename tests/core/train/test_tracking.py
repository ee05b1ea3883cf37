"""MLflow tracking: a run's params, epochs, final metrics and files, read back from MLflow."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.config.settings import Settings
from core.store.runs import RunStore
from core.train.events import TrainingEvents
from core.train.tracking import EXPERIMENT_NAME, MLFLOW_MISSING, RUN_ID_TAG
from core.train.trainer import run_training
from tests.conftest import unavailable
from tests.helpers.training import tiny_config, tiny_settings


@pytest.fixture
def mlflow() -> Any:
    """The mlflow package; skips locally, fails under CI (which installs it), when absent."""
    try:
        import mlflow
    except ImportError:
        unavailable("mlflow is not installed (requirements-extra.txt)")
    return mlflow


class Notices(TrainingEvents):
    def __init__(self) -> None:
        self.notices: list[str] = []

    def notice(self, text: str) -> None:
        self.notices.append(text)


def _train_tracked(
    data: Path, tmp_path: Path, uri: str, events: TrainingEvents | None = None
) -> tuple[Path, dict[str, Any]]:
    settings = dataclasses.replace(tiny_settings(tmp_path), mlflow_tracking_uri=uri)
    store = RunStore(tmp_path / "runs")
    config = tiny_config(data)
    run_id = store.create(config)
    metrics = run_training(config, store, run_id, events, settings=settings)
    return store.path(run_id), metrics


def _assert_tracked(uri: str, run_folder: Path, metrics: dict[str, Any], tmp_path: Path) -> None:
    """Reads the MLflow run back with ``MlflowClient`` and compares it with the run folder."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    mlflow_run_id = metrics["mlflow_run_id"]
    status = json.loads((run_folder / "status.json").read_text())
    assert status["mlflow_run_id"] == mlflow_run_id  # studio -> MLflow
    experiment = client.get_experiment_by_name(EXPERIMENT_NAME)
    assert experiment is not None
    found = client.search_runs(
        [experiment.experiment_id], f"tags.{RUN_ID_TAG} = '{run_folder.name}'"
    )
    assert [run.info.run_id for run in found] == [mlflow_run_id]  # MLflow -> studio
    run = found[0]
    assert run.info.status == "FINISHED"
    assert run.data.params["train.learning_rate"] == "0.01"
    assert run.data.params["model.backbone"] == "mobilenet_v2"
    assert run.data.params["data.val_ratio"] == "0.25"
    history = json.loads((run_folder / "history.json").read_text())
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "lr"):
        logged = client.get_metric_history(mlflow_run_id, key)
        assert [(m.step, m.value) for m in sorted(logged, key=lambda m: m.step)] == [
            (row["epoch"], pytest.approx(row[key])) for row in history
        ], key
    summary = run.data.metrics
    assert summary["summary.test_accuracy"] == pytest.approx(metrics["test_accuracy"])
    assert summary["summary.val_loss"] == pytest.approx(metrics["val_loss"])
    assert summary["summary.final.val_loss"] == pytest.approx(metrics["final"]["val_loss"])
    assert summary["summary.per_class.red.f1"] == pytest.approx(metrics["per_class"]["red"]["f1"])
    names = {item.path for item in client.list_artifacts(mlflow_run_id, "model")}
    assert names == {"model/model.keras", "model/labels.json"}
    downloaded = Path(client.download_artifacts(mlflow_run_id, "model", str(tmp_path / "dl")))
    for name in ("model.keras", "labels.json"):
        assert (downloaded / name).read_bytes() == (run_folder / name).read_bytes(), name


def test_tracking_uri_comes_from_the_environment() -> None:
    uri = "http://127.0.0.1:5000"
    assert Settings.from_env({"STUDIO_MLFLOW_TRACKING_URI": uri}).mlflow_tracking_uri == uri
    assert Settings.from_env({}).mlflow_tracking_uri is None


@pytest.mark.usefixtures("mlflow")
def test_run_is_tracked_in_a_local_store(
    tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a sqlite store keeps its artifacts in ./mlruns
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    run_folder, metrics = _train_tracked(tiny_dataset, tmp_path, uri)
    assert json.loads((run_folder / "metrics.json").read_text())["mlflow_run_id"]
    _assert_tracked(uri, run_folder, metrics, tmp_path)


def test_without_mlflow_the_run_trains_and_says_so_once(
    tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)  # as if the package were not installed
    events = Notices()
    run_folder, metrics = _train_tracked(tiny_dataset, tmp_path, "sqlite:///x.db", events)
    assert metrics["epochs_run"] == 2 and "mlflow_run_id" not in metrics
    assert events.notices == [MLFLOW_MISSING]
    assert (run_folder / "log.txt").read_text().count(MLFLOW_MISSING) == 1


@pytest.mark.usefixtures("mlflow")
def test_unreachable_server_does_not_stop_training(
    tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    events = Notices()
    uri = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    run_folder, metrics = _train_tracked(tiny_dataset, tmp_path, uri, events)
    assert metrics["epochs_run"] == 2 and "mlflow_run_id" not in metrics
    assert len(events.notices) == 1 and "MLflow tracking stopped" in events.notices[0]
    assert (run_folder / "model.keras").is_file()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def mlflow_server(mlflow: Any, tmp_path: Path) -> Iterator[str]:
    """A real ``mlflow server`` on 127.0.0.1 with a temp sqlite store; stopped afterwards."""
    port = _free_port()
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    # fmt: off
    command = [
        sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
        "--workers", "1", "--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}",
        "--artifacts-destination", str(tmp_path / "server_artifacts"),
    ]
    # fmt: on
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115 (closed after the server stops)
    server = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(url, server, deadline=time.monotonic() + 240)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server and its uvicorn worker
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
        log.close()


def _wait_until_healthy(url: str, server: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"mlflow server exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    pytest.fail("mlflow server did not answer /health in time")


@pytest.mark.slow
def test_run_is_tracked_by_a_real_mlflow_server(
    tiny_dataset: Path, tmp_path: Path, mlflow_server: str
) -> None:
    run_folder, metrics = _train_tracked(tiny_dataset, tmp_path, mlflow_server)
    _assert_tracked(mlflow_server, run_folder, metrics, tmp_path)
    # The artifacts went through the server into its own store, not the working directory.
    stored = {path.name for path in (tmp_path / "server_artifacts").rglob("*") if path.is_file()}
    assert {"model.keras", "labels.json"} <= stored
