"""Shared fixtures: tiny generated images, temp run stores, the offline weights folder."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Tests never go online: the demo uses the drawn shapes unless a test serves its own photos
# (tests/core/data/test_demo_photos.py, on 127.0.0.1). Worker and server processes inherit it.
os.environ.setdefault("STUDIO_DEMO_PHOTOS_URL", "")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
# A browser test waits for up to 3 jobs of 600 s each on a loaded machine (e.g. train, export,
# batch predict): its own deadlines, not pytest-timeout's 900 s, must decide its failure.
E2E_TIMEOUT_S = 2400


def in_ci() -> bool:
    """True when CI is set to any truthy value ("true", "1", "yes", ...), as CI services do."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no", "off")


def unavailable(reason: str) -> None:
    """Skips the test with ``reason``, or fails it under CI, where everything must run."""
    if in_ci():
        pytest.fail(f"this test must run in CI, but {reason}")
    pytest.skip(reason)


def weights_dir() -> Path | None:
    """Returns the offline ImageNet weights folder if it exists (env var or ../shared)."""
    candidate = Path(os.environ.get("STUDIO_WEIGHTS_DIR") or SHARED / "weights")
    return candidate if candidate.is_dir() else None


def hymenoptera_dir() -> Path | None:
    """Returns ../shared/datasets/hymenoptera_data if present."""
    path = SHARED / "datasets" / "hymenoptera_data"
    return path if path.is_dir() else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks every test that uses the offline weights ``weights``, so the marker never lags,
    and puts each test in its ``xdist_group`` (``--dist loadgroup``, see ``pyproject.toml``).

    A module's tests share one worker (its module fixtures: a Ray cluster, a trained run, are
    made once); the browser tests share one worker too, so at most one Streamlit server,
    browser and its jobs run at once, next to the other worker's tests. Browser tests get a
    per-test timeout (``E2E_TIMEOUT_S``) above the sum of their own waits.
    """
    for item in items:
        if "local_weights" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.weights)
        module = item.nodeid.split("::", 1)[0]
        group = "e2e" if module.startswith("tests/e2e/") else module
        item.add_marker(pytest.mark.xdist_group(group))
        if group == "e2e":  # a browser test's own waits add up to more than the default 900 s
            item.add_marker(pytest.mark.timeout(E2E_TIMEOUT_S))


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A ``weights`` test without the weights folder skips locally and fails under CI."""
    if item.get_closest_marker("weights") and weights_dir() is None:
        unavailable("the offline ImageNet weights were not found (STUDIO_WEIGHTS_DIR)")


@pytest.fixture
def local_weights(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Points STUDIO_WEIGHTS_DIR at the offline weights (``pytest_runtest_setup`` checked them)."""
    folder = weights_dir()
    assert folder is not None
    monkeypatch.setenv("STUDIO_WEIGHTS_DIR", str(folder))
    return folder


@pytest.fixture
def hymenoptera() -> Path:
    """../shared/datasets/hymenoptera_data; skips locally and fails under CI when absent."""
    path = hymenoptera_dir()
    if path is None:
        unavailable("../shared/datasets/hymenoptera_data was not found")
    assert path is not None
    return path


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
