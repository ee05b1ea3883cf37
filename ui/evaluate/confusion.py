"""The clickable confusion matrix: clicking a cell shows its images (true X, predicted Y).

The heatmap itself cannot be selected in Plotly, so an invisible marker sits on every cell;
``st.plotly_chart(on_select="rerun", selection_mode="points")`` returns the clicked marker
with its (true, predicted) indices. A pair of select boxes shows the same choice and makes it
without the mouse (keyboard users, and the page tests). The images come from the evaluation
job's files (paths and probabilities of every held-out image).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from core.evaluate.charts import confusion_figure
from core.evaluate.metrics import EvalResult
from core.text import plain_labels
from ui import common

if TYPE_CHECKING:
    import plotly.graph_objects as go


GALLERY_SIZE = 24
GALLERY_COLUMNS = 4
TRUE_KEY = "eval_cell_true"
PREDICTED_KEY = "eval_cell_predicted"
_CLICKED_KEY = "eval_cell_clicked"  # the last click applied to the select boxes


def cell_images(result: EvalResult, true_index: int, predicted_index: int) -> list[dict[str, Any]]:
    """The images of one cell (true class, predicted class), most confident first."""
    import numpy as np

    rows = []
    for path, truth, probabilities in zip(
        result.paths, result.y_true, result.probabilities, strict=True
    ):
        predicted = int(np.argmax(probabilities))
        if int(truth) == true_index and predicted == predicted_index:
            rows.append({"path": path, "confidence": float(probabilities[predicted])})
    return sorted(rows, key=lambda row: -row["confidence"])


def clickable_figure(matrix: Sequence[Sequence[float]], classes: Sequence[str]) -> go.Figure:
    """The confusion matrix (counts) with an invisible, clickable marker on every cell."""
    import plotly.graph_objects as go

    figure = confusion_figure(matrix, classes)
    names = plain_labels(classes)
    cells = [(t, p) for t in range(len(classes)) for p in range(len(classes))]
    figure.add_trace(
        go.Scatter(
            x=[names[p] for _, p in cells],
            y=[names[t] for t, _ in cells],
            customdata=[[t, p] for t, p in cells],
            text=[f"{int(matrix[t][p])}" for t, p in cells],
            mode="markers",
            marker={"size": 36, "opacity": 0, "symbol": "square"},
            hovertemplate="true %{y}<br>predicted %{x}<br>%{text} image(s): click to see them"
            "<extra></extra>",
            showlegend=False,
        )
    )
    # A click anywhere in a cell picks its marker (the nearest one), not only near its centre.
    figure.update_layout(clickmode="event+select", hoverdistance=-1)
    return figure


def clicked_cell(event: object, count: int) -> tuple[int, int] | None:
    """The (true, predicted) indices of the clicked cell in a chart's selection, if any."""
    selection = event.get("selection") if isinstance(event, Mapping) else None
    points = selection.get("points") if isinstance(selection, Mapping) else None
    for point in points or []:
        data = point.get("customdata") if isinstance(point, Mapping) else None
        if isinstance(data, Sequence) and len(data) == 2:
            true_index, predicted_index = int(data[0]), int(data[1])
            if 0 <= true_index < count and 0 <= predicted_index < count:
                return true_index, predicted_index
    return None


def _default_cell(matrix: Sequence[Sequence[float]]) -> tuple[int, int]:
    """The most frequent confusion (off the diagonal), or the first class's correct answers."""
    best, cell = 0.0, (0, 0)
    for t, row in enumerate(matrix):
        for p, value in enumerate(row):
            if t != p and value > best:
                best, cell = float(value), (t, p)
    return cell


def _prepare_boxes(event: object, matrix: Sequence[Sequence[float]]) -> None:
    """Puts a new click (or a first default) into the select boxes before they are drawn."""
    count = len(matrix)
    clicked = clicked_cell(event, count)
    if clicked is None:  # nothing selected (or a click undid it): the next click applies again
        st.session_state.pop(_CLICKED_KEY, None)
    elif st.session_state.get(_CLICKED_KEY) != clicked:
        st.session_state[_CLICKED_KEY] = clicked  # applied once: the boxes may change it later
        st.session_state[TRUE_KEY], st.session_state[PREDICTED_KEY] = clicked
    default = _default_cell(matrix)
    for key, value in zip((TRUE_KEY, PREDICTED_KEY), default, strict=True):
        if st.session_state.get(key) not in range(count):  # first visit, or another run
            st.session_state[key] = value


def show_cell(result: EvalResult, event: object) -> None:
    """The chosen cell's images: clicked on the matrix, or chosen in the two select boxes."""
    classes = result.metrics.classes
    _prepare_boxes(event, result.metrics.confusion)
    st.caption("Click a cell of the confusion matrix (counts) to see its images, or choose it:")
    left, right = st.columns(2)
    true_index = left.selectbox(
        "True class", range(len(classes)), format_func=lambda i: classes[i], key=TRUE_KEY
    )
    predicted_index = right.selectbox(
        "Predicted class", range(len(classes)), format_func=lambda i: classes[i], key=PREDICTED_KEY
    )
    chosen = (int(true_index), int(predicted_index))
    rows = cell_images(result, *chosen)
    true, predicted = (common.escape_markdown(classes[int(i)]) for i in chosen)
    st.write(f"{len(rows)} image(s) of {true} predicted as {predicted}.")
    columns = st.columns(GALLERY_COLUMNS)
    for index, row in enumerate(rows[:GALLERY_SIZE]):
        caption = f"{common.escape_markdown(Path(row['path']).name)} ({row['confidence']:.0%})"
        columns[index % GALLERY_COLUMNS].image(row["path"], caption=caption, width="stretch")
    if len(rows) > GALLERY_SIZE:
        st.caption(f"Showing the {GALLERY_SIZE} most confident of {len(rows)} images.")
