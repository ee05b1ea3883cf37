"""Widgets of the Data page: the dataset report, the split form, the augmentation preview."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import streamlit as st

from core.config.data import RESIZE_MODES, AugmentConfig
from core.data import charts as data_charts
from core.data.checks import check_validation_split
from core.data.images import load_image
from core.data.loaded import LoadedDataset
from core.errors import DataError
from core.jobs.find import find_job
from core.store.answers import answer_files, read_answer
from ui import choices, common, jobs, session
from ui.data import loading

THUMBS_PER_CLASS = 6
THUMB_SIZE = 96
PREVIEW_COUNT = 8
PREVIEW_SIZE = 160  # side the previewed image is decoded at
PREVIEW_KIND = "augment_preview"


@st.cache_data(show_spinner=False, max_entries=512)
def thumbnail(path: str, size: int = THUMB_SIZE) -> np.ndarray | None:
    """Returns a small RGB thumbnail of an image file, or None when it cannot be read."""
    try:
        image = load_image(Path(path))
    except ValueError:
        return None
    image.thumbnail((size, size))
    return np.asarray(image)


def show_report(state: LoadedDataset) -> None:
    """Shows what the scan found: counts per class and split, thumbnails, skipped files."""
    report, split = state.report, state.split
    st.subheader("Report")
    st.caption(f"Source: {common.escape_markdown(state.source)}")
    columns = st.columns(4)
    columns[0].metric("Classes", len(report.classes))
    columns[1].metric("Images", len(report.records))
    columns[2].metric("Skipped files", len(report.skipped))
    columns[3].metric(
        "Train / val / test", f"{len(split.train)} / {len(split.val)} / {len(split.test)}"
    )
    show_validation_problem(state)
    for warning in report.warnings:  # sentences that name the user's classes and files
        st.warning(common.escape_markdown(warning), icon=":material/warning:")
    st.plotly_chart(
        data_charts.counts_figure(split.counts(), title="Images per class and split"),
        key="data_counts_chart",
        width="stretch",
    )
    with st.expander("Thumbnails per class", expanded=True):
        show_thumbnails(state)
    if report.skipped:
        with st.expander(f"Skipped files ({len(report.skipped)})"):
            # The path inside the dataset (or the zip), e.g. "data/CON/1.png": a table shows
            # it as plain text.
            st.dataframe(
                [{"file": report.relative(s.path), "reason": s.reason} for s in report.skipped],
                width="stretch",
                hide_index=True,
            )


def show_validation_problem(state: LoadedDataset) -> bool:
    """Shows why the split cannot be trained on (no validation image); True when it is usable.

    Start on the Train page refuses the same split with the same sentence.
    """
    try:
        check_validation_split(state.report, state.split, state.spec.val_ratio)
    except DataError as error:
        common.show_error(error)
        return False
    return True


def show_thumbnails(state: LoadedDataset) -> None:
    """Shows the first few images of every class in a row."""
    by_class: dict[str, list[str]] = {name: [] for name in state.report.classes}
    for record in state.report.records:
        paths = by_class.setdefault(record.label, [])
        if len(paths) < THUMBS_PER_CLASS:
            paths.append(str(record.path))
    for name, paths in by_class.items():
        st.markdown(f"**{common.escape_markdown(name)}**")
        images = [image for image in (thumbnail(p) for p in paths) if image is not None]
        if images:
            st.image(images, width=THUMB_SIZE)


def split_form(state: LoadedDataset) -> LoadedDataset:
    """The split ratios, seed and resize mode; returns the (possibly re-split) dataset."""
    spec = state.spec
    with st.form("data_split_form"):
        st.subheader("Split and resize")
        if state.report.given_splits:
            st.info("The dataset has its own train/val/test folders, so the ratios are unused.")
        left, mid, right = st.columns(3)
        val = left.slider("Validation share", 0.0, 0.5, float(spec.val_ratio), 0.05)
        test = mid.slider("Test share", 0.0, 0.5, float(spec.test_ratio), 0.05)
        seed = int(right.number_input("Seed", 0, 2**31 - 1, int(spec.seed)))
        mode = st.radio(
            "How to make images square",
            RESIZE_MODES,
            index=RESIZE_MODES.index(spec.resize_mode),
            horizontal=True,
            help="stretch: squash to a square; crop: keep the center; pad: add black bars.",
        )
        if st.form_submit_button("Apply split"):
            try:
                loading.resplit(
                    state,
                    val_ratio=val,
                    test_ratio=test,
                    seed=seed,
                    resize_mode=mode,
                    augmentation=spec.augmentation,
                )
            except ValueError as error:
                common.show_error(error)
            else:
                st.rerun()  # the report above shows the new counts
    return state


def augmentation_widgets(current: AugmentConfig) -> dict[str, bool | float]:
    """Shows the augmentation controls (outside a form, so the preview follows each change)."""
    left, right = st.columns(2)
    return {
        "flip_horizontal": left.checkbox("Flip left-right", current.flip_horizontal),
        "flip_vertical": left.checkbox("Flip top-bottom", current.flip_vertical),
        "rotation": left.slider("Rotation (degrees)", 0.0, 180.0, float(current.rotation), 5.0),
        "translation": left.slider("Shift", 0.0, 0.5, float(current.translation), 0.05),
        "zoom": right.slider("Zoom", 0.0, 0.9, float(current.zoom), 0.05),
        "contrast": right.slider("Contrast", 0.0, 1.0, float(current.contrast), 0.05),
        "brightness": right.slider("Brightness", 0.0, 1.0, float(current.brightness), 0.05),
    }


def augmentation_section(state: LoadedDataset) -> None:
    """Augmentation settings with a live preview grid of augmented training images."""
    st.subheader("Augmentation")
    st.caption(
        "Random changes applied to training images only, so the model sees more variety. "
        "On by default: a left-right flip and a small rotation, which helps most photos. With a "
        "frozen backbone the studio caches 3 augmented views of each image, so training stays "
        "fast. Turn them off for images whose orientation matters (text, digits, charts)."
    )
    with st.container(border=True):
        try:
            augment = AugmentConfig(**augmentation_widgets(state.spec.augmentation))  # type: ignore[arg-type]
        except ValueError as error:
            common.show_error(error)
            return
    if augment != state.spec.augmentation:
        choices.set_data(replace(state, spec=replace(state.spec, augmentation=augment)))
    if not augment.enabled or not state.split.train:
        st.caption("Turn on an augmentation to see a preview.")
        return
    show_preview(state.split.train[0][0], augment, state.spec.seed)


def show_preview(path: str, augment: AugmentConfig, seed: int) -> None:
    """``PREVIEW_COUNT`` random augmentations of one training image, on request.

    Drawn by a worker (the ``augment_preview`` job: Keras's own random layers, the training
    augmentation) and stored per image, settings and seed, so this process never imports
    TensorFlow and a preview once drawn shows at once for every visitor.
    """
    settings, store = session.get_settings(), session.get_run_store()
    params = {"image": str(path), "augment": augment.to_dict(), "seed": int(seed),
              "count": PREVIEW_COUNT, "size": PREVIEW_SIZE}  # fmt: skip
    answer = read_answer(settings, PREVIEW_KIND, params)
    if answer is None:
        jobs.job_panel(
            find_job(jobs.runner(), store, PREVIEW_KIND, params),
            label="Drawing augmented examples",
            button="Show augmented examples",
            key="data_preview",
            start=lambda: jobs.runner().submit(PREVIEW_KIND, store, None, params),
            icon=":material/photo_library:",
            again_when_finished=True,
        )
        answer = read_answer(settings, PREVIEW_KIND, params)
        if answer is None:
            return
    folder = answer_files(settings, PREVIEW_KIND, params)
    st.image(
        [str(folder / name) for name in answer["files"]],
        width=120,
        caption=[f"view {i + 1}" for i in range(len(answer["files"]))],
    )
