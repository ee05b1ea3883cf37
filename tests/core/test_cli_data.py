"""python -m core inspect-data / sample-data."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from core.__main__ import main


def test_inspect_data_json(tiny_dataset: Path, capsys: pytest.CaptureFixture[str]):
    (tiny_dataset / "red" / "notes.jpg").write_text("hi")
    assert main(["inspect-data", str(tiny_dataset), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["classes"] == ["blue", "red"]
    assert data["splits"] == {"all": {"blue": 8, "red": 8}}
    assert (
        data["skipped"][0]["path"] == "red/notes.jpg"
        and "not an image" in data["skipped"][0]["reason"]
    )
    assert any("only 8 images" in warning for warning in data["warnings"])
    assert sum(data["planned_split"]["splits"]["train"].values()) == 12


def test_inspect_data_text_and_zip(tiny_dataset: Path, tmp_path: Path, capsys):
    archive = tmp_path / "data.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for path in tiny_dataset.rglob("*.png"):
            handle.write(path, "wrapped/" + path.relative_to(tiny_dataset).as_posix())
    assert main(["inspect-data", str(archive)]) == 0
    out = capsys.readouterr().out
    assert "Classes (2): blue, red" in out and "Skipped files: 0" in out


def test_inspect_data_error_exits_2(tiny_dataset: Path, capsys):
    shutil.rmtree(tiny_dataset / "red")
    assert main(["inspect-data", str(tiny_dataset)]) == 2
    assert "Only one class" in capsys.readouterr().err


def test_sample_data_command(tmp_path: Path, capsys):
    assert main(["sample-data", str(tmp_path), "--seed", "3"]) == 0
    folder = Path(capsys.readouterr().out.strip())
    assert folder.parent == tmp_path and (folder / "star").is_dir()
