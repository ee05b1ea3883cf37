"""CLI: predict writes one CSV row per image; evaluate and export run from a run folder."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from core.__main__ import build_parser, main
from core.export.exporter import EXPORT_FORMATS
from tests.helpers.runs import cat_dog_run


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return cat_dog_run(tmp_path)


def test_predict_csv_has_one_row_per_image(run_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "data" / "cat"
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    out = tmp_path / "predictions.csv"
    code = main(["predict", str(run_dir), str(folder), str(broken), "--csv", str(out)])
    assert code == 0
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 8 + 1
    assert {row["predicted"] for row in rows[:-1]} <= {"cat", "dog"}
    assert rows[-1]["predicted"] == "" and rows[-1]["error"]


def test_predict_threshold_and_json(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = next((tmp_path / "data" / "dog").iterdir())
    assert main(["predict", str(run_dir), str(image), "--json", "--threshold", "1.01"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["predicted"] == "not sure"


def test_evaluate_json(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(run_dir), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["split"] == "test"
    assert len(payload["metrics"]["confusion"]) == 2


def test_export_keras_prints_parity(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", str(run_dir), "--format", "keras", "--out", str(tmp_path / "out")]) == 0
    assert "keras" in capsys.readouterr().out
    assert (tmp_path / "out" / "model.keras").is_file()


def test_bad_run_id_is_a_plain_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "../../etc"]) == 2
    assert "not valid" in capsys.readouterr().err


def test_run_id_is_found_in_the_runs_folder(
    run_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(run_dir.parent))
    image = next((run_dir.parent.parent / "data" / "cat").iterdir())
    assert main(["predict", run_dir.name, str(image), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["predicted"] in ("cat", "dog")


def test_export_help_lists_the_formats(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["export", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert all(name in shown for name in EXPORT_FORMATS) and "onnx" in shown
