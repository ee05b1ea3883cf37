"""Ray Data feature extraction: throughput on one node vs two nodes, each limited to 1 CPU.

Starts a local Ray cluster (``ray.cluster_utils.Cluster``) with ONE node of 1 CPU, extracts
MobileNetV2 features of hymenoptera images with a pool of 1 actor, then adds a second 1-CPU
node and extracts again with 2 actors (one per node). Each actor limits TensorFlow to the CPU
it reserved. Wall times include starting the actors (TensorFlow import, backbone build): a
Ray Data actor pool lives for one extraction, so that fixed cost is paid every time and the
ratio is the end-to-end one (more images amortise it).

Run from the repository root and read the JSON it prints (needs requirements-cluster.txt and
the offline weights in STUDIO_WEIGHTS_DIR):
    python bench/ray_extraction.py [--images 120] [--size 224] [--batch-size 16]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.cluster.connect import connect
from core.cluster.features import extract_features_ray
from core.config.model import ModelConfig

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "hymenoptera_data"
NODE: dict[str, Any] = {"num_cpus": 1, "object_store_memory": 200 * 1024 * 1024}


def image_items(count: int) -> list[tuple[str, int]]:
    """``count`` hymenoptera training images, ants and bees alternating."""
    ants = sorted((DATA / "train" / "ants").iterdir())
    bees = sorted((DATA / "train" / "bees").iterdir())
    pairs = [item for pair in zip(ants, bees, strict=False) for item in pair][:count]
    return [(str(path), index % 2) for index, path in enumerate(pairs)]


def measure(
    spec: ModelConfig, items: list[tuple[str, int]], actors: int, batch: int
) -> dict[str, Any]:
    """One extraction with ``actors`` actors: seconds, images/s and the nodes used."""
    result = extract_features_ray(
        spec, items, resize_mode="crop", batch_size=batch, actors=actors, num_cpus=1.0
    )
    return {
        "actors": actors,
        "nodes_used": len(result.nodes),
        "seconds": round(result.seconds, 2),
        "images_per_s": round(len(items) / result.seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=120)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    os.environ.setdefault("STUDIO_WEIGHTS_DIR", str(DATA.parents[1] / "weights"))
    import ray
    from ray.cluster_utils import Cluster

    items = image_items(args.images)
    spec = ModelConfig(backbone="mobilenet_v2", input_size=args.size, weights="imagenet")
    cluster = Cluster(initialize_head=True, head_node_args={**NODE, "include_dashboard": False})
    try:
        connect(cluster.address, "run the bench")
        one = measure(spec, items, 1, args.batch_size)
        cluster.add_node(**NODE)
        cluster.wait_for_nodes()
        two = measure(spec, items, 2, args.batch_size)
    finally:
        ray.shutdown()
        cluster.shutdown()
    print(json.dumps({
        "images": len(items), "input_size": args.size, "backbone": "mobilenet_v2",
        "one_node": one, "two_nodes": two,
        "ratio": round(two["images_per_s"] / one["images_per_s"], 2),
        "host_cpus": os.cpu_count(), "load_average": [round(x, 1) for x in os.getloadavg()],
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
