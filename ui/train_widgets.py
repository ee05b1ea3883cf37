"""Widgets of the Train page: the settings form and the live view of a run."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import streamlit as st

from ui import common, model_facts, session
from ui.train_view import RunView, epoch_points, format_eta

if TYPE_CHECKING:
    from core.model.spec import ModelSpec
    from core.spec.run import FineTuneSpec, TrainConfig

OPTIMIZER_LABELS = {"adam": "Adam", "sgd": "SGD with momentum", "rmsprop": "RMSprop"}
CHART_REFRESH_S = 3.0
_FIGURE_KEY = "train.figure_cache"
UNFREEZE_LABELS = {
    "last_n": "The last N layers",
    "from_layer": "From a named layer upward",
}
PHASE_LABELS = {"head": "training the head", "fine_tune": "fine-tuning the backbone"}


def unfreeze_layer_options(spec: ModelSpec) -> list[dict[str, Any]]:
    """Layers the fine-tune phase can unfreeze from: those of the built extractor, top first.

    Only layers up to the cut exist in the model, and layers replaced by surgery do not.
    Recommended layers (block boundaries) below the cut come first, deepest first (unfreezing
    from a deep one trains few layers: the safe choice), then every other layer, deepest first.

    Returns:
        Rows of ``model_facts.layer_rows`` (``name``, ``shape``, ``recommended``...).
    """
    size = spec.resolved_input_size
    rows = model_facts.layer_rows(spec.backbone, size)
    names = [row["name"] for row in rows]
    cut = spec.cut_layer or model_facts.default_cut_name(spec.backbone, size)
    kept = rows[: names.index(cut) + 1] if cut in names else rows
    replaced: set[str] = set()
    for op in spec.surgery:
        if op.action == "replace" and op.first in names and op.last_layer in names:
            replaced.update(names[names.index(op.first) : names.index(op.last_layer) + 1])
    kept = [row for row in kept if row["name"] not in replaced]
    top_first = list(reversed(kept))
    recommended = [row for row in top_first if row["recommended"] and row["name"] != cut]
    return recommended + [row for row in top_first if row not in recommended]


def _fine_tune_fields(current: TrainConfig, spec: ModelSpec) -> dict[str, Any]:
    """The optional second phase: unfreeze the last N layers or from a named layer upward."""
    fine = current.fine_tune
    enabled = st.checkbox(
        "Fine-tune the top of the backbone afterwards",
        value=fine is not None,
        help="A second phase that also trains the top of the backbone at a lower learning "
        "rate. Often gains a few points of accuracy; slower. BatchNorm layers stay frozen.",
        key="train_ft_enabled",
    )
    mode = st.radio(
        "Unfreeze",
        tuple(UNFREEZE_LABELS),
        index=1 if fine is not None and fine.unfreeze_from else 0,
        format_func=UNFREEZE_LABELS.__getitem__,
        horizontal=True,
        key="train_ft_mode",
    )
    left, layer_col = st.columns([1, 2])
    last_n = left.number_input(
        "Layers to unfreeze", 1, 500, (fine.last_n or 20) if fine else 20, key="train_ft_last_n"
    )
    layer = _unfreeze_layer_field(layer_col, fine, spec)
    epochs, factor = _fine_tune_schedule_fields(fine)
    return {
        "enabled": enabled,
        "unfreeze_from": str(layer) if mode == "from_layer" and layer else None,
        "last_n": int(last_n) if mode == "last_n" else None,
        "epochs": int(epochs),
        "lr_factor": float(factor),
    }


def _unfreeze_layer_field(column: Any, fine: FineTuneSpec | None, spec: ModelSpec) -> Any:
    """The layer picker, recommended layers starred; defaults to the saved layer if it exists."""
    rows = unfreeze_layer_options(spec)
    by_name = {row["name"]: row for row in rows}
    names = list(by_name)
    chosen = fine.unfreeze_from if fine is not None and fine.unfreeze_from in by_name else None
    return column.selectbox(
        "Unfreeze from layer (it and every layer above it)",
        names,
        index=names.index(chosen) if chosen else 0,
        format_func=lambda n: (
            f"{n}  ·  {by_name[n]['shape']}"
            + ("  ★ recommended" if by_name[n]["recommended"] else "")
        ),
        key="train_ft_layer",
    )


def _fine_tune_schedule_fields(fine: FineTuneSpec | None) -> tuple[Any, Any]:
    """The fine-tune phase's epochs and learning-rate factor (of the head phase's rate)."""
    mid, right = st.columns(2)
    epochs = mid.number_input(
        "Fine-tune epochs", 1, 1000, fine.epochs if fine else 5, key="train_ft_epochs"
    )
    factor = right.number_input(
        "LR factor", 0.001, 1.0, fine.lr_factor if fine else 0.1, format="%.3f", key="train_ft_lr"
    )
    return epochs, factor


def settings_form(
    current: TrainConfig, spec: ModelSpec, *, disabled: bool
) -> tuple[TrainConfig, str] | None:
    """The training settings; returns (config, run name) when Start is pressed and valid.

    Args:
        current: The session's last settings (the form's defaults).
        spec: The model to train (its layers feed the fine-tune layer picker).
        disabled: Greys out Start (a run is in progress).
    """
    with st.form("train_settings"):
        st.subheader("Settings")
        values = _run_fields(current)
        fine = _fine_tune_fields(current, spec)
        pressed = st.form_submit_button(
            "Start training", type="primary", disabled=disabled, icon=":material/play_arrow:"
        )
    if not pressed:
        return None
    try:
        config = _train_config(values, fine)
    except ValueError as error:
        common.show_error(error)
        return None
    session.set_train_config(config)
    return config, values["name"].strip()


def _run_fields(current: TrainConfig) -> dict[str, Any]:
    """The first-phase settings and the run name, in three columns (raw widget values)."""
    left, mid, right = st.columns(3)
    optimizers = list(OPTIMIZER_LABELS)
    # A dict literal evaluates in order, which keeps the widgets' order on the page.
    return {
        "optimizer": left.selectbox(
            "Optimizer",
            optimizers,
            index=optimizers.index(current.optimizer),
            format_func=OPTIMIZER_LABELS.__getitem__,
        ),
        "rate": mid.number_input(
            "Learning rate", 1e-6, 1.0, float(current.learning_rate), format="%.5f"
        ),
        "batch": right.number_input("Batch size", 1, 1024, int(current.batch_size)),
        "epochs": left.number_input("Epochs", 1, 1000, int(current.epochs), key="train_epochs"),
        "early": mid.checkbox("Early stopping", current.early_stopping),
        "patience": right.number_input("Patience (epochs)", 1, 100, int(current.patience)),
        "weights": left.checkbox(
            "Balance classes", current.class_weights, help="Weight rare classes up in the loss."
        ),
        "seed": mid.number_input("Seed", 0, 2**31 - 1, int(current.seed)),
        "name": right.text_input("Run name (optional)", max_chars=120),
    }


def _train_config(values: dict[str, Any], fine: dict[str, Any]) -> TrainConfig:
    """The config the form's values describe.

    Raises:
        ValueError: a value is refused by ``core.spec.run`` (shown to the user).
    """
    from core.spec.run import FineTuneSpec, TrainConfig

    fine_tune = (
        FineTuneSpec(
            unfreeze_from=fine["unfreeze_from"],
            last_n=fine["last_n"],
            epochs=fine["epochs"],
            lr_factor=fine["lr_factor"],
        )
        if fine["enabled"]
        else None
    )
    return TrainConfig(
        optimizer=str(values["optimizer"]),
        learning_rate=float(values["rate"]),
        batch_size=int(values["batch"]),
        epochs=int(values["epochs"]),
        early_stopping=bool(values["early"]),
        patience=int(values["patience"]),
        class_weights=bool(values["weights"]),
        seed=int(values["seed"]),
        fine_tune=fine_tune,
    )


def show_progress(view: RunView) -> None:
    """Progress bar with phase and ETA, or the queue position while waiting."""
    if view.status == "queued":
        position = view.queue_position
        where = f"position {position} in the queue" if position else "waiting to start"
        max_jobs = session.get_settings().max_jobs
        st.info(
            f"Queued: {where}. The server trains {max_jobs} model(s) at a time; "
            "this run starts by itself when a slot frees up. You can leave this page.",
            icon=":material/hourglass_top:",
        )
        return
    phase = PHASE_LABELS.get(view.phase, view.phase or view.status)
    text = f"{view.status}: {phase} — epoch {view.epoch}/{view.epochs}"
    if view.active:
        text += f" — about {format_eta(view.eta_s)} left"
    st.progress(min(max(view.progress, 0.0), 1.0), text=text)


def chart_figure(view: RunView) -> Any:
    """Returns the run's figure, rebuilt only when it changed (the fragment polls every second).

    Building a Plotly figure costs tens of milliseconds of Python; several sessions rebuilding
    identical figures every second would take the GIL away from the training thread. A new
    epoch always rebuilds it; new per-batch points at most every ``CHART_REFRESH_S`` seconds.
    """
    from core.train.charts import training_figure

    cached = st.session_state.get(_FIGURE_KEY)
    signature = (view.run_id, len(view.history), view.status)
    now = time.monotonic()
    if cached is not None and cached["signature"] == signature:
        unchanged = cached["batches"] == len(view.batch_history)
        if unchanged or now - cached["time"] < CHART_REFRESH_S:
            return cached["figure"]
    figure = training_figure(view.history, view.batch_history)
    st.session_state[_FIGURE_KEY] = {
        "signature": signature,
        "batches": len(view.batch_history),
        "time": now,
        "figure": figure,
    }
    return figure


def show_chart(view: RunView) -> None:
    """The loss and accuracy curves, with a stable key so updates do not flicker."""
    if not view.history and not view.batch_history:
        st.caption("The curves appear once the first training batches are done.")
        return
    st.caption(f"Epochs on the chart: {epoch_points(view)}")
    st.plotly_chart(chart_figure(view), key="train_chart", width="stretch")


def show_log(view: RunView) -> None:
    """The events of the run (newest last)."""
    with st.expander("Event log", expanded=False):
        st.code("\n".join(view.events) or "No events yet.", language=None)


def show_result(view: RunView) -> None:
    """The result card of a run that is over: metrics and where to go next."""
    with st.container(border=True):
        if view.status == "finished":
            st.success("Training finished.", icon=":material/check_circle:")
        elif view.status == "stopped":
            st.warning("Training was stopped; the model of the last epoch was kept.")
        elif view.status == "interrupted":
            st.warning(
                "This run was interrupted (the server stopped while it trained). "
                f"Its last good epoch ({view.epoch}) is kept: resume it below, or delete it "
                "on the Runs page."
            )
        else:
            st.error(view.error or "Training failed.", icon=":material/error:")
        last = view.history[-1] if view.history else {}
        columns = st.columns(3)
        columns[0].metric("Epochs done", view.epoch)
        for column, key, label in (
            (1, "val_accuracy", "Val accuracy"),
            (2, "val_loss", "Val loss"),
        ):
            value = last.get(key)
            columns[column].metric(label, f"{value:.3f}" if isinstance(value, float) else "—")
        if view.status in ("interrupted", "stopped") and st.button(
            "Resume this run", key="train_resume", icon=":material/replay:"
        ):
            resume(view.run_id)
        links = st.columns(3)
        with links[0]:
            common.page_link("evaluate", label="Evaluate this model")
        with links[1]:
            common.page_link("predict", label="Try it on new images")
        with links[2]:
            common.page_link("runs", label="All runs")


def resume(run_id: str) -> None:
    """Continues an interrupted or stopped run from its last checkpoint, then watches it."""
    from core.jobs.manager import get_manager

    try:
        get_manager().resume(session.get_run_store(), run_id)
    except Exception as error:  # shown as a plain sentence
        common.show_error(error, "resuming the run")
        return
    session.set_current_run(run_id)
    st.rerun()
