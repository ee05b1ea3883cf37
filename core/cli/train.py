"""``python -m core train``: train a run from a JSON config or from flags, headless.

Examples::

    python -m core train --config run.json
    python -m core train --data ../shared/datasets/hymenoptera_data    # the automatic recipe
    python -m core train --data ../shared/datasets/hymenoptera_data --manual \\
        --backbone mobilenet_v2 --epochs 5 --weights imagenet --out runs
    python -m core train --config run.json --fine-tune-from block_16_expand --epochs 5
    python -m core train --resume 20261126-083200-123456-ab12 --out runs

The run folder is printed at the end; any problem ends with ``error: ...`` and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from core.config.auto import AutoRecipeConfig
from core.config.data import PHOTO_AUGMENTATION, AugmentConfig
from core.config.run import RunConfig
from core.config.settings import Settings
from core.errors import TrainingError
from core.store.recipe_record import read_recipe
from core.store.run_status import mark_live
from core.store.runs import RunStore
from core.train.errors import explain_error
from core.train.events import TrainingEvents

BAR_WIDTH = 30


def register(subparsers: Any) -> None:
    """Adds the ``train`` sub-command."""
    parser = subparsers.add_parser(
        "train",
        help="train a model (from --config run.json and/or flags)",
        description="Train a transfer-learning run and write its run folder.",
    )
    parser.add_argument("--config", help="run config JSON (data, model, train, name)")
    parser.add_argument("--data", help="dataset folder (one sub-folder per class)")
    parser.add_argument("--backbone", help="backbone id, e.g. mobilenet_v2")
    parser.add_argument("--input-size", type=int, help="square input side in pixels")
    parser.add_argument("--cut", help="backbone layer to cut at (default: last feature map)")
    parser.add_argument("--weights", choices=("imagenet", "none"), help="backbone weights")
    parser.add_argument("--epochs", type=int, help="epochs of the head phase")
    parser.add_argument("--batch-size", type=int, help="images per step")
    parser.add_argument("--learning-rate", type=float, help="head-phase learning rate")
    parser.add_argument(
        "--fine-tune-from",
        help="add a fine-tune phase from this layer name (or a number N = the last N layers)",
    )
    parser.add_argument("--fine-tune-epochs", type=int, help="epochs of the fine-tune phase")
    parser.add_argument(
        "--strategy",
        choices=("default", "mirrored", "multi_worker"),
        help="tf.distribute: 'mirrored' = every device of this machine; 'multi_worker' is "
        "refused (Keras 3 lacks it; scale out with Ray, see README 'Scale out')",
    )
    parser.add_argument(
        "--augment",
        action=argparse.BooleanOptionalAction,
        help="augment training images (default: on, the photo recipe: flip + rotation 10°, "
        "cached as several views); --no-augment trains on the images as they are",
    )
    parser.add_argument(
        "--manual",
        action="store_true",
        help="train by hand with the settings given (default for --data alone: the automatic "
        "recipe: pooled features of a few blocks, heads compared on validation, the best kept)",
    )
    parser.add_argument(
        "--time-budget",
        type=int,
        metavar="SECONDS",
        help=f"time budget of the automatic recipe (default {AutoRecipeConfig().time_budget_s})",
    )
    parser.add_argument("--seed", type=int, help="random seed (same seed, same metrics)")
    parser.add_argument("--name", help="a name for the run")
    parser.add_argument("--out", help="runs folder (default: STUDIO_RUNS_DIR or ./runs)")
    parser.add_argument("--resume", metavar="RUN_ID", help="continue an interrupted run in --out")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=handle_train)


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    if value is None:
        return
    *parents, last = path.split(".")
    for key in parents:
        data = data.setdefault(key, {})
    data[last] = value


def build_config(args: argparse.Namespace) -> Any:
    """Merges ``--config`` (if any) with the flags into a validated ``RunConfig``."""
    data: dict[str, Any] = {}
    if args.config:
        try:
            data = json.loads(Path(args.config).read_text(encoding="utf-8"))
        except OSError as error:
            raise TrainingError(f"Cannot read the config file {args.config}: {error}.") from error
        except json.JSONDecodeError as error:
            raise TrainingError(
                f"The config file {args.config} is not valid JSON: {error}."
            ) from error
    if not isinstance(data, dict):
        raise TrainingError("The config file must hold a JSON object.")
    for path, value in (
        ("data.path", args.data), ("model.backbone", args.backbone),
        ("model.input_size", args.input_size), ("model.cut_layer", args.cut),
        ("model.weights", args.weights), ("train.epochs", args.epochs),
        ("train.batch_size", args.batch_size), ("train.learning_rate", args.learning_rate),
        ("train.strategy", args.strategy), ("train.seed", args.seed), ("name", args.name),
    ):  # fmt: skip
        _set(data, path, value)
    if args.fine_tune_from:
        spec = data.setdefault("train", {}).get("fine_tune") or {}
        spec.pop("unfreeze_from", None)
        spec.pop("last_n", None)
        if args.fine_tune_from.isdigit():
            spec["last_n"] = int(args.fine_tune_from)
        else:
            spec["unfreeze_from"] = args.fine_tune_from
        data["train"]["fine_tune"] = spec
    if args.fine_tune_epochs is not None:
        if not (data.get("train") or {}).get("fine_tune"):
            raise TrainingError("--fine-tune-epochs needs --fine-tune-from (or a config with one).")
        data["train"]["fine_tune"]["epochs"] = args.fine_tune_epochs
    if "data" not in data:
        raise TrainingError("Give the dataset with --data FOLDER or --config run.json.")
    _set_augmentation(data, args.augment)
    _set_auto(data, args)
    return RunConfig.from_dict(data)


def _set_auto(data: dict[str, Any], args: argparse.Namespace) -> None:
    """Switches the automatic recipe on for a run from flags alone (a config file keeps its own
    choice, so an old run config trains as it did); ``--manual`` switches it off."""
    train = data.setdefault("train", {})
    if args.manual:
        train["auto"] = None
    elif not args.config and "auto" not in train:
        train["auto"] = {}
    if args.time_budget is not None:
        if train.get("auto") is None:
            raise TrainingError("--time-budget needs the automatic recipe (leave out --manual).")
        train["auto"]["time_budget_s"] = args.time_budget


def _set_augmentation(data: dict[str, Any], augment: bool | None) -> None:
    """``--augment`` keeps (or restores) the default recipe; ``--no-augment`` switches it off."""
    if augment is None or not isinstance(data.get("data"), dict):
        return
    section = data["data"]
    current = section.get("augmentation")
    if not augment:
        section["augmentation"] = AugmentConfig().to_dict()
    elif current is not None and not AugmentConfig.from_dict(current).enabled:
        section["augmentation"] = PHOTO_AUGMENTATION.to_dict()  # the config switched it off


class TerminalEvents(TrainingEvents):
    """Prints a one-line progress bar and the run's messages to stderr."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self._last = 0.0
        self._label = ""

    def _bar(self, fraction: float, text: str, force: bool = False) -> None:
        now = time.monotonic()
        if self.quiet or (not force and now - self._last < 0.2):
            return
        self._last = now
        filled = int(BAR_WIDTH * min(max(fraction, 0.0), 1.0))
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        print(f"\r[{bar}] {fraction * 100:5.1f}% {text:<45}", end="", file=sys.stderr, flush=True)

    def message(self, text: str) -> None:
        print(f"\r{text:<90}", file=sys.stderr, flush=True)

    def status(self, status: str) -> None:
        self._label = status

    def extraction(self, split: str, done: int, total: int) -> None:
        self._bar(
            done / total if total else 1.0, f"extracting {split} {done}/{total}", done == total
        )

    def epoch(self, row: dict[str, Any]) -> None:
        parts = [f"epoch {row['epoch']} ({row['phase']})"]
        parts += [
            f"{k} {row[k]:.4f}"
            for k in ("loss", "accuracy", "val_loss", "val_accuracy")
            if k in row
        ]
        self.message("  ".join(parts))

    def progress(self, fraction: float, eta_s: float | None, epoch: int, epochs: int) -> None:
        eta = f" ETA {eta_s:.0f}s" if eta_s is not None else ""
        self._bar(fraction, f"{self._label} epoch {epoch}/{epochs}{eta}")


def handle_train(args: argparse.Namespace) -> int:
    """Runs the ``train`` command; returns the exit code."""
    settings = Settings.from_env()
    out = Path(args.out or settings.runs_dir)
    if args.resume:
        store = RunStore(out, stale_s=settings.heartbeat_stale_s)
        run_id = args.resume
        if store.status(run_id) not in ("interrupted", "stopped"):
            raise TrainingError("Only an interrupted or stopped run can be resumed.")
        config = store.load(run_id).config
    else:
        config = build_config(args)
        store = RunStore(out, stale_s=settings.heartbeat_stale_s)
        run_id = store.create(config)
        store.append_log(run_id, f"config: {config.to_json(indent=None)}")
    from core.train.trainer import run_training

    mark_live(store.path(run_id), True)
    events = TerminalEvents(args.quiet)
    try:
        metrics = run_training(
            config, store, run_id, events, settings=settings, resume=bool(args.resume)
        )
    except Exception as error:
        message = explain_error(error)
        store.append_log(run_id, traceback.format_exc())
        store.update_status(run_id, status="failed", error=message)
        raise TrainingError(f"{message} (run folder: {store.path(run_id)})") from error
    finally:
        mark_live(store.path(run_id), False)
    print(file=sys.stderr)
    recipe = read_recipe(store.path(run_id))
    if recipe is not None:
        print(recipe.sentence(), file=sys.stderr)
    if "val_accuracy" in metrics:
        print(f"validation accuracy: {metrics['val_accuracy']:.4f}", file=sys.stderr)
    if "test_accuracy" in metrics:
        print(f"test accuracy: {metrics['test_accuracy']:.4f}", file=sys.stderr)
    print(store.path(run_id))
    return 0
