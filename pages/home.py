"""Home: what the studio does, the steps, the sample-dataset shortcut, and the session status.

This page must stay fast: it never imports TensorFlow (bench/app_startup.py measures it).
"""

from __future__ import annotations

import streamlit as st

from ui import common, session

STEPS = (
    ("data", "Bring images in folders, one folder per class (a zip, uploads, or the sample)."),
    ("model", "Pick a pretrained backbone, where to cut it, the head to put on top."),
    ("train", "Train with live loss and accuracy curves; stop any time."),
    ("evaluate", "See accuracy, the confusion matrix and the mistakes on held-out images."),
    ("predict", "Classify new images and download the trained model."),
)


def load_sample_dataset() -> None:
    """Generates (or reuses) the sample dataset, loads it, and goes to the Data page."""
    from ui.data_loading import load_dataset, sample_folder  # engine imports only on click

    try:
        with st.status("Preparing the sample dataset...", expanded=False) as status:
            from core.data.sample import ensure_sample_dataset

            folder = ensure_sample_dataset(sample_folder())
            status.update(label="Scanning the images...")
            load_dataset(str(folder), source="Sample dataset")
            status.update(label="Sample dataset loaded", state="complete")
    except Exception as error:
        common.show_error(error, "loading the sample dataset")
        return
    common.switch_page("data")


def show_status() -> None:
    """Shows what this session has done so far, with links to the next step."""
    summary = session.status_summary()
    data_text = (
        f"{summary['data']}: {summary['images']} images, {summary['classes']} classes"
        if summary["data"]
        else "not loaded"
    )
    columns = st.columns(3)
    columns[0].metric("Data", "ready" if summary["data"] else "missing", help=data_text)
    columns[0].caption(data_text)
    columns[1].metric("Model", summary["model"] or "default", help="Chosen on the Model page")
    columns[1].caption("confirmed" if summary["model"] else "not confirmed yet")
    columns[2].metric("Run", "watching" if summary["run"] else "none")
    columns[2].caption(summary["run"] or "no run started in this session")
    if not summary["data"]:
        common.page_link("data", label="Next: load data")
    elif not summary["model"]:
        common.page_link("model", label="Next: choose a model")
    else:
        common.page_link("train", label="Next: train")


common.workspace_or_stop()
common.page_header(
    "Transfer-learning studio",
    "Train an image classifier on your own pictures by reusing a network pretrained on "
    "ImageNet. No code needed; every step explains itself.",
)
left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader("How it works")
    for number, (page, text) in enumerate(STEPS, start=1):
        title = common.PAGES[page][1]
        st.markdown(f"**{number}. {title}** — {text}")
with right, st.container(border=True):
    st.subheader("New here?")
    st.write(
        "Load a small generated dataset of shapes and go straight to the next step. "
        "A 2-epoch run on it takes a minute or two on a laptop CPU."
    )
    if st.button("Try it with the sample dataset", type="primary", key="home_sample"):
        load_sample_dataset()
st.divider()
st.subheader("This session")
show_status()
if not session.get_settings().shared_workspace:
    st.caption(
        "Your runs are kept in a private workspace named in the address bar (`ws=`). "
        "Bookmark the page to come back to them; anyone with the link can see them."
    )
