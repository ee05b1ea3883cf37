"""``python -m core sweep``: train every backbone x cut x head combination, then compare them.

Examples::

    python -m core sweep --data ../shared/datasets/hymenoptera_data \\
        --backbones mobilenet_v2 efficientnet_b0 --cuts default --heads linear mlp --epochs 5
    STUDIO_RAY_ADDRESS=auto STUDIO_MAX_JOBS=8 python -m core sweep --config run.json \\
        --backbones mobilenet_v2 --cuts default block_13_expand_relu --heads linear max mlp

Each distinct combination is one run submitted through the job runner (``core.jobs.sweeps``:
all at once, within the workspace's quotas), sharing cached features with the runs of the same
backbone and cut (``core.config.sweep``); entries given twice and cuts a backbone has no layer
for are left out first, and the command says so. The runs land in the shared workspace
(or ``--workspace TOKEN``), where the Runs page compares them; the command prints the
comparison (``--json`` for JSON) once all ended.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from typing import Any

from core.cli.train import build_config
from core.cluster.features import precompute_on_cluster
from core.config.settings import Settings
from core.config.sweep import DEFAULT_CUT, HEAD_PRESETS, LayerNames, SweepPlan, plan_sweep
from core.evaluate.compare import METRIC_KEYS, compare_runs
from core.jobs.runner import JobRunner
from core.jobs.sweeps import submit_sweep
from core.model.cuts import list_layers
from core.store.workspace import workspace_store

# Flags shared with ``train``, passed to its ``build_config`` for the base config.
_TRAIN_FLAGS = (
    "config", "data", "epochs", "weights", "input_size", "batch_size", "seed", "augment",
)  # fmt: skip


def register(subparsers: Any) -> None:
    """Adds the ``sweep`` sub-command."""
    parser = subparsers.add_parser(
        "sweep",
        help="train backbone x cut x head combinations and compare them",
        description="Launch one run per combination (sharing cached features) and compare.",
    )
    parser.add_argument("--config", help="base run config JSON (data, model, train)")
    parser.add_argument("--data", help="dataset folder (one sub-folder per class)")
    parser.add_argument("--backbones", nargs="+", required=True, help="backbone ids")
    parser.add_argument(
        "--cuts",
        nargs="+",
        default=[DEFAULT_CUT],
        help="cut layers, tried on every backbone ('default' = its last feature map)",
    )
    parser.add_argument(
        "--heads", nargs="+", choices=sorted(HEAD_PRESETS), help="head presets (default: config's)"
    )
    parser.add_argument("--epochs", type=int, help="epochs of the head phase")
    parser.add_argument("--weights", choices=("imagenet", "none"), help="backbone weights")
    parser.add_argument("--input-size", type=int, help="square input side in pixels")
    parser.add_argument("--batch-size", type=int, help="images per step")
    parser.add_argument("--seed", type=int, help="random seed (the same for every run)")
    parser.add_argument("--augment", action=argparse.BooleanOptionalAction, help="augmentation")
    parser.add_argument("--workspace", help="workspace token (default: the shared workspace)")
    parser.add_argument("--no-wait", action="store_true", help="submit and exit")
    parser.add_argument("--json", action="store_true", help="print the comparison as JSON")
    parser.set_defaults(handler=handle_sweep)


def plan_from_args(args: argparse.Namespace, layer_names: LayerNames | None = None) -> SweepPlan:
    """The sweep of the flags: one validated ``RunConfig`` per distinct, possible combination,
    grouped by (backbone, cut); duplicates, and cuts ``layer_names`` does not list, left out
    (``plan_sweep``).

    Raises:
        ValueError: a flag or the base config is not valid (the message names it).
    """
    base_args = argparse.Namespace(
        **{name: getattr(args, name, None) for name in _TRAIN_FLAGS},
        backbone=None, cut=None, learning_rate=None, fine_tune_from=None,
        fine_tune_epochs=None, strategy=None, name=None,
        manual=True, time_budget=None,  # a sweep compares the heads it is given: set by hand
    )  # fmt: skip
    base = build_config(base_args)
    return plan_sweep(base, args.backbones, args.cuts, args.heads or [None], layer_names)


def cut_layer_names(input_size: int | None) -> LayerNames:
    """Lists a backbone's cut layers by building it once without weights (input left out)."""

    def names(backbone: str) -> list[str] | None:
        try:
            return [layer.name for layer in list_layers(backbone, input_size)][1:]
        except ValueError:  # a size this backbone refuses: its run will say so
            return None

    return names


def configs_from_args(args: argparse.Namespace) -> list[Any]:
    """The configs of ``plan_from_args``."""
    return plan_from_args(args).configs


def _say(text: str) -> None:
    print(text, file=sys.stderr)


def handle_sweep(args: argparse.Namespace) -> int:
    """Runs the ``sweep`` command; returns the exit code."""
    plan = plan_from_args(args, cut_layer_names(args.input_size))
    _say(plan.summary())
    settings = Settings.from_env()
    store = workspace_store(dataclasses.replace(settings, shared_workspace=True), args.workspace)
    if settings.ray_address:
        precompute_on_cluster(plan.configs, settings, _say)
    runner = JobRunner(settings)
    run_ids = submit_sweep(runner, store, plan.configs)
    _say(f"{len(run_ids)} runs submitted ({runner.executor.name} executor).")
    if args.no_wait:
        print("\n".join(run_ids))
        return 0
    _wait(runner, store, run_ids)
    rows = compare_runs(store, run_ids)
    print(json.dumps(rows, indent=2) if args.json else format_table(rows))
    return 0 if all(row["status"] == "finished" for row in rows) else 1


def _wait(runner: Any, store: Any, run_ids: list[str], poll_s: float = 2.0) -> None:
    """Polls every run (which also keeps the queue moving) until none is active."""
    while True:
        active = [run_id for run_id in run_ids if runner.snapshot(store, run_id).active]
        if not active:
            return
        print(f"\r{len(run_ids) - len(active)}/{len(run_ids)} runs ended", end="", file=sys.stderr)
        time.sleep(poll_s)


def format_table(rows: list[dict[str, Any]]) -> str:
    """The comparison as an aligned text table."""
    columns = ("run_id", "backbone", "cut", "head", "status", *METRIC_KEYS)
    cells = [[_cell(row.get(column)) for column in columns] for row in rows]
    widths = [
        max([len(column), *(len(line[index]) for line in cells)])
        for index, column in enumerate(columns)
    ]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in cells]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "-" if value is None else str(value)
