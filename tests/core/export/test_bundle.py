"""The export bundle's README: its Python snippet reproduces the app's prediction exactly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.export.exporter import export_run
from core.predict.predictor import Predictor
from tests.helpers.readme_snippet import run_readme_snippet
from tests.helpers.runs import cat_dog_run


def _set_resize_mode(run_dir: Path, resize_mode: str) -> None:
    """Makes the finished run one that was trained with ``resize_mode``."""
    for name, keys in (("labels.json", ()), ("config.json", ("data",))):
        path = run_dir / name
        data = json.loads(path.read_text())
        section = data[keys[0]] if keys else data
        section["resize_mode"] = resize_mode
        path.write_text(json.dumps(data))


def _photos(folder: Path) -> list[Path]:
    """Non-square images of the kinds users bring: wide, tall, transparent, EXIF-rotated."""
    folder.mkdir()
    yy, xx = np.mgrid[0:48, 0:80]
    # Red grows left to right and blue top to bottom, so a stretch, a crop and a pad of the
    # same picture give different pixels (and different probabilities).
    wide = np.stack([xx * 3, np.full_like(xx, 90), yy * 5], axis=-1).astype(np.uint8)
    paths = [folder / "wide.jpg", folder / "tall.png", folder / "clear.png", folder / "turn.jpg"]
    Image.fromarray(wide).save(paths[0], quality=90)
    Image.fromarray(np.ascontiguousarray(wide.transpose(1, 0, 2)[:, ::-1])).save(paths[1])
    rgba = np.dstack([wide, np.where(xx < 40, 255, 60).astype(np.uint8)])
    Image.fromarray(rgba, mode="RGBA").save(paths[2])
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: the camera was turned, the app rotates the picture
    Image.fromarray(wide).save(paths[3], exif=exif.tobytes(), quality=90)
    return paths


@pytest.mark.parametrize("resize_mode", ["crop", "pad", "stretch"])
def test_readme_snippet_matches_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, resize_mode: str
) -> None:
    run_dir = cat_dog_run(tmp_path)
    _set_resize_mode(run_dir, resize_mode)
    bundle = tmp_path / "bundle"
    export_run(run_dir, bundle, formats=("keras",), make_bundle=False)
    app = Predictor.from_run(run_dir)
    assert app.resize_mode == resize_mode
    photos = _photos(tmp_path / "photos")
    expected = app.predict_sources(photos)
    got = []
    for photo in photos:
        namespace = run_readme_snippet(bundle, photo, monkeypatch)
        got.append(np.asarray(namespace["probabilities"]))
        assert namespace["classes"] == ["cat", "dog"]
    difference = np.abs(np.stack(got) - expected).max()
    assert difference < 1e-4
    # The test can fail: the old README's plain ``resize`` (bicubic, stretched, no EXIF
    # rotation) moves the probabilities well beyond the bound, whatever the run's mode.
    plain = [np.asarray(Image.open(p).convert("RGB").resize((32, 32)), "float32") for p in photos]
    assert np.abs(app.predict_arrays(np.stack(plain)) - expected).max() > 1e-4


def test_bundle_names_the_dataset_never_the_server_path(tmp_path: Path) -> None:
    run_dir = cat_dog_run(tmp_path)
    bundle = tmp_path / "bundle"
    export_run(run_dir, bundle, formats=("keras",), make_bundle=False)
    config = json.loads((bundle / "config.json").read_text(encoding="utf-8"))
    assert config["data"]["path"] == "data"  # the folder's name: `--data data` next to it
    for text_file in [*bundle.glob("*.md"), *bundle.glob("*.json"), *bundle.glob("*.py")]:
        assert str(tmp_path) not in text_file.read_text(encoding="utf-8"), text_file.name
