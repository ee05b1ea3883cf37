"""Images uploaded class by class: decoded first, written without overwrites."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from core.data.class_images import add_class_images
from core.errors import DataError


def _png(color: tuple[int, int, int] = (9, 9, 9)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), color).save(buffer, "PNG")
    return buffer.getvalue()


def test_add_class_images_validates_and_avoids_overwrites(tmp_path: Path):
    result = add_class_images(
        tmp_path, " zebra ", [("a.png", _png()), ("a.png", _png((1, 1, 1))), ("x.jpg", b"nope"),
                              ("../../evil.png", _png()), (".hidden.png", _png())],
    )  # fmt: skip
    names = sorted(path.name for path in result.saved)
    assert names == ["a.png", "a_1.png", "evil.png"]
    assert all(path.parent == tmp_path / "zebra" for path in result.saved)
    reasons = dict(result.skipped)
    assert "not an image" in reasons["x.jpg"] and "hidden" in reasons[".hidden.png"]


def test_add_class_images_refuses_bad_class_name(tmp_path: Path):
    with pytest.raises(DataError):
        add_class_images(tmp_path, "../up", [("a.png", _png())])
    assert not any(tmp_path.iterdir())
