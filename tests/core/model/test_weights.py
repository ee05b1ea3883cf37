"""Weights availability: a local file, Keras's cache, a possible download, or a clear refusal."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from core.config.backbones import get_backbone
from core.model.backbones import build_backbone
from core.model.weights import can_download, local_weights_path, weights_available

SERVER_PATH = re.compile(r"(^|[\s'\"(])/\w")  # an absolute path such as /work/..., /tmp/...


@pytest.fixture
def no_local_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Empty weights folder and Keras cache; returns the Keras home folder."""
    monkeypatch.setenv("STUDIO_WEIGHTS_DIR", str(tmp_path / "weights"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    (tmp_path / "weights").mkdir()
    return tmp_path / "keras"


def test_missing_and_offline_is_refused_with_the_file_and_no_path(
    no_local_weights: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDIO_OFFLINE", "1")
    assert not can_download()
    availability = weights_available("efficientnet_b0")
    assert not availability.ok and not availability.local
    message = availability.message
    assert "'efficientnetb0_notop.h5'" in message and "STUDIO_WEIGHTS_DIR" in message
    assert "random weights" in message
    assert not SERVER_PATH.search(message), message


def test_missing_but_downloadable_is_a_warning(no_local_weights: Path) -> None:
    availability = weights_available("efficientnet_b0", online=True)
    assert availability.ok and not availability.local
    assert "downloads them when the run starts" in availability.message
    assert "'efficientnetb0_notop.h5'" in availability.message


def test_a_file_in_the_weights_folder_or_the_keras_cache_is_local(
    no_local_weights: Path, tmp_path: Path
) -> None:
    name = get_backbone("vgg16").weights_file
    (tmp_path / "weights" / name).write_bytes(b"x")
    assert weights_available("vgg16", online=False) == weights_available("vgg16", online=True)
    assert weights_available("vgg16", online=False).local
    cached = no_local_weights / "models" / get_backbone("densenet121").weights_file
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"x")
    availability = weights_available("densenet121", online=False)
    assert availability.ok and availability.local and "Keras's cache" in availability.message
    assert local_weights_path("densenet121") == cached


def test_can_download_tries_one_connection() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert can_download("127.0.0.1", port)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        free = closed.getsockname()[1]  # bound but not listening: the connection is refused
        assert not can_download("127.0.0.1", free)


@pytest.mark.weights
def test_weights_in_the_keras_cache_load_at_any_size(
    local_weights: Path, no_local_weights: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file Keras downloaded earlier is used as a file, so sizes other than 224 work."""
    # ``local_weights`` first: it reads STUDIO_WEIGHTS_DIR before ``no_local_weights`` empties it.
    name = get_backbone("mobilenet_v2").weights_file
    (no_local_weights / "models").mkdir(parents=True)
    (no_local_weights / "models" / name).symlink_to(local_weights / name)
    monkeypatch.setenv("STUDIO_OFFLINE", "1")
    assert weights_available("mobilenet_v2").ok
    assert build_backbone("mobilenet_v2", 96, weights="imagenet").count_params() > 0
