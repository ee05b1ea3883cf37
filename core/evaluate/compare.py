"""Comparing runs: one table row per run, their curves on one chart, and a config diff.

``runs_table``, ``overlay_figure`` and ``config_diff`` take ``core.store.runs.RunRecord``
objects (anything with ``run_id``, ``config``, ``metrics``, ``history`` and ``status``), so the
Runs page and tests share them; ``compare_runs`` reads the runs of a sweep from a store (the
CLI's table, best validation accuracy first).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import plotly.graph_objects as go

from core.config.sweep import DEFAULT_CUT
from core.data.names import public_dataset_name
from core.errors import StudioError
from core.store.runs import RunStore
from core.text import plain_label

METRIC_KEYS = ("val_accuracy", "val_loss", "test_accuracy")  # the columns of ``compare_runs``
_MISSING = "—"  # shown where a run has no value for a setting


def _created(run_id: str) -> str:
    """Readable creation time from a run id (``20261126-083200-...`` -> ``2026-11-26 08:32``)."""
    try:
        return datetime.strptime(run_id[:15], "%Y%m%d-%H%M%S").strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return run_id


def _head_text(head: Mapping[str, Any]) -> str:
    """Short description of a head spec, e.g. ``pool=avg, dense 128, dropout 0.2``."""
    parts = [f"pool={head['pooling']}"] if "pooling" in head else []
    for layer in head.get("dense", []) or []:
        if isinstance(layer, Mapping) and "units" in layer:
            parts.append(f"dense {layer['units']}")
    if head.get("conv_blocks"):
        parts.append(f"{len(head['conv_blocks'])} conv")
    if "dropout" in head:
        parts.append(f"dropout {head['dropout']}")
    return ", ".join(parts) or _MISSING


def run_row(record: Any) -> dict[str, Any]:
    """One row of the runs table: date, dataset, backbone, cut, head, epochs, scores, time."""
    config = record.config.to_dict()
    model, data = config.get("model", {}) or {}, config.get("data", {}) or {}
    train = config.get("train", {}) or {}
    metrics = record.metrics
    seconds = sum((metrics.phase_seconds or {}).values())
    fine_tune = train.get("fine_tune") or {}
    return {
        "run": record.run_id,
        "name": config.get("name", ""),
        "date": _created(record.run_id),
        "status": record.status,
        "dataset": str(data.get("path", "")).rstrip("/").split("/")[-1] or _MISSING,
        "backbone": model.get("backbone", _MISSING),
        "cut": model.get("cut_layer") or "default",
        "head": _head_text(model.get("head", {}) or {}),
        "epochs": len(record.history)
        or int(train.get("epochs", 0)) + int(fine_tune.get("epochs", 0)),
        "best val accuracy": metrics.best_val_accuracy,
        "test accuracy": metrics.held_out_accuracy,
        "wall time (s)": round(seconds, 1) if seconds else None,
    }


def runs_table(records: Sequence[Any]) -> list[dict[str, Any]]:
    """Rows for ``st.dataframe`` (one per run, in the given order)."""
    return [run_row(record) for record in records]


def overlay_figure(records: Sequence[Any], metric: str = "val_accuracy") -> go.Figure:
    """One line per run of ``metric`` by epoch (fine-tune epochs continue the numbering).

    Run names are shown as plain text (``core.text.plain_label``).
    """
    figure = go.Figure()
    for record in records:
        points = [(row.epoch, row.score(metric)) for row in record.history]
        points = [(epoch, value) for epoch, value in points if value is not None]
        label = record.config.name or record.run_id
        figure.add_trace(
            go.Scatter(
                x=[epoch for epoch, _ in points],
                y=[value for _, value in points],
                mode="lines+markers",
                name=plain_label(label),
            )
        )
    figure.update_layout(
        title=f"{metric.replace('_', ' ')} by epoch",
        xaxis_title="Epoch",
        yaxis_title=metric.replace("_", " "),
        legend_title="Run",
    )
    return figure


def flatten_config(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flattens nested settings to dotted keys (``train.fine_tune.epochs``); lists become text."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten_config(value, f"{name}."))
        elif isinstance(value, list | tuple):
            flat[name] = ", ".join(str(item) for item in value) if value else "[]"
        else:
            flat[name] = value
    return flat


def _shown(key: str, value: Any) -> str:
    """A setting's value as the diff shows it: text, and the dataset by its folder's name.

    Every column of the table is text: a column mixing booleans and numbers is refused by
    pyarrow (``ArrowInvalid``) when Streamlit sends the table. ``data.path`` is the server's
    folder: visitors see its name only (``public_dataset_name``).
    """
    if key == "data.path" and isinstance(value, str):
        return public_dataset_name(value)
    return _MISSING if value is None else str(value)


def config_diff(configs: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Side-by-side settings of several runs; ``changed`` marks keys whose values differ.

    Args:
        configs: run label -> its config dict.

    Returns:
        Rows ``{"setting": key, <label>: value text, ..., "changed": bool}``, changed rows
        first. Values are text (``_shown``): no server path, and one type per column.
    """
    flat = {label: flatten_config(config) for label, config in configs.items()}
    keys = sorted({key for values in flat.values() for key in values})
    rows = []
    for key in keys:
        raw = {label: flat[label].get(key, _MISSING) for label in flat}
        distinct = {repr(value) for value in raw.values()}
        shown = {label: _shown(key, value) for label, value in raw.items()}
        rows.append({"setting": key, **shown, "changed": len(distinct) > 1})
    return sorted(rows, key=lambda row: not row["changed"])


def head_name(head: Any) -> str:
    """A short name of a head: its pooling and dense layers, e.g. ``avg+dense128``."""
    return str(head.pooling) + "".join(f"+dense{layer.units}" for layer in head.dense)


def compare_runs(store: RunStore, run_ids: Sequence[str]) -> list[dict[str, Any]]:
    """One row per run (backbone, cut, head, status, metrics), best validation accuracy first."""
    rows = []
    for run_id in run_ids:
        try:
            record = store.load(run_id)
        except StudioError as error:
            rows.append({"run_id": run_id, "status": "unreadable", "error": str(error)})
            continue
        model = record.config.model
        row: dict[str, Any] = {
            "run_id": run_id,
            "backbone": model.backbone,
            "cut": model.cut_layer or DEFAULT_CUT,
            "head": head_name(model.head),
            "status": record.status,
        }
        metrics = record.metrics
        row.update(val_accuracy=metrics.val_accuracy, val_loss=metrics.val_loss,
                   test_accuracy=metrics.test_accuracy)  # fmt: skip
        rows.append(row)
    return sorted(rows, key=lambda row: -(row.get("val_accuracy") or -1.0))
