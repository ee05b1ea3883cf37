"""One training run, start to finish: data, model, (cached) head phase, fine-tune phase, save.

``run_training`` is used by the background jobs of the app (``core.jobs``) and by the CLI
(``python -m core train``); both see the run through a ``TrainingEvents`` object. The phases:

1. read and split the dataset, build the model (inside the ``tf.distribute`` strategy scope);
2. head phase: when nothing below the head is trainable, extract the features once (disk
   cache) and fit the head on them, else fit the whole model on the streaming pipeline;
3. optional fine-tune phase: unfreeze the top of the backbone, recompile at a lower rate and
   continue the same history end-to-end;
4. evaluate, save ``model.keras`` (raw 0..255 in) and ``metrics.json``.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from core.errors import StudioError, TrainingError
from core.features import (
    FeatureCache,
    PhaseData,
    StopRequested,
    feature_cache_folder,
    fold_features,
    fold_head_prefix,
    prepare_cached,
    prepare_streamed,
)
from core.jobs import TrainingEvents
from core.runs import RunStore
from core.settings import Settings
from core.train_callbacks import (
    RunCallback,
    RunState,
    compile_for,
    explain_error,
    fit_phase,
    make_strategy,
)
from core.train_config import RunConfig
from core.train_metrics import evaluate_final, save_model_atomic, summarize_history

__all__ = ["TrainingSession", "explain_error", "run_training"]


class TrainingSession:
    """The state of one run while it trains (data, model, phases, history)."""

    def __init__(
        self,
        config: RunConfig,
        store: RunStore,
        run_id: str,
        events: TrainingEvents,
        settings: Settings,
        resume: bool,
    ) -> None:
        self.config, self.store, self.run_id, self.events = config, store, run_id, events
        self.settings, self.resume = settings, resume
        self.train = config.train
        self.state = RunState()
        self.built: Any = None
        self.final_data: PhaseData | None = None
        self.final_model: Any = None
        self.cached = False
        self.batch_size = self.train.batch_size

    def say(self, text: str) -> None:
        """Reports a plain-language line to the UI/terminal and the run log."""
        self.events.message(text)
        self.store.append_log(self.run_id, text)

    def set_status(self, status: str) -> None:
        """Writes the status to ``status.json`` and tells the UI."""
        self.store.update_status(self.run_id, status=status)
        self.events.status(status)

    def run(self) -> dict[str, Any]:
        """Runs every phase and saves the result."""
        from core.model_builder import build_model
        from core.pipeline import load_split

        # Seeds Python's, NumPy's and TensorFlow's GLOBAL generators. They are process-wide:
        # with Settings.max_jobs > 1, a second job starting meanwhile reseeds them under the
        # first one, so concurrent runs are not bit-for-bit reproducible (head weight
        # initialisation, dropout masks and any TF random op created after the reseed may
        # differ; augmentation layers and shuffles get explicit seeds). With the default
        # max_jobs=1, same seed -> same metrics. Known limitation, not fixed.
        keras.utils.set_random_seed(self.train.seed)
        self.set_status("training")  # out of the queue; "extracting" follows if it caches
        self.say("Reading the dataset.")
        report, self.split = load_split(self.config.data)
        self.data_root = report.root
        self.hashes = {record.path: record.sha1 for record in report.records}
        self.strategy = make_strategy(self.train.strategy)
        if self.train.strategy != "default":
            self.say(
                f"Distributed training ({self.train.strategy}) on "
                f"{self.strategy.num_replicas_in_sync} replicas."
            )
        with self.strategy.scope():
            self.built = build_model(self.config.model, len(self.split.classes))
        self.outputs = int(self.built.model.output_shape[-1])
        self.store.write_json(
            self.run_id,
            "labels",
            {
                "classes": list(self.split.classes),
                "input_size": self.config.model.resolved_input_size,
                "resize_mode": self.config.data.resize_mode,
            },
        )
        start_epoch = self._restore() if self.resume else 0
        if start_epoch < self.train.epochs:
            self._head_phase(start_epoch)
        if self.train.fine_tune is not None and not self.state.stopped:
            self._fine_tune_phase(max(start_epoch, self.train.epochs))
        return self.finish(stopped=self.state.stopped)

    def _cache_decision(self) -> tuple[bool, str]:
        augment = self.config.data.augmentation
        if not self.train.cache_features:
            return False, "Feature caching is off: training the whole network end-to-end."
        if not self.built.fully_frozen_extractor:
            return False, (
                "Some layers below the head are trainable, so every epoch runs the "
                "whole network (no feature caching)."
            )
        if augment.enabled and self.train.augment_views == 0:
            return False, (
                "Augmentation is on: training end-to-end so every epoch sees new "
                "random changes (set augmented views above 0 to cache instead)."
            )
        if augment.enabled:
            return True, (
                f"The backbone is frozen: caching {self.train.augment_views} augmented "
                "views of each training image and training only the head on them."
            )
        return True, (
            "The backbone is frozen: computing its features once and training only "
            "the head on them (feature caching)."
        )

    def _guard(self, cached: bool, backprop: bool, folded: list[Any] | None = None) -> int:
        """Applies the memory guard; returns the batch size to use.

        With caching, the arrays kept are the folded (pooled) features when the head starts
        with pooling, plus one split/view of full float16 cut outputs while it is pooled.
        """
        from core.memory import fit_batch_size, measure_footprint, process_memory_mb

        split = self.split
        views = max(1, self.train.augment_views) if self.config.data.augmentation.enabled else 1
        count = len(split.train) * views + len(split.val) + len(split.test) if cached else 0
        kept = None
        if cached and folded:
            kept = int(np.prod([d for d in folded[-1].output.shape[1:] if d is not None]))
        estimate, note = fit_batch_size(
            measure_footprint(self.built),
            self.train.batch_size,
            budget_mb=self.settings.memory_budget_mb,
            used_mb=process_memory_mb(),
            cached_images=count,
            backprop_backbone=backprop,
            cached_floats=kept,
            staging_images=max(len(split.train), len(split.val), len(split.test)) if kept else 0,
        )
        self.store.append_log(self.run_id, f"memory estimate (MB): {estimate.parts_mb}")
        if note:
            self.say(note)
        return estimate.batch_size

    def _extract(self, folded: list[Any]) -> PhaseData:
        self.set_status("extracting")
        data = prepare_cached(
            self.built.feature_extractor,
            model_spec=self.config.model,
            data_spec=self.config.data,
            split=self.split,
            hashes=self.hashes,
            # Activations of the extraction batch are most of its memory; a smaller batch
            # than the training one costs almost no speed on CPU (see Settings).
            batch_size=min(self.batch_size, self.settings.extract_batch_size),
            views=self.train.augment_views,
            seed=self.train.seed,
            cache=FeatureCache(feature_cache_folder(self.settings.cache_dir)),
            outputs=self.outputs,
            progress=self.events.extraction,
            should_stop=self.events.should_stop,
            transform=(lambda features: fold_features(features, folded)) if folded else None,
            root=self.data_root,
        )
        data.batch_size = self.batch_size
        if data.from_cache:
            self.say("Features loaded from the cache: no extraction needed.")
        else:
            self.say(
                f"Features of {data.extracted_images} images computed in "
                f"{data.extract_seconds:.1f} s."
            )
        self.state.phase_seconds["extract"] = data.extract_seconds
        self.state.images_seen["extract"] = data.extracted_images
        return data

    def _streamed(self, augment: bool = True) -> PhaseData:
        return prepare_streamed(
            split=self.split,
            data_spec=self.config.data,
            image_size=self.config.model.resolved_input_size,
            batch_size=self.batch_size,
            seed=self.train.seed,
            outputs=self.outputs,
            augment_train=augment,
        )

    def _head_phase(self, start_epoch: int) -> None:
        self.cached, why = self._cache_decision()
        self.say(why)
        frozen = bool(self.built.fully_frozen_extractor)
        model = self.built.head if self.cached else self.built.model
        folded: list[Any] = []
        if self.cached:
            with self.strategy.scope():
                folded, trainable_head = fold_head_prefix(self.built.head)
            if folded:
                model = trainable_head
                names = ", ".join(layer.name for layer in folded)
                self.store.append_log(self.run_id, f"folded into the cache: {names}")
        self.batch_size = self._guard(self.cached, backprop=not frozen, folded=folded)
        data = self._extract(folded) if self.cached else self._streamed()
        self.set_status("training")
        self._fit(
            model,
            data,
            "head",
            self.train.learning_rate,
            start_epoch,
            self.train.epochs,
            checkpoint_model=self.built.head if frozen else self.built.model,
        )

    def _fine_tune_phase(self, start_epoch: int) -> None:
        spec = self.train.fine_tune
        assert spec is not None
        if not getattr(self, "_unfrozen", False):
            from core.freezing import set_trainable_from

            count = set_trainable_from(self.built, spec.unfreeze_from, spec.last_n)
            self.say(
                f"Fine-tuning: {count} backbone layers unfrozen, learning rate x "
                f"{spec.lr_factor:g}; BatchNormalization stays in inference mode."
            )
        self.cached = False
        self.batch_size = self._guard(False, backprop=True)
        self.state.best_value, self.state.best_weights = None, None
        self.set_status("fine-tuning")
        self._fit(
            self.built.model,
            self._streamed(),
            "fine_tune",
            self.train.learning_rate * spec.lr_factor,
            start_epoch,
            self.train.total_epochs,
            checkpoint_model=self.built.model,
        )

    def _fit(
        self,
        model: Any,
        data: PhaseData,
        phase: str,
        learning_rate: float,
        start_epoch: int,
        epochs: int,
        checkpoint_model: Any,
    ) -> None:
        with self.strategy.scope():
            compile_for(model, self.train, learning_rate, self.outputs)
        callback = RunCallback(
            events=self.events,
            store=self.store,
            run_id=self.run_id,
            state=self.state,
            phase=phase,
            total_epochs=self.train.total_epochs,
            checkpoint_model=checkpoint_model,
            steps_hint=-(-data.train_count // data.batch_size),
        )
        weights = self.split.class_weights() if self.train.class_weights else None
        self.final_data, self.final_model = data, model
        fit_phase(
            model,
            data,
            train=self.train,
            callback=callback,
            initial_epoch=start_epoch,
            epochs=epochs,
            class_weight=weights,
        )
        if self.state.best_weights is not None and (
            self.train.restore_best_weights or self.state.stopped
        ):
            checkpoint_model.set_weights(self.state.best_weights)

    def _restore(self) -> int:
        """Loads the last checkpoint of an interrupted run; returns the epochs already done."""
        info = self.store.read_status(self.run_id)
        folder = self.store.path(self.run_id)
        last = int(info.get("last_epoch") or 0)
        weights = folder / "last.weights.h5"
        if last == 0 or not weights.is_file():
            self.say("Nothing to resume from: starting from the first epoch.")
            return 0
        self.state.history = [r for r in self.store.load(self.run_id).history if r["epoch"] <= last]
        fine_tune = info.get("checkpoint") == "fine_tune"
        if fine_tune and self.train.fine_tune is not None:
            from core.freezing import set_trainable_from

            spec = self.train.fine_tune
            set_trainable_from(self.built, spec.unfreeze_from, spec.last_n)
            self._unfrozen = True
        target = (
            self.built.model
            if fine_tune or not self.built.fully_frozen_extractor
            else self.built.head
        )
        best = folder / "best.weights.h5"
        if best.is_file():
            target.load_weights(best)
            self.state.best_weights = [w.copy() for w in target.get_weights()]
            self.state.best_value = info.get("best_value")
        target.load_weights(weights)
        self.say(f"Resuming after epoch {last} (the optimizer state starts fresh).")
        return last

    def finish(self, stopped: bool) -> dict[str, Any]:
        """Evaluates, saves ``model.keras`` and ``metrics.json``, sets the final status."""
        if stopped:
            self.say("Stopped by the user; keeping the best weights so far.")
        metrics: dict[str, Any] = {"stopped": stopped, "epochs_run": len(self.state.history)}
        if self.state.history and self.final_model is not None and self.final_data is not None:
            metrics.update(summarize_history(self.state.history))
            metrics.update(
                evaluate_final(
                    self.final_model, self.final_data, list(self.split.classes), self.outputs
                )
            )
            metrics.update(
                classes=list(self.split.classes),
                batch_size=self.batch_size,
                cached_features=bool(self.final_data.arrays),
                features_from_cache=bool(self.final_data.from_cache),
                phase_seconds={k: round(v, 3) for k, v in self.state.phase_seconds.items()},
                images_per_second={
                    k: round(self.state.images_seen.get(k, 0) / v, 1)
                    for k, v in self.state.phase_seconds.items()
                    if v > 0
                },
            )
            save_model_atomic(self.built.model, self.store.path(self.run_id) / "model.keras")
        self.store.write_json(self.run_id, "history", self.state.history)
        self.store.write_json(self.run_id, "metrics", metrics)
        self.set_status("stopped" if stopped else "finished")
        self.say("Run stopped." if stopped else "Run finished.")
        return metrics


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
    session = TrainingSession(
        config, store, run_id, events or TrainingEvents(), settings or Settings.from_env(), resume
    )
    try:
        return session.run()
    except StopRequested:
        return session.finish(stopped=True)
    except StudioError:
        raise
    except Exception as error:
        # A file changed or removed after the scan stops the streaming pipeline with a
        # TensorFlow error; name the file in a plain sentence (the traceback goes to the log).
        from core.pipeline import explain_pipeline_error

        sentence = explain_pipeline_error(error, getattr(session, "data_root", None))
        if sentence is None:
            raise
        raise TrainingError(sentence) from error
