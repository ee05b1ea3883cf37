"""A workspace's current dataset, recorded on the server so that a reload finds it again.

A browser reload starts a new Streamlit session with empty session state, and another device
opening the same ``?ws=`` link has none either. So the owner's current dataset choice is kept
in the workspace folder (``<runs_dir>/ws-<digest>/.dataset.json``, written atomically) and the
UI re-attaches it when a session starts without a dataset.

The record never holds a path a visitor could choose: it names the dataset folder RELATIVE to
a place the server controls, by kind:

- ``upload``: inside one of the workspace's own uploads (``core.store.uploads``);
- ``sample``: inside the shared folder of the generated sample (``sample_root``);
- ``server``: a server folder, checked again against ``Settings.folder_source_roots``.

Reading it resolves the folder again and refuses anything that lands outside its place
(``..``, absolute paths, links out), a folder that is gone (e.g. an upload that the idle policy
removed), or settings that no longer validate: each gives ``None``, never an error. Only the
owner writes the record; a read-only link (``?view=``) never re-attaches the owner's dataset,
which may be private photos (it shows runs and their results only).
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from core.atomic import read_json_object, write_json_atomic
from core.config.data import DataConfig
from core.config.settings import Settings
from core.data.names import UPLOAD_NAME
from core.data.scan import resolve_data_folder
from core.errors import StudioError
from core.store.access import is_read_only, require_owner
from core.store.runs import RunStore
from core.store.uploads import workspace_data_dir
from core.store.workspace import mark_written

DATASET_RECORD = ".dataset.json"
SAMPLE_FOLDER = "_sample"  # the generated sample, under Settings.data_dir (shared by everyone)
RECORD_VERSION = 1
KINDS = ("upload", "sample", "server")


@dataclass(frozen=True)
class StoredDataset:
    """A workspace's recorded dataset, its folder resolved and checked.

    Attributes:
        spec: the dataset settings, ``spec.path`` being the resolved folder.
        source: the short description the status panels show ("Zip: pets.zip").
        kind: ``"upload"``, ``"sample"`` or ``"server"``.
    """

    spec: DataConfig
    source: str
    kind: str


def sample_root(settings: Settings) -> Path:
    """Where the generated sample dataset is kept (``<data_dir>/_sample``)."""
    return Path(settings.data_dir) / SAMPLE_FOLDER


def record_path(store: RunStore) -> Path:
    """The workspace's dataset record file."""
    return store.root / DATASET_RECORD


def _inside(path: Path, root: Path) -> PurePosixPath | None:
    """``path`` relative to ``root`` (both resolved), or None when it lies outside."""
    with contextlib.suppress(OSError, ValueError):
        return PurePosixPath(path.resolve().relative_to(root.resolve()).as_posix())
    return None


def _locate(settings: Settings, store: RunStore, folder: Path) -> tuple[str, str] | None:
    """The (kind, folder) a record names ``folder`` by, or None when it cannot be recorded."""
    relative = _inside(folder, workspace_data_dir(settings, store.root.name))
    if relative is not None and relative.parts and UPLOAD_NAME.fullmatch(relative.parts[0]):
        return "upload", str(relative)
    relative = _inside(folder, sample_root(settings))
    if relative is not None and relative.parts:
        return "sample", str(relative)
    with contextlib.suppress(StudioError, OSError, ValueError):
        return "server", str(resolve_data_folder(folder, settings.folder_source_roots))
    return None


def save_dataset(settings: Settings, store: RunStore, spec: DataConfig, source: str) -> bool:
    """Records ``spec`` as the workspace's current dataset (only when it changed).

    A folder outside every known place (see the module docstring) cannot be re-attached
    safely: the old record is removed instead, so a reload never brings back an older dataset.

    Args:
        settings: where the data folders are.
        store: the OWNER's store of the workspace.
        spec: the dataset folder and its split, resize and augmentation settings.
        source: the short description for the status panels.

    Returns:
        True when the dataset is recorded, False when it cannot be (the record is removed).

    Raises:
        ReadOnlyError: ``store`` belongs to a read-only link.
    """
    require_owner(store, "choosing a dataset")
    located = _locate(settings, store, Path(spec.path))
    if located is None:
        clear_dataset(store)
        return False
    kind, folder = located
    settings_only = {key: value for key, value in spec.to_dict().items() if key != "path"}
    record = {
        "version": RECORD_VERSION,
        "kind": kind,
        "folder": folder,
        "source": source,
        "spec": settings_only,
    }
    if read_json_object(record_path(store)) != json.loads(json.dumps(record)):  # as read back
        mark_written(store.root)  # may be the workspace's first write
        write_json_atomic(record_path(store), record)
    return True


def clear_dataset(store: RunStore) -> None:
    """Forgets the workspace's dataset (owner only; the data itself is not touched).

    Raises:
        ReadOnlyError: ``store`` belongs to a read-only link.
    """
    require_owner(store, "choosing a dataset")
    record_path(store).unlink(missing_ok=True)


def _resolve(settings: Settings, store: RunStore, kind: str, folder: str) -> Path | None:
    """The recorded folder, resolved, when it is still inside its place and exists."""
    if kind == "server":
        with contextlib.suppress(StudioError, OSError, ValueError):
            return resolve_data_folder(folder, settings.folder_source_roots)
        return None
    relative = PurePosixPath(folder)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts or "\x00" in folder:
        return None
    if kind == "upload":
        if not UPLOAD_NAME.fullmatch(relative.parts[0]):
            return None
        root = workspace_data_dir(settings, store.root.name)
    else:
        root = sample_root(settings)
    path = root.joinpath(*relative.parts)
    # A link inside the folder could still point elsewhere: check where it really lands.
    if _inside(path, root) is None or not path.is_dir():
        return None
    return path.resolve()


def stored_dataset(settings: Settings, store: RunStore) -> StoredDataset | None:
    """Returns the workspace's recorded dataset, or None (see the module docstring).

    A read-only link's store always gets None: the owner's data stays with the owner.
    """
    if is_read_only(store):
        return None
    record = read_json_object(record_path(store))
    if record is None or record.get("version") != RECORD_VERSION:
        return None
    kind, folder, source = record.get("kind"), record.get("folder"), record.get("source")
    spec = record.get("spec")
    if kind not in KINDS or not isinstance(folder, str) or not isinstance(spec, dict):
        return None
    path = _resolve(settings, store, str(kind), folder)
    if path is None or "path" in spec:
        return None
    try:
        data_spec = DataConfig.from_dict({**spec, "path": str(path)})
    except (ValueError, TypeError):  # settings that no longer validate: not re-attached
        return None
    return StoredDataset(data_spec, source if isinstance(source, str) else "Dataset", str(kind))
