"""The Home page's parts: the one-click demo, the steps, the sample shortcut, the status.

The demo (``start_demo``) trains real photos when the server can download and verify them
(``core.data.demo_photos``, ``core.config.recipes.demo_photos_config``), else the built-in drawn
shapes (``demo_config``), through the job runner, exactly as the Train page's Start would
(same owner, disk and validation checks), and opens the Train page on the live run, whose
result card links to Evaluate and Predict.

The Home page must stay fast: nothing here imports TensorFlow or an engine module at import time
(bench/app_startup.py measures it).
"""

from __future__ import annotations

import streamlit as st

from core.config.backbones import get_backbone
from core.config.demo_photos import DemoPhotos
from core.config.recipes import DEMO_RECIPE, demo_config, demo_photos_config
from core.data.checks import check_validation_split
from core.data.demo_photos import ensure_demo_data
from core.data.names import public_dataset_name
from core.errors import StudioError
from core.jobs.runner import get_runner
from core.model.weights import weights_available
from core.store.access import require_owner
from core.store.runs import RunRecord
from core.text import percent
from ui import choices, common, run_picker, session
from ui.data.loading import load_data_spec, load_sample, sample_folder

STEPS = (
    ("data", "Bring images in folders, one folder per class (a zip, uploads, or the sample)."),
    ("model", "Pick a pretrained backbone, where to cut it, the head to put on top."),
    ("train", "Train with live loss and accuracy curves; stop any time."),
    ("evaluate", "See accuracy, the confusion matrix and the mistakes on held-out images."),
    ("predict", "Classify new images and download the trained model."),
)


def show_steps() -> None:
    """The numbered steps of the studio, one line each."""
    for number, (page, text) in enumerate(STEPS, start=1):
        title = common.PAGES[page][1]
        st.markdown(f"**{number}. {title}** — {text}")


DEMO_NEEDS_WEIGHTS = (
    "The demo needs MobileNetV2's ImageNet weights, and this server has neither the file nor "
    "internet access to download it. To get them, put Keras's file '{file}' in the server's "
    "weights folder (the folder named by STUDIO_WEIGHTS_DIR), or let the server reach the "
    "internet once. Meanwhile, load the sample dataset below and train it step by step."
)


def demo_recipe() -> str:
    """Which demo runs and its recipe, shown under the button (``core.config.recipes``)."""
    try:
        photos = DemoPhotos.from_env()
    except ValueError:
        photos = DemoPhotos(url="")  # the click says what is wrong with the settings
    if not photos.enabled:
        return DEMO_RECIPE
    return (
        f"Real photos when this server is online (downloaded once, checksum verified), else "
        f"the drawn shapes. {photos.source} {DEMO_RECIPE}"
    )


def start_demo() -> None:
    """Loads the sample, submits the demo run and switches to the Train page to watch it.

    Errors (a read-only link, no weights, a full disk, a full queue) are said in one plain
    sentence on Home, and nothing is started.
    """
    try:
        store = session.get_run_store()
        require_owner(store, "starting the demo")
        if not weights_available("mobilenet_v2").ok:
            file = get_backbone("mobilenet_v2").weights_file
            st.warning(DEMO_NEEDS_WEIGHTS.format(file=file), icon=":material/cloud_off:")
            return
        with st.status("Preparing the demo (the first one downloads photos)...") as status:
            demo = ensure_demo_data(sample_folder(), DemoPhotos.from_env())
            status.write(demo.notice)
            make_config = demo_photos_config if demo.photos else demo_config
            config = make_config(str(demo.folder))
            status.update(label="Scanning the demo images...")
            data = load_data_spec(config.data, source=demo.notice)
            check_validation_split(data.report, data.split, config.data.val_ratio)
            # The session's choices become the demo's: Model and Train show what ran.
            choices.set_model_spec(config.model)
            choices.set_train_config(config.train)
            choices.set_run_name(str(config.name))
            status.update(label="Queuing the run...")
            run_id = get_runner(session.get_settings()).submit_training(store, config)
            status.update(label="Demo started", state="complete")
    except Exception as error:
        common.show_error(error, "starting the demo")
        return
    session.set_current_run(run_id)
    st.toast(demo.notice)
    common.switch_page("train")


def load_sample_dataset() -> None:
    """Generates (or reuses) the sample dataset, loads it, and goes to the Data page."""
    try:
        with st.status("Preparing the sample dataset...", expanded=False) as status:
            load_sample()  # a read-only link is refused before the sample is written
            status.update(label="Sample dataset loaded", state="complete")
    except Exception as error:
        common.show_error(error, "loading the sample dataset")
        return
    common.switch_page("data")


def show_status(owner: bool) -> None:
    """What this workspace holds (read from the workspace, not this browser session): its
    dataset, the model chosen, and its newest run; the owner also gets the next step."""
    last = last_run()
    columns = st.columns(3)
    columns[2].metric("Last run", last.status if last else "none")
    columns[2].caption(last_run_text(last) if last else "no run in this workspace yet")
    if not owner:  # a viewer sees the newest run's dataset and model, nothing to do next
        if last is None:  # nothing shared yet: the owner's loaded data stays theirs
            columns[0].metric("Data", "missing")
            columns[1].metric("Model", "none")
        else:
            dataset = common.escape_markdown(public_dataset_name(last.config.data.path))
            columns[0].metric("Data", dataset)
            columns[1].metric("Model", last.config.model.backbone)
        return
    summary = choices.status_summary()
    data_text = (
        f"{summary['data']}: {summary['images']} images, {summary['classes']} classes"
        if summary["data"]
        else "not loaded"
    )
    data_text = common.escape_markdown(data_text)  # the source can name the user's zip
    columns[0].metric("Data", "ready" if summary["data"] else "missing", help=data_text)
    columns[0].caption(data_text)
    columns[1].metric("Model", summary["model"] or "default", help="Chosen on the Model page")
    columns[1].caption("confirmed" if summary["model"] else "not confirmed yet")
    if not summary["data"]:
        common.page_link("data", label="Next: load data")
    elif not summary["model"]:
        common.page_link("model", label="Next: choose a model")
    else:
        common.page_link("train", label="Next: train")


def last_run() -> RunRecord | None:
    """The workspace's newest run (None when there is none or it cannot be read)."""
    run_id = run_picker.newest_run_id()
    if run_id is None:
        return None
    try:
        return session.get_run_store().load(run_id)
    except StudioError:
        return None


def last_run_text(record: RunRecord) -> str:
    """The run's name and its test accuracy (or best validation accuracy), escaped."""
    test = record.metrics.held_out_accuracy
    best = record.metrics.best_val_accuracy
    score = f"test accuracy {percent(test)}" if test is not None else ""
    if not score and best is not None:
        score = f"best validation accuracy {percent(best)}"
    name = common.escape_markdown(record.config.name or record.run_id)
    return f"{name} · {score}" if score else name


def show_shared_welcome() -> None:
    """A read-only link's Home: what was shared, and where to look first."""
    st.subheader("Shared with you")
    last = last_run()
    if last is None:
        st.write("This workspace has no runs yet. Come back once its owner has trained one.")
        return
    st.write(
        "Someone shared the results of this workspace with you. Start with the presentation "
        "of its latest model, then look at the evidence page by page."
    )
    common.page_link(
        "present", label="Presentation of the latest model", icon=":material/slideshow:"
    )
    common.page_link("evaluate", label="Evaluation: per-class scores, confusion matrix, mistakes")
    common.page_link("predict", label="Try the model on your own photos")
    common.page_link("runs", label="Every run, compared")
