"""Plotly figures for evaluation and prediction (pure functions: data in, figure out).

Pages show them with ``st.plotly_chart(fig, key=...)``; the CLI can write them as HTML.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from core.evaluate.metrics import Curve
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
        )
    )
    figure.update_layout(
        title="Confusion matrix (share of each true class)" if normalised else "Confusion matrix",
        xaxis_title="Predicted class",
        yaxis_title="True class",
        yaxis_autorange="reversed",  # first class at the top, like a table
        height=max(320, 60 * len(classes) + 160),
    )
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
