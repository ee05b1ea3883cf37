"""The automatic recipe's run (``AutoTrainingRun``): cached pooled taps, head search, refit, save.

Phases (the status and the progress say which one runs):

1. read the dataset and its split (as any run: ``TrainingRun._read_data``);
2. "extracting": one plain pass of every image through the frozen backbone, the pooled outputs
   of the plan's taps concatenated (``core.model.taps``); cached on disk under a key that holds
   the backbone, size, taps and files, so a re-run or another head costs no extraction;
3. "training": the head search (``core.train.head_search``) within the time budget, then the
   chosen head refitted on train + validation;
4. save ONE Keras model (raw RGB 0..255 in, the logistic regression folded into a Dense layer),
   ``labels.json``, ``metrics.json`` (validation = the search's score, test = the saved model's)
   and ``recipe.json`` (the choice, its score, the runners-up: ``core.store.recipe_record``).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import keras
import numpy as np

from core.config.auto_plan import AutoPlan, plan_sentence
from core.model.taps import TapNetwork, build_tap_network, classifier, featurizer
from core.store.feature_cache import (
    FeatureCache,
    cached_extract,
    feature_cache_folder,
    feature_cache_key,
)
from core.store.ood_record import store_ood_threshold
from core.store.recipe_record import HeadScore, RecipeRecord
from core.store.run_history import EpochRow
from core.train.extraction import extract_features
from core.train.head_candidates import Candidate, Score, Views
from core.train.head_search import HeadSearch, SearchResult, search_within_budget
from core.train.metrics import per_class_metrics, save_model_atomic
from core.train.run import TrainingRun
from core.train.tracking import start_tracking

Clock = Callable[[], float]


class AutoTrainingRun(TrainingRun):
    """A ``TrainingRun`` that trains with the automatic recipe's ``plan``."""

    def __init__(self, *args: Any, plan: AutoPlan, clock: Clock = time.monotonic) -> None:
        super().__init__(*args)
        self.plan, self.clock = plan, clock
        self.stages: dict[str, float] = {}
        self.taps: list[str] = list(plan.taps)  # the blocks the saved model pools

    def run(self) -> dict[str, Any]:
        """Runs every phase (see the module docstring) and saves the result."""
        keras.utils.set_random_seed(self.train.seed)
        self.set_status("training")
        self.tracking = start_tracking(
            self.settings.mlflow_tracking_uri, self.config, self.store, self.run_id, self.notify
        )
        self._read_data()
        self.say("Automatic recipe: " + plan_sentence(self.plan))
        network = build_tap_network(self.plan)
        features = featurizer(network)
        self._write_auto_labels()
        views = self._extract_splits(features, network.taps)
        self.set_status("training")
        search = HeadSearch(
            views["train"], views["val"], len(self.split.classes), self.plan.settings,
            self.train, self.config.model.head, last_width=network.tap_widths(network.taps[-1:])[0],
        )  # fmt: skip
        mark = time.perf_counter()
        # The budget is the search's: extraction is a fixed cost, and on a loaded machine it
        # alone outlasted 120 s, which left one candidate (hymenoptera: 94.8 % instead of 97 %).
        deadline = self.clock() + self.plan.settings.time_budget_s
        result = search_within_budget(search, deadline, self.clock, self.say)
        self.stages["search"] = time.perf_counter() - mark
        mark = time.perf_counter()
        self._store_ood_threshold(search, result.ranked[0], views["val"])
        refit = self.plan.settings.refit and len(views["val"].labels) > 0
        if refit:
            self.say(f"Refitting {result.ranked[0].candidate.name} on train + validation.")
        chosen = result.ranked[0].candidate
        head = search.final(result.ranked[0], refit=refit)
        self.stages["refit"] = time.perf_counter() - mark
        self.taps = chosen_taps(network, chosen)
        if self.taps != network.taps:  # the last block alone won: the saved model pools it only
            only = TapNetwork(network.base, network.input_size, network.preprocess, self.taps)
            features = featurizer(only)
        model = classifier(features, head.keras_head(), self.plan.input_size)
        test = search.columns(chosen, views["test"])
        probabilities = head.probabilities(test.arrays) if len(test.labels) else None
        return self._save(model, probabilities, views, result, refit)

    def _store_ood_threshold(self, search: HeadSearch, best: Score, val: Views) -> None:
        """``ood.json`` from the chosen head's validation probabilities, before any refit.

        The head that scored the validation images never saw them (a refitted one did, and
        would be overconfident on them), so the unknown-image threshold is set on fair scores.
        """
        stored = None
        if len(val.labels):
            held_out = search.final(best, refit=False)
            probabilities = held_out.probabilities(search.columns(best.candidate, val).arrays)
            stored = store_ood_threshold(self.store.path(self.run_id), (probabilities, val.labels))
        if stored is None:
            self.say("Too few validation images to tell unknown images: no such verdict.")

    def _write_auto_labels(self) -> None:
        """``labels.json`` with the recipe's input size (not the Model page's)."""
        labels = {
            "classes": list(self.split.classes),
            "input_size": self.plan.input_size,
            "resize_mode": self.config.data.resize_mode,
        }
        self.store.write_json(self.run_id, "labels", labels)

    def _extract_splits(self, features: Any, taps: list[str]) -> dict[str, Views]:
        """Pooled tap features of every split (cached), one plain view each."""
        self.set_status("extracting")
        cache = FeatureCache(feature_cache_folder(self.settings.cache_dir))
        mark, hits = time.perf_counter(), 0
        width = int(features.output.shape[-1])
        views = {}
        for name in ("train", "val", "test"):
            items = list(getattr(self.split, name))
            key = _tap_key(self.plan, items, self.hashes, taps, self.train.seed)
            extract = partial(self._pass, features, name, items)
            array, hit, _ = cached_extract(cache, key, len(items), extract)
            hits += int(hit)
            labels = np.asarray([label for _, label in items], dtype=np.int64)
            views[name] = Views([np.asarray(array, np.float32).reshape(len(items), width)], labels)
        self.stages["extract"] = time.perf_counter() - mark
        self.state.phase_seconds["extract"] = self.stages["extract"]
        if hits == 3:
            self.say("Features loaded from the cache: no extraction needed.")
        else:
            count = sum(len(view.labels) for view in views.values())
            self.say(
                f"Pooled features of {count} images computed in {self.stages['extract']:.1f} s."
            )
        return views

    def _pass(self, features: Any, name: str, items: list[Any]) -> np.ndarray:
        """One plain pass of ``items`` through ``features`` (float16, as the cache stores)."""
        if not items:
            return np.zeros((0, int(features.output.shape[-1])), np.float16)
        progress = self.events.extraction
        array, _ = extract_features(
            features, items, image_size=self.plan.input_size,
            resize_mode=self.config.data.resize_mode,
            batch_size=min(self.batch_size, self.settings.extract_batch_size),
            should_stop=self.events.should_stop, dtype=np.float16, root=self.data_root,
            progress=lambda done, total: progress(name, done, total),
        )  # fmt: skip
        return array

    def _save(
        self, model: Any, test_probabilities: np.ndarray | None, views: dict[str, Views],
        result: SearchResult, refit: bool,
    ) -> dict[str, Any]:  # fmt: skip
        """Writes model.keras, metrics.json and recipe.json; sets the final status."""
        mark = time.perf_counter()
        folder = self.store.path(self.run_id)
        save_model_atomic(model, folder / "model.keras")
        self.stages["save"] = time.perf_counter() - mark
        best = result.ranked[0]
        classes = list(self.split.classes)
        metrics: dict[str, Any] = {
            "stopped": False, "epochs_run": 0, "classes": classes, "cached_features": True,
            "val_accuracy": best.accuracy, "val_loss": best.log_loss,
            "val_count": len(views["val"].labels), "scored_by": result.scored_by,
            "recipe": "automatic",
            "phase_seconds": {k: round(v, 3) for k, v in self.stages.items()},
        }  # fmt: skip
        test = views["test"].labels
        if test_probabilities is not None:
            predicted = test_probabilities.argmax(axis=1)
            metrics["test_accuracy"] = float(np.mean(predicted == test))
            metrics["test_count"] = len(test)
            metrics.update(per_class_metrics(test, predicted, classes))
        record = RecipeRecord(
            plan=plan_sentence(self.plan), backbone=self.plan.backbone,
            input_size=self.plan.input_size, taps=tuple(self.taps), scored_by=result.scored_by,
            scores=tuple(HeadScore.from_dict(s.to_dict()) for s in result.ranked),
            skipped=tuple(c.name for c in result.skipped), refit=refit,
            time_budget_s=self.plan.settings.time_budget_s,
            stages={k: round(v, 2) for k, v in self.stages.items()},
        )  # fmt: skip
        self.store.write_json(self.run_id, "recipe", record.to_dict())
        self.state.history = search_history(result.tried)
        self.store.write_json(self.run_id, "history", self.state.history)
        if self.tracking is not None:  # as a manual run: one step per candidate, then the end
            self.tracking.log_rows(self.state.history)
            metrics.update(self.tracking.finish(metrics, folder, stopped=False))
        self.store.write_json(self.run_id, "metrics", metrics)
        self.say(record.sentence())
        self.set_status("finished")
        self.say("Run finished.")
        return metrics


def _tap_key(
    plan: AutoPlan, items: list[Any], hashes: dict[str, str], taps: list[str], seed: int
) -> str:
    """The feature cache key of one split: the backbone's key, plus the taps."""
    base = feature_cache_key(plan.model_config(), plan.resize_mode, items, hashes=hashes, seed=seed)
    return hashlib.sha256(f"{base}|taps={','.join(taps)}".encode()).hexdigest()[:40]


def chosen_taps(network: TapNetwork, chosen: Candidate) -> list[str]:
    """The blocks the chosen head reads: the last one alone, or every tapped one."""
    return network.taps[-1:] if chosen.features == "last" else list(network.taps)


def search_history(tried: list[Score]) -> list[dict[str, Any]]:
    """``history.json`` of an automatic run: one row per candidate, in the order tried.

    The "epoch" is the candidate's place in the search (the charts' x axis); the training
    scores are on the rows it was fitted on, the validation ones are what the search ranked
    (validation or out-of-fold); the candidate's name, kind and epochs are kept beside them.
    """
    rows = []
    for place, score in enumerate(tried, start=1):
        extra: dict[str, Any] = {"candidate": score.candidate.name, "head": score.candidate.kind}
        if score.epochs is not None:
            extra["head_epochs"] = score.epochs
        row = EpochRow(
            epoch=place, phase="head_search", loss=score.fit_loss,
            accuracy=score.fit_accuracy, val_loss=score.log_loss, val_accuracy=score.accuracy,
            extra=extra,
        )  # fmt: skip
        rows.append(row.to_dict())
    return rows
