"""Shared fixtures: tiny generated images, temp run stores, the offline weights folder."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"


def weights_dir() -> Path | None:
    """Returns the offline ImageNet weights folder if it exists (env var or ../shared)."""
    candidate = Path(os.environ.get("STUDIO_WEIGHTS_DIR") or SHARED / "weights")
    return candidate if candidate.is_dir() else None


def hymenoptera_dir() -> Path | None:
    """Returns ../shared/datasets/hymenoptera_data if present."""
    path = SHARED / "datasets" / "hymenoptera_data"
    return path if path.is_dir() else None


@pytest.fixture
def local_weights(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Points STUDIO_WEIGHTS_DIR at the offline weights, or skips with the reason."""
    folder = weights_dir()
    if folder is None:
        pytest.skip("offline ImageNet weights not found: set STUDIO_WEIGHTS_DIR=../shared/weights")
    monkeypatch.setenv("STUDIO_WEIGHTS_DIR", str(folder))
    return folder


def write_image(path: Path, color: tuple[int, int, int], size: int = 32, seed: int = 0) -> Path:
    """Writes a small noisy RGB image of roughly ``color`` to ``path``."""
    rng = np.random.default_rng(seed)
    base = np.array(color, dtype=np.float32)[None, None, :]
    pixels = np.clip(base + rng.normal(0, 20, (size, size, 3)), 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


@pytest.fixture
def tiny_dataset(tmp_path: Path) -> Path:
    """A 2-class folder dataset: 8 red-ish and 8 blue-ish 32x32 PNGs."""
    root = tmp_path / "tiny"
    for index in range(8):
        write_image(root / "red" / f"r{index}.png", (200, 40, 40), seed=index)
        write_image(root / "blue" / f"b{index}.png", (40, 40, 200), seed=100 + index)
    return root
