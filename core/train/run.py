"""The training run state machine: one run through its phases (see ``core.train.trainer``).

A ``TrainingRun`` goes training -> (extracting ->) training -> (fine-tuning ->) finished or
stopped, writing each status to the run folder. It holds the data split, the built model, the
phase data and the history; it stores the split (``split.json``) before the first epoch,
decides per phase between cached features and the streaming pipeline (``core.train.plan``),
fits (``core.train.fit``), resumes from a checkpoint (``core.train.resume``, on the stored
split) and writes the final files.
"""

from __future__ import annotations

from typing import Any

import keras

from core.config.run import RunConfig
from core.config.settings import Settings
from core.data.run_split import start_run_split
from core.data.splits import SplitData
from core.data.stored_split import SPLIT_FILE
from core.model.builder import build_model, set_trainable_from
from core.store.feature_cache import FeatureCache, feature_cache_folder
from core.store.ood_record import store_ood_threshold
from core.store.runs import RunStore
from core.train.callback import RunCallback
from core.train.events import TrainingEvents
from core.train.feature_folding import fold_features, fold_head_prefix
from core.train.features import prepare_cached
from core.train.fit import compile_for, fit_phase, make_strategy
from core.train.metrics import held_out_predictions, run_metrics, save_model_atomic
from core.train.phase_data import PhaseData, prepare_streamed
from core.train.plan import cache_decision, memory_guard
from core.train.resume import restore_checkpoint
from core.train.state import RunState
from core.train.tracking import MlflowTracking, start_tracking


class TrainingRun:
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
        # Filled by ``run`` (``_read_data``, then the model): empty until the data is read.
        self.split = SplitData(classes=[], train=[])
        self.data_root: str | None = None  # names unreadable files relative to it
        self.hashes: dict[str, str] = {}  # absolute path -> content hash (feature cache keys)
        self.strategy: Any = None  # the tf.distribute strategy
        self.built: Any = None  # core.model.builder.BuiltModel
        self.outputs = 0  # units of the model's last layer (1 for a sigmoid head)
        self.final_data: PhaseData | None = None
        self.final_model: Any = None
        self.cached = False
        self._unfrozen = False  # set by _restore when the checkpoint is of the fine-tune phase
        self.batch_size = self.train.batch_size
        self.tracking: MlflowTracking | None = None  # set by ``run`` when MLflow tracking is on

    def say(self, text: str) -> None:
        """Reports a plain-language line to the UI/terminal and the run log."""
        self.events.message(text)
        self.store.append_log(self.run_id, text)

    def notify(self, text: str) -> None:
        """A notice for the page (``TrainingEvents.notice``) that also goes to the run log."""
        self.events.notice(text)
        self.store.append_log(self.run_id, text)

    def set_status(self, status: str) -> None:
        """Writes the status to ``status.json`` and tells the UI."""
        self.store.update_status(self.run_id, status=status)
        self.events.status(status)

    def run(self) -> dict[str, Any]:
        """Runs every phase and saves the result."""
        # Seeds Python's, NumPy's and TensorFlow's GLOBAL generators. They are process-wide,
        # and a run trains in a process of its own (a job worker, or the CLI), so they belong
        # to this run alone even when several jobs run at once: same seed -> same metrics.
        keras.utils.set_random_seed(self.train.seed)
        self.set_status("training")  # out of the queue; "extracting" follows if it caches
        self.tracking = start_tracking(
            self.settings.mlflow_tracking_uri, self.config, self.store, self.run_id, self.notify
        )
        self._read_data()
        self.strategy = make_strategy(self.train.strategy)
        if self.train.strategy != "default":
            self.say(
                f"Distributed training ({self.train.strategy}) on "
                f"{self.strategy.num_replicas_in_sync} replicas."
            )
        with self.strategy.scope():
            self.built = build_model(self.config.model, len(self.split.classes))
        self.outputs = int(self.built.model.output_shape[-1])
        self._write_labels()
        start_epoch = self._restore() if self.resume else 0
        if start_epoch < self.train.epochs:
            self._head_phase(start_epoch)
        if self.train.fine_tune is not None and not self.state.stopped:
            self._fine_tune_phase(max(start_epoch, self.train.epochs))
        return self.finish(stopped=self.state.stopped)

    def _read_data(self) -> None:
        """Scans the dataset and takes the run's split (stored before the first epoch)."""
        self.say("Reading the dataset.")
        split_file = self.store.path(self.run_id) / SPLIT_FILE
        run_split = start_run_split(self.config.data, split_file, self.resume)
        for note in run_split.notes:
            self.say(note)
        self.split, self.data_root = run_split.split, run_split.report.root
        self.hashes = {record.path: record.sha1 for record in run_split.report.records}

    def _write_labels(self) -> None:
        """Writes ``labels.json``: what a predictor needs besides ``model.keras``."""
        labels = {
            "classes": list(self.split.classes),
            "input_size": self.config.model.resolved_input_size,
            "resize_mode": self.config.data.resize_mode,
        }
        self.store.write_json(self.run_id, "labels", labels)

    def _guard(self, cached: bool, backprop: bool, folded: list[Any] | None = None) -> int:
        """Applies the memory guard (``core.train.plan``); returns the batch size to use."""
        estimate, note = memory_guard(
            self.built, self.config, self.split, self.settings,
            cached=cached, backprop=backprop, folded=folded,
        )  # fmt: skip
        self.store.append_log(self.run_id, f"memory estimate (MB): {estimate.parts_mb}")
        if note:
            self.events.notice(note)
            self.store.append_log(self.run_id, note)
        return int(estimate.batch_size)

    def _extract(self, folded: list[Any]) -> PhaseData:
        views = max(1, self.train.augment_views) if self.config.data.augmentation.enabled else 1
        split = self.split
        self.events.extraction_planned(len(split.train) * views + len(split.val) + len(split.test))
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
        frozen = bool(self.built.fully_frozen_extractor)
        self.cached, why = cache_decision(self.config, frozen)
        self.say(why)
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
        checkpoint_model = self.built.head if frozen else self.built.model
        self._fit(model, data, "head", self.train.learning_rate, start_epoch, self.train.epochs,
                  checkpoint_model=checkpoint_model)  # fmt: skip

    def _fine_tune_phase(self, start_epoch: int) -> None:
        spec = self.train.fine_tune
        assert spec is not None
        if not self._unfrozen:
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
            events=self.events, store=self.store, run_id=self.run_id, state=self.state,
            phase=phase, total_epochs=self.train.total_epochs, checkpoint_model=checkpoint_model,
            steps_hint=-(-data.train_count // data.batch_size),
        )  # fmt: skip
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
            extra_callbacks=self.tracking.keras_callbacks(self.state) if self.tracking else (),
        )
        if self.state.best_weights is not None and (
            self.train.restore_best_weights or self.state.stopped
        ):
            checkpoint_model.set_weights(self.state.best_weights)

    def _restore(self) -> int:
        """Loads the last checkpoint of an interrupted run; returns the epochs already done."""
        last, self._unfrozen = restore_checkpoint(
            self.store, self.run_id, self.built, self.train, self.state
        )
        if last == 0:
            self.say("Nothing to resume from: starting from the first epoch.")
        else:
            self.say(f"Resuming after epoch {last} (the optimizer state starts fresh).")
        return last

    def finish(self, stopped: bool) -> dict[str, Any]:
        """Evaluates, saves ``model.keras`` and ``metrics.json``, sets the final status."""
        if stopped:
            self.say("Stopped by the user; keeping the best weights so far.")
        metrics: dict[str, Any] = {"stopped": stopped, "epochs_run": len(self.state.history)}
        if self.state.history and self.final_model is not None and self.final_data is not None:
            predictions = held_out_predictions(self.final_model, self.final_data)
            metrics.update(
                run_metrics(
                    self.state, self.final_model, self.final_data, list(self.split.classes),
                    self.outputs, self.batch_size, predictions,
                )
            )  # fmt: skip
            save_model_atomic(self.built.model, self.store.path(self.run_id) / "model.keras")
            # The unknown-image threshold, from the validation probabilities (ood.json).
            if not store_ood_threshold(self.store.path(self.run_id), predictions.get("val")):
                self.say("Too few validation images to tell unknown images: no such verdict.")
        self.store.write_json(self.run_id, "history", self.state.history)
        if self.tracking is not None:  # final metrics and model.keras to MLflow, ids both ways
            metrics.update(self.tracking.finish(metrics, self.store.path(self.run_id), stopped))
        self.store.write_json(self.run_id, "metrics", metrics)
        self.set_status("stopped" if stopped else "finished")
        self.say("Run stopped." if stopped else "Run finished.")
        return metrics
