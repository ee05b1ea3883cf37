"""Plotly figures of the dataset analyses (pure functions: rows in, figure out).

``cut_advice_figure`` for the cut-point advisor (Model page), ``learning_curve_figure`` for
"would more images help?", ``reliability_figure`` for calibration. Layer names and class names
are shown as plain text (``core.text.plain_label``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from core.predict.predictor import apply_temperature
from core.text import plain_label


def cut_advice_figure(rows: Sequence[Mapping[str, Any]], seconds: float | None = None) -> go.Figure:
    """Bars of linear-probe validation accuracy per cut, shallow to deep.

    Args:
        rows: ``CutAdvice.to_dict()["rows"]`` (cut, shape, val_accuracy, default, chosen).
        seconds: the time the advisor took, shown in the title when given.
    """
    names = [f"{plain_label(str(row['cut']))}<br>{_shape(row['shape'])}" for row in rows]
    colours = [
        "#2e7d32" if row["chosen"] else ("#1565c0" if row["default"] else "#90a4ae") for row in rows
    ]
    notes = [
        "advised" + (" (default)" if row["default"] else "")
        if row["chosen"]
        else ("default" if row["default"] else "")
        for row in rows
    ]
    figure = go.Figure(
        go.Bar(
            x=names,
            y=[row["val_accuracy"] for row in rows],
            marker_color=colours,
            text=[
                f"{row['val_accuracy']:.1%} {note}".strip()
                for row, note in zip(rows, notes, strict=True)
            ],
            textposition="outside",
            hovertemplate="%{x}<br>validation accuracy %{y:.1%}<extra></extra>",
        )
    )
    took = f" ({seconds:.0f} s)" if seconds is not None else ""
    figure.update_layout(
        title=f"Linear-probe validation accuracy per cut{took}",
        xaxis_title="Cut (layer, feature map)",
        yaxis_title="Validation accuracy",
        yaxis_range=[0, 1.1],
        yaxis_tickformat=".0%",
        height=380,
    )
    return figure


def _shape(shape: Any) -> str:
    return "×".join(str(dim) for dim in shape) if isinstance(shape, list | tuple) else ""


def learning_curve_figure(points: Sequence[Mapping[str, Any]], scored_on: str = "val") -> go.Figure:
    """Accuracy (mean ± sd over repeats) against the number of training images.

    Args:
        points: ``LearningCurve.to_dict()["points"]`` (images, accuracy, accuracy_sd).
        scored_on: the split the accuracy was measured on, for the axis title.
    """
    figure = go.Figure(
        go.Scatter(
            x=[point["images"] for point in points],
            y=[point["accuracy"] for point in points],
            error_y={"type": "data", "array": [point["accuracy_sd"] for point in points]},
            mode="lines+markers",
            text=[f"{point['fraction']:.0%} of the training images" for point in points],
            hovertemplate="%{x} images (%{text})<br>accuracy %{y:.1%}<extra></extra>",
        )
    )
    split = "validation" if scored_on == "val" else scored_on
    figure.update_layout(
        title="Would more images help? Accuracy by training images",
        xaxis_title="Training images",
        yaxis_title=f"Accuracy on {split} (linear head)",
        yaxis_tickformat=".0%",
        height=360,
    )
    return figure


def reliability_figure(
    probabilities: np.ndarray, labels: np.ndarray, temperature: float | None = None, bins: int = 10
) -> go.Figure:
    """Reliability diagram: accuracy against confidence per bin, before (and after) scaling.

    A perfectly calibrated model lies on the diagonal; bars under it are over-confident.
    """
    figure = go.Figure(
        go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line_dash="dash", name="perfect")
    )
    versions = [("before", probabilities)]
    if temperature is not None:
        versions.append(
            (f"after (T = {temperature:.2f})", apply_temperature(probabilities, temperature))
        )
    for name, values in versions:
        centres, accuracy = _bin_accuracy(values, labels, bins)
        figure.add_trace(go.Scatter(x=centres, y=accuracy, mode="lines+markers", name=name))
    figure.update_layout(
        title="Calibration: how often the answer is right, by confidence",
        xaxis_title="Confidence (top probability)",
        yaxis_title="Accuracy",
        xaxis_range=[0, 1],
        yaxis_range=[0, 1.02],
        height=360,
    )
    return figure


def _bin_accuracy(
    probabilities: np.ndarray, labels: np.ndarray, bins: int
) -> tuple[list[float], list[float]]:
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == np.asarray(labels)
    which = np.clip((confidence * bins).astype(int), 0, bins - 1)
    centres, accuracy = [], []
    for index in range(bins):
        members = which == index
        if members.any():
            centres.append(float(confidence[members].mean()))
            accuracy.append(float(correct[members].mean()))
    return centres, accuracy
