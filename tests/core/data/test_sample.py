"""The built-in sample dataset: deterministic, cached, clean, the shape always visible."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from core.data.sample import (
    MIN_CONTRAST,
    SAMPLE_CLASSES,
    SAMPLE_SIZE,
    draw_sample,
    ensure_sample_dataset,
)
from core.data.scan import scan_dataset


def _digest(folder: Path) -> str:
    digest = hashlib.sha1()
    for path in sorted(folder.rglob("*.jpg")):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def test_generated_once_and_deterministic(tmp_path: Path):
    first = ensure_sample_dataset(tmp_path / "one", seed=0, images_per_class=6)
    again = ensure_sample_dataset(tmp_path / "two", seed=0, images_per_class=6)
    other = ensure_sample_dataset(tmp_path / "three", seed=1, images_per_class=6)
    assert _digest(first) == _digest(again) != _digest(other)
    mtime = (first / "circle" / "circle_000.jpg").stat().st_mtime_ns
    assert ensure_sample_dataset(tmp_path / "one", seed=0, images_per_class=6) == first
    assert (first / "circle" / "circle_000.jpg").stat().st_mtime_ns == mtime  # not redrawn
    assert not [p for p in (tmp_path / "one").iterdir() if p.name.startswith(".")]  # no temp


def test_default_sample_scans_clean(tmp_path: Path):
    report = scan_dataset(ensure_sample_dataset(tmp_path))
    assert report.classes == sorted(SAMPLE_CLASSES)
    assert report.class_counts() == dict.fromkeys(sorted(SAMPLE_CLASSES), 100)
    assert not report.skipped and not report.warnings
    assert {(r.width, r.height) for r in report.records} == {(SAMPLE_SIZE, SAMPLE_SIZE)}


def test_colour_alone_does_not_give_the_class():
    """Mean colours of the classes overlap: the model must look at the shape."""
    rng = np.random.default_rng(0)
    means = {
        label: np.mean([np.asarray(draw_sample(label, rng)).mean() for _ in range(40)])
        for label in SAMPLE_CLASSES
    }
    assert max(means.values()) - min(means.values()) < 25


def test_the_shape_stands_out_from_its_background():
    """The shape's colour is never close to the background's: a person always sees it.

    A corner is background (the shape keeps a margin); the pixels farthest from its colour are
    the shape's, so they must be about the guaranteed contrast away (without the guarantee,
    4 of these 60 circles are below the bound).
    """
    rng = np.random.default_rng(3)
    for _ in range(60):
        pixels = np.asarray(draw_sample("circle", rng), dtype=np.float32)
        corner = pixels[:6, :6].reshape(-1, 3).mean(axis=0)
        distance = np.linalg.norm(pixels - corner, axis=-1)
        assert np.percentile(distance, 95) > MIN_CONTRAST * 0.75


def test_unknown_class_is_refused():
    with pytest.raises(ValueError, match="Unknown sample class 'hexagon'"):
        draw_sample("hexagon", np.random.default_rng(0))
