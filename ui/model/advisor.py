"""The Model page's cut-point advisor: compare the recommended cuts on the visitor's own data.

"Compare cut points on my data" queues an ``advise_cut`` job (``core.jobs.kinds.advise_cut``):
in a worker process, the Data page's training and validation images go through the chosen
backbone ONCE, and a linear head scores every recommended cut on the validation images. The
page shows the chart with the time it took, and "Use this cut" sets the cut picker to the best
cut. The job is found again by its parameters (dataset, split, backbone, size, weights), so a
reload re-attaches, and a result for another backbone or size is never shown as this one's.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.data.loaded import LoadedDataset
from core.evaluate.charts import cut_advice_figure
from core.jobs.find import find_job
from core.jobs.kinds.advise_cut import CutAdviceResult
from ui import choices, common, jobs, session

KIND = "advise_cut"
RECOMMENDED_TOGGLE = "model_rec"  # ui.model.widgets.cut_picker's "recommended only" toggle


def cut_key(backbone: str, size: int) -> str:
    """The session key of ``ui.model.widgets.cut_picker``'s select box for this backbone/size."""
    return f"model_cut_{backbone}_{size}"


def advice_params(data: LoadedDataset, backbone: str, size: int, weights: str) -> dict[str, Any]:
    """The job's parameters: what the advice depends on, and nothing else."""
    spec = data.spec
    dataset = {
        "path": spec.path, "val_ratio": spec.val_ratio, "test_ratio": spec.test_ratio,
        "seed": spec.seed, "resize_mode": spec.resize_mode,
    }  # fmt: skip
    return {"data": dataset, "backbone": backbone, "input_size": size, "weights": weights}


def section(backbone: str, size: int, weights: str, cut: str) -> None:
    """The advisor under the cut picker: its button, progress, chart and "Use this cut"."""
    st.markdown("**Which cut suits your images?**")
    data = choices.get_data()
    if data is None:
        st.caption("Load a dataset on the Data page to compare the cut points on it.")
        return
    if not session.is_owner():
        st.caption("Comparing cut points is for the workspace's owner.")
        return
    st.caption(
        "Scores each recommended cut with a simple linear head on your validation images, "
        "from one pass of your images through the backbone (in a background process)."
    )
    params = advice_params(data, backbone, size, weights)
    job = jobs.job_panel(
        find_job(jobs.runner(), session.get_run_store(), KIND, params),
        label="Comparing cut points", button="Compare cut points on my data",
        key="model_advise", start=lambda: jobs.submit(KIND, None, params),
        icon=":material/bar_chart:",
    )  # fmt: skip
    if job is not None and job.result is not None:
        show_advice(CutAdviceResult.from_dict(job.result), backbone, size, cut)


def show_advice(result: CutAdviceResult, backbone: str, size: int, cut: str) -> None:
    """The chart (with the time it took), the advice sentence and "Use this cut"."""
    rows = list(result.rows or [])
    chosen = result.chosen or ""
    if not rows or not chosen:
        st.error("This comparison has no readable result; compare again.")
        return
    seconds = float(result.seconds or 0.0)
    st.plotly_chart(cut_advice_figure(rows, seconds), key="model_advice_chart", width="stretch")
    st.caption(common.escape_markdown(result.advice or ""))
    st.caption(_timing(result))
    if cut == chosen:
        st.caption(
            f"The advised cut, {common.escape_markdown(chosen)}, is the one chosen above.",
        )
        return
    st.button(
        f"Use this cut ({common.escape_markdown(chosen)})",
        key="model_use_advised_cut",
        type="primary",
        icon=":material/check:",
        on_click=use_cut,
        args=(backbone, size, chosen, _is_recommended(rows, chosen)),
    )


def _timing(result: CutAdviceResult) -> str:
    seconds = float(result.seconds or 0.0)
    images = result.images or 0
    extracted = result.extracted_images or 0
    how = (
        f"{extracted} images through the backbone in {float(result.pass_seconds or 0):.1f} s"
        if extracted
        else "every feature came from the cache"
    )
    return f"Took {seconds:.1f} s for {images} training and validation images ({how})."


def _is_recommended(rows: list[dict[str, Any]], cut: str) -> bool:
    """True when the cut picker lists ``cut`` with "recommended only" on (the default always)."""
    return any(row.get("cut") == cut and (row.get("reason") or row.get("default")) for row in rows)


def use_cut(backbone: str, size: int, cut: str, recommended: bool) -> None:
    """Button callback: sets the cut picker to ``cut`` before the page runs again."""
    st.session_state[cut_key(backbone, size)] = cut
    if not recommended:  # the default cut is always listed; any other must be shown
        st.session_state[RECOMMENDED_TOGGLE] = False
    st.toast(f"Cut set to {common.escape_markdown(cut)}. Press Use this model to keep it.")
