"""The real-photo demo: download from a local HTTP server, content digest, cache, fallbacks."""

from __future__ import annotations

import functools
import hashlib
import http.server
import socket
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.config.demo_photos import HYMENOPTERA_CONTENT_SHA256, DemoPhotos
from core.data.demo_photos import PHOTOS_FOLDER, archive_content_digest, ensure_demo_data
from tests.conftest import write_image


def _mini_zip(path: Path) -> Path:
    """A zip like the tutorial's: ``mini/train/<class>/`` and ``mini/val/<class>/`` photos."""
    with zipfile.ZipFile(path, "w") as archive:
        for split in ("train", "val"):
            for index, (name, colour) in enumerate(
                {"ants": (200, 90, 40), "bees": (220, 200, 40)}.items()
            ):
                for number in range(3):
                    image = write_image(
                        path.parent / "src" / f"{split}{name}{number}.png",
                        colour,
                        seed=10 * index + number,
                    )
                    archive.write(image, f"mini/{split}/{name}/{name} {number}.png")
        archive.writestr("__MACOSX/mini/._junk", b"metadata")  # left out of the digest
    return path


def _folder_digest(folder: Path, prefix: str) -> str:
    """The content digest computed from files on disk, as the shell's sha256sum would."""
    lines = sorted(
        f"{prefix}/{file.relative_to(folder).as_posix()}"
        for file in folder.rglob("*")
        if file.is_file()
    )
    text = "".join(
        f"{hashlib.sha256((folder.parent / line).read_bytes()).hexdigest()}  {line}\n"
        for line in lines
    )
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(url, content digest) of a small zip on a real HTTP server on 127.0.0.1."""
    folder = tmp_path_factory.mktemp("www")
    archive = _mini_zip(folder / "mini.zip")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", archive_content_digest(archive)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def shapes_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data root for the fallback tests: the drawn shapes are generated once."""
    return tmp_path_factory.mktemp("data")


def _leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith((PHOTOS_FOLDER, ".demo")))


def test_digest_matches_the_files_and_ignores_metadata(tmp_path: Path) -> None:
    archive = _mini_zip(tmp_path / "mini.zip")
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(tmp_path / "out")
    (tmp_path / "out" / "__MACOSX" / "mini" / "._junk").unlink()
    assert archive_content_digest(archive) == _folder_digest(tmp_path / "out" / "mini", "mini")


def test_pinned_digest_is_the_tutorial_archive_contents(hymenoptera: Path, tmp_path: Path) -> None:
    """The constant is the digest of the tutorial's archive as published (the shared copy)."""
    archive = tmp_path / "hymenoptera_data.zip"
    with zipfile.ZipFile(archive, "w") as opened:  # stored: fast, the digest reads bytes only
        for file in sorted(hymenoptera.rglob("*")):
            if file.is_file():
                member = file.relative_to(hymenoptera).as_posix()
                opened.write(file, f"hymenoptera_data/{member}")
    assert len(opened.namelist()) == 398
    assert archive_content_digest(archive) == HYMENOPTERA_CONTENT_SHA256


def test_good_checksum_uses_the_photos_and_caches_them(
    served: tuple[str, str], tmp_path: Path
) -> None:
    url, digest = served
    demo = ensure_demo_data(
        tmp_path, DemoPhotos(url=f"{url}/mini.zip", content_sha256=digest, source="Mini set")
    )
    assert demo.photos and demo.source == "Mini set" and "real photos" in demo.notice
    assert sorted(p.name for p in demo.folder.iterdir() if p.is_dir()) == ["train", "val"]
    assert len(list(demo.folder.rglob("*.png"))) == 12
    dead = DemoPhotos(url=f"{url}/gone.zip", content_sha256=digest)
    assert ensure_demo_data(tmp_path, dead).folder == demo.folder  # cached: no second download


def test_wrong_checksum_falls_back_and_unpacks_nothing(
    served: tuple[str, str], shapes_root: Path
) -> None:
    url, digest = served
    wrong = DemoPhotos(url=f"{url}/mini.zip", content_sha256=digest[::-1])
    demo = ensure_demo_data(shapes_root, wrong, shapes_per_class=2)
    assert not demo.photos and "did not match their checksum" in demo.notice
    assert demo.folder.name.startswith("sample_shapes") and _leftovers(shapes_root) == []


@pytest.mark.parametrize("path, why", [("/missing.zip", "HTTP 404"), ("", "did not answer")])
def test_dead_address_falls_back_with_a_notice(
    served: tuple[str, str], shapes_root: Path, path: str, why: str
) -> None:
    url, digest = served
    if not path:  # a closed port: bound, then released, so nothing listens there
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            url = f"http://127.0.0.1:{probe.getsockname()[1]}"
        path = "/mini.zip"
    photos = DemoPhotos(url=url + path, content_sha256=digest, timeout_s=2)
    demo = ensure_demo_data(shapes_root, photos, shapes_per_class=2)
    assert not demo.photos and why in demo.notice, demo.notice
    assert _leftovers(shapes_root) == []


def test_settings_are_checked() -> None:
    assert not DemoPhotos.from_env({"STUDIO_DEMO_PHOTOS_URL": ""}).enabled
    assert not DemoPhotos.from_env({"STUDIO_OFFLINE": "1"}).enabled
    assert DemoPhotos.from_env({}).content_sha256 == HYMENOPTERA_CONTENT_SHA256
    with pytest.raises(ValueError, match="without STUDIO_DEMO_PHOTOS_SHA256"):
        DemoPhotos.from_env({"STUDIO_DEMO_PHOTOS_URL": "https://example.org/x.zip"})
    with pytest.raises(ValueError, match="64 lower-case hex"):
        DemoPhotos(content_sha256="abc")
    with pytest.raises(ValueError, match="http"):
        DemoPhotos(url="file:///etc/passwd")
