"""One training run, start to finish: data, model, (cached) head phase, fine-tune phase, save.

``run_training`` is used by the app's training worker (``core.jobs.kinds.train``) and by the CLI
(``python -m core train``); both see the run through a ``TrainingEvents`` object. The phases:

1. read and split the dataset, build the model (inside the ``tf.distribute`` strategy scope);
   With the automatic recipe (``TrainConfig.auto``, ``core.config.auto_plan``) the rest is
   ``core.train.auto_run``: pooled taps cached, head search, refit, one saved model;
2. head phase: when nothing below the head is trainable, extract the features once (disk
   cache) and fit the head on them, else fit the whole model on the streaming pipeline;
3. optional fine-tune phase: unfreeze the top of the backbone, recompile at a lower rate and
   continue the same history end-to-end;
4. evaluate, save ``model.keras`` (raw 0..255 in) and ``metrics.json``.
"""

from __future__ import annotations

from typing import Any

from core.config.auto_plan import auto_plan
from core.config.run import RunConfig
from core.config.settings import Settings
from core.data.pipeline import explain_pipeline_error
from core.errors import StudioError, TrainingError
from core.store.runs import RunStore
from core.train.auto_run import AutoTrainingRun
from core.train.events import TrainingEvents
from core.train.extraction import StopRequested
from core.train.run import TrainingRun


def run_training(
    config: RunConfig,
    store: RunStore,
    run_id: str,
    events: TrainingEvents | None = None,
    *,
    settings: Settings | None = None,
    resume: bool = False,
) -> dict[str, Any]:
    """Trains one run to the end and fills its run folder.

    Args:
        config: the run config (already stored as ``config.json``).
        store: the run store holding ``run_id``.
        run_id: the run to fill.
        events: receives progress (the job or the CLI); None ignores it.
        settings: cache folder and memory budget (default: ``Settings.from_env()``).
        resume: continue an interrupted run from its last checkpoint.

    Returns:
        The metrics written to ``metrics.json``.

    Raises:
        StudioError: with a plain message (``explain_error`` turns anything else into one);
            the caller logs the traceback and marks the run failed.
    """
    plan, why = auto_plan(config)
    arguments = (
        config,
        store,
        run_id,
        events or TrainingEvents(),
        settings or Settings.from_env(),
        resume,
    )
    session = AutoTrainingRun(*arguments, plan=plan) if plan else TrainingRun(*arguments)
    if plan is None and config.train.auto is not None:
        session.say(why)  # the recipe was asked for but cannot honour a setting: say which
    try:
        return session.run()
    except StopRequested:
        return session.finish(stopped=True)
    except StudioError:
        raise
    except Exception as error:
        failure = _unreadable_file_failure(error, session.data_root)
        if failure is None:
            raise
        raise failure from error
    finally:
        if session.tracking is not None:
            session.tracking.end()  # an MLflow run not finished by ``finish`` failed


def _unreadable_file_failure(error: Exception, data_root: str | None) -> TrainingError | None:
    """A plain ``TrainingError`` naming the file when ``error`` comes from an unreadable one.

    A file changed or removed after the scan stops the streaming pipeline with a TensorFlow
    error; the user gets a sentence naming the file (the traceback goes to the log).
    """
    sentence = explain_pipeline_error(error, data_root)
    return None if sentence is None else TrainingError(sentence)
