"""Sweep configs: one run config per backbone x cut x head combination.

Used by ``python -m core sweep`` (``core.cli.sweep``) and the Runs page's sweep form. Every
combination is a normal run submitted through the job runner, so it waits in the same queue
and runs in a worker process, or as a Ray job when ``STUDIO_RAY_ADDRESS`` is set. Runs with
the same backbone and cut share cached features: the feature-cache key leaves the head out,
so the first run of a (backbone, cut) extracts and the next ones load; the configs come out
grouped that way (``feature_groups``). On a Ray cluster
``core.cluster.features.precompute_on_cluster`` first extracts each group's features across
the cluster with Ray Data. The runs are compared with ``core.evaluate.compare.compare_runs``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from core.config.run import RunConfig

DEFAULT_CUT = "default"  # the backbone's last feature map
HEAD_PRESETS: dict[str, dict[str, Any]] = {
    "linear": {"pooling": "avg", "dense": []},
    "max": {"pooling": "max", "dense": []},
    "mlp": {"pooling": "avg", "dense": [{"units": 128, "dropout": 0.2}]},
}


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
