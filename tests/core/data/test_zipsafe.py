"""Zip extraction and safe names."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from core.data.names import safe_name
from core.data.zipsafe import extract_zip, size_text, unwrap_dataset_folder, zip_skips
from core.errors import DataError


def _png(color: tuple[int, int, int] = (9, 9, 9)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), color).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "bad", ["", "  ", ".", "..", "a/b", "a\\b", "x\x00y", "CON", "prn.jpg", "com1", "LPT9.txt",
            "name.", "a" * 300],
)  # fmt: skip
def test_safe_name_refuses_traversal_and_reserved(bad: str):
    with pytest.raises(DataError):
        safe_name(bad)


def test_safe_name_keeps_unicode_and_spaces_nfc():
    assert safe_name("  golden retriever ") == "golden retriever"
    assert safe_name("cafe\u0301") == "caf\u00e9"  # macOS decomposed accent -> composed
    assert safe_name("東京 cats") == "東京 cats"
    assert safe_name("console") == "console"  # only exact device names are reserved


def test_extract_descends_wrapper_folder_and_skips_symlinks(tmp_path: Path):
    archive_path = tmp_path / "up.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        archive.writestr("my data/cats/1.png", _png())
        archive.writestr("my data/dogs/1.png", _png())
        link = zipfile.ZipInfo("my data/dogs/link.png")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    root = extract_zip(archive_path, tmp_path / "out")
    assert root == tmp_path / "out" / "my data"
    assert sorted(p.name for p in root.iterdir() if not p.name.startswith(".")) == ["cats", "dogs"]
    assert not (root / "dogs" / "link.png").exists()
    assert [(s.path, s.reason) for s in zip_skips(root)] == [
        ("my data/dogs/link.png", "a link inside the zip, not extracted")
    ]


@pytest.mark.parametrize(
    ("entries", "expected"),
    [(["a/b/cats/1.png", "a/b/dogs/1.png", "a/.hidden"], "a/b"),  # two wrappers
     (["data/train/cats/1.png", "data/train/dogs/1.png"], "data"),  # keeps the given split
     (["data/cats/1.png", "data/cats/2.png"], "data")],  # one class folder is no wrapper
)  # fmt: skip
def test_wrapper_rule(tmp_path: Path, entries: list[str], expected: str):
    archive_path = tmp_path / "up.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        for entry in entries:
            archive.writestr(entry, _png())
    assert extract_zip(archive_path, tmp_path / "out") == tmp_path / "out" / expected
    assert unwrap_dataset_folder(tmp_path / "out") == tmp_path / "out" / expected


def test_extract_reads_file_objects(tmp_path: Path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a/1.png", _png())
        archive.writestr("b/1.png", _png())
    buffer.seek(0)
    assert sorted(p.name for p in extract_zip(buffer, tmp_path / "o").iterdir()) == ["a", "b"]


def test_extract_of_only_junk_is_an_error(tmp_path: Path):
    archive_path = tmp_path / "up.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        archive.writestr("__MACOSX/._x", b"\x00")
    with pytest.raises(DataError, match="no usable files"):
        extract_zip(archive_path, tmp_path / "out")


def test_size_text():
    assert (
        size_text(1024) == "1 KiB"
        and size_text(2_621_440) == "2.5 MiB"
        and size_text(5) == "5 bytes"
    )
