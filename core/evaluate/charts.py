"""Plotly figures for evaluation, prediction and the analyses (pure functions: data in, figure out).

The metrics' figures (confusion matrix, ROC and precision-recall curves, top-k answers) and the
analyses' (``cut_advice_figure`` for the cut-point advisor, ``learning_curve_figure`` for
"would more images help?", ``reliability_figure`` for calibration). Pages show them with
``st.plotly_chart(fig, key=...)``; the CLI can write them as HTML. Class and layer names are
shown as plain text (``core.text``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from core.evaluate.metrics import Curve
from core.predict.probabilities import apply_temperature
from core.text import plain_label, plain_labels


def confusion_figure(
    matrix: Sequence[Sequence[float]], classes: Sequence[str], normalised: bool = False
) -> go.Figure:
    """Heatmap of a confusion matrix (rows = true class, columns = predicted class).

    Class names are shown as plain text (``core.text.plain_label``), like in every chart here.

    Args:
        matrix: counts, or row-normalised fractions when ``normalised``.
        classes: class names in index order.
        normalised: shows percentages of each true class instead of counts.
    """
    values = np.asarray(matrix, dtype=np.float64)
    text = [[f"{v:.0%}" if normalised else f"{int(v)}" for v in row] for row in values]
    figure = go.Figure(
        go.Heatmap(
            z=values,
            x=plain_labels(classes),
            y=plain_labels(classes),
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0,
            zmax=1 if normalised else max(1.0, float(values.max(initial=0))),
            hovertemplate="true %{y}<br>predicted %{x}<br>%{text}<extra></extra>",
            showscale=False,  # the cells carry their numbers; a colour bar costs a phone's width
        )
    )
    figure.update_layout(
        title="Confusion matrix (share of each true class)" if normalised else "Confusion matrix",
        xaxis_title="Predicted class",
        yaxis_title="True class",
        yaxis_autorange="reversed",  # first class at the top, like a table
        height=max(320, 60 * len(classes) + 160),
        margin={"l": 10, "r": 10},
    )
    # Every class gets its label, also on a narrow phone where Plotly would skip every other
    # one; long lists are written at an angle and the margins grow to fit them.
    figure.update_xaxes(dtick=1, automargin=True, tickangle=-45 if len(classes) > 4 else 0)
    figure.update_yaxes(dtick=1, automargin=True)
    return figure


def _on_unit_square(figure: go.Figure, title: str, x_title: str, y_title: str) -> go.Figure:
    """Lays out a rate-vs-rate curve: both axes 0..1 (a little headroom so 1.0 stays visible)."""
    figure.update_layout(
        title=title,
        xaxis_title=x_title,
        yaxis_title=y_title,
        xaxis_range=[0, 1],
        yaxis_range=[0, 1.02],
    )
    return figure


def roc_figure(curve: Curve, positive_class: str) -> go.Figure:
    """ROC curve with the chance diagonal and the AUC in the title."""
    figure = go.Figure(
        [
            go.Scatter(x=curve.x, y=curve.y, mode="lines", name="model"),
            go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance", line={"dash": "dash"}),
        ]
    )
    title = f"ROC curve for '{plain_label(positive_class)}' (AUC {curve.area:.3f})"
    return _on_unit_square(figure, title, "False positive rate", "True positive rate")


def pr_figure(curve: Curve, positive_class: str) -> go.Figure:
    """Precision-recall curve with the average precision in the title."""
    figure = go.Figure(go.Scatter(x=curve.x, y=curve.y, mode="lines", line_shape="hv"))
    name = plain_label(positive_class)
    title = f"Precision-recall for '{name}' (average precision {curve.area:.3f})"
    return _on_unit_square(figure, title, "Recall", "Precision")


def top_k_figure(top: Sequence[tuple[str, float]], threshold: float | None = None) -> go.Figure:
    """Horizontal bar chart of the top-k (class, probability) pairs, best at the top.

    Args:
        top: pairs from ``Predictor.top_k`` for one image.
        threshold: draws the "not sure" line at this probability when given.
    """
    names = plain_labels(name for name, _ in top)[::-1]
    values = [prob for _, prob in top][::-1]
    figure = go.Figure(
        go.Bar(
            x=values,
            y=names,
            orientation="h",
            text=[f"{v:.1%}" for v in values],
            textposition="auto",
        )
    )
    if threshold is not None:
        figure.add_vline(x=threshold, line_dash="dash", annotation_text="not sure below")
    figure.update_layout(
        xaxis_range=[0, 1],
        xaxis_tickformat=".0%",
        height=80 + 40 * len(top),
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
    )
    return figure


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
