"""The Runs page's export: an export job with its parity check, its report, the bundle download.

The export runs in a worker process (``ui.jobs``); the page polls it while it works and shows
its report from the job's result afterwards (also after a reload). Only the owner exports; a
read-only link downloads a bundle the owner already made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from core.export.exporter import EXPORT_FORMATS
from core.export.parity import parity_verdict
from core.export.report import ExportReport
from core.jobs.kinds.export import report_from_result
from core.store.access import require_owner
from core.store.runs import RunRecord
from core.store.workspace import export_dir
from ui import common, jobs, session

if TYPE_CHECKING:
    from pathlib import Path


def bundle_path(record: RunRecord) -> Path:
    """Where the run's export bundle is (or would be) kept."""
    folder = export_dir(session.get_settings(), session.get_run_store(), record.run_id)
    return folder / f"{record.path.name}_export.zip"


def export(record: RunRecord, formats: list[str], quantise: bool) -> str:
    """Queues the run's export with a parity check (owner only); returns the job id.

    The export runs in a worker process (TensorFlow's memory leaves with it); the runner
    refuses it when the disk cap leaves no room.

    Raises:
        ReadOnlyError: a read-only link. DiskFullError: no room under the disk cap.
    """
    require_owner(session.workspace_access(), "exporting a model")
    return jobs.submit("export", record.run_id, {"formats": formats, "quantise": quantise})


def show_export(record: RunRecord) -> None:
    """The export form, the running export (polled) and the last export's report."""
    with st.form("runs_export_form"):
        formats = st.multiselect("Formats", EXPORT_FORMATS, default=list(EXPORT_FORMATS))
        quantise = st.checkbox("Also a quantised TFLite model (about 4x smaller)")
        go = st.form_submit_button("Export and check", icon=":material/package_2:")
    if go:
        export(record, formats, quantise)
    job = jobs.latest(record.run_id, "export")  # also after a reload: the newest export
    if job is None:
        return
    if not job.done:
        st.caption("Exporting and checking each file against the app, in a separate process.")
        jobs.watch(job.job_id, record.run_id, "Export", "runs_export")
    elif job.state == "finished" and job.result is not None:
        show_export_report(report_from_result(job.result))
    else:
        jobs.show_ended(job, "The export")


def show_export_report(report: ExportReport) -> None:
    """The parity table, the quantised model's agreement, warnings and the bundle download."""
    st.write(f"Checked on {report.parity_images} {report.parity_source}:")
    st.dataframe(
        [
            {"format": name, "max |Δp| vs app": f"{diff:.2e}"}
            for name, diff in report.parity.items()
        ],
        hide_index=True,
        key="runs_parity",
    )
    passed, verdict = parity_verdict(report.parity)
    (st.success if passed else st.error)(common.escape_markdown(verdict))
    if report.quantised:
        q = report.quantised
        st.caption(
            f"Quantised TFLite: accuracy {q['accuracy']} (float {q['float_accuracy']}), "
            f"same top-1 answer on {q['top1_agreement']:.0%} of the images."
        )
    for warning in report.warnings:
        st.warning(common.escape_markdown(warning))
    if report.bundle and report.bundle.is_file():
        download_bundle(report.bundle)


def download_bundle(bundle: Path) -> None:
    """The download button of an export bundle."""
    st.download_button(
        "Download the export bundle (.zip)",
        bundle.read_bytes,  # read when clicked: no bundle is held in memory per rerun
        bundle.name,
        "application/zip",
        key="runs_bundle_download",
    )
