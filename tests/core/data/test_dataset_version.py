"""Dataset versions: a new folder with the changes; the original folder is never changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.data.dataset_version import (
    IMAGES_FOLDER,
    VERSION_FILE,
    version_images,
    write_dataset_version,
)
from core.data.scan import scan_dataset
from core.data.splits import SplitData
from tests.conftest import write_image


def _split(root: Path) -> SplitData:
    paths: dict[str, str] = {}
    for name in ("a/x.png", "a/y.png", "b/x.png", "b/z.png", "a/v.png"):
        paths[name] = str(write_image(root / name, (100, 100, 100), seed=len(paths)))
    return SplitData(
        ["a", "b"],
        train=[(paths["a/x.png"], 0), (paths["b/x.png"], 1), (paths["b/z.png"], 1)],
        val=[(paths["a/y.png"], 0)],
        test=[(paths["a/v.png"], 0)],
    )


def test_relabel_and_remove_write_a_new_version_with_the_split_kept(tmp_path: Path) -> None:
    split = _split(tmp_path / "data")
    before = {p: p.read_bytes() for p in (tmp_path / "data").rglob("*.png")}
    images = version_images(split, tmp_path / "data", relabel={"a/x.png": "b"}, remove=["b/z.png"])
    folder = write_dataset_version(
        tmp_path / "v1", images, kind="label-fix", source_root="data", changes=[{"x": 1}]
    )
    assert folder == tmp_path / "v1" / IMAGES_FOLDER
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.png"))
    # the relabelled a/x.png meets b/x.png in b/: the second one gets a suffix
    assert names == ["test/a/v.png", "train/b/x.png", "train/b/x_2.png", "val/a/y.png"]
    assert {p: p.read_bytes() for p in (tmp_path / "data").rglob("*.png")} == before
    manifest = json.loads((tmp_path / "v1" / VERSION_FILE).read_text())
    assert manifest["counts"] == {"train": {"b": 2}, "val": {"a": 1}, "test": {"a": 1}}
    assert {"path": "train/b/x_2.png", "from": "b/x.png"} in manifest["files"]
    scan = scan_dataset(folder)
    assert scan.given_splits and scan.classes == ["a", "b"]
    assert scan.counts()["train"] == {"a": 0, "b": 2}


def test_an_existing_folder_or_no_training_image_is_refused(tmp_path: Path) -> None:
    split = _split(tmp_path / "data")
    (tmp_path / "taken").mkdir()
    images = version_images(split, tmp_path / "data")
    with pytest.raises(ValueError, match="exists already"):
        write_dataset_version(tmp_path / "taken", images, kind="x", source_root="", changes=[])
    held_out_only = [image for image in images if image.split != "train"]
    with pytest.raises(ValueError, match="No training image"):
        write_dataset_version(tmp_path / "new", held_out_only, kind="x", source_root="", changes=[])
    assert not (tmp_path / "new").exists()
    assert not any(p.name.endswith(".partial") for p in tmp_path.iterdir())
