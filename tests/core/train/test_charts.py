"""Training charts: curves per epoch, batch loss, fine-tune phase shaded and labelled."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from core.store.run_history import EpochRow
from core.train.charts import training_figures

# As history.json stores them (read through ``EpochRow`` like the Train page does).
ROWS = [
    {
        "epoch": 1,
        "phase": "head",
        "loss": 0.9,
        "accuracy": 0.5,
        "val_loss": 0.8,
        "val_accuracy": 0.6,
    },
    {
        "epoch": 2,
        "phase": "head",
        "loss": 0.6,
        "accuracy": 0.7,
        "val_loss": 0.7,
        "val_accuracy": 0.7,
    },
    {"epoch": 3, "phase": "fine_tune", "loss": 0.4, "accuracy": 0.8, "val_loss": float("nan")},
]
HISTORY = [EpochRow.from_dict(row) for row in ROWS]
BATCHES = [{"step": 1, "epoch": 1, "fraction": 0.5, "loss": 1.0}]
PLACEHOLDER = "new text"  # what Plotly shows for an annotation or shape label without text


def test_curves_batches_and_fine_tune_marker() -> None:
    loss, accuracy = training_figures(HISTORY, BATCHES)
    assert [trace.name for trace in loss.data] == ["train loss", "validation loss", "batch loss"]
    assert [trace.name for trace in accuracy.data] == ["train accuracy", "validation accuracy"]
    assert list(loss.data[1].x) == [1, 2]  # the NaN point is dropped
    assert list(loss.data[2].x) == [0.5]
    for figure in (loss, accuracy):
        assert len(figure.layout.shapes) == 1 and figure.layout.shapes[0].x0 == 2.5
    assert loss.layout.title.text == "Loss" and accuracy.layout.title.text == "Accuracy"
    assert tuple(accuracy.layout.yaxis.range) == (0, 1.02)


def test_empty_history_gives_empty_figures() -> None:
    for figure in training_figures([], []):
        assert len(figure.data) == 0 and not figure.layout.shapes


def _labels(figure: go.Figure) -> list[Any]:
    """Every text Plotly may draw: trace names, annotations, shape labels, titles."""
    labels: list[Any] = [trace.name for trace in figure.data]
    labels += [annotation.text for annotation in figure.layout.annotations]
    labels += [shape.label.text for shape in figure.layout.shapes if shape.label.text is not None]
    labels.append(figure.layout.title.text)
    return labels


def test_no_placeholder_or_empty_label_in_any_training_figure() -> None:
    """A band with an empty annotation shows Plotly's "new text" in the browser."""
    for history, batches in ((HISTORY, BATCHES), (HISTORY[:2], []), (HISTORY, None)):
        for figure in training_figures(history, batches):
            labels = _labels(figure)
            assert labels, "a figure without any label"
            for label in labels:
                assert isinstance(label, str) and label.strip(), labels
                assert label.strip().lower() != PLACEHOLDER
    loss, accuracy = training_figures(HISTORY, BATCHES)
    assert [a.text for a in loss.layout.annotations] == ["fine-tune"]
    assert [a.text for a in accuracy.layout.annotations] == ["fine-tune"]


def test_an_automatic_run_is_drawn_per_candidate() -> None:
    scores = {"loss": 0.2, "accuracy": 0.9, "val_loss": 0.3, "val_accuracy": 0.8}
    rows = [
        EpochRow.from_dict({"epoch": place, "phase": "head_search", **scores, "candidate": "lr"})
        for place in (1, 2)
    ]
    loss, accuracy = training_figures(rows)
    for figure in (loss, accuracy):
        assert figure.layout.xaxis.title.text == "candidate head (in the order tried)"
        assert [list(trace.x) for trace in figure.data] == [[1, 2], [1, 2]]
    plain, _ = training_figures(HISTORY)
    assert plain.layout.xaxis.title.text == "epoch"
