"""Data: choose where the images come from, check the report, set the split and augmentation."""

from __future__ import annotations

import streamlit as st

from ui import common, data_loading, data_widgets, session

SOURCES = ("Sample dataset", "Zip upload", "Upload per class", "Server folder")


def upload_limit_text() -> str:
    """Explains the upload size limit set in .streamlit/config.toml."""
    limit_mb = st.get_option("server.maxUploadSize")
    return (
        f"Files up to {limit_mb} MB each (server setting `server.maxUploadSize`). "
        "For a bigger dataset, upload a smaller sample, reduce image sizes, "
        "or ask the administrator to enable the server folder source."
    )


def load_from(kind: str, loader: object, *args: object, **kwargs: object) -> None:
    """Runs one source's loader inside a status box and reruns the page when it worked."""
    try:
        with st.status(f"Loading the {kind}...", expanded=False) as status:
            loader(*args, **kwargs)  # type: ignore[operator]
            status.update(label="Dataset loaded", state="complete")
    except Exception as error:
        common.show_error(error, f"loading the {kind}")
        return
    st.rerun()


def sample_source() -> None:
    """The built-in generated dataset: one click."""
    st.write("A small generated dataset, useful to try the studio end to end in a minute.")
    if st.button("Load the sample dataset", type="primary", key="data_sample"):
        load_from("sample dataset", data_loading.load_sample)


def zip_source() -> None:
    """A zip with one folder per class (or train/val/test folders)."""
    st.write("A zip with one folder per class, e.g. `cats/*.jpg`, `dogs/*.jpg`.")
    upload = st.file_uploader("Dataset zip", type=["zip"], key="data_zip")
    st.caption(upload_limit_text())
    if st.button("Load the zip", type="primary", key="data_zip_load", disabled=upload is None):
        load_from("zip", data_loading.load_zip, upload)


def class_upload_source() -> None:
    """Images uploaded class by class."""
    count = int(st.number_input("Number of classes", 2, 20, 2, key="data_class_count"))
    uploads: list[tuple[str, list[object]]] = []
    columns = st.columns(min(count, 4))
    for index in range(count):
        with columns[index % len(columns)]:
            name = st.text_input(f"Class {index + 1} name", f"class_{index + 1}", key=f"cn{index}")
            files = st.file_uploader(
                f"Images of class {index + 1}",
                type=["png", "jpg", "jpeg", "bmp", "gif", "webp"],
                accept_multiple_files=True,
                key=f"cf{index}",
            )
            uploads.append((name, list(files or [])))
    st.caption(upload_limit_text())
    ready = all(files for _, files in uploads)
    if st.button("Build the dataset", type="primary", key="data_cls_load", disabled=not ready):
        load_from("uploaded images", data_loading.load_class_uploads, uploads)


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
        load_from("server folder", data_loading.load_server_folder, path)


common.workspace_or_stop()
common.page_header(
    "1. Data",
    "Images sorted in one folder per class. The studio checks every file, splits them into "
    "training, validation and test sets, and shows what it found.",
)
with st.container(border=True):
    st.subheader("Source")
    choice = st.segmented_control(
        "Where are the images?", SOURCES, default=SOURCES[0], key="data_source"
    )
    {
        "Sample dataset": sample_source,
        "Zip upload": zip_source,
        "Upload per class": class_upload_source,
        "Server folder": folder_source,
    }.get(choice or SOURCES[0], sample_source)()

state = session.get_data()
if state is None:
    st.info("No dataset loaded yet. The sample dataset is the quickest way to start.")
    st.stop()
data_widgets.show_report(state)
state = data_widgets.split_form(state)
data_widgets.augmentation_section(state)
st.divider()
common.page_link("model", label="Next: choose a model", icon=":material/arrow_forward:")
