"""Tests for atomic writes: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.atomic import write_json_atomic, write_via_temp


def test_write_via_temp_replaces_the_file_and_keeps_the_suffix(tmp_path: Path) -> None:
    target = tmp_path / "last.weights.h5"
    seen: list[str] = []

    def write(path: Path) -> None:
        seen.append(path.name)
        path.write_bytes(b"new")

    write_via_temp(target, write)
    assert target.read_bytes() == b"new"
    assert seen[0].endswith(".weights.h5") and seen[0] != target.name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.weights.h5"]


def test_a_writer_dying_midway_leaves_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "best.weights.h5"
    target.write_bytes(b"previous checkpoint")

    def dies_halfway(path: Path) -> None:
        path.write_bytes(b"\x89HDF")  # a truncated file, then the writer is killed
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_via_temp(target, dies_halfway)
    assert target.read_bytes() == b"previous checkpoint"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.weights.h5"]


def test_write_json_atomic_round_trip(tmp_path: Path) -> None:
    target = tmp_path / "nested" / "metrics.json"
    write_json_atomic(target, {"val_accuracy": 0.5, "classes": ["ü", "b"]})
    assert '"ü"' in target.read_text(encoding="utf-8")
