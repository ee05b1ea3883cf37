"""The Data page's duplicates check: near-duplicate pairs, leaks across splits, one-click dedupe.

The check is a ``dataset_duplicates`` job (``core.jobs.kinds.dataset_duplicates``) in a worker
process, so a big dataset never holds up the web server. The job is found again by its
parameters (the dataset folder and its split settings), so a reload re-attaches to it, and a
result of an earlier split is never shown for the current one.

"Remove duplicates" keeps one image of each group (the one in train first, so a held-out copy
of a training image goes) in a NEW dataset version inside the workspace's data folder
(``core.data.near_duplicates.write_deduplicated_version``: hard links, original untouched),
and makes that version the workspace's dataset (recorded on the server, so a reload finds it).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import streamlit as st

from core.data.loaded import LoadedDataset
from core.data.near_duplicates import (
    DuplicatePair,
    DuplicateReport,
    dedupe_removals,
    write_deduplicated_version,
)
from core.jobs.find import find_job
from core.jobs.kinds.dataset_duplicates import DuplicatesResult
from core.jobs.snapshot import JobStatus
from core.store.uploads import remove_upload
from core.store.versions import new_version_dir
from ui import common, jobs, session
from ui.data import loading, widgets

KIND = "dataset_duplicates"
MAX_SHOWN_PAIRS = 12
HASH_BITS = 64
_NOTE_KEY = "data.dedupe_note"
_SUFFIX = " (deduplicated)"


def check_params(state: LoadedDataset) -> dict[str, Any]:
    """The job's parameters: the dataset folder and its split settings (the pairs depend on)."""
    spec = state.spec
    data = {"path": spec.path, "val_ratio": spec.val_ratio, "test_ratio": spec.test_ratio}
    return {"data": {**data, "seed": spec.seed}}


def current_job(state: LoadedDataset) -> JobStatus | None:
    """The newest duplicates check of this dataset and split, or None."""
    return find_job(jobs.runner(), session.get_run_store(), KIND, check_params(state))


def section(state: LoadedDataset) -> None:
    """The "Duplicates and leaks" box: check, progress, pairs, and the dedupe button."""
    st.subheader("Duplicates and leaks")
    st.caption(
        "The same picture twice (a copy, a resized or recompressed one) teaches nothing new; "
        "when the copies are in different splits it is a leak: the model is scored on an "
        "image it trained on, and the scores look better than they are. Check before training."
    )
    note = st.session_state.pop(_NOTE_KEY, None)
    if note:
        st.success(common.escape_markdown(note), icon=":material/check_circle:")
    if not session.is_owner():
        st.caption("Checking for duplicates is for the workspace's owner.")
        return
    job = jobs.job_panel(
        current_job(state), label="Checking for duplicates",
        button="Check for duplicates and leaks", key="data_duplicates",
        start=lambda: jobs.submit(KIND, None, check_params(state)),
        icon=":material/content_copy:", again_when_finished=True,
    )  # fmt: skip
    if job is not None and job.result is not None:
        show_result(state, DuplicatesResult.from_dict(job.result), job.job_id)


def show_result(state: LoadedDataset, result: DuplicatesResult, job_id: str) -> None:
    """The counts, the closest pairs side by side, every pair as a table, and the dedupe.

    Each pair shown has a "same picture" tick (on by default): a pair the visitor unticks
    (two different pictures that happen to hash alike) is left out of the dedupe.
    """
    try:
        pairs = result.duplicate_pairs()
    except ValueError as error:
        common.show_error(error)
        return
    leaks = sum(pair.leak for pair in pairs)
    images = result.images or 0
    if not pairs:
        st.success(f"No near-duplicates among the {images} images.", icon=":material/check:")
        return
    plural = "s" if len(pairs) != 1 else ""
    summary = f"{len(pairs)} near-duplicate pair{plural} among {images} images"
    if leaks:
        st.warning(f"{summary}, {leaks} of them across splits (leaks).", icon=":material/warning:")
    else:
        st.info(f"{summary}, all within one split (no leak).", icon=":material/info:")
    root = Path(state.report.root)
    same = [
        show_pair(root, pair, f"{job_id}_{n}") for n, pair in enumerate(pairs[:MAX_SHOWN_PAIRS])
    ]
    chosen = [pair for n, pair in enumerate(pairs) if n >= len(same) or same[n]]
    with st.expander(f"Every pair ({len(pairs)})", expanded=len(pairs) > MAX_SHOWN_PAIRS):
        st.dataframe(pair_rows(pairs), hide_index=True, width="stretch", key="data_dup_table")
    dedupe_button(state, chosen, images)


def similarity(pair: DuplicatePair) -> float:
    """How alike the two images are, 0..1: the feature cosine if known, else the hash bits."""
    if pair.cosine is not None:
        return float(pair.cosine)
    return 1.0 - pair.hash_distance / HASH_BITS


def pair_rows(pairs: list[DuplicatePair]) -> list[dict[str, Any]]:
    """One table row per pair (a table shows names as plain text)."""
    return [
        {
            "first image": pair.first,
            "its split": pair.first_split,
            "second image": pair.second,
            "split of the second": pair.second_split,
            "similarity": f"{similarity(pair):.0%}",
            "same file": "yes" if pair.exact else "",
            "leak": "LEAK" if pair.leak else "",
        }
        for pair in pairs
    ]


def _image_path(root: Path, relative: str) -> str | None:
    """The image's file, only when it lies inside the dataset folder."""
    path = root / relative
    try:
        inside = path.resolve().is_relative_to(root.resolve())
    except (OSError, ValueError):
        return None
    return str(path) if inside and path.is_file() else None


def show_pair(root: Path, pair: DuplicatePair, key: str) -> bool:
    """Both images side by side (split, class, file name), leak or not, how alike.

    Returns:
        The pair's "same picture" tick: False when the visitor says they differ.
    """
    with st.container(border=True):
        columns = st.columns([1, 1, 2])
        sides = (
            (pair.first, pair.first_split, pair.first_label),
            (pair.second, pair.second_split, pair.second_label),
        )
        for column, (relative, split, label) in zip(columns, sides, strict=False):
            path = _image_path(root, relative)
            image = widgets.thumbnail(path) if path else None
            if image is not None:
                column.image(image, width=widgets.THUMB_SIZE)
            column.caption(
                f"{split} · {common.escape_markdown(label)} · "
                f"{common.escape_markdown(Path(relative).name)}"
            )
        facts = columns[2]
        if pair.leak:
            facts.warning(
                f"Leak: one copy in {pair.first_split}, the other in {pair.second_split}.",
                icon=":material/warning:",
            )
        else:
            facts.caption(f"Both in {pair.first_split}.")
        how = (
            "the same file"
            if pair.exact
            else f"{pair.hash_distance} of {HASH_BITS} hash bits differ"
        )
        facts.caption(f"Similarity {similarity(pair):.0%} ({how}).")
        return facts.checkbox("The same picture: remove one", True, key=f"data_dup_same_{key}")


def dedupe_button(state: LoadedDataset, pairs: list[DuplicatePair], images: int) -> None:
    """The "Remove duplicates" button: write the deduplicated version and switch to it."""
    removed = len(dedupe_removals(pairs))
    if not removed:
        st.caption("Every pair is unticked: nothing to remove.")
        return
    images_word = "image" if removed == 1 else "images"
    st.caption(
        "Remove duplicates keeps one image of each group in a new version of the dataset "
        f"({removed} {images_word} left out; a training copy is kept before a held-out one). "
        "Untick a pair above that shows two different pictures. The original images stay "
        "as they are."
    )
    if st.button("Remove duplicates", key="data_dedupe", type="primary", icon=":material/delete:"):
        try:
            with st.spinner("Writing the deduplicated dataset..."):
                deduplicate(state, pairs, images)
        except Exception as error:
            common.show_error(error, "removing the duplicates")
            return
        st.session_state[_NOTE_KEY] = (
            f"Removed {removed} duplicate {images_word}. The workspace now uses the deduplicated "
            "version; the original dataset is unchanged."
        )
        st.rerun()


def deduplicate(state: LoadedDataset, pairs: list[DuplicatePair], images: int) -> LoadedDataset:
    """Writes the deduplicated version into the workspace and makes it the dataset.

    Raises:
        ReadOnlyError: a read-only link. VersionLimitError: the workspace holds as many
            versions as it may. DiskFullError: no room under the disk cap.
        ValueError: no training image would be left, or a pair names an unknown image.
    """
    settings, store = session.get_settings(), session.get_run_store()
    dest = new_version_dir(settings, store, "the deduplicated dataset")  # refusals come first
    root = state.report.root
    report = DuplicateReport(pairs, images, False, str(root))
    folder = write_deduplicated_version(state.split, root, report, dest)
    source = state.source if state.source.endswith(_SUFFIX) else state.source + _SUFFIX
    try:
        return loading.load_data_spec(replace(state.spec, path=str(folder)), source=source)
    except Exception:
        remove_upload(settings, store, dest)  # the current dataset stays in use
        raise
