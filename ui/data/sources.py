"""The Data page's sources: the sample dataset, a zip, images per class and a server folder.

Each source shows its own widgets and hands what the visitor gave to ``ui.data.loading``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from ui import common, session
from ui.data import loading

SOURCES = ("Sample dataset", "Zip upload", "Upload per class", "Server folder")


def upload_limit_text() -> str:
    """Explains the upload size limit set in .streamlit/config.toml."""
    limit_mb = st.get_option("server.maxUploadSize")
    return (
        f"Files up to {limit_mb} MB each (server setting `server.maxUploadSize`). "
        "For a bigger dataset, upload a smaller sample, reduce image sizes, "
        "or ask the administrator to enable the server folder source."
    )


def load_from(kind: str, loader: Callable[..., Any], *args: Any) -> None:
    """Runs one source's loader inside a status box and reruns the page when it worked."""
    try:
        with st.status(f"Loading the {kind}...", expanded=False) as status:
            loader(*args)
            status.update(label="Dataset loaded", state="complete")
    except Exception as error:
        common.show_error(error, f"loading the {kind}")
        return
    st.rerun()


def sample_source() -> None:
    """The built-in generated dataset: one click."""
    st.write("A small generated dataset, useful to try the studio end to end in a minute.")
    if st.button("Load the sample dataset", type="primary", key="data_sample"):
        load_from("sample dataset", loading.load_sample)


def zip_source() -> None:
    """A zip with one folder per class (or train/val/test folders)."""
    st.write("A zip with one folder per class, e.g. `cats/*.jpg`, `dogs/*.jpg`.")
    upload = st.file_uploader("Dataset zip", type=["zip"], key="data_zip")
    st.caption(upload_limit_text())
    if st.button("Load the zip", type="primary", key="data_zip_load", disabled=upload is None):
        load_from("zip", loading.load_zip, upload)


def class_upload_source() -> None:
    """Images uploaded class by class."""
    count = int(st.number_input("Number of classes", 2, 20, 2, key="data_class_count"))
    uploads: list[tuple[str, list[Any]]] = []
    columns = st.columns(min(count, 4))
    for index in range(count):
        with columns[index % len(columns)]:
            name = st.text_input(f"Class {index + 1} name", f"class_{index + 1}", key=f"cn{index}")
            files = st.file_uploader(
                f"Images of class {index + 1}",
                type=common.image_upload_types(),
                accept_multiple_files=True,
                key=f"cf{index}",
            )
            uploads.append((name, list(files or [])))
    st.caption(upload_limit_text())
    ready = all(files for _, files in uploads)
    if st.button("Build the dataset", type="primary", key="data_cls_load", disabled=not ready):
        load_from("uploaded images", loading.load_class_uploads, uploads)


def folder_source() -> None:
    """A folder on the server, only inside the roots the administrator allowed."""
    roots = session.get_settings().folder_source_roots
    if not roots:
        st.info(
            "The server folder source is turned off: it would let any visitor read the "
            "server's disk. An administrator can allow some folders with the environment "
            "variable `STUDIO_DATA_ROOTS` (folders separated by `:`).",
            icon=":material/lock:",
        )
        return
    st.write("Allowed folders: " + ", ".join(f"`{root}`" for root in roots))
    path = st.text_input("Folder on the server", key="data_folder_path")
    if st.button("Load the folder", type="primary", key="data_folder_load", disabled=not path):
        load_from("server folder", loading.load_server_folder, path)


_SHOW_SOURCE: dict[str, Callable[[], None]] = {
    "Sample dataset": sample_source,
    "Zip upload": zip_source,
    "Upload per class": class_upload_source,
    "Server folder": folder_source,
}


def source_picker() -> None:
    """The choice of source and that source's widgets."""
    choice = st.segmented_control(
        "Where are the images?", SOURCES, default=SOURCES[0], key="data_source"
    )
    _SHOW_SOURCE.get(choice or SOURCES[0], sample_source)()
