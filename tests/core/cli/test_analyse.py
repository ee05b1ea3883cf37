"""CLI: label-issues, duplicates, calibrate, advise-cut and learning-curve print JSON."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from core.__main__ import main
from core.data.scan import scan_dataset
from tests.helpers.analysis import colour_dataset, train_tiny_run


@pytest.fixture(scope="module")
def flipped_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str], str]:
    """A tiny trained run whose data has two red images filed under blue."""
    tmp = tmp_path_factory.mktemp("analyse")
    data, wrong = colour_dataset(tmp / "data", per_class=14, flipped=2)
    run_dir, settings = train_tiny_run(data, tmp)
    return run_dir, data, wrong, settings.cache_dir


@pytest.fixture
def cli_env(
    flipped_run: tuple[Path, Path, list[str], str], monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path, list[str]]:
    run_dir, data, wrong, cache_dir = flipped_run
    monkeypatch.setenv("STUDIO_CACHE_DIR", cache_dir)  # the cache the run filled
    return run_dir, data, wrong


def _json(capsys: pytest.CaptureFixture[str]) -> dict:
    return json.loads(capsys.readouterr().out)


def test_label_issues_json_and_a_corrected_version(
    cli_env: tuple[Path, Path, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir, data, wrong = cli_env
    out = tmp_path / "fixed"
    command = ["label-issues", str(run_dir), "--json", "--limit", "2", "--write-version", str(out)]
    assert main(command) == 0
    payload = _json(capsys)
    assert {issue["path"] for issue in payload["issues"]} == set(wrong)
    assert payload["extracted_images"] == 0
    fixed = scan_dataset(payload["version"])
    assert all(Path(r.path).name.startswith(r.label) for r in fixed.records)  # relabelled
    assert (data / wrong[0]).is_file()  # the original is untouched


def test_duplicates_of_a_run_and_of_a_folder(
    cli_env: tuple[Path, Path, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir, data, _ = cli_env
    assert main(["leaks", str(run_dir), "--json", "--no-features"]) == 0
    assert _json(capsys)["pairs"] == 0
    copy = tmp_path / "data"
    shutil.copytree(data, copy)
    shutil.copy(copy / "red" / "red5.png", copy / "red" / "again.png")
    out = tmp_path / "deduped"
    assert main(["duplicates", str(copy), "--json", "--dedupe", str(out)]) == 0
    payload = _json(capsys)
    assert payload["pairs"] == 1 and payload["flagged"][0]["exact"]
    assert len(scan_dataset(payload["version"]).records) == len(scan_dataset(copy).records) - 1


def test_calibrate_dry_run_and_stored(
    cli_env: tuple[Path, Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir, _, _ = cli_env
    before = (run_dir / "labels.json").read_text()
    assert main(["calibrate", str(run_dir), "--json", "--dry-run"]) == 0
    payload = _json(capsys)
    assert payload["stored"] is False and set(payload["splits"]) == {"val", "test"}
    assert (run_dir / "labels.json").read_text() == before
    assert main(["calibrate", str(run_dir), "--class-threshold", "red=0.7"]) == 0
    assert "ECE" in capsys.readouterr().out
    labels = json.loads((run_dir / "labels.json").read_text())
    assert labels["temperature"] == payload["temperature"]
    assert labels["class_thresholds"] == {"red": 0.7}
    assert main(["calibrate", str(run_dir), "--class-threshold", "red"]) == 2


def test_learning_curve_and_advise_cut_json(
    cli_env: tuple[Path, Path, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir, data, _ = cli_env
    html = tmp_path / "curve.html"
    assert main(["learning-curve", str(run_dir), "--json", "--html", str(html)]) == 0
    curve = _json(capsys)
    assert [point["fraction"] for point in curve["points"]] == [0.25, 0.5, 0.75, 1.0]
    assert curve["extracted_images"] == 0 and html.is_file()
    command = ["advise-cut", str(data), "--backbone", "mobilenet_v2", "--input-size", "32"]
    assert main([*command, "--weights", "none", "--json", "--val-ratio", "0.25"]) == 0
    advice = _json(capsys)
    assert advice["rows"] and advice["chosen"] in {row["cut"] for row in advice["rows"]}
    assert main([*command, "--weights", "none", "--cut", "nope"]) == 2
