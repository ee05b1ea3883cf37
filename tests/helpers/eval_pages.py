"""A workspace holding one finished tiny run, for the Evaluate/Predict/Runs AppTests."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.runs import make_finished_run, tiny_classifier, write_dataset


def workspace_with_run(
    tmp_path: Path, classes: tuple[str, ...] = ("cat", "dog")
) -> tuple[str, str]:
    """Creates a workspace (settings from the STUDIO_* env) with one finished run.

    Returns:
        (workspace token, run id).
    """
    from core.config.settings import Settings
    from core.store.workspace import create_workspace, workspace_store

    settings = Settings.from_env()
    token = create_workspace(settings)
    store = workspace_store(settings, token)
    colors = [(200, 40, 40), (40, 40, 200), (40, 200, 40)]
    dataset = write_dataset(tmp_path / "dataset", dict(zip(classes, colors, strict=False)), 8)
    run_id = make_finished_run(store.root, dataset, tiny_classifier(len(classes)), list(classes))
    return token, run_id


def png_bytes(color: tuple[int, int, int] = (200, 40, 40), size: int = 40) -> bytes:
    """A small PNG image as bytes (for file uploaders)."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buffer, format="PNG")
    return buffer.getvalue()
