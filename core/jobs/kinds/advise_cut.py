"""The ``advise_cut`` job kind: linear-probe accuracy at the recommended cuts of a backbone.

It works on the dataset chosen on the Data page (no run): ``params["data"]`` is its
``DataConfig.to_dict()``. Validation accuracy of a linear probe at the recommended cuts of
``params["backbone"]`` at ``params["input_size"]`` with ``params["weights"]``
(``core.evaluate.cut_advisor``); ``params["extra_cuts"]`` adds layers to score. Result:
``CutAdvice.to_dict()`` (rows, chosen, default, advice, seconds), read back by the Model page
as a ``CutAdviceResult``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from core.errors import plain_errors
from core.evaluate.cut_advisor import advise_cut
from core.jobs.context import JobContext
from core.store.json_record import (
    JsonFileRecord,
    JsonObject,
    Reader,
    integer,
    number,
    objects,
    text,
)


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


_READERS: dict[str, Reader] = {
    "rows": objects,
    **dict.fromkeys(("chosen", "default", "advice", "backbone"), text),
    **dict.fromkeys(("seconds", "pass_seconds", "probe_seconds"), number),
    **dict.fromkeys(("images", "extracted_images", "input_size"), integer),
}


@dataclass(frozen=True)
class CutAdviceResult(JsonFileRecord):
    """A finished ``advise_cut`` job's ``result.json`` (``CutAdvice.to_dict()``), typed.

    Attributes:
        rows: one object per scored cut, shallow to deep (``CutRow`` as stored).
        chosen: the advised cut; default: the default cut (the last layer).
        advice: the one-sentence advice.
        seconds: all of it; pass_seconds: the one backbone pass; probe_seconds: the probes.
        images: training and validation images; extracted_images: those passed through the
            backbone (0 when every feature came from the cache).
        extra: any other key, kept as stored.
    """

    rows: tuple[JsonObject, ...] | None = None
    chosen: str | None = None
    default: str | None = None
    advice: str | None = None
    seconds: float | None = None
    pass_seconds: float | None = None
    probe_seconds: float | None = None
    images: int | None = None
    extracted_images: int | None = None
    backbone: str | None = None
    input_size: int | None = None
    extra: JsonObject = field(default_factory=dict)
    keys: tuple[str, ...] | None = field(default=None, repr=False, compare=False)
    READERS: ClassVar[Mapping[str, Reader]] = _READERS
