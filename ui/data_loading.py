"""Turns a folder of images into the session's dataset (scan, split, store).

Used by the Home page (sample dataset) and the Data page (every source). Engine modules are
imported inside the functions, so importing this file stays cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ui import session

if TYPE_CHECKING:
    from core.data.spec import AugmentSpec


def sample_folder() -> Path:
    """Returns where the generated sample dataset is kept (shared, read-only for visitors)."""
    return Path(session.get_settings().data_dir) / "_sample"


def upload_folder(kind: str) -> Path:
    """Returns a new folder for an upload of this workspace, e.g. ``<data>/<ws>/zip-<time>``."""
    import time

    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{time.time_ns() % 1_000_000:06d}"
    return (
        Path(session.get_settings().data_dir) / session.workspace_folder_name() / f"{kind}-{stamp}"
    )


def load_dataset(
    path: str,
    *,
    source: str,
    val_ratio: float = 0.15,
    test_ratio: float = 0.15,
    seed: int = 42,
    resize_mode: str = "crop",
    augmentation: AugmentSpec | None = None,
) -> session.DataState:
    """Scans ``path``, splits it and makes it the session's dataset.

    Args:
        path: Folder with one sub-folder per class (or train/val/test folders).
        source: Short description for the status panels ("Sample dataset", "Zip: pets.zip").
        val_ratio: Share of images held out for validation (ignored for given splits).
        test_ratio: Share of images held out for testing (ignored for given splits).
        seed: Seed of the random split.
        resize_mode: "stretch", "crop" or "pad".
        augmentation: Augmentation settings; none when None.

    Returns:
        The stored ``DataState``.

    Raises:
        DataError: if the folder holds no usable dataset (message for the user).
        ValueError: if a setting is out of range.
    """
    from core.data.scan import scan_dataset
    from core.data.spec import AugmentSpec, DataSpec
    from core.data.splits import split_dataset

    spec = DataSpec(
        path=str(path),
        val_ratio=val_ratio,
        test_ratio=test_ratio,
        seed=seed,
        resize_mode=resize_mode,
        augmentation=augmentation or AugmentSpec(),
    )
    report = scan_dataset(Path(path))
    split = split_dataset(report, val_ratio, test_ratio, seed)
    state = session.DataState(spec=spec, report=report, split=split, source=source)
    session.set_data(state)
    return state


def resplit(
    state: session.DataState,
    *,
    val_ratio: float,
    test_ratio: float,
    seed: int,
    resize_mode: str,
    augmentation: AugmentSpec,
) -> session.DataState:
    """Applies new split/augmentation settings to the loaded dataset without rescanning it."""
    from dataclasses import replace

    from core.data.splits import split_dataset

    spec = replace(
        state.spec,
        val_ratio=val_ratio,
        test_ratio=test_ratio,
        seed=seed,
        resize_mode=resize_mode,
        augmentation=augmentation,
    )
    split = split_dataset(state.report, val_ratio, test_ratio, seed)
    new_state = session.DataState(spec=spec, report=state.report, split=split, source=state.source)
    session.set_data(new_state)
    return new_state


def load_sample() -> session.DataState:
    """Generates (or reuses) the sample dataset and makes it the session's dataset."""
    from core.data.sample import ensure_sample_dataset

    folder = ensure_sample_dataset(sample_folder())
    return load_dataset(str(folder), source="Sample dataset")


def load_zip(upload: Any) -> session.DataState:
    """Extracts an uploaded zip safely into this workspace's data folder and loads it.

    Args:
        upload: The ``UploadedFile`` (any binary file object with a ``name``).
    """
    from core.data.zipsafe import extract_zip

    root = extract_zip(upload, upload_folder("zip"))
    return load_dataset(str(root), source=f"Zip: {getattr(upload, 'name', 'upload')}")


def load_class_uploads(uploads: list[tuple[str, list[Any]]]) -> session.DataState:
    """Writes images uploaded class by class into a new folder and loads it.

    Class and file names come from the visitor, so both go through ``safe_name`` (no path
    separators, no traversal, no reserved names) before touching the disk.

    Args:
        uploads: (class name, uploaded files) pairs.

    Raises:
        DataError: on an unsafe or duplicate class name, or a class without images.
    """
    from core.data.zipsafe import safe_name
    from core.errors import DataError

    names = [safe_name(name.strip()) for name, _ in uploads]
    if len({name.lower() for name in names}) != len(names):
        raise DataError("Two classes have the same name; give every class its own name.")
    root = upload_folder("upload")
    for name, (_, files) in zip(names, uploads, strict=True):
        if not files:
            raise DataError(f"Class '{name}' has no images; add at least one.")
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for index, upload in enumerate(files):
            file_name = safe_name(str(getattr(upload, "name", f"image_{index}")))
            (folder / f"{index:05d}_{file_name}").write_bytes(upload.getvalue())
    return load_dataset(str(root), source=f"Uploaded images ({len(names)} classes)")


def load_server_folder(path: str) -> session.DataState:
    """Loads a server folder, refused unless it lies inside the allowed roots."""
    from core.data.scan import resolve_data_folder

    roots = session.get_settings().folder_source_roots
    folder = resolve_data_folder(path, roots)
    return load_dataset(str(folder), source=f"Server folder: {folder.name}")
