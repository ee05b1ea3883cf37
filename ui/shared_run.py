"""What a read-only link sees on the Data and Model pages: the dataset and model of a run.

A viewer cannot load data or choose a model (both change the workspace), and the owner's
current dataset may be private photos that no run used. So these pages show, for the run the
viewer picks, what the run itself stored: its classes and split counts (``split.json``), its
model settings (``config.json``) and its model card, written from the run folder without
loading the model (``core.export.model_card``).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.data.names import public_dataset_name
from core.data.stored_split import SPLIT_FILE, SPLIT_NAMES, read_stored_split
from core.errors import StudioError
from core.export.model_card import MODEL_CARD_FILE, model_card, model_facts, stored_scores
from core.jobs.kinds.evaluate import load_evaluation
from core.jobs.kinds.export import report_from_result
from core.store.run_config import read_run_config
from core.store.run_metrics import METRICS_FILE, read_run_metrics
from ui import common, jobs
from ui.evaluate.results import finished_evaluation

SPLIT_TITLES = {"train": "train", "val": "validation", "test": "test"}


def show_run_dataset(run_dir: Path) -> None:
    """The run's dataset: its folder's name, and images per class and split."""
    try:
        config = read_run_config(run_dir / "config.json")
        stored = read_stored_split(run_dir / SPLIT_FILE)
    except StudioError as error:
        common.show_error(error)
        return
    name = common.escape_markdown(public_dataset_name(config.data.path))
    if stored is None:
        st.info(f"This run trained on the dataset {name}; it stored no list of its images.")
        return
    rows = []
    for label in stored.classes:
        counts = {s: sum(1 for i in stored.splits[s] if i.label == label) for s in SPLIT_NAMES}
        rows.append({"class": label} | {SPLIT_TITLES[s]: counts[s] for s in SPLIT_NAMES})
    total = sum(len(stored.splits[s]) for s in SPLIT_NAMES)
    st.write(
        f"This run learned from the dataset **{name}**: {total} images in "
        f"{len(stored.classes)} classes, split once before training. The validation images "
        "chose the best epoch; the test images were never used until the evaluation."
    )
    st.dataframe(rows, hide_index=True, key="shared_data_counts")  # class names: plain text


def show_run_model(run_dir: Path) -> None:
    """The run's model settings in a few lines, then its model card."""
    try:
        config = read_run_config(run_dir / "config.json")
    except StudioError as error:
        common.show_error(error)
        return
    model, train = config.model, config.train
    weights = "ImageNet-pretrained" if model.weights == "imagenet" else "random"
    fine = "then fine-tuned" if train.fine_tune is not None else "backbone frozen"
    cut = common.escape_markdown(model.cut_layer or "the default layer")
    st.markdown(
        f"- Backbone: **{model.backbone}** ({weights} weights), input "
        f"{model.resolved_input_size} px, cut at {cut}\n"
        f"- Head: {model.head.pooling} pooling, {len(model.head.dense)} hidden layer(s), "
        f"dropout {model.head.dropout:g}\n"
        f"- Training: {train.total_epochs} epochs planned, {fine}"
    )
    show_model_card(run_dir)


def card_text(run_dir: Path) -> str:
    """The run's model card, from its files and its newest evaluation and export (if any)."""
    evaluation_job = finished_evaluation(run_dir)
    evaluation = None
    if evaluation_job is not None:
        try:
            evaluation = load_evaluation(evaluation_job.folder)
        except StudioError:
            evaluation = None
    export = jobs.latest(run_dir.name, "export")
    report = None
    if export is not None and export.state == "finished" and export.result is not None:
        report = report_from_result(export.result)
    metrics = read_run_metrics(run_dir / METRICS_FILE)
    return model_card(run_dir, model_facts(run_dir), report, stored_scores(metrics, evaluation))


def show_model_card(run_dir: Path) -> None:
    """The model card as text (it quotes user names: never rendered as Markdown) and a download."""
    try:
        text = card_text(run_dir)
    except StudioError as error:
        common.show_error(error)
        return
    with st.expander("Model card (what it is, the data, its scores, its limits)", expanded=False):
        st.code(text, language="markdown", wrap_lines=True)
    st.download_button(
        "Download the model card (MODEL_CARD.md)",
        text.encode("utf-8"),
        MODEL_CARD_FILE,
        "text/markdown",
        key=f"model_card_{run_dir.name}",
    )
