"""The bad-input corpus: every messy dataset yields its documented skip, warning or error.

Each case builds a small dataset (folder or zip) next to a healthy base of two classes with 10
images each, scans it, and checks the one outcome documented for it. No case may raise anything
but ``DataError``.
"""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.data.report import DatasetReport
from core.data.scan import ScanLimits, scan_dataset
from core.data.zipsafe import ZipLimits, extract_zip
from core.errors import DataError
from tests.conftest import write_image


@dataclass(frozen=True)
class Expect:
    """One documented outcome: a skipped reason, a warning, a flag, or a fatal error."""

    skip: str | None = None  # substring of the skipped file's reason
    warning: str | None = None  # substring of one warning
    error: str | None = None  # substring of the DataError message
    classes: tuple[str, ...] | None = None  # exact classes when the scan succeeds
    record: Callable[[dict[str, tuple[int, int]]], bool] | None = None  # check on sizes


def _base(root: Path, per_class: int = 10) -> None:
    for index in range(per_class):
        write_image(root / "a" / f"a{index}.png", (200, 40, 40), seed=index)
        write_image(root / "b" / f"b{index}.png", (40, 40, 200), seed=50 + index)


def _jpeg_bytes(mode: str = "RGB", size: tuple[int, int] = (48, 48), **save: object) -> bytes:
    rng = np.random.default_rng(1)
    image = Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))
    buffer = io.BytesIO()
    image.convert(mode).save(buffer, "JPEG", **save)
    return buffer.getvalue()


def _huge_png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height pixels (a 'pixel bomb'), without the pixels."""
    buffer = io.BytesIO()
    Image.new("L", (8, 8)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    ihdr = bytearray(data[12:29])  # b"IHDR" + 13 bytes of header fields
    ihdr[4:12] = struct.pack(">II", width, height)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    return bytes(data)


def _zip(path: Path, entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def _png(color: tuple[int, int, int], seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = np.clip(np.array(color) + rng.normal(0, 20, (32, 32, 3)), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def _zip_base() -> dict[str, bytes]:
    entries = {f"data/a/a{i}.png": _png((200, 40, 40), i) for i in range(10)}
    entries.update({f"data/b/b{i}.png": _png((40, 40, 200), 50 + i) for i in range(10)})
    return entries


# --- the cases: each writes into ``root`` and returns what it expects -----------------------


def zero_byte(root: Path) -> Expect:
    (root / "a" / "empty.jpg").write_bytes(b"")
    return Expect(skip="empty file (0 bytes)")


def text_named_jpg(root: Path) -> Expect:
    (root / "a" / "notes.jpg").write_text("this is not a picture\n" * 20)
    return Expect(skip="not an image")


def truncated_jpeg(root: Path) -> Expect:
    data = _jpeg_bytes()
    (root / "a" / "cut.jpg").write_bytes(data[: len(data) // 2])
    return Expect(skip="truncated or corrupt")


def corrupt_jpeg(root: Path) -> Expect:
    data = _jpeg_bytes()
    (root / "a" / "garbage.jpg").write_bytes(data[:2] + b"\x13\x37" * 300)
    return Expect(skip="not an image")


def jpeg_header_only(root: Path) -> Expect:
    (root / "a" / "header.jpg").write_bytes(_jpeg_bytes()[:200])
    return Expect(skip="corrupt image header")


def huge_image(root: Path) -> Expect:
    (root / "a" / "huge.png").write_bytes(_huge_png_header(30_000, 30_000))
    return Expect(skip="image is too large")


def grayscale(root: Path) -> Expect:
    Image.new("L", (40, 30), 128).save(root / "a" / "gray.png")
    return Expect(record=lambda sizes: sizes["gray.png"] == (40, 30))


def rgba(root: Path) -> Expect:
    Image.new("RGBA", (40, 40), (255, 0, 0, 0)).save(root / "a" / "alpha.png")
    return Expect(record=lambda sizes: "alpha.png" in sizes)


def palette(root: Path) -> Expect:
    Image.new("RGB", (40, 40), (0, 128, 0)).convert("P").save(root / "a" / "pal.gif")
    return Expect(record=lambda sizes: "pal.gif" in sizes)


def cmyk(root: Path) -> Expect:
    (root / "a" / "print.jpg").write_bytes(_jpeg_bytes("CMYK"))
    return Expect(record=lambda sizes: sizes["print.jpg"] == (48, 48))


def png_16bit(root: Path) -> Expect:
    pixels = np.linspace(0, 65535, 48 * 48).reshape(48, 48).astype(np.uint16)
    Image.fromarray(pixels).save(root / "a" / "deep.png")
    return Expect(record=lambda sizes: sizes["deep.png"] == (48, 48))


def exif_rotated(root: Path) -> Expect:
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    (root / "a" / "rotated.jpg").write_bytes(_jpeg_bytes(size=(60, 40), exif=exif.tobytes()))
    return Expect(record=lambda sizes: sizes["rotated.jpg"] == (40, 60))


def animated_gif(root: Path) -> Expect:
    frames = [Image.new("RGB", (40, 40), color) for color in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(root / "a" / "anim.gif", save_all=True, append_images=frames[1:])
    return Expect(record=lambda sizes: "anim.gif" in sizes)


def tiny_image(root: Path) -> Expect:
    write_image(root / "a" / "small.png", (10, 10, 10), size=16)
    return Expect(warning="smaller than 32 pixels")


def extreme_aspect(root: Path) -> Expect:
    Image.new("RGB", (300, 20), (1, 2, 3)).save(root / "a" / "banner.png")
    return Expect(warning="wider or taller than 4:1")


def one_class_only(root: Path) -> Expect:
    for path in (root / "b").iterdir():
        path.unlink()
    (root / "b").rmdir()
    return Expect(error="Only one class")


def empty_class(root: Path) -> Expect:
    (root / "c").mkdir()
    return Expect(error="'c' has no usable image")


def class_of_bad_files(root: Path) -> Expect:
    (root / "c").mkdir()
    (root / "c" / "x.jpg").write_bytes(b"")
    return Expect(error="'c' has no usable image")


def nothing_usable(root: Path) -> Expect:
    for folder in ("a", "b"):
        for path in (root / folder).iterdir():
            path.write_text("not an image")
    return Expect(error="No usable images found")


def unicode_and_spaces(root: Path) -> Expect:
    write_image(root / "ölçü kedi" / "1.png", (1, 200, 1))
    write_image(root / "東京 cats" / "2.png", (1, 1, 90))
    return Expect(classes=("a", "b", "ölçü kedi", "東京 cats"))


def nested_junk(root: Path) -> Expect:
    write_image(root / "a" / "__MACOSX" / "._a0.png", (0, 0, 0))
    write_image(root / "a" / ".ipynb_checkpoints" / "copy.png", (0, 0, 0))
    write_image(root / "a" / "more" / "deeper" / "nested.png", (200, 40, 40), seed=99)
    (root / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (root / "b" / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")
    return Expect(skip="system or hidden", classes=("a", "b"), record=lambda s: "nested.png" in s)


def loose_file_at_root(root: Path) -> Expect:
    write_image(root / "stray.png", (5, 5, 5))
    return Expect(skip="not inside a class folder")


def duplicates_across_splits(root: Path) -> Expect:
    for split in ("train", "val"):
        for name, color in (("a", (200, 40, 40)), ("b", (40, 40, 200))):
            for index in range(10):
                write_image(root / split / name / f"{index}.png", color, seed=index)
    return Expect(warning="in two splits (leakage")


def duplicate_in_same_split(root: Path) -> Expect:
    (root / "a" / "copy.png").write_bytes((root / "a" / "a0.png").read_bytes())
    return Expect(warning="exact duplicate in the same split")


def same_image_two_classes(root: Path) -> Expect:
    (root / "b" / "mislabelled.png").write_bytes((root / "a" / "a0.png").read_bytes())
    return Expect(warning="more than one class")


def few_images_class(root: Path) -> Expect:
    for index in range(3):
        write_image(root / "c" / f"{index}.png", (1, 150, 1), seed=index)
    return Expect(warning="'c' has only 3 images")


def imbalance(root: Path) -> Expect:
    for index in range(30):
        write_image(root / "a" / f"extra{index}.png", (200, 40, 40), seed=200 + index)
    return Expect(warning="imbalanced")


def escaping_symlink(root: Path) -> Expect:
    outside = write_image(root.parent / "outside.png", (9, 9, 9))
    os.symlink(outside, root / "a" / "link.png")
    return Expect(skip="link pointing outside")


# Zip cases: the archive is extracted with extract_zip, then scanned.
def zip_slip(root: Path) -> Expect:
    _zip(root / "up.zip", {**_zip_base(), "data/../../evil.png": _png((0, 0, 0), 1)})
    return Expect(error="points outside its folder")


def zip_absolute(root: Path) -> Expect:
    _zip(root / "up.zip", {**_zip_base(), "/tmp/evil.png": _png((0, 0, 0), 1)})
    return Expect(error="absolute path")


def zip_bomb(root: Path) -> Expect:
    _zip(root / "up.zip", {**_zip_base(), "data/a/bomb.png": b"\x00" * (8 * 1024**2)})
    return Expect(error="zip bomb")


def zip_junk_and_unicode(root: Path) -> Expect:
    entries = {name.replace("data/b/", "data/béé s/"): data for name, data in _zip_base().items()}
    entries["__MACOSX/data/a/._a0.png"] = b"\x00\x05\x16\x07"
    entries["data/.DS_Store"] = b"Bud1"
    entries["data/a/Thumbs.db"] = b"\xd0\xcf"
    _zip(root / "up.zip", entries)
    return Expect(classes=("a", "béé s"))


def not_a_zip(root: Path) -> Expect:
    (root / "up.zip").write_bytes(b"PK\x03\x04 definitely not a zip")
    return Expect(error="not a valid zip")


CASES = [
    zero_byte, text_named_jpg, truncated_jpeg, corrupt_jpeg, jpeg_header_only, huge_image,
    grayscale, rgba, palette, cmyk, png_16bit, exif_rotated, animated_gif, tiny_image,
    extreme_aspect, one_class_only, empty_class, class_of_bad_files, nothing_usable,
    unicode_and_spaces, nested_junk, loose_file_at_root, duplicates_across_splits,
    duplicate_in_same_split, same_image_two_classes, few_images_class, imbalance,
    escaping_symlink, zip_slip, zip_absolute, zip_bomb, zip_junk_and_unicode, not_a_zip,
]  # fmt: skip


def _run(case: Callable[[Path], Expect], tmp_path: Path) -> tuple[Expect, object]:
    root = tmp_path / "dataset"
    _base(root)
    if case is duplicates_across_splits:
        for folder in ("a", "b"):
            for path in (root / folder).iterdir():
                path.unlink()
            (root / folder).rmdir()
    expect = case(root)
    try:
        if (root / "up.zip").exists():
            extracted = extract_zip(root / "up.zip", tmp_path / "extracted")
            return expect, scan_dataset(extracted)
        return expect, scan_dataset(root)
    except DataError as error:
        return expect, error


@pytest.mark.parametrize("case", CASES, ids=[case.__name__ for case in CASES])
def test_bad_input_yields_documented_outcome(case: Callable[[Path], Expect], tmp_path: Path):
    expect, outcome = _run(case, tmp_path)
    if expect.error:
        assert isinstance(outcome, DataError), f"expected an error, got {outcome!r}"
        assert expect.error in str(outcome)
        return
    assert not isinstance(outcome, DataError), f"unexpected error: {outcome}"
    assert isinstance(outcome, DatasetReport)
    report = outcome
    if expect.skip:
        reasons = [item.reason for item in report.skipped]
        assert any(expect.skip in reason for reason in reasons), reasons
    if expect.warning:
        assert any(expect.warning in warning for warning in report.warnings), report.warnings
    if expect.classes is not None:
        assert tuple(report.classes) == expect.classes
    if expect.record is not None:
        sizes = {Path(r.path).name: (r.width, r.height) for r in report.records}
        assert expect.record(sizes), sizes


def test_corpus_has_at_least_twenty_cases():
    assert len(CASES) >= 20


def test_limits_on_image_count_and_pixels(tmp_path: Path):
    _base(tmp_path)
    with pytest.raises(DataError, match="limit is 5 images"):
        scan_dataset(tmp_path, ScanLimits(max_images=5))
    with pytest.raises(DataError, match="gigapixels"):
        scan_dataset(tmp_path, ScanLimits(max_total_pixels=1000))


def test_zip_total_size_and_count_limits(tmp_path: Path):
    archive = _zip(tmp_path / "up.zip", _zip_base())
    with pytest.raises(DataError, match="limit is 1000 bytes"):
        extract_zip(archive, tmp_path / "x", ZipLimits(max_total_bytes=1000))
    with pytest.raises(DataError, match="limit is 5"):
        extract_zip(archive, tmp_path / "y", ZipLimits(max_files=5))
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
