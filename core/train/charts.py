"""Training curves as Plotly figures (a pure function: history in, figures out)."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from core.store.run_history import EpochRow

_TRAIN_COLOR = "#1f77b4"
_VAL_COLOR = "#ff7f0e"
_BATCH_COLOR = "rgba(31, 119, 180, 0.35)"


def _series(history: list[EpochRow], key: str) -> tuple[list[int], list[float]]:
    """Epochs and values of one metric, skipping rows where it is missing or not finite."""
    xs, ys = [], []
    for row in history:
        value = row.score(key)
        if value is not None and value == value:  # drops NaN
            xs.append(row.epoch)
            ys.append(float(value))
    return xs, ys


def _fine_tune_start(history: list[EpochRow]) -> int | None:
    for row in history:
        if row.phase == "fine_tune":
            return row.epoch
    return None


def training_figures(
    history: list[EpochRow], batch_history: list[dict[str, Any]] | None = None
) -> tuple[go.Figure, go.Figure]:
    """Builds the loss and the accuracy curves of a run, as two figures.

    Two figures rather than two panels of one, so the page can put them side by side on a wide
    screen and one above the other on a phone (Streamlit stacks columns on narrow screens).

    Args:
        history: one row per epoch (``history.json``, ``core.store.run_history``).
        batch_history: throttled per-batch rows ``step`` (global step), ``epoch`` (1-based
            epoch the batch belongs to), ``fraction`` (0..1 position inside that epoch) and
            ``loss``; drawn as a thin line on the loss chart at ``epoch - 1 + fraction``.

    Returns:
        ``(loss, accuracy)``; the fine-tune phase is shaded and labelled on both.
    """
    loss = _panel("Loss")
    _add_epoch_curves(loss, history, "loss")
    if batch_history:
        _add_batch_loss(loss, batch_history)
    accuracy = _panel("Accuracy")
    _add_epoch_curves(accuracy, history, "accuracy")
    accuracy.update_yaxes(range=[0, 1.02])
    for figure in (loss, accuracy):
        _shade_fine_tune(figure, history)
        if history and all(row.phase == "head_search" for row in history):
            # the automatic recipe: one point per candidate head it tried, not per epoch
            figure.update_xaxes(title_text="candidate head (in the order tried)")
    return loss, accuracy


def _panel(title: str) -> go.Figure:
    """An empty chart with the layout both training charts share."""
    figure = go.Figure()
    figure.update_xaxes(title_text="epoch", rangemode="tozero")
    figure.update_layout(
        title={"text": title, "x": 0.02},
        height=340,
        margin={"l": 40, "r": 20, "t": 40, "b": 40},
        legend={"orientation": "h", "y": -0.25},
    )
    return figure


def _add_epoch_curves(figure: go.Figure, history: list[EpochRow], metric: str) -> None:
    """Train (solid) and validation (dashed) curves of ``metric`` ("loss" or "accuracy")."""
    for prefix, name, color in (("", "train", _TRAIN_COLOR), ("val_", "validation", _VAL_COLOR)):
        xs, ys = _series(history, prefix + metric)
        if xs:
            figure.add_trace(
                go.Scatter(
                    x=xs,
                    y=ys,
                    mode="lines+markers",
                    name=f"{name} {metric}",
                    line={"color": color, "dash": "solid" if prefix == "" else "dash"},
                )
            )


def _add_batch_loss(figure: go.Figure, batch_history: list[dict[str, Any]]) -> None:
    """The per-batch loss as a thin line, at ``epoch - 1 + fraction``."""
    xs_batch = [float(row["epoch"]) - 1 + float(row.get("fraction", 1.0)) for row in batch_history]
    figure.add_trace(
        go.Scatter(
            x=xs_batch,
            y=[float(row["loss"]) for row in batch_history],
            mode="lines",
            name="batch loss",
            line={"color": _BATCH_COLOR, "width": 1},
        )
    )


def _shade_fine_tune(figure: go.Figure, history: list[EpochRow]) -> None:
    """Shades and labels the fine-tune epochs (nothing when there was no such phase).

    Every shaded band gets its text: a band added with ``annotation_position`` but no text
    shows Plotly's placeholder "new text" in the browser.
    """
    start = _fine_tune_start(history)
    if start is None:
        return
    last = max(row.epoch for row in history)
    figure.add_vrect(
        x0=start - 0.5,
        x1=last + 0.5,
        fillcolor="rgba(44, 160, 44, 0.08)",
        line_width=0,
        annotation_text="fine-tune",
        annotation_position="top left",
    )
