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


def test_inspect_data_text_summary(tiny_dataset: Path, tmp_path: Path, capsys):
    wrapped = tmp_path / "mydata" / "photos"
    wrapped.parent.mkdir()
    tiny_dataset.rename(wrapped)  # a folder that only wraps the dataset is descended
    (wrapped / "red" / "notes.jpg").write_text("hi")
    assert main(["inspect-data", str(tmp_path / "mydata"), "--val-ratio", "0.25"]) == 0
    out = capsys.readouterr().out
    assert not out.lstrip().startswith("{")
    lines = out.splitlines()
    assert lines[0] == f"Dataset: {wrapped.resolve()}"
    assert "Images: 16 usable; width 32-32 px, height 32-32 px" in lines
    assert "Planned split (val 25%, test 15%, seed 42):" in lines
    assert "  -> train     10  (blue 5, red 5)" in lines
    assert "  red/notes.jpg: not an image (unknown or unsupported format)" in lines
    assert "  - Class 'blue' has only 8 images; at least 10 (better 50+) are recommended." in lines


def _exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    return captured.err.strip()


def test_inspect_data_errors_exit_2_with_a_plain_message(
    tiny_dataset: Path, tmp_path: Path, capsys
):
    missing = tmp_path / "nope"
    assert _exit_2(["inspect-data", str(missing)], capsys) == (
        f"error: The dataset folder {str(missing)!r} does not exist or is not a folder."
    )
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    message = _exit_2(["inspect-data", str(tiny_dataset), "--allowed-root", str(allowed)], capsys)
    assert message == (
        f"error: The folder {str(tiny_dataset)!r} is outside the allowed folders ('allowed')."
    )
    archive = tmp_path / "data.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("a/1.txt", "x")
    message = _exit_2(["inspect-data", str(archive), "--allowed-root", str(allowed)], capsys)
    assert message.startswith("error: The file") and "outside the allowed folders" in message
    shutil.rmtree(tiny_dataset / "red")
    assert _exit_2(["inspect-data", str(tiny_dataset)], capsys) == (
        "error: Only one class was found ('blue'). A classifier needs at least two class folders."
    )


def test_inspect_data_inside_allowed_root(tiny_dataset: Path, capsys):
    assert (
        main(["inspect-data", str(tiny_dataset), "--allowed-root", str(tiny_dataset.parent)]) == 0
    )
    assert "Classes (2): blue, red" in capsys.readouterr().out


def test_sample_data_command(tmp_path: Path, capsys):
    assert main(["sample-data", str(tmp_path), "--seed", "3"]) == 0
    folder = Path(capsys.readouterr().out.strip())
    assert folder.parent == tmp_path and (folder / "star").is_dir()
