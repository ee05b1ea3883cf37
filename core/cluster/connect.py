"""Connecting to a Ray cluster, with Ray kept optional (``requirements-cluster.txt``).

Nothing in the studio needs Ray unless ``Settings.ray_address`` is set or a cluster command
is run, so Ray is imported here, lazily, and a missing install is one plain sentence instead
of an ``ImportError``. The job executor (``core.jobs.ray_executor``) and the Ray Data feature
extraction (``core.cluster.features``) both connect through ``connect``.
"""

from __future__ import annotations

import importlib
import logging
import os
from pathlib import Path
from typing import Any

from core.errors import StudioError

NAMESPACE = "studio"  # named job actors live here, so any driver finds them by job id
REPO_ROOT = Path(__file__).resolve().parents[2]


def require_ray(purpose: str) -> Any:
    """The ``ray`` module (with ``ray.data``), or a ``StudioError`` naming what to install.

    Args:
        purpose: what needs Ray, completing "Install requirements-cluster.txt to ...".
    """
    try:
        ray = importlib.import_module("ray")
        importlib.import_module("ray.data")
    except ImportError as error:
        raise StudioError(
            f"Install requirements-cluster.txt to {purpose} (Ray is not installed here)."
        ) from error
    return ray


def worker_env() -> dict[str, str]:
    """Environment of the studio's Ray workers: the repository importable, TF logs quiet.

    ``STUDIO_WEIGHTS_DIR`` is passed on when set here, so every node reads the same offline
    weights folder (it must exist at that path on every node, like the runs folder).
    """
    path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env = {"PYTHONPATH": path, "TF_CPP_MIN_LOG_LEVEL": "2"}
    if os.environ.get("STUDIO_WEIGHTS_DIR"):
        env["STUDIO_WEIGHTS_DIR"] = os.environ["STUDIO_WEIGHTS_DIR"]
    return env


def connect(address: str | None, purpose: str) -> Any:
    """Connects this process to the cluster at ``address`` once; returns the ``ray`` module.

    Inside a Ray worker (a job, an extraction actor) Ray is already connected and ``address``
    is not needed.

    Raises:
        StudioError: Ray is missing, no address is known, or the cluster cannot be reached.
    """
    ray = require_ray(purpose)
    if ray.is_initialized():
        return ray
    if not address:
        raise StudioError(f"Set STUDIO_RAY_ADDRESS to the Ray cluster's address to {purpose}.")
    try:
        ray.init(
            address=address,
            namespace=NAMESPACE,
            runtime_env={"env_vars": worker_env()},
            log_to_driver=False,
            logging_level=logging.WARNING,
        )
    except (ConnectionError, RuntimeError, ValueError) as error:
        raise StudioError(
            f"The Ray cluster at {address} cannot be reached to {purpose} ({error})."
        ) from error
    return ray


def limit_tf_threads() -> None:
    """Inside a Ray actor: TensorFlow uses as many threads as CPUs the actor reserved.

    Without it each actor would spread over every core of its node, and actors sharing a node
    would fight for them. Must run before TensorFlow's first operation in the process.
    """
    import ray
    import tensorflow as tf

    cpus = int(ray.get_runtime_context().get_assigned_resources().get("CPU", 0))
    if cpus >= 1:
        tf.config.threading.set_intra_op_parallelism_threads(cpus)
        tf.config.threading.set_inter_op_parallelism_threads(cpus)
