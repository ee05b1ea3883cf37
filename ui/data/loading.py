"""Turns a folder of images into the session's dataset (scan, split, store).

Used by the Home page (sample dataset), the Data page (every source) and a re-run from the Runs
page (the run's own ``DataConfig``). Nothing here imports TensorFlow: the scan and the split
are plain Python (``core.data.loaded``).

Uploads (a zip, images per class) go into a new folder of the workspace
(``core.store.workspace.new_upload_dir``: owners only, it is the workspace's first write) and
fit the disk cap before anything is written, the folder included (``core.store.disk``). A new
upload that loads replaces the workspace's previous uploads
(``core.store.uploads.replace_uploads``); one that does not load is removed, so the previous
dataset stays usable.

Every dataset that becomes the session's (``choices.set_data``) is also recorded in the owner's
workspace (``core.store.datasets``), so a reload re-attaches it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.config.data import AugmentConfig, DataConfig
from core.data.class_images import add_class_images
from core.data.loaded import LoadedDataset, scan_and_split
from core.data.names import safe_name
from core.data.report import SkippedFile
from core.data.sample import ensure_sample_dataset
from core.data.scan import resolve_data_folder
from core.data.splits import split_dataset
from core.data.zipsafe import extract_zip
from core.errors import DataError
from core.store.access import require_owner
from core.store.datasets import sample_root
from core.store.disk import check_disk_room, upload_limits
from core.store.uploads import remove_upload, replace_uploads
from core.store.workspace import new_upload_dir
from ui import choices, session


def sample_folder() -> Path:
    """Returns where the generated sample dataset is kept (shared, read-only for visitors)."""
    return sample_root(session.get_settings())


def upload_folder(kind: str) -> Path:
    """Returns a new folder for an upload of this workspace, e.g. ``<data>/<ws>/zip-<time>``.

    Raises:
        ReadOnlyError: this session holds a read-only link.
    """
    return new_upload_dir(session.get_settings(), session.get_run_store(), kind)


def load_dataset(
    path: str, *, source: str, skipped: list[SkippedFile] | None = None
) -> LoadedDataset:
    """Scans ``path``, splits it with the default settings and makes it the session's dataset.

    Args:
        path: Folder with one sub-folder per class (or train/val/test folders).
        source: Short description for the status panels ("Sample dataset", "Zip: pets.zip").
        skipped: files refused before they reached the folder (e.g. uploads that are not
            images), listed with the scan's skipped files.

    Returns:
        The stored ``LoadedDataset``.

    Raises:
        DataError: if the folder holds no usable dataset (message for the user).
    """
    return load_data_spec(DataConfig(path=str(path)), source=source, skipped=skipped)


def load_data_spec(
    spec: DataConfig, *, source: str, skipped: list[SkippedFile] | None = None
) -> LoadedDataset:
    """Scans ``spec.path``, splits it with ``spec``'s settings and makes it the session's dataset.

    The spec is stored as given, so a re-run trains on exactly the settings of its run.

    Args:
        spec: Where the images are and how to split, resize and augment them.
        source: Short description for the status panels.
        skipped: files refused before they reached the folder (listed as skipped too).

    Raises:
        DataError: if the folder holds no usable dataset (message for the user).
    """
    state = scan_and_split(spec, source, skipped)
    choices.set_data(state)  # also recorded in the workspace, for a reload
    return state


def resplit(
    state: LoadedDataset,
    *,
    val_ratio: float,
    test_ratio: float,
    seed: int,
    resize_mode: str,
    augmentation: AugmentConfig,
) -> LoadedDataset:
    """Applies new split/augmentation settings to the loaded dataset without rescanning it."""
    from dataclasses import replace

    spec = replace(
        state.spec,
        val_ratio=val_ratio,
        test_ratio=test_ratio,
        seed=seed,
        resize_mode=resize_mode,
        augmentation=augmentation,
    )
    split = split_dataset(state.report, val_ratio, test_ratio, seed)
    new_state = LoadedDataset(spec=spec, report=state.report, split=split, source=state.source)
    choices.set_data(new_state)
    return new_state


def load_sample() -> LoadedDataset:
    """Generates (or reuses) the sample dataset and makes it the session's dataset.

    Raises:
        ReadOnlyError: a read-only link, which writes nothing (the shared sample included).
    """
    require_owner(session.get_run_store(), "loading the sample dataset")
    folder = ensure_sample_dataset(sample_folder())
    return load_dataset(str(folder), source="Sample dataset")


def load_zip(upload: Any) -> LoadedDataset:
    """Extracts an uploaded zip safely into this workspace's data folder and loads it.

    Args:
        upload: The ``UploadedFile`` (any binary file object with a ``name``).

    Raises:
        ReadOnlyError: a read-only link. DiskFullError: no room under the disk cap.
        DataError: an unsafe or too large zip, or no usable dataset in it.
    """
    require_owner(session.get_run_store(), "uploading a dataset")  # refused before the disk
    limits = upload_limits(session.get_settings())  # room first: a refusal writes nothing
    folder = upload_folder("zip")
    source = f"Zip: {getattr(upload, 'name', 'upload')}"
    return _load_upload(
        folder, lambda: load_dataset(str(extract_zip(upload, folder, limits)), source=source)
    )


def _load_upload(folder: Path, load: Callable[[], LoadedDataset]) -> LoadedDataset:
    """Runs ``load`` on a new upload folder: replaces older uploads, or removes the new one."""
    settings, store = session.get_settings(), session.get_run_store()
    try:
        state = load()
    except Exception:
        remove_upload(settings, store, folder)  # the previous dataset stays usable
        raise
    replace_uploads(settings, store, keep=Path(state.spec.path))
    return state


def load_class_uploads(uploads: list[tuple[str, list[Any]]]) -> LoadedDataset:
    """Writes images uploaded class by class into a new folder and loads it.

    Class and file names come from the visitor, so both go through ``safe_name`` (no path
    separators, no traversal, no reserved names) before touching the disk, and each file is
    decoded before it is written (``core.data.class_images``); refused files are listed under
    the skipped files with their reason.

    Args:
        uploads: (class name, uploaded files) pairs.

    Raises:
        DataError: on an unsafe or duplicate class name, or a class without usable images.
        ReadOnlyError: a read-only link. DiskFullError: no room under the disk cap.
    """
    names = [safe_name(name.strip()) for name, _ in uploads]
    if len({name.lower() for name in names}) != len(names):
        raise DataError("Two classes have the same name; give every class its own name.")
    for name, (_, files) in zip(names, uploads, strict=True):
        if not files:
            raise DataError(f"Class '{name}' has no images; add at least one.")
    require_owner(session.get_run_store(), "uploading a dataset")  # refused before the disk
    needed = sum(len(upload.getvalue()) for _, files in uploads for upload in files)
    check_disk_room(session.get_settings(), "this upload", needed_bytes=needed)  # writes nothing
    root = upload_folder("upload")
    source = f"Uploaded images ({len(names)} classes)"
    return _load_upload(root, lambda: _write_classes(root, names, uploads, source))


def _write_classes(
    root: Path, names: list[str], uploads: list[tuple[str, list[Any]]], source: str
) -> LoadedDataset:
    """Writes each class's decodable images into ``root`` and loads the result."""
    skipped: list[SkippedFile] = []
    for name, (_, files) in zip(names, uploads, strict=True):
        pairs = [(str(getattr(f, "name", f"image_{i}")), f.getvalue()) for i, f in enumerate(files)]
        added = add_class_images(root, name, pairs)
        skipped += [SkippedFile(f"{name}/{file}", reason) for file, reason in added.skipped]
        if not added.saved:
            file, reason = added.skipped[0]
            raise DataError(
                f"None of the images of class '{name}' can be used (e.g. '{file}': {reason})."
            )
    return load_dataset(str(root), source=source, skipped=skipped)


def load_server_folder(path: str) -> LoadedDataset:
    """Loads a server folder, refused unless it lies inside the allowed roots."""
    roots = session.get_settings().folder_source_roots
    folder = resolve_data_folder(path, roots)
    return load_dataset(str(folder), source=f"Server folder: {folder.name}")
