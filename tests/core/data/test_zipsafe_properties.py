"""Property-based fuzzing (hypothesis) of the zip importer and the name sanitiser.

Generated: archives of 1-12 entries whose names are built from random path parts (plain
names, any unicode text, ``..``, ``.``, empty parts, Windows device names, names of 200-300
characters, hidden and system names, ``__MACOSX``), joined by ``/`` or ``\\``, sometimes
absolute (``/``, ``C:``); entries hold 0-3000 random bytes or zeros, and some are symlinks
or duplicates.

Properties: nothing is ever written outside the target folder and no link is created; a
refused archive leaves nothing behind; every file entry is either extracted, with its exact
bytes, or listed in the skipped entries with a reason. For ``safe_name``: any text is either
refused with a ``DataError`` or returned as one valid, idempotent path component that can be
created as a file directly in its folder.
"""

from __future__ import annotations

import os
import stat
import tempfile
import unicodedata
import zipfile
from collections import Counter
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from core.data.names import safe_name
from core.data.zipsafe import SKIPPED_MANIFEST, extract_zip, zip_skips
from core.errors import DataError

_PLAIN = st.from_regex(r"[a-z0-9_ -]{1,10}(\.png)?", fullmatch=True)
_PART = st.one_of(
    _PLAIN,
    _PLAIN,
    st.text(
        st.characters(blacklist_categories=["Cs"], blacklist_characters="/\\\x00"),
        min_size=1,
        max_size=12,
    ),
    st.sampled_from(["..", ".", "", "CON", "nul.txt", "Com1", "__MACOSX", ".hidden", " a ",
                     "cafe\u0301", "caf\u00e9", "name.", "cats", "dogs"]),
    st.text("ab", min_size=200, max_size=300),
)  # fmt: skip


@st.composite
def _entries(draw: st.DrawFn) -> list[tuple[str, bytes, bool]]:
    """(name, data, is_symlink) triples."""
    count = draw(st.integers(1, 12))
    escaping = draw(st.integers(0, 4)) == 0  # one archive in five may try to escape
    result = []
    for _ in range(count):
        parts = draw(st.lists(_PART, min_size=1, max_size=4))
        if not escaping:
            parts = [part for part in parts if part.strip() != ".."] or ["f.png"]
        name = draw(st.sampled_from(["/", "\\"])).join(parts)
        if escaping:
            name = draw(st.sampled_from(["", "", "/", "C:/"])) + name
        if not name or name.endswith("/"):
            name += "f.png"
        data = draw(st.one_of(st.binary(max_size=3000), st.integers(0, 3000).map(bytes)))
        result.append((name, data, draw(st.integers(0, 9)) == 0))
    if draw(st.booleans()):
        result.append(result[0])  # an exact duplicate entry
    return result


def _write_zip(path: Path, entries: list[tuple[str, bytes, bool]]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data, link in entries:
            info = zipfile.ZipInfo(name)
            if link:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, data, zipfile.ZIP_DEFLATED)


def _expected_path(dest: Path, name: str) -> Path:
    parts = [p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("", ".")]
    return dest.joinpath(*[unicodedata.normalize("NFC", part).strip() for part in parts])


def _content(path: Path) -> bytes | None:
    """The bytes of a plain file at ``path``; None for anything else or an impossible path."""
    try:
        return None if path.is_symlink() or not path.is_file() else path.read_bytes()
    except OSError:  # e.g. a name longer than the file system allows
        return None


def _files_under(folder: Path) -> list[Path]:
    return [Path(base, name) for base, dirs, files in os.walk(folder) for name in dirs + files]


@pytest.mark.filterwarnings("ignore:Duplicate name")  # duplicates are generated on purpose
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_entries())
def test_zip_import_never_escapes_and_drops_nothing_silently(entries):  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as sandbox_name:
        sandbox = Path(sandbox_name)
        archive = sandbox / "upload.zip"
        _write_zip(archive, entries)
        dest = sandbox / "area" / "out"
        try:
            root = extract_zip(archive, dest)
        except DataError as error:
            assert not dest.exists()  # refused: nothing written
            event("refused: " + ("unsafe path" if "unsafe" in str(error) else "nothing usable"))
            return
        event("extracted, some entries skipped" if zip_skips(root) else "extracted, none skipped")
        written = _files_under(sandbox / "area")
        assert all(path.is_relative_to(dest) for path in written)
        assert not any(path.is_symlink() for path in written)
        skipped = Counter(item.path for item in zip_skips(root))
        assert all(item.reason for item in zip_skips(root))
        claimed: set[Path] = set()
        with zipfile.ZipFile(archive) as handle:
            for info in (i for i in handle.infolist() if not i.is_dir()):
                path = _expected_path(dest, info.filename)
                if path not in claimed and _content(path) == handle.read(info):
                    claimed.add(path)
                    continue
                assert skipped[info.filename] > 0, f"{info.filename!r} was dropped silently"
                skipped[info.filename] -= 1
        on_disk = {p for p in written if p.is_file() and p.name != SKIPPED_MANIFEST}
        assert on_disk == claimed  # nothing extracted that the archive did not hold


def test_an_entry_with_dot_dot_or_an_absolute_path_always_refuses_the_archive(tmp_path: Path):
    for name in ("a/../../x.png", "/etc/x.png", "C:/x.png", "a\\..\\..\\x.png"):
        archive = tmp_path / "up.zip"
        _write_zip(archive, [("ok/1.png", b"1", False), (name, b"2", False)])
        try:
            extract_zip(archive, tmp_path / "out")
        except DataError as error:
            assert "unsafe" in str(error)
        else:
            raise AssertionError(f"{name!r} was accepted")
        assert not (tmp_path / "out").exists()


_ANY_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(st.sampled_from("ab ./\\:\x00\x1f\u0301e"), max_size=12),
    st.sampled_from(["CON", "con.txt", "LPT1", "..", ".", " ", "a" * 256, "é" * 128]),
    st.text("a", min_size=250, max_size=260),
)


@settings(max_examples=2000, deadline=None)
@given(_ANY_TEXT)
def test_safe_name_returns_one_valid_component_or_refuses(text: str) -> None:
    try:
        name = safe_name(text)
    except DataError as error:
        assert str(error)
        return
    assert name == unicodedata.normalize("NFC", name) == name.strip() and name
    assert name not in (".", "..") and "/" not in name and "\\" not in name
    assert not any(ord(char) < 32 or ord(char) == 127 for char in name)
    assert len(name.encode("utf-8")) <= 255 and PurePosixPath(name).name == name
    assert safe_name(name) == name  # idempotent
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(b"x")
        assert path.parent == Path(folder) and os.listdir(folder) == [name]
