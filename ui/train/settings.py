"""The Train page's settings form: the run's training settings, fine-tuning and its name.

The form shows the settings people change; every other ``TrainConfig`` setting (momentum, label
smoothing, feature caching...) is carried over from the session's config unchanged, so a re-run
from the Runs page starts with exactly the settings of its run.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import streamlit as st

from core.config.auto import AutoRecipeConfig
from core.config.model import ModelConfig
from core.config.train import FineTuneConfig, TrainConfig
from core.data.names import public_dataset_name
from ui import choices, common
from ui.model import facts

OPTIMIZER_LABELS = {"adam": "Adam", "sgd": "SGD with momentum", "rmsprop": "RMSprop"}
UNFREEZE_LABELS = {
    "last_n": "The last N layers",
    "from_layer": "From a named layer upward",
}


def data_line() -> None:
    """Says which dataset the new run will train on, with a link to change it."""
    data = choices.get_data()
    if data is None:
        return
    split = data.split
    counts = f"{len(split.train)} train / {len(split.val)} validation / {len(split.test)} test"
    st.markdown(
        f"Dataset: **{common.escape_markdown(data.source)}** "
        f"({common.escape_markdown(public_dataset_name(data.spec.path))}): "
        f"{len(data.report.classes)} classes, {counts} images."
    )
    common.page_link("data", label="Change the data", icon=":material/edit:")


def model_line() -> None:
    """Says which model will be trained, with a link to change it."""
    spec = choices.get_model_spec()
    size = spec.input_size or "default"
    note = "" if choices.model_confirmed() else " (default; not confirmed on the Model page)"
    st.markdown(f"Model: **{spec.backbone}**, input size {size}, weights **{spec.weights}**{note}.")
    common.page_link("model", label="Change the model", icon=":material/edit:")


def settings_form(
    current: TrainConfig, spec: ModelConfig, *, disabled: bool
) -> tuple[TrainConfig, str] | None:
    """The training settings; returns (config, run name) when Start is pressed and valid.

    Args:
        current: The session's last settings (the form's defaults, and the settings it hides).
        spec: The model to train (its layers feed the fine-tune layer picker).
        disabled: Greys out Start (a run is in progress).
    """
    try:  # before the form: None while a worker lists them
        unfreeze = facts.unfreeze_rows(spec.to_json())
    except ValueError as error:  # the listing failed: said once, the picker stays empty
        common.show_error(error, "listing the backbone's layers")
        unfreeze = None
    with st.form("train_settings"):
        st.subheader("Settings")
        values = _run_fields(current)
        auto = _auto_fields(current)
        fine = _fine_tune_fields(current, unfreeze)
        pressed = st.form_submit_button(
            "Start training", type="primary", disabled=disabled, icon=":material/play_arrow:"
        )
    if not pressed:
        return None
    try:
        config = _train_config(current, values, fine)
        config = replace(config, auto=auto)
    except ValueError as error:
        common.show_error(error)
        return None
    name = str(values["name"]).strip()
    choices.set_train_config(config)
    choices.set_run_name(name)
    return config, name


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
        "name": right.text_input(
            "Run name (optional)", choices.get_run_name(), max_chars=120, key="train_run_name"
        ),
    }


def _auto_fields(current: TrainConfig) -> AutoRecipeConfig | None:
    """The automatic recipe switch and its time budget (off: every setting is used as set)."""
    left, right = st.columns(2)
    enabled = left.checkbox(
        "Automatic recipe",
        value=current.auto is not None,
        key="train_auto",
        help="Pools features of a few backbone blocks once, compares a logistic regression and "
        "the dense head on validation, keeps the better one and refits it on train + validation. "
        "Off: the head trains with the settings above.",
    )
    budget = right.number_input(
        "Time budget (s)",
        10,
        86_400,
        int((current.auto or AutoRecipeConfig()).time_budget_s),
        key="train_auto_budget",
        help="Heads after the first are tried only while the run is within this time.",
    )
    if not enabled:
        return None
    return replace(current.auto or AutoRecipeConfig(), time_budget_s=int(budget))


def _fine_tune_fields(
    current: TrainConfig, unfreeze: list[dict[str, Any]] | None
) -> dict[str, Any]:
    """The optional second phase: unfreeze the last N layers or from a named layer upward.

    Args:
        current: The session's last settings.
        unfreeze: The layers the phase may unfreeze from (``ui.model.facts.unfreeze_rows``);
            None while a worker lists them.
    """
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
    layer = _unfreeze_layer_field(layer_col, fine, unfreeze)
    epochs, factor = _fine_tune_schedule_fields(fine)
    return {
        "enabled": enabled,
        "unfreeze_from": str(layer) if mode == "from_layer" and layer else None,
        "last_n": int(last_n) if mode == "last_n" else None,
        "epochs": int(epochs),
        "lr_factor": float(factor),
    }


def _unfreeze_layer_field(
    column: Any, fine: FineTuneConfig | None, unfreeze: list[dict[str, Any]] | None
) -> Any:
    """The layer picker, recommended layers starred; defaults to the saved layer if it exists.

    While the layers are being listed it offers only the saved layer (if any) and says so.
    """
    if unfreeze is None:
        saved = [fine.unfreeze_from] if fine is not None and fine.unfreeze_from else []
        column.caption("The backbone's layers are not listed yet (a worker lists them).")
        return column.selectbox(  # its own key: the real picker must not inherit "no layer"
            "Unfreeze from layer (it and every layer above it)", saved, key="train_ft_layer_wait"
        )
    by_name = {row["name"]: row for row in unfreeze}
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


def _fine_tune_schedule_fields(fine: FineTuneConfig | None) -> tuple[Any, Any]:
    """The fine-tune phase's epochs and learning-rate factor (of the head phase's rate)."""
    mid, right = st.columns(2)
    epochs = mid.number_input(
        "Fine-tune epochs", 1, 1000, fine.epochs if fine else 5, key="train_ft_epochs"
    )
    factor = right.number_input(
        "LR factor", 0.001, 1.0, fine.lr_factor if fine else 0.1, format="%.3f", key="train_ft_lr"
    )
    return epochs, factor


def _train_config(
    current: TrainConfig, values: dict[str, Any], fine: dict[str, Any]
) -> TrainConfig:
    """``current`` with the form's values (settings the form does not show are kept).

    Raises:
        ValueError: a value is refused by ``core.config.run`` (shown to the user).
    """
    fine_tune = (
        FineTuneConfig(
            unfreeze_from=fine["unfreeze_from"],
            last_n=fine["last_n"],
            epochs=fine["epochs"],
            lr_factor=fine["lr_factor"],
        )
        if fine["enabled"]
        else None
    )
    return replace(
        current,
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
