"""Training chart: curves per epoch, batch loss, fine-tune phase shaded."""

from __future__ import annotations

from core.train.charts import training_figure

HISTORY = [
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


def test_curves_batches_and_fine_tune_marker() -> None:
    batches = [{"step": 1, "epoch": 1, "fraction": 0.5, "loss": 1.0}]
    figure = training_figure(HISTORY, batches)
    names = [trace.name for trace in figure.data]
    assert names == [
        "train loss",
        "validation loss",
        "train accuracy",
        "validation accuracy",
        "batch loss",
    ]
    val_loss = figure.data[1]
    assert list(val_loss.x) == [1, 2]  # the NaN point is dropped
    assert list(figure.data[4].x) == [0.5]
    assert len(figure.layout.shapes) == 2 and figure.layout.shapes[0].x0 == 2.5


def test_empty_history_gives_an_empty_figure() -> None:
    figure = training_figure([], [])
    assert len(figure.data) == 0 and not figure.layout.shapes
