"""Resuming an interrupted run: reload its last (and best) checkpoint and the history so far."""

from __future__ import annotations

from typing import Any

from core.config.train import TrainConfig
from core.errors import TrainingError
from core.model.builder import set_trainable_from
from core.store.runs import RunStore
from core.train.state import RunState


def restore_checkpoint(
    store: RunStore, run_id: str, built: Any, train: TrainConfig, state: RunState
) -> tuple[int, bool]:
    """Loads the last checkpoint of an interrupted run into ``built`` and ``state``.

    Args:
        store: the run store holding ``run_id``.
        run_id: the run to resume (``status.json`` says its last epoch and checkpoint phase).
        built: the freshly built model (``core.model.builder.BuiltModel``).
        train: the run's training settings (fine-tune spec).
        state: receives the history up to the checkpoint and the best weights so far.

    Returns:
        ``(epochs already done, backbone unfrozen for fine-tuning)``; ``(0, False)`` when
        there is nothing to resume from.
    """
    info = store.run_status(run_id)
    folder = store.path(run_id)
    last = info.last_epoch
    weights = folder / "last.weights.h5"
    if last == 0 or not weights.is_file():
        return 0, False
    # RunState keeps the rows as history.json stores them: the callback appends and writes them.
    state.history = [r.to_dict() for r in store.load(run_id).history if r.epoch <= last]
    fine_tune = info.checkpoint == "fine_tune"
    unfrozen = False
    if fine_tune and train.fine_tune is not None:
        set_trainable_from(built, train.fine_tune.unfreeze_from, train.fine_tune.last_n)
        unfrozen = True
    target = built.model if fine_tune or not built.fully_frozen_extractor else built.head
    best = folder / "best.weights.h5"
    try:
        if best.is_file():
            target.load_weights(best)
            state.best_weights = [w.copy() for w in target.get_weights()]
            state.best_value = info.best_value
        target.load_weights(weights)
    except (OSError, ValueError) as error:
        raise TrainingError(
            "This run's saved progress cannot be read (the checkpoint file is damaged), so it "
            "cannot be resumed: delete it, or start a new run with the same settings."
        ) from error
    return last, unfrozen
