"""Training curves as a Plotly figure (a pure function: history in, figure out)."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

_TRAIN_COLOR = "#1f77b4"
_VAL_COLOR = "#ff7f0e"
_BATCH_COLOR = "rgba(31, 119, 180, 0.35)"


def _series(history: list[dict[str, Any]], key: str) -> tuple[list[int], list[float]]:
    """Epochs and values of one metric, skipping rows where it is missing or not finite."""
    xs, ys = [], []
    for row in history:
        value = row.get(key)
        if isinstance(value, int | float) and value == value:  # drops NaN
            xs.append(int(row["epoch"]))
            ys.append(float(value))
    return xs, ys


def _fine_tune_start(history: list[dict[str, Any]]) -> int | None:
    for row in history:
        if row.get("phase") == "fine_tune":
            return int(row["epoch"])
    return None


def training_figure(
    history: list[dict[str, Any]], batch_history: list[dict[str, Any]] | None = None
) -> go.Figure:
    """Builds the loss and accuracy curves of a run.

    Args:
        history: one row per epoch: ``epoch`` (1-based), ``phase`` ("head"/"fine_tune"),
            ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``.
        batch_history: throttled per-batch rows ``step`` (global step), ``epoch`` (1-based
            epoch the batch belongs to), ``fraction`` (0..1 position inside that epoch) and
            ``loss``; drawn as a thin line on the loss chart at ``epoch - 1 + fraction``.

    Returns:
        A figure with two panels (loss, accuracy); the fine-tune phase is shaded.
    """
    figure = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Accuracy"))
    _add_epoch_curves(figure, history)
    if batch_history:
        _add_batch_loss(figure, batch_history)
    _shade_fine_tune(figure, history)
    figure.update_xaxes(title_text="epoch", rangemode="tozero")
    figure.update_yaxes(range=[0, 1.02], row=1, col=2)
    figure.update_layout(
        height=360,
        margin={"l": 40, "r": 20, "t": 40, "b": 40},
        legend={"orientation": "h", "y": -0.2},
    )
    return figure


def _add_epoch_curves(figure: go.Figure, history: list[dict[str, Any]]) -> None:
    """Train (solid) and validation (dashed) curves: loss on the left, accuracy on the right."""
    for col, metric in ((1, "loss"), (2, "accuracy")):
        for prefix, name, color in (
            ("", "train", _TRAIN_COLOR),
            ("val_", "validation", _VAL_COLOR),
        ):
            xs, ys = _series(history, prefix + metric)
            if xs:
                figure.add_trace(
                    go.Scatter(
                        x=xs,
                        y=ys,
                        mode="lines+markers",
                        name=f"{name} {metric}",
                        line={"color": color, "dash": "solid" if prefix == "" else "dash"},
                    ),
                    row=1,
                    col=col,
                )


def _add_batch_loss(figure: go.Figure, batch_history: list[dict[str, Any]]) -> None:
    """The per-batch loss as a thin line on the loss panel, at ``epoch - 1 + fraction``."""
    xs_batch = [float(row["epoch"]) - 1 + float(row.get("fraction", 1.0)) for row in batch_history]
    figure.add_trace(
        go.Scatter(
            x=xs_batch,
            y=[float(row["loss"]) for row in batch_history],
            mode="lines",
            name="batch loss",
            line={"color": _BATCH_COLOR, "width": 1},
        ),
        row=1,
        col=1,
    )


def _shade_fine_tune(figure: go.Figure, history: list[dict[str, Any]]) -> None:
    """Shades the fine-tune epochs on both panels (nothing when there was no such phase)."""
    start = _fine_tune_start(history)
    if start is None:
        return
    last = max(int(row["epoch"]) for row in history)
    for col in (1, 2):
        figure.add_vrect(
            x0=start - 0.5,
            x1=last + 0.5,
            fillcolor="rgba(44, 160, 44, 0.08)",
            line_width=0,
            row=1,
            col=col,
            annotation_text="fine-tune" if col == 1 else None,
            annotation_position="top left",
        )
