"""Sweep configs: one run config per backbone x cut x head combination.

Used by ``python -m core sweep`` (``core.cli.sweep``) and the Runs page's sweep form. Every
combination is a normal run submitted through the job runner, so it waits in the same queue
and runs in a worker process, or as a Ray job when ``STUDIO_RAY_ADDRESS`` is set. Runs with
the same backbone and cut share cached features: the feature-cache key leaves the head out,
so the first run of a (backbone, cut) extracts and the next ones load; the configs come out
grouped that way (``feature_groups``). Before anything is queued, ``plan_sweep`` drops what
would only waste a slot: entries given twice, combinations that name the same run (a cut equal
to the backbone's default) and, when the caller can list a backbone's layers (``layer_names``:
the CLI builds each backbone once; the web process, which builds nothing, passes none), cuts
the backbone has no layer for; its ``summary`` says how many runs the sweep starts and what it
left out. On a Ray cluster ``core.cluster.features.precompute_on_cluster`` first extracts
each group's features across the cluster with Ray Data. The runs are compared with
``core.evaluate.compare.compare_runs``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.config.run import RunConfig

DEFAULT_CUT = "default"  # the backbone's last feature map
# A backbone id -> the names of the layers it can be cut at, in order (None: not known).
LayerNames = Callable[[str], Sequence[str] | None]
HEAD_PRESETS: dict[str, dict[str, Any]] = {
    "linear": {"pooling": "avg", "dense": []},
    "max": {"pooling": "max", "dense": []},
    "mlp": {"pooling": "avg", "dense": [{"units": 128, "dropout": 0.2}]},
}


@dataclass(frozen=True)
class SweepPlan:
    """The runs a sweep starts, and what it left out before queueing.

    Attributes:
        configs: one validated config per run, grouped by (backbone, cut).
        duplicates: entries given twice, or combinations that name the same run.
        unknown_cuts: "backbone: cut" pairs whose backbone has no such layer.
    """

    configs: list[RunConfig]
    duplicates: int = 0
    unknown_cuts: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One sentence: the runs it starts and what it dropped."""
        text = f"This sweep starts {len(self.configs)} run{'s' * (len(self.configs) != 1)}"
        left = []
        if self.duplicates:
            left.append(f"{self.duplicates} duplicate entr{'ies' if self.duplicates > 1 else 'y'}")
        if self.unknown_cuts:
            shown = ", ".join(self.unknown_cuts[:3]) + ("..." if len(self.unknown_cuts) > 3 else "")
            left.append(f"{len(self.unknown_cuts)} cut(s) the backbone has no layer for ({shown})")
        return text + (f"; left out {' and '.join(left)}." if left else ".")


def _unique(values: Sequence[Any]) -> tuple[list[Any], int]:
    """``values`` without repeats (first kept), and how many repeats there were."""
    kept = list(dict.fromkeys(values))
    return kept, len(values) - len(kept)


def _cut_of(backbone: str, cut: str, layer_names: LayerNames | None) -> str | bool | None:
    """The model's ``cut_layer`` for ``cut`` on ``backbone``: None for the default (its last
    layer), False when the backbone is known to have no such layer."""
    names = layer_names(backbone) if layer_names is not None else None
    if cut == DEFAULT_CUT or (names and cut == names[-1]):
        return None
    return cut if names is None or cut in names else False


def plan_sweep(
    base: RunConfig,
    backbones: Sequence[str],
    cuts: Sequence[str] = (DEFAULT_CUT,),
    heads: Sequence[str | None] = (None,),
    layer_names: LayerNames | None = None,
) -> SweepPlan:
    """One validated config per distinct, possible combination (``base`` otherwise).

    Args:
        base: data, training settings and the rest of the model.
        backbones: backbone ids.
        cuts: layer names tried on every backbone; ``DEFAULT_CUT`` is its last feature map.
        heads: keys of ``HEAD_PRESETS``; None keeps the base config's head.
        layer_names: lists a backbone's cut layers; None leaves cuts unchecked (a run with
            an unknown cut then fails in its worker, naming close layer names).

    Raises:
        ValueError: an empty list, an unknown head preset, an invalid combination, or no
            combination left to run.
    """
    if not backbones or not cuts or not heads:
        raise ValueError("A sweep needs at least one backbone, one cut and one head.")
    unknown = [head for head in heads if head is not None and head not in HEAD_PRESETS]
    if unknown:
        raise ValueError(f"Unknown head '{unknown[0]}'; choose from {', '.join(HEAD_PRESETS)}.")
    (backbones, extra_b), (cuts, extra_c) = _unique(backbones), _unique(cuts)
    heads, extra_h = _unique(heads)
    duplicates, unknown_cuts, seen = extra_b + extra_c + extra_h, [], set()
    configs = []
    for backbone, cut in itertools.product(backbones, cuts):
        layer = _cut_of(backbone, cut, layer_names)
        if layer is False:
            unknown_cuts.append(f"{backbone}: {cut}")
            continue
        if (backbone, layer) in seen:
            duplicates += len(heads)  # "default" and the last layer's name: one run
            continue
        seen.add((backbone, layer))
        configs += [_config(base, backbone, cut, layer, head) for head in heads]
    if not configs:
        raise ValueError("None of the sweep's cuts is a layer of its backbones; nothing to run.")
    return SweepPlan(configs, duplicates, unknown_cuts)


def _config(base: RunConfig, backbone: str, cut: str, layer: Any, head: str | None) -> RunConfig:
    model = base.model.to_dict()
    model.update(backbone=backbone, cut_layer=layer)
    if head is not None:
        model["head"] = {**model["head"], **HEAD_PRESETS[head]}
    data = base.to_dict()
    data.update(model=model, name=f"sweep {backbone} @ {cut} + {head or 'head'}")
    return RunConfig.from_dict(data)


def sweep_configs(
    base: RunConfig,
    backbones: Sequence[str],
    cuts: Sequence[str] = (DEFAULT_CUT,),
    heads: Sequence[str | None] = (None,),
) -> list[RunConfig]:
    """The configs of ``plan_sweep`` (duplicates and unknown cuts left out)."""
    return plan_sweep(base, backbones, cuts, heads).configs


def feature_groups(configs: Sequence[RunConfig]) -> list[RunConfig]:
    """The first config of each (backbone, cut, input size) whose runs cache features."""
    groups: dict[tuple[Any, ...], RunConfig] = {}
    for config in configs:
        model = config.model
        if config.train.cache_features and model.freeze.policy == "backbone":
            key = (model.backbone, model.cut_layer, model.resolved_input_size)
            groups.setdefault(key, config)
    return list(groups.values())
