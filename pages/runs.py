"""Runs: every run of this workspace; compare several, re-run, delete, download and export.

Table rows, the overlay chart and the config diff come from ``core.evaluate.compare``; the export
with its parity check from ``core.export.exporter``. Only runs of the visitor's own workspace are
listed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from ui import common, session

common.workspace_or_stop()
common.page_header(
    "Runs",
    "All runs of this workspace: compare them, run one again, download or delete it.",
)

CURVE_METRICS = ("val_accuracy", "accuracy", "val_loss", "loss")


def load_records() -> list[Any]:
    """Every run of this workspace, newest first."""
    store = session.get_run_store()
    return [store.load(run_id) for run_id in reversed(store.run_ids())]


def label_of(record: Any) -> str:
    return f"{record.config.name or record.run_id} ({record.status})"


def show_comparison(records: list[Any]) -> None:
    """Overlay curves and the highlighted config diff of the chosen runs."""
    import pandas as pd

    from core.evaluate.compare import config_diff, overlay_figure

    by_id = {record.run_id: record for record in records}
    chosen = st.multiselect(
        "Compare runs",
        list(by_id),
        default=list(by_id)[:2],
        format_func=lambda run_id: label_of(by_id[run_id]),
        key="runs_compare",
    )
    if not chosen:
        return
    metric = st.selectbox("Curve", CURVE_METRICS, key="runs_metric")
    selected = [by_id[run_id] for run_id in chosen]
    st.plotly_chart(overlay_figure(selected, str(metric)), key="runs_overlay")
    rows = config_diff({label_of(record): record.config.to_dict() for record in selected})
    table = pd.DataFrame(rows).astype({"changed": bool})
    only_changed = st.toggle("Only settings that differ", value=True, key="runs_only_changed")
    if only_changed:
        table = table[table["changed"]]
    styled = table.style.apply(
        lambda row: ["background-color: #fff3b0" if row["changed"] else "" for _ in row], axis=1
    )
    st.dataframe(styled, hide_index=True, key="runs_diff")


def rerun(record: Any) -> None:
    """Loads the run's data, model and training settings into the session; opens Train."""
    from ui import data_loading

    config = record.config
    data = config.data
    data_loading.load_dataset(
        data.path,
        source=f"Dataset of run {config.name or record.run_id}",
        val_ratio=data.val_ratio,
        test_ratio=data.test_ratio,
        seed=data.seed,
        resize_mode=data.resize_mode,
        augmentation=data.augmentation,
    )
    session.set_model_spec(config.model)
    session.set_train_config(config.train)
    session.set_current_run(None)
    common.switch_page("train")


def export_folder(run_id: str) -> Path:
    """Where this workspace's export of a run is written (replaced on each export)."""
    settings = session.get_settings()
    return Path(settings.cache_dir) / "exports" / session.workspace_folder_name() / run_id


def show_export(record: Any) -> None:
    """Exports the run with a parity check and offers the bundle for download."""
    from core.export.exporter import EXPORT_FORMATS, export_run

    with st.form("runs_export_form"):
        formats = st.multiselect("Formats", EXPORT_FORMATS, default=list(EXPORT_FORMATS))
        quantise = st.checkbox("Also a quantised TFLite model (about 4x smaller)")
        go = st.form_submit_button("Export and check", icon=":material/package_2:")
    if go:
        with st.spinner("Exporting and checking each file against the app..."):
            report = export_run(record.path, export_folder(record.run_id), tuple(formats), quantise)
        st.session_state["runs.export"] = (record.run_id, report)
    saved = st.session_state.get("runs.export")
    if not saved or saved[0] != record.run_id:
        return
    report = saved[1]
    st.write(f"Checked on {report.parity_images} {report.parity_source}:")
    st.dataframe(
        [
            {"format": name, "max |Δp| vs app": f"{diff:.2e}"}
            for name, diff in report.parity.items()
        ],
        hide_index=True,
        key="runs_parity",
    )
    if report.quantised:
        q = report.quantised
        st.caption(
            f"Quantised TFLite: accuracy {q['accuracy']} (float {q['float_accuracy']}), "
            f"same top-1 answer on {q['top1_agreement']:.0%} of the images."
        )
    for warning in report.warnings:
        st.warning(warning)
    if report.bundle and report.bundle.is_file():
        st.download_button(
            "Download the export bundle (.zip)",
            report.bundle.read_bytes(),
            report.bundle.name,
            "application/zip",
            key="runs_bundle_download",
        )


def show_actions(records: list[Any]) -> None:
    """Actions on one run: download, export, re-run, delete."""
    by_id = {record.run_id: record for record in records}
    run_id = st.selectbox(
        "Run", list(by_id), format_func=lambda rid: label_of(by_id[rid]), key="runs_action_run"
    )
    record = by_id[str(run_id)]
    download, again, delete = st.columns(3)
    if record.has_model:
        download.download_button(
            "Download model (.keras)",
            record.paths["model"].read_bytes(),
            f"{record.run_id}.keras",
            key="runs_keras_download",
        )
    else:
        download.caption("No trained model in this run.")
    if again.button("Re-run with these settings", key="runs_rerun"):
        rerun(record)
    confirm = delete.checkbox("I really want to delete it", key="runs_delete_confirm")
    if delete.button("Delete run", disabled=not confirm, key="runs_delete"):
        session.get_run_store().delete(record.run_id)
        if session.current_run_id() == record.run_id:
            session.set_current_run(None)
        st.session_state.pop("runs.export", None)
        st.rerun()
    if record.has_model:
        with st.expander("Export (Keras, SavedModel, TFLite) with a parity check"):
            show_export(record)


def main() -> None:
    from core.evaluate.compare import runs_table

    records = load_records()
    if not records:
        st.info("No runs yet in this workspace.", icon=":material/info:")
        common.page_link("train", label="Go to Train")
        return
    st.dataframe(runs_table(records), hide_index=True, key="runs_list")
    try:
        show_comparison(records)
        st.divider()
        show_actions(records)
    except Exception as error:
        common.show_error(error, "working on the run")


main()
