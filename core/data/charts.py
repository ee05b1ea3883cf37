"""Plotly figures for the data summary (pure functions: data in, ``go.Figure`` out).

The Data page shows them with ``st.plotly_chart``; the CLI or a test can save them as HTML.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.data.images import ImageDecodeError, load_image_array
from core.data.report import DatasetReport
from core.text import plain_label, plain_labels

_SPLIT_COLORS = {"train": "#1f77b4", "val": "#ff7f0e", "test": "#2ca02c", "all": "#1f77b4"}


# Size and margins shared by the Data page's side-by-side panels, so they line up.
_PANEL_LAYOUT: dict[str, Any] = {"height": 360, "margin": {"l": 40, "r": 20, "t": 50, "b": 40}}


def counts_figure(counts: dict[str, dict[str, int]], title: str = "Images per class") -> go.Figure:
    """Grouped bar chart of images per class, one bar group per split.

    Class names and the title are shown as plain text (``core.text.plain_label``).

    Args:
        counts: {split: {class: count}}, e.g. ``DatasetReport.counts()`` or
            ``SplitData.counts()``.
        title: the chart title.
    """
    figure = go.Figure()
    for split, per_class in counts.items():
        figure.add_trace(
            go.Bar(
                x=plain_labels(per_class),
                y=list(per_class.values()),
                name=split,
                marker_color=_SPLIT_COLORS.get(split),
                text=list(per_class.values()),
                textposition="auto",
            )
        )
    figure.update_layout(
        title=plain_label(title),
        barmode="group",
        xaxis_title="class",
        yaxis_title="images",
        **_PANEL_LAYOUT,
    )
    return figure


def size_figure(report: DatasetReport) -> go.Figure:
    """Scatter of image width vs height per class (hover shows the file)."""
    figure = go.Figure()
    for class_name in report.classes:
        own = [record for record in report.records if record.label == class_name]
        figure.add_trace(
            go.Scattergl(
                x=[record.width for record in own],
                y=[record.height for record in own],
                mode="markers",
                name=plain_label(class_name),
                text=[plain_label(report.relative(record.path)) for record in own],
                hovertemplate="%{text}<br>%{x} x %{y} px<extra></extra>",
                marker={"size": 6, "opacity": 0.6},
            )
        )
    figure.update_layout(
        title="Image sizes (pixels)",
        xaxis_title="width",
        yaxis_title="height",
        **_PANEL_LAYOUT,
    )
    return figure


def image_grid_figure(
    images: Sequence[np.ndarray], titles: Sequence[str], columns: int = 4, cell_px: int = 140
) -> go.Figure:
    """A grid of RGB images (0..255 arrays) with a title above each (shown as plain text)."""
    if not images:
        raise ValueError("There are no images to show.")
    columns = max(1, min(columns, len(images)))
    rows = math.ceil(len(images) / columns)
    figure = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=plain_labels(titles),
        horizontal_spacing=0.02,
        vertical_spacing=0.08 / rows,
    )
    for index, image in enumerate(images):
        pixels = np.clip(np.asarray(image, dtype=np.float32), 0, 255).astype(np.uint8)
        figure.add_trace(
            go.Image(z=pixels, hoverinfo="skip"), row=index // columns + 1, col=index % columns + 1
        )
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    figure.update_layout(
        height=rows * (cell_px + 30) + 20,
        margin={"l": 5, "r": 5, "t": 30, "b": 5},
        showlegend=False,
    )
    return figure


def thumbnails_figure(report: DatasetReport, per_class: int = 6, thumb_px: int = 96) -> go.Figure:
    """The first ``per_class`` images of every class, one row per class."""
    images: list[np.ndarray] = []
    titles: list[str] = []
    blank = np.full((thumb_px, thumb_px, 3), 255.0, dtype=np.float32)
    for class_name in report.classes:
        own = [record for record in report.records if record.label == class_name][:per_class]
        for slot in range(per_class):
            if slot < len(own):
                try:
                    images.append(load_image_array(own[slot].path, thumb_px, "pad"))
                except ImageDecodeError:  # changed on disk since the scan
                    images.append(blank)
                titles.append(class_name if slot == 0 else "")
            else:
                images.append(blank)
                titles.append("")
    return image_grid_figure(images, titles, columns=per_class, cell_px=thumb_px)
