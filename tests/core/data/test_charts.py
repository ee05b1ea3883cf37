"""Data figures are pure functions of the report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.data.charts import counts_figure, image_grid_figure, size_figure, thumbnails_figure
from core.data.scan import scan_dataset


def test_counts_figure_one_bar_group_per_split():
    figure = counts_figure({"train": {"a": 5, "b": 3}, "val": {"a": 1, "b": 1}})
    assert [trace.name for trace in figure.data] == ["train", "val"]
    assert list(figure.data[0].y) == [5, 3] and figure.layout.barmode == "group"


def test_size_and_thumbnail_figures(tiny_dataset: Path):
    report = scan_dataset(tiny_dataset)
    sizes = size_figure(report)
    assert [trace.name for trace in sizes.data] == ["blue", "red"]
    assert list(sizes.data[0].x) == [32] * 8
    thumbs = thumbnails_figure(report, per_class=3, thumb_px=16)
    assert len(thumbs.data) == 6 and thumbs.data[0].z.shape == (16, 16, 3)


def test_image_grid_pads_titles_and_refuses_empty():
    figure = image_grid_figure([np.zeros((4, 4, 3))] * 5, ["x"] * 5, columns=2)
    assert len(figure.data) == 5
    with pytest.raises(ValueError, match="no images"):
        image_grid_figure([], [])
