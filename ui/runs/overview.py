"""The Runs page's list: the run table, the comparison, and the actions on one run.

Table rows, the overlay chart and the config diff come from ``core.evaluate.compare``; the export
of a run is ``ui.runs.export``. Only runs of the visitor's own workspace are listed. Re-run,
delete, sweep and export are the owner's (``core.store.access``): a read-only link (``?view=``)
sees the runs and downloads models and existing export bundles, nothing more.
"""

from __future__ import annotations

import streamlit as st

from core.config.backbones import list_backbones
from core.config.sweep import DEFAULT_CUT, HEAD_PRESETS, plan_sweep
from core.errors import StudioError
from core.evaluate.compare import config_diff, overlay_figure, runs_table
from core.jobs.deletion import delete_run as delete_run_and_jobs
from core.jobs.sweeps import submit_sweep
from core.store.access import WorkspaceAccess, require_owner
from core.store.answers import stored_cut_names
from core.store.runs import RunRecord
from ui import choices, common, jobs, session, shared_run
from ui.data import loading
from ui.model import widgets as model_widgets
from ui.run_picker import run_label, run_title
from ui.runs.export import bundle_path, download_bundle, show_export

CURVE_METRICS = ("val_accuracy", "accuracy", "val_loss", "loss")


def load_records() -> tuple[list[RunRecord], list[str]]:
    """Every readable run of this workspace (newest first), and the ids of damaged ones."""
    store = session.get_run_store()
    records, damaged = [], []
    for run_id in reversed(store.run_ids()):
        try:
            records.append(store.load(run_id))
        except StudioError:  # e.g. an unreadable config.json: named, not listed
            damaged.append(run_id)
    return records, damaged


def label_of(record: RunRecord) -> str:
    """The run's name (or backbone and date), score and status, for pickers (plain text)."""
    metrics = record.metrics
    label = run_label(
        record.config.name, record.run_id, record.config.model.backbone,
        metrics.held_out_accuracy, metrics.best_val_accuracy,
    )  # fmt: skip
    return label if record.status == "finished" else f"{label} ({record.status})"


def comparable(records: list[RunRecord]) -> list[str]:
    """The runs the comparison starts with: the two newest that finished or trained at least
    one epoch (a run stopped before its first epoch has no curve to compare)."""
    return [r.run_id for r in records if r.history or r.status == "finished"][:2]


COMPACT_COLUMNS = ("label", "best val accuracy", "test accuracy")


def show_table(records: list[RunRecord], damaged: list[str]) -> None:
    """One row per run; a note naming the run folders that cannot be read.

    Three narrow columns by default, so the table fits a phone without scrolling sideways; a
    toggle shows every column (dataset, backbone, cut, head, epochs, time).
    """
    rows = []
    for record, row in zip(records, runs_table(records), strict=True):
        title = run_title(record.config.name, record.run_id, record.config.model.backbone)
        status = "" if record.status == "finished" else f" ({record.status})"
        for key in ("best val accuracy", "test accuracy"):  # one format: 97.4%
            row[key] = None if row[key] is None else round(100 * float(row[key]), 1)
        rows.append({"label": title + status, **row})
    every = st.toggle("Show every column", value=False, key="runs_all_columns")
    st.dataframe(
        rows,
        hide_index=True,
        key="runs_list",
        column_order=None if every else COMPACT_COLUMNS,
        column_config={
            # Pixel widths that add up to less than a phone's 360-pixel column.
            "label": st.column_config.TextColumn("Run", width=180),
            "best val accuracy": st.column_config.NumberColumn(
                "val acc", format="%.1f%%", width=70
            ),
            "test accuracy": st.column_config.NumberColumn("test acc", format="%.1f%%", width=70),
        },
    )
    if damaged:  # run ids are the server's names, but shown as text all the same
        st.caption(f"Not listed (damaged run folder): {common.escape_markdown(', '.join(damaged))}")


def show_comparison(records: list[RunRecord]) -> None:
    """Overlay curves and the highlighted config diff of the chosen runs."""
    import pandas as pd

    by_id = {record.run_id: record for record in records}
    chosen = st.multiselect(
        "Compare runs",
        list(by_id),
        default=comparable(records),
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


def rerun(record: RunRecord) -> None:
    """Loads the run's exact data, model and training settings and name; opens Train.

    Nothing is rebuilt from defaults: the run's own ``RunConfig`` parts go into the session, so
    Start on the Train page writes the same ``config.json``.

    Raises:
        ReadOnlyError: a read-only link.
    """
    require_owner(session.workspace_access(), "re-running a run")
    config = record.config
    loading.load_data_spec(config.data, source=f"Dataset of run {config.name or record.run_id}")
    choices.set_model_spec(config.model)
    model_widgets.set_surgery_ops(config.model.surgery)  # the Model page edits the same steps
    choices.set_train_config(config.train)
    choices.set_run_name(config.name)
    session.set_current_run(None)
    common.switch_page("train")


def show_actions(records: list[RunRecord]) -> None:
    """Actions on one run: download for everyone; export, re-run and delete for the owner."""
    access = session.workspace_access()
    by_id = {record.run_id: record for record in records}
    run_id = st.selectbox(
        "Run", list(by_id), format_func=lambda rid: label_of(by_id[rid]), key="runs_action_run"
    )
    record = by_id[str(run_id)]
    download, again, delete = st.columns(3)
    if record.has_model:
        download.download_button(
            "Download model (.keras)",
            record.paths["model"].read_bytes,  # read when clicked
            f"{record.run_id}.keras",
            key="runs_keras_download",
        )
    else:
        download.caption("No trained model in this run.")
    if record.labels is not None:
        shared_run.show_model_card(record.path)
    if not access.is_owner:
        st.caption(
            "This is a read-only link: you can look at the runs and download their models. "
            "Only the owner link (with ws= in the address) can re-run, delete or export."
        )
        if bundle_path(record).is_file():  # an export the owner already made
            download_bundle(bundle_path(record))
        return
    if again.button("Re-run with these settings", key="runs_rerun"):
        rerun(record)
    confirm = delete.checkbox("I really want to delete it", key="runs_delete_confirm")
    if delete.button("Delete run", disabled=not confirm, key="runs_delete"):
        delete_run(access, record.run_id)
    if record.has_model:
        with st.expander("Export (Keras, SavedModel, TFLite, ONNX) with a parity check"):
            show_export(record)
    with st.expander("Sweep: this run's settings with other backbones, cuts and heads"):
        show_sweep(record)


def show_sweep(record: RunRecord) -> None:
    """A form that starts one run per backbone x cut x head (``core.config.sweep``)."""
    model = record.config.model
    with st.form("runs_sweep_form"):
        ids = [info.id for info in list_backbones()]
        backbones = st.multiselect("Backbones", ids, default=[model.backbone], key="sweep_bb")
        cuts = st.text_input(
            "Cut layers (comma-separated; 'default' = the last feature map)",
            model.cut_layer or DEFAULT_CUT, key="sweep_cuts",
        )  # fmt: skip
        heads = st.multiselect("Heads", list(HEAD_PRESETS), default=["linear"], key="sweep_heads")
        if not st.form_submit_button("Start sweep", icon=":material/play_arrow:"):
            return
    names = [cut.strip() for cut in cuts.split(",") if cut.strip()]
    # Duplicates, and cuts that the layers the Model page listed do not hold, are left out;
    # quotas refuse the whole sweep.
    layers = stored_cut_names(session.get_settings(), model)
    try:
        plan = plan_sweep(record.config, backbones, names, heads, layers)
        submit_sweep(jobs.runner(), session.get_run_store(), plan.configs)
    except ValueError as error:
        common.show_error(error, "starting the sweep")
        return
    st.success(f"{plan.summary()} The table above compares the runs as they end.")


def delete_run(access: WorkspaceAccess, run_id: str) -> None:
    """Deletes a run (owner only), its jobs and its export bundle, then reloads the page."""
    require_owner(access, "deleting a run")
    delete_run_and_jobs(jobs.runner(), access.store, run_id)
    if session.current_run_id() == run_id:
        session.set_current_run(None)
    st.rerun()
