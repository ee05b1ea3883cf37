"""Likely label errors on the Evaluate page: a gallery to fix them, and a one-click retrain.

"Find likely label errors" runs the ``label_issues`` analysis in a worker (cleanlab on
out-of-fold probabilities of a head on the run's cached features; ``ui.evaluate.analyses``).
Each flagged image shows its given label, the suggested one and its score, with a "Relabel
to..." choice and a "Remove" box. "Save corrected dataset" writes those decisions as a NEW
dataset version in the workspace's data folder (``core.evaluate.label_issues
.write_corrected_version``: the run's split kept, hard links, the original folder never
changed) and records where it is in the analysis job's folder, so a reload finds it again.
"Retrain on the corrected data" queues a run with the same config on that version.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from core.atomic import write_json_atomic
from core.evaluate.label_issues import one_click_editable, write_corrected_version
from core.jobs.kinds.analyse import LabelIssuesResult
from core.jobs.request import read_json
from core.jobs.snapshot import JobStatus
from core.store.access import require_owner
from core.store.versions import new_version_dir
from ui import common, jobs, session
from ui.evaluate import analyses

GALLERY_SIZE = 24
GALLERY_COLUMNS = 3
VERSION_RECORD = "corrected_version.json"  # in the label_issues job folder
KEEP = ""  # the "Relabel to..." option that keeps the label


def show_label_issues(run_dir: Path) -> None:
    """The button, the flagged images with their decisions, Save and Retrain."""
    st.subheader("Likely label errors")
    st.caption(
        "Images whose label is probably wrong, found by cleanlab from a head that never saw "
        "them. Relabel or remove them: a corrected copy of the dataset is saved as a new "
        "version, and the original folder is never changed."
    )
    job = analyses.panel(run_dir.name, "label_issues", "Find likely label errors", "eval_issues")
    if job is None or job.result is None:
        return
    result = LabelIssuesResult.from_dict(job.result)
    issues = list(result.issues or [])[:GALLERY_SIZE]
    count = result.issue_count if result.issue_count is not None else len(issues)
    if not issues:
        st.success(f"No likely label errors among {result.images or 0} images.")
        return
    st.write(f"{count} likely label error(s) among {result.images or 0} images.")
    st.caption(chance_text(count, int(result.chance_flags or 0)))
    if count > len(issues):
        st.caption(f"Showing the {len(issues)} most likely.")
    editable = session.is_owner()  # a read-only link sees the flags, and nothing to change them
    include_test = editable and st.toggle(
        "Also edit test images",
        value=False,
        key="eval_fix_include_test",
        help="Relabelling test images after looking at the mistakes fits the test to the "
        "model: its score stops being honest. Leave it off unless a test label is plainly wrong.",
    )
    relabel, remove = _gallery(job, issues, result.root or "", editable, include_test=include_test)
    if editable:
        _save(run_dir, job, relabel, remove)
        _retrain(run_dir, job)


def _classes(run_id: str) -> list[str]:
    """The run's class names (from its ``labels.json``)."""
    labels = session.get_run_store().load(run_id).labels or {}
    return [str(name) for name in labels.get("classes") or []]


def chance_text(count: int, expected: int) -> str:
    """How many flags chance alone would give, and what that says about ``count``."""
    base = (
        f"The probe is unsure enough to disagree with about {expected} of these images even "
        "if every label were right"
    )
    if count > 2 * max(expected, 1):
        return f"{base}: {count} flags is well above that, so most are likely real errors."
    return f"{base}: {count} flags is about what chance gives, so check each one before editing."


def _gallery(
    job: JobStatus,
    issues: list[dict[str, Any]],
    root: str,
    editable: bool,
    *,
    include_test: bool = False,
) -> tuple[dict[str, str], list[str]]:
    """Shows each issue (with its two choices when ``editable`` and ``one_click_editable``);
    returns (path -> new class, paths to remove)."""
    classes = _classes(job.run_id or "")
    relabel: dict[str, str] = {}
    remove: list[str] = []
    columns = st.columns(GALLERY_COLUMNS)
    for index, issue in enumerate(issues):
        key = f"eval_fix_{job.job_id}_{index}"
        with columns[index % GALLERY_COLUMNS]:
            image = Path(root, issue["path"])
            if root and image.is_file():
                st.image(str(image), width="stretch")
            else:
                st.caption("(this image is no longer on disk)")
            given, suggested = (
                common.escape_markdown(issue[k]) for k in ("given_label", "suggested_label")
            )
            st.caption(
                f"{common.escape_markdown(Path(issue['path']).name)}: labelled {given}, "
                f"looks like {suggested} ({issue['confidence']:.0%}); label score "
                f"{issue['label_quality']:.2f}"
            )
            if not editable:
                continue
            if not one_click_editable(issue, include_test):
                st.caption('Test image: kept as labelled (turn on "Also edit test images").')
                continue
            options = [KEEP, *(name for name in classes if name != issue["given_label"])]
            choice = st.selectbox(
                "Relabel to…",
                options,
                format_func=lambda name: name or "keep the label",  # plain text options
                key=f"{key}_label",
            )
            if st.checkbox("Remove", key=f"{key}_remove"):
                remove.append(issue["path"])
            elif choice:
                relabel[issue["path"]] = str(choice)
    return relabel, remove


def version_of(job: JobStatus) -> dict[str, Any] | None:
    """The corrected version saved from this analysis (folder and counts), if any."""
    record = read_json(job.folder / VERSION_RECORD)
    return record if isinstance(record, dict) and record.get("images") else None


def save_version(run_dir: Path, job: JobStatus, relabel: dict[str, str], remove: list[str]) -> Path:
    """Writes the corrected dataset version in the workspace; returns its dataset folder.

    Raises:
        ReadOnlyError: a read-only link. VersionLimitError: the workspace holds as many
            versions as it may. DiskFullError: no room under the disk cap. ValueError: a
            decision names an unknown image or class, or nothing would be left to train on.
    """
    settings, store = session.get_settings(), session.get_run_store()
    dest = new_version_dir(settings, store, "the corrected dataset")  # nothing written if refused
    images = write_corrected_version(run_dir, dest, relabel=relabel, remove=remove)
    record = {"images": str(images), "relabelled": len(relabel), "removed": len(remove)}
    write_json_atomic(job.folder / VERSION_RECORD, record)
    return images


def _save(run_dir: Path, job: JobStatus, relabel: dict[str, str], remove: list[str]) -> None:
    """The Save button (enabled once something is relabelled or removed)."""
    if st.button(
        "Save corrected dataset",
        key="eval_fix_save",
        icon=":material/save:",
        disabled=not (relabel or remove),
    ):
        try:
            save_version(run_dir, job, relabel, remove)
        except Exception as error:
            common.show_error(error, "saving the corrected dataset")


def retrain(run_dir: Path, images: Path) -> str:
    """Queues a run with the run's config on the corrected version; returns its id.

    Raises:
        ReadOnlyError: a read-only link. DiskFullError: no room under the disk cap.
    """
    from dataclasses import replace

    store = session.get_run_store()
    require_owner(store, "retraining a run")
    config = store.load(run_dir.name).config
    name = f"{config.name or run_dir.name} (corrected labels)"[:120]
    corrected = replace(config, data=replace(config.data, path=str(images)), name=name)
    return jobs.runner().submit_training(store, corrected)


def _retrain(run_dir: Path, job: JobStatus) -> None:
    """What was saved, and the Retrain button (opens the Train page on the new run)."""
    version = version_of(job)
    if version is None:
        return
    st.success(
        f"Saved a corrected copy of the dataset: {version['relabelled']} relabelled, "
        f"{version['removed']} removed. The original folder is unchanged.",
        icon=":material/check_circle:",
    )
    if not st.button("Retrain on the corrected data", key="eval_fix_retrain", type="primary"):
        return
    try:
        run_id = retrain(run_dir, Path(version["images"]))
    except Exception as error:
        common.show_error(error, "starting the retrain")
        return
    session.set_current_run(run_id)
    common.switch_page("train")
