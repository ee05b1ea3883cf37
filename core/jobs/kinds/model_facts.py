"""The ``model_facts`` job kind: a backbone's layers or a model's summary, for the pages.

The web process never imports TensorFlow, so what the Model and Train pages need from a built
model is computed here and stored as a shared answer (``core.store.answers``); the page reads
that file (``ui.jobs.stored_answer``) and submits this job only when it is not there yet.

Parameters, one of:

- ``{"what": "layers", "backbone": ID, "input_size": N}``: the cut points and the default cut
  (``core.model.facts.layer_facts``);
- ``{"what": "summary", "spec": ModelConfig dict, "num_classes": N}``: summary rows, counts
  and the layers a fine-tune phase may unfreeze (``core.model.facts.summary_facts``).

The result: ``{"answer": key}`` (the answer's file name in ``<cache_dir>/answers/``).
"""

from __future__ import annotations

from typing import Any

from core.config.model import ModelConfig
from core.errors import StudioError, plain_errors
from core.jobs.context import JobContext
from core.model.facts import layer_facts, summary_facts
from core.store.answers import answer_key, write_answer

KIND = "model_facts"


def _answer(params: dict[str, Any]) -> dict[str, Any]:
    """Computes the answer the parameters ask for (see the module docstring)."""
    what = params.get("what")
    with plain_errors():
        if what == "layers":
            return layer_facts(str(params["backbone"]), int(params["input_size"]))
        if what == "summary":
            spec = ModelConfig.from_dict(params["spec"])
            return summary_facts(spec, int(params["num_classes"]))
    raise StudioError(f"Unknown model question '{what}'; ask for 'layers' or 'summary'.")


def run(context: JobContext) -> dict[str, Any]:
    """Computes and stores the answer; see the module docstring."""
    context.report(0.1, "Building the model (no weights) to read its layers.")
    answer = _answer(context.params)
    write_answer(context.settings, KIND, context.params, answer)
    return {"answer": answer_key(KIND, context.params)}
