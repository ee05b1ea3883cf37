"""Feature extraction across a Ray cluster with Ray Data, into the same feature cache.

The backbone's forward pass over every image is the costly, embarrassingly parallel part of
a cached run (``core.train.features``). Here the image paths become a Ray Dataset
(``ray.data.from_items``), ``map_batches`` sends batches to a fixed pool of actors that each
hold the frozen extractor (built once per actor), and the driver puts the rows back in order.
Each actor runs the single-machine code (``extract_features``) on its batch, so the features
are the same numbers, and ``cache_run_features`` stores them under the same key and in the
same format (``core.store.feature_cache``) as a run would: a run started afterwards loads
them instead of extracting.

Only the plain (non-augmented) parts are extracted here: the val and test splits always, and
the train split when the run does not augment; augmented views stay with the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.cluster.connect import connect, limit_tf_threads
from core.config.model import ModelConfig
from core.config.run import RunConfig
from core.config.settings import Settings
from core.config.sweep import DEFAULT_CUT, feature_groups
from core.data.pipeline import load_split
from core.model.builder import build_model
from core.store.feature_cache import FeatureCache, feature_cache_folder, feature_cache_key
from core.train.extraction import FLOAT16_LIMIT, extract_features
from core.train.phase_data import Items

PURPOSE = "extract features on a Ray cluster"


class BackboneActor:
    """One actor of the extraction pool: holds the frozen extractor, maps batches of paths.

    Args:
        model_spec: ``ModelConfig.to_dict()`` of the run.
        seed: the run's seed (random-initialized backbones are built from it, as in a run).
        resize_mode: how images are resized.
        batch_size: images per extractor call inside one Ray Data batch.
    """

    def __init__(
        self, model_spec: dict[str, Any], seed: int, resize_mode: str, batch_size: int
    ) -> None:
        import keras

        limit_tf_threads()
        keras.utils.set_random_seed(seed)  # as the trainer does before building the model
        spec = ModelConfig.from_dict(model_spec)
        self.extractor = build_model(spec, 2).feature_extractor  # the head is not used
        self.image_size = spec.resolved_input_size
        self.resize_mode, self.batch_size = resize_mode, batch_size

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        import ray

        items = [(str(path), 0) for path in batch["path"]]
        features, _ = extract_features(
            self.extractor, items, image_size=self.image_size, resize_mode=self.resize_mode,
            batch_size=self.batch_size, dtype=np.float32,
        )  # fmt: skip
        node = ray.get_runtime_context().get_node_id()
        return {"index": batch["index"], "features": features, "node": np.full(len(items), node)}


@dataclass
class RayExtraction:
    """Features of a list of images and where they were computed.

    Attributes:
        features: (N, *cut_shape) float32, in the order of the items.
        nodes: ids of the Ray nodes whose actors computed them.
        seconds: wall time of the extraction (actor start-up included).
    """

    features: np.ndarray
    nodes: list[str]
    seconds: float


def extract_features_ray(
    model_spec: Any,
    items: Items,
    *,
    resize_mode: str,
    seed: int = 0,
    batch_size: int = 16,
    actors: int = 2,
    num_cpus: float = 1.0,
    num_gpus: float = 0.0,
    address: str | None = None,
) -> RayExtraction:
    """Runs the frozen extractor of ``model_spec`` over ``items`` on ``actors`` Ray actors.

    Args:
        model_spec: the run's ``ModelConfig``.
        items: (path, class index) pairs; every node must read the same paths.
        resize_mode: how images are resized.
        seed: the run's seed.
        batch_size: images per batch sent to an actor.
        actors: size of the actor pool (each holds one copy of the backbone).
        num_cpus, num_gpus: what each actor asks the cluster for.
        address: the cluster (unused when this process is already connected).

    Raises:
        StudioError: Ray is missing or the cluster cannot be reached.
    """
    ray = connect(address, PURPOSE)
    context = ray.data.DataContext.get_current()
    # Spread the batches over the whole pool: start only once every actor has built its
    # backbone, send each batch to the least busy actor (not to the one beside the block: the
    # blocks are a few paths, all made on this node), and at most 2 batches per actor at once.
    # Otherwise the first actor ready takes every batch of a small dataset.
    context.wait_for_min_actors_s = max(context.wait_for_min_actors_s, 600)
    context.execution_options.actor_locality_enabled = False
    start = time.perf_counter()
    rows = [{"path": path, "index": index} for index, (path, _) in enumerate(items)]
    dataset = ray.data.from_items(rows).map_batches(
        BackboneActor,
        fn_constructor_kwargs={
            "model_spec": model_spec.to_dict(), "seed": seed,
            "resize_mode": resize_mode, "batch_size": batch_size,
        },
        batch_size=batch_size,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=actors, max_tasks_in_flight_per_actor=2),
        num_cpus=num_cpus,
        num_gpus=num_gpus,
    )  # fmt: skip
    features: np.ndarray | None = None
    nodes: set[str] = set()
    for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
        if features is None:
            features = np.empty((len(items), *batch["features"].shape[1:]), np.float32)
        features[batch["index"]] = batch["features"]
        nodes.update(str(node) for node in batch["node"])
    result = features if features is not None else np.zeros((0,), np.float32)
    return RayExtraction(result, sorted(nodes), time.perf_counter() - start)


def _cache_dtype(features: np.ndarray) -> np.ndarray:
    """float16 as the single-machine cache stores it (float32 when a value is beyond range)."""
    if features.size and float(np.abs(features).max()) > FLOAT16_LIMIT:
        return features
    return features.astype(np.float16)


def cluster_actors(settings: Settings) -> int:
    """How many extraction actors the cluster holds at once (its CPUs / the CPUs per actor)."""
    ray = connect(settings.ray_address, PURPOSE)
    cpus = float(ray.cluster_resources().get("CPU", 1.0))
    return max(1, int(cpus // settings.ray_job_cpus))


def cache_run_features(
    config: RunConfig,
    settings: Settings,
    *,
    actors: int | None = None,
    batch_size: int | None = None,
) -> dict[str, Any]:
    """Extracts the run's plain parts on the cluster into the feature cache (misses only).

    ``actors`` defaults to as many as the cluster's CPUs hold (``cluster_actors``).

    Returns:
        ``{"parts": {"train"/"val"/"test": "cached" | "extracted"}, "images", "seconds",
        "nodes"}``: what was already there, what was computed, and where.

    Raises:
        StudioError: Ray is missing, the cluster cannot be reached, or the data cannot be read.
    """
    report, split = load_split(config.data)
    hashes = {record.path: record.sha1 for record in report.records}
    cache = FeatureCache(feature_cache_folder(settings.cache_dir))
    augmenting = config.data.augmentation.enabled and config.train.augment_views > 0
    parts = {"val": split.val, "test": split.test, **({} if augmenting else {"train": split.train})}
    summary: dict[str, Any] = {"parts": {}, "images": 0, "seconds": 0.0, "nodes": []}
    for name, items in parts.items():
        if not items:
            continue
        key = feature_cache_key(
            config.model, config.data.resize_mode, items, hashes=hashes, seed=config.train.seed
        )
        if cache.load(key, len(items)) is not None:
            summary["parts"][name] = "cached"
            continue
        done = extract_features_ray(
            config.model, items, resize_mode=config.data.resize_mode, seed=config.train.seed,
            batch_size=batch_size or settings.extract_batch_size,
            actors=actors or cluster_actors(settings),
            num_cpus=settings.ray_job_cpus, num_gpus=settings.ray_job_gpus,
            address=settings.ray_address,
        )  # fmt: skip
        cache.save(key, _cache_dtype(done.features))
        summary["parts"][name] = "extracted"
        summary["images"] += len(items)
        summary["seconds"] += done.seconds
        summary["nodes"] = sorted(set(summary["nodes"]) | set(done.nodes))
    return summary


def precompute_on_cluster(
    configs: Sequence[RunConfig], settings: Settings, say: Callable[[str], None] = print
) -> None:
    """Extracts each group's plain features across the Ray cluster into the feature cache.

    Raises:
        StudioError: Ray is missing, the cluster cannot be reached or the data cannot be read.
    """
    for config in feature_groups(configs):
        done = cache_run_features(config, settings)
        say(
            f"features of {config.model.backbone} @ {config.model.cut_layer or DEFAULT_CUT}: "
            f"{done['images']} images on {len(done['nodes'])} node(s) in {done['seconds']:.1f} s"
        )
