"""User names in Plotly figures are plain text: ``core.text.plain_label`` in every chart builder.

Each builder gets class, file and run names carrying HTML (an anchor, bold, an image); no string
of the figure (trace names, tick labels, hover text, titles, subplot titles) may keep a tag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest

from core.config.run import RunConfig
from core.data.charts import counts_figure, image_grid_figure, size_figure, thumbnails_figure
from core.data.scan import scan_dataset
from core.evaluate.charts import confusion_figure, pr_figure, roc_figure, top_k_figure
from core.evaluate.compare import overlay_figure
from core.evaluate.metrics import Curve
from core.store.run_history import EpochRow
from core.text import plain_label, plain_labels
from tests.helpers.hostile import spec_strings
from tests.helpers.runs import write_dataset

ANCHOR = '<a href="https:evil.example">x'
BOLD = "<b>big & <img src=x>"  # no "/": it is also a folder name
CLASSES = [ANCHOR, BOLD]
TAG = re.compile(r"<\s*(a|b|img)\b", re.IGNORECASE)


def figure_strings(figure: go.Figure) -> list[str]:
    """Every string of a figure's data and layout (Plotly's template left out)."""
    return spec_strings(figure.to_plotly_json())


def assert_no_tags(figure: go.Figure) -> list[str]:
    strings = figure_strings(figure)
    assert not [text for text in strings if TAG.search(text)], strings
    return strings


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("cats", "cats"),
        (ANCHOR, '&lt;a href="https:evil.example"&gt;x'),
        ("a & b <br> c", "a &amp; b &lt;br&gt; c"),
        ("$x^2$.png :red[boo]", "$x^2$.png :red[boo]"),  # no Markdown in Plotly, no MathJax
        (3, "3"),
    ],
)
def test_plain_label_escapes_what_plotly_renders(text: object, label: str) -> None:
    assert plain_label(text) == label


def test_plain_labels_keeps_the_order() -> None:
    assert plain_labels(["<b>", "a"]) == ["&lt;b&gt;", "a"]


def test_data_figures_show_class_and_file_names_as_text(tmp_path: Path) -> None:
    counts = counts_figure({"train": dict.fromkeys(CLASSES, 3)}, title=BOLD)
    assert list(assert_no_tags(counts)) and counts.data[0].x[0] == plain_label(ANCHOR)
    dataset = write_dataset(tmp_path / "data", {ANCHOR: (200, 0, 0), BOLD: (0, 0, 200)}, 2)
    report = scan_dataset(dataset)
    sizes = size_figure(report)
    assert_no_tags(sizes)
    assert {trace.name for trace in sizes.data} == set(plain_labels(CLASSES))
    assert plain_label(f"{ANCHOR}/{ANCHOR}_0.png") in sizes.data[0].text
    strings = assert_no_tags(thumbnails_figure(report, per_class=2, thumb_px=8))
    assert plain_label(ANCHOR) in strings  # a subplot title
    assert_no_tags(image_grid_figure([np.zeros((4, 4, 3))] * 2, CLASSES))


def test_evaluation_figures_show_class_names_as_text() -> None:
    confusion = confusion_figure([[1, 0], [0, 1]], CLASSES)
    assert list(confusion.data[0].x) == plain_labels(CLASSES)
    assert_no_tags(confusion)
    curve = Curve([0.0, 1.0], [0.0, 1.0], 0.5)
    for figure in (roc_figure(curve, ANCHOR), pr_figure(curve, BOLD)):
        assert_no_tags(figure)
    top = top_k_figure([(ANCHOR, 0.7), (BOLD, 0.3)], threshold=0.5)
    assert_no_tags(top)
    assert list(top.data[0].y) == plain_labels([BOLD, ANCHOR])  # best at the top


def test_confusion_matrix_labels_every_class_on_a_narrow_screen() -> None:
    names = [f"class {index}" for index in range(12)]
    figure = confusion_figure([[int(i == j) for j in range(12)] for i in range(12)], names)
    # one tick per class: Plotly would otherwise skip every other label on a phone
    assert figure.layout.xaxis.dtick == 1 and figure.layout.yaxis.dtick == 1
    assert figure.layout.xaxis.automargin and figure.data[0].showscale is False


@dataclass
class Record:
    run_id: str
    config: RunConfig
    history: list[EpochRow] = field(default_factory=list)


def test_overlay_figure_shows_run_names_as_text() -> None:
    config = RunConfig.from_dict({"name": ANCHOR, "data": {"path": "data"}})
    figure = overlay_figure([Record("run-1", config, [EpochRow(epoch=1, val_accuracy=0.5)])])
    assert_no_tags(figure)
    assert figure.data[0].name == plain_label(ANCHOR)
