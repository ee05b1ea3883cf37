"""The ``advise_cut`` job kind: linear-probe accuracy at the recommended cuts of a backbone.

It works on the dataset chosen on the Data page (no run): ``params["data"]`` is its
``DataConfig.to_dict()``. Validation accuracy of a linear probe at the recommended cuts of
``params["backbone"]`` at ``params["input_size"]`` with ``params["weights"]``
(``core.evaluate.cut_advisor``); ``params["extra_cuts"]`` adds layers to score. Result:
``CutAdvice.to_dict()`` (rows, chosen, default, advice, seconds).
"""

from __future__ import annotations

from typing import Any

from core.errors import plain_errors
from core.evaluate.cut_advisor import advise_cut
from core.jobs.context import JobContext


def run(context: JobContext) -> dict[str, Any]:
    """Scores the recommended cuts of the job's backbone on its dataset (module docstring)."""
    params = context.params
    spec = context.data_config()
    backbone = str(params.get("backbone") or "")
    extra = tuple(str(cut) for cut in params.get("extra_cuts") or ())
    context.report(0.05, "Passing the images through the backbone once, at every cut.")
    with plain_errors():
        advice = advise_cut(
            spec, backbone, input_size=params.get("input_size"),
            weights=str(params.get("weights") or "imagenet"), extra_cuts=extra,
            settings=context.settings,
        )  # fmt: skip
    context.report(1.0, advice.sentence())
    return advice.to_dict()
