"""Sweeps: one run per backbone x cut x head combination, sharing cached features, compared.

Used by ``python -m core sweep`` (``core.cli.sweep``) and the Runs page's sweep form. Every
combination is a normal run submitted through the job runner, so it waits in the same queue
and runs in a worker process, or as a Ray job when ``STUDIO_RAY_ADDRESS`` is set. Runs with
the same backbone and cut share cached features: the feature-cache key leaves the head out,
so the first run of a (backbone, cut) extracts and the next ones load; the configs come out
grouped that way. On a Ray cluster ``precompute_on_cluster`` first extracts each group's
features across the cluster with Ray Data (``core.train.ray_features``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

from core.config.run import RunConfig
from core.config.settings import Settings
from core.errors import StudioError
from core.store.runs import RunStore

DEFAULT_CUT = "default"  # the backbone's last feature map
HEAD_PRESETS: dict[str, dict[str, Any]] = {
    "linear": {"pooling": "avg", "dense": []},
    "max": {"pooling": "max", "dense": []},
    "mlp": {"pooling": "avg", "dense": [{"units": 128, "dropout": 0.2}]},
}
METRIC_KEYS = ("val_accuracy", "val_loss", "test_accuracy")


def sweep_configs(
    base: RunConfig,
    backbones: Sequence[str],
    cuts: Sequence[str] = (DEFAULT_CUT,),
    heads: Sequence[str | None] = (None,),
) -> list[RunConfig]:
    """One validated config per combination (``base`` otherwise), grouped by (backbone, cut).

    Args:
        base: data, training settings and the rest of the model.
        backbones: backbone ids.
        cuts: layer names tried on every backbone; ``DEFAULT_CUT`` is its last feature map.
        heads: keys of ``HEAD_PRESETS``; None keeps the base config's head.

    Raises:
        ValueError: an empty list, an unknown head preset or an invalid combination.
    """
    if not backbones or not cuts or not heads:
        raise ValueError("A sweep needs at least one backbone, one cut and one head.")
    unknown = [head for head in heads if head is not None and head not in HEAD_PRESETS]
    if unknown:
        raise ValueError(f"Unknown head '{unknown[0]}'; choose from {', '.join(HEAD_PRESETS)}.")
    configs = []
    for backbone, cut, head in itertools.product(backbones, cuts, heads):
        model = base.model.to_dict()
        model.update(backbone=backbone, cut_layer=None if cut == DEFAULT_CUT else cut)
        if head is not None:
            model["head"] = {**model["head"], **HEAD_PRESETS[head]}
        data = base.to_dict()
        data.update(model=model, name=f"sweep {backbone} @ {cut} + {head or 'head'}")
        configs.append(RunConfig.from_dict(data))
    return configs


def feature_groups(configs: Sequence[RunConfig]) -> list[RunConfig]:
    """The first config of each (backbone, cut, input size) whose runs cache features."""
    groups: dict[tuple[Any, ...], RunConfig] = {}
    for config in configs:
        model = config.model
        if config.train.cache_features and model.freeze.policy == "backbone":
            key = (model.backbone, model.cut_layer, model.resolved_input_size)
            groups.setdefault(key, config)
    return list(groups.values())


def precompute_on_cluster(
    configs: Sequence[RunConfig], settings: Settings, say: Callable[[str], None] = print
) -> None:
    """Extracts each group's plain features across the Ray cluster into the feature cache.

    Raises:
        StudioError: Ray is missing, the cluster cannot be reached or the data cannot be read.
    """
    from core.train.ray_features import cache_run_features

    for config in feature_groups(configs):
        done = cache_run_features(config, settings)
        say(
            f"features of {config.model.backbone} @ {config.model.cut_layer or DEFAULT_CUT}: "
            f"{done['images']} images on {len(done['nodes'])} node(s) in {done['seconds']:.1f} s"
        )


def head_name(head: Any) -> str:
    """A short name of a head: its pooling and dense layers, e.g. ``avg+dense128``."""
    return str(head.pooling) + "".join(f"+dense{layer.units}" for layer in head.dense)


def compare_runs(store: RunStore, run_ids: Sequence[str]) -> list[dict[str, Any]]:
    """One row per run (backbone, cut, head, status, metrics), best validation accuracy first."""
    rows = []
    for run_id in run_ids:
        try:
            record = store.load(run_id)
        except StudioError as error:
            rows.append({"run_id": run_id, "status": "unreadable", "error": str(error)})
            continue
        model = record.config.model
        row: dict[str, Any] = {
            "run_id": run_id,
            "backbone": model.backbone,
            "cut": model.cut_layer or DEFAULT_CUT,
            "head": head_name(model.head),
            "status": record.status,
        }
        row.update({key: record.metrics.get(key) for key in METRIC_KEYS})
        rows.append(row)
    return sorted(rows, key=lambda row: -(row.get("val_accuracy") or -1.0))
