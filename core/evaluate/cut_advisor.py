"""Cut-point advisor: linear-probe validation accuracy at each recommended cut, one pass.

Which cut suits a dataset is an empirical question. The advisor answers it before any training:
one Keras model with one output per cut (each globally average-pooled, then concatenated) takes
every training and validation image through the backbone ONCE, and a linear probe
(``core.evaluate.linear_probe``) fitted on the training split scores each cut on the validation
split. The best cut is advised; on a tie the default cut (the final feature map) stays.

Features already in the feature cache are not computed again: the advisor's own pooled entries
(a second visit is almost free) and a training run's entries at the same backbone, cut, size,
resize mode and images. Only the cuts found in neither go through the one pass.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from core.config.backbones import get_backbone
from core.config.data import DataConfig
from core.config.model import ModelConfig
from core.config.settings import Settings
from core.data.pipeline import load_split
from core.data.splits import SplitData
from core.evaluate.linear_probe import probe_accuracy
from core.evaluate.run_features import pool
from core.model.backbones import build_backbone
from core.model.cuts import LayerInfo, list_layers
from core.model.preprocessing import add_preprocessing
from core.store.feature_cache import FeatureCache, feature_cache_folder, feature_cache_key
from core.train.extraction import extract_features

_POOLED_SUFFIX = "|advisor-gap"  # pooled entries never collide with training's raw ones


@dataclass(frozen=True)
class CutRow:
    """One cut: where it is, how the probe did there, and whether it is advised."""

    cut: str
    shape: list[int | None]
    params_below: int
    reason: str | None
    val_accuracy: float
    default: bool
    chosen: bool
    from_cache: bool


@dataclass(frozen=True)
class CutAdvice:
    """The rows (shallow to deep), the advised cut and where the time went."""

    backbone: str
    input_size: int
    rows: list[CutRow]
    seconds: float  # all of it: scan, build, pass, probes
    pass_seconds: float  # the one forward pass (0 when every cut came from the cache)
    probe_seconds: float
    images: int  # training + validation images
    extracted_images: int  # pushed through the backbone (0 when all came from the cache)

    @property
    def chosen(self) -> CutRow:
        """The advised cut."""
        return next(row for row in self.rows if row.chosen)

    @property
    def default(self) -> CutRow:
        """The default cut (the final feature map)."""
        return next(row for row in self.rows if row.default)

    def sentence(self) -> str:
        """One plain line for the page or the terminal."""
        best, default = self.chosen, self.default
        if best.default:
            return (
                f"The default cut ({default.cut}) is the best of {len(self.rows)} "
                f"({default.val_accuracy:.1%} validation accuracy with a linear head)."
            )
        return (
            f"Cut at {best.cut}: {best.val_accuracy:.1%} validation accuracy with a linear "
            f"head, against {default.val_accuracy:.1%} at the default cut ({default.cut})."
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types, the advice sentence included."""
        return {
            "backbone": self.backbone,
            "input_size": self.input_size,
            "chosen": self.chosen.cut,
            "default": self.default.cut,
            "advice": self.sentence(),
            "seconds": self.seconds,
            "pass_seconds": self.pass_seconds,
            "probe_seconds": self.probe_seconds,
            "images": self.images,
            "extracted_images": self.extracted_images,
            "rows": [asdict(row) for row in self.rows],
        }


def advisor_cuts(backbone: str, input_size: int, extra: tuple[str, ...] = ()) -> list[LayerInfo]:
    """The recommended cuts, the default cut (last layer) and ``extra`` ones, shallow first."""
    layers = list_layers(backbone, input_size)
    wanted = {layer.name for layer in layers if layer.recommended} | {layers[-1].name}
    wanted |= set(extra)
    unknown = sorted(wanted - {layer.name for layer in layers})
    if unknown:
        raise ValueError(f"{backbone} has no layer named '{unknown[0]}'.")
    return [layer for layer in layers if layer.name in wanted]


def advise_cut(
    data: DataConfig,
    backbone: str,
    *,
    input_size: int | None = None,
    weights: str = "imagenet",
    extra_cuts: tuple[str, ...] = (),
    settings: Settings | None = None,
) -> CutAdvice:
    """Scores the recommended cuts of ``backbone`` on ``data`` (see the module docstring).

    Args:
        data: the dataset and its split settings (the validation share must be above 0).
        backbone: registry id, e.g. "mobilenet_v2".
        input_size: square input side; the backbone's default when None.
        weights: "imagenet" or "none".
        extra_cuts: more layer names to score (e.g. the user's current cut).
        settings: where the feature cache is; its extraction batch size.

    Raises:
        ValueError: unknown backbone/layer, or no validation images.
        DataError: the dataset cannot be used.
    """
    start = time.perf_counter()
    settings = settings or Settings.from_env()
    report, split = load_split(data)
    if not split.val:
        raise ValueError("The cut-point advisor needs validation images; set a validation share.")
    size = input_size or ModelConfig(backbone=backbone).resolved_input_size
    cuts = advisor_cuts(backbone, size, extra_cuts)
    store = _PooledStore(settings, data, backbone, size, weights, report)
    found = {cut.name: store.lookup(cut.name, split) for cut in cuts}
    missing = [cut for cut in cuts if found[cut.name] is None]
    pass_seconds = 0.0
    if missing:
        pass_start = time.perf_counter()
        found.update(_one_pass(store, missing, split, data, settings))
        pass_seconds = time.perf_counter() - pass_start
    probe_start = time.perf_counter()
    scores = {cut.name: _probe(found[cut.name], split, data.seed) for cut in cuts}
    probe_seconds = time.perf_counter() - probe_start
    rows = _rows(cuts, scores, {cut.name for cut in missing})
    return CutAdvice(
        backbone=backbone,
        input_size=size,
        rows=rows,
        seconds=round(time.perf_counter() - start, 2),
        pass_seconds=round(pass_seconds, 2),
        probe_seconds=round(probe_seconds, 2),
        images=len(split.train) + len(split.val),
        extracted_images=(len(split.train) + len(split.val)) if missing else 0,
    )


def _probe(features: Any, split: SplitData, seed: int) -> float:
    train_y = np.asarray([label for _, label in split.train])
    val_y = np.asarray([label for _, label in split.val])
    return probe_accuracy((features["train"], train_y), (features["val"], val_y), seed)


def _rows(cuts: list[LayerInfo], scores: dict[str, float], computed: set[str]) -> list[CutRow]:
    """One row per cut; the best accuracy is chosen, the default cut winning a tie."""
    default = cuts[-1].name if cuts else ""
    best = max(scores.values())
    winners = [cut for cut in cuts if scores[cut.name] == best]
    chosen = default if default in {cut.name for cut in winners} else winners[0].name
    return [
        CutRow(
            cut=cut.name,
            shape=list(cut.output_shape[1:]),
            params_below=cut.params_below,
            reason=cut.reason,
            val_accuracy=round(scores[cut.name], 4),
            default=cut.name == default,
            chosen=cut.name == chosen,
            from_cache=cut.name not in computed,
        )
        for cut in cuts
    ]


class _PooledStore:
    """Pooled features per (cut, split) in the feature cache, and training's raw entries."""

    def __init__(
        self,
        settings: Settings,
        data: DataConfig,
        backbone: str,
        size: int,
        weights: str,
        report: Any,
    ) -> None:
        self.cache = FeatureCache(feature_cache_folder(settings.cache_dir))
        self.data, self.backbone, self.size, self.weights = data, backbone, size, weights
        self.hashes = {record.path: record.sha1 for record in report.records}
        self.root = report.root  # names unreadable files relative to it

    def raw_key(self, cut: str | None, items: list[tuple[str, int]]) -> str:
        """The key training uses for this cut's features of ``items`` (plain view)."""
        spec = ModelConfig(
            backbone=self.backbone, input_size=self.size, weights=self.weights, cut_layer=cut
        )
        return feature_cache_key(
            spec, self.data.resize_mode, items, hashes=self.hashes, seed=self.data.seed
        )

    def pooled_key(self, cut: str, items: list[tuple[str, int]]) -> str:
        text = self.raw_key(cut, items) + _POOLED_SUFFIX
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]

    def lookup(self, cut: str, split: SplitData) -> dict[str, np.ndarray] | None:
        """{"train", "val"} pooled features of ``cut`` from the cache, or None."""
        result = {}
        for name in ("train", "val"):
            items = getattr(split, name)
            hit = self.cache.load(self.pooled_key(cut, items), len(items))
            for key in (self.raw_key(cut, items), self.raw_key(None, items)):
                if hit is None:
                    raw = self.cache.load(key, len(items))
                    hit = pool(raw) if raw is not None else None
            if hit is None:
                return None
            result[name] = np.asarray(hit, dtype=np.float32)
        return result

    def save(self, cut: str, items: list[tuple[str, int]], features: np.ndarray) -> None:
        self.cache.save(self.pooled_key(cut, items), features)


def _one_pass(
    store: _PooledStore,
    cuts: list[LayerInfo],
    split: SplitData,
    data: DataConfig,
    settings: Settings,
) -> dict[str, dict[str, np.ndarray]]:
    """Pooled features of every cut in ``cuts`` from ONE pass over train and val."""
    model = _multi_cut_model(store.backbone, store.size, store.weights, cuts, data.seed)
    widths = [int(cut.output_shape[-1] or 0) for cut in cuts]
    bounds = np.cumsum([0, *widths])
    result: dict[str, dict[str, np.ndarray]] = {cut.name: {} for cut in cuts}
    for name in ("train", "val"):
        items = getattr(split, name)
        features, _ = extract_features(
            model, items, image_size=store.size, resize_mode=data.resize_mode,
            batch_size=settings.extract_batch_size, root=store.root,
        )  # fmt: skip
        for index, cut in enumerate(cuts):
            part = np.ascontiguousarray(features[:, bounds[index] : bounds[index + 1]])
            result[cut.name][name] = part
            store.save(cut.name, items, part)
    return result


def _multi_cut_model(
    backbone: str, size: int, weights: str, cuts: list[LayerInfo], seed: int
) -> Any:
    """Raw image -> the pooled outputs of every cut, concatenated (one Keras model).

    Preprocessing is added as the studio's models add it (``core.model.preprocessing``), so
    the features equal those of a model cut at each layer.
    """
    import keras

    keras.utils.set_random_seed(seed)  # a random-init backbone: same weights as training
    network = build_backbone(backbone, size, weights)
    taps = keras.Model(network.inputs, [network.get_layer(cut.name).output for cut in cuts])
    image = keras.Input((size, size, 3), name="image")
    outputs = taps(add_preprocessing(image, get_backbone(backbone).preprocess))
    outputs = outputs if isinstance(outputs, list | tuple) else [outputs]
    pooled = [keras.layers.GlobalAveragePooling2D()(output) for output in outputs]
    merged = pooled[0] if len(pooled) == 1 else keras.layers.Concatenate()(pooled)
    return keras.Model(image, merged, name="cut_advisor")
