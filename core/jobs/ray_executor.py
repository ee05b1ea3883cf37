"""Jobs on a Ray cluster: ``RayExecutor`` (name "ray"), used when ``STUDIO_RAY_ADDRESS`` is set.

Each job is one Ray actor task that runs the worker module (``core.jobs.worker``, given by
name as to the local executor) on the job's ``request.json``, exactly what the local
executor's process runs: ``runpy`` executes the module as ``__main__`` in the actor's process,
as ``python -m`` does. The actor asks the cluster
for ``Settings.ray_job_cpus`` / ``ray_job_gpus`` / ``ray_job_memory_mb``; while no node has
them free, Ray keeps it pending and the job's ``state.json`` still reads ``queued`` (the page
says "waiting for a cluster slot"). Why an actor and not a plain task:

- it is *detached* and *named* after the job, so it outlives the web server that launched it
  (a plain task dies with its owner) and any process can find it again by name (``is_alive``,
  ``kill``), as the local executor finds a process by pid;
- it ends its process once the job is done (``exit_actor``), so TensorFlow's memory goes back
  to the node, as with a fresh local process.

The job and run folders must be on a path every node sees (a shared file system mounted at
the same place): the worker reads the request from, and writes everything to, those folders.
The worker's output goes to the job's ``worker.log``, as with the local executor.
"""

from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path
from typing import Any

from core.cluster.connect import NAMESPACE, connect, require_ray, worker_env
from core.config.settings import Settings
from core.errors import StudioError
from core.jobs.request import LOG_FILE, REQUEST_FILE, JobRequest

PURPOSE = "run jobs on a Ray cluster"
_MB = 1024 * 1024


class _JobActor:
    """The Ray actor of one job (made remote lazily, so this module imports without Ray)."""

    def run(self, worker_module: str, request_path: str) -> int:
        """Runs ``python -m <worker_module> <request_path>`` in this process, output in
        ``worker.log``, then ends the actor; returns the worker's exit code."""
        import ray

        cpus = int(ray.get_runtime_context().get_assigned_resources().get("CPU", 0))
        if cpus >= 1:  # TensorFlow keeps to the CPUs the job reserved, not the whole node
            os.environ["TF_NUM_INTRAOP_THREADS"] = os.environ["TF_NUM_INTEROP_THREADS"] = str(cpus)
        with open(Path(request_path).parent / LOG_FILE, "ab") as log:
            os.dup2(log.fileno(), 1)  # this process only serves this job (it exits below)
            os.dup2(log.fileno(), 2)
        sys.argv = [worker_module, request_path]  # what the module's main reads, as with -m
        try:
            runpy.run_module(worker_module, run_name="__main__")
            return 0
        except SystemExit as end:  # the worker ends with sys.exit(main())
            return end.code if isinstance(end.code, int) else int(end.code is not None)
        finally:
            ray.actor.exit_actor()


_remote_class: Any = None


def _actor_class(ray: Any) -> Any:
    global _remote_class
    if _remote_class is None:
        # No restarts or retries: a job that died is reaped as interrupted, like a local one.
        _remote_class = ray.remote(max_restarts=0, max_task_retries=0)(_JobActor)
    return _remote_class


def resource_options(settings: Settings) -> dict[str, Any]:
    """The Ray resource requests of a job submitted with ``settings``."""
    options: dict[str, Any] = {"num_cpus": settings.ray_job_cpus, "num_gpus": settings.ray_job_gpus}
    if settings.ray_job_memory_mb is not None:
        options["memory"] = int(settings.ray_job_memory_mb * _MB)
    return options


class RayExecutor:
    """Runs each job as a detached, named Ray actor (see the module docstring).

    Args:
        worker_module: the module that runs one job (``core.jobs.worker.WORKER_MODULE``).
        address: the cluster (default ``Settings.from_env().ray_address``); not needed inside
            a Ray worker, which is connected already.
    """

    name = "ray"

    def __init__(self, worker_module: str, address: str | None = None) -> None:
        self.worker_module = worker_module
        self.address = address if address is not None else Settings.from_env().ray_address

    def launch(self, job_dir: Path) -> dict[str, Any]:
        """Submits the job's actor; returns ``{"actor", "name", "task", "address"}``.

        Raises:
            StudioError: Ray is missing, the cluster cannot be reached or refused the job.
        """
        request = JobRequest.load(job_dir / REQUEST_FILE)
        settings = request.load_settings()
        address = settings.ray_address or self.address
        ray = connect(address, PURPOSE)
        try:
            actor = (
                _actor_class(ray)
                .options(
                    name=request.job_id,
                    namespace=NAMESPACE,
                    lifetime="detached",
                    runtime_env={"env_vars": worker_env()},
                    **resource_options(settings),
                )
                .remote()
            )
            task = actor.run.remote(self.worker_module, str(job_dir / REQUEST_FILE))
        except (ray.exceptions.RayError, ValueError) as error:
            raise StudioError(f"The Ray cluster refused the job ({error}).") from error
        return {
            "actor": actor._actor_id.hex(),
            "name": request.job_id,
            "task": task.hex(),
            "address": address,
        }

    def _actor(self, handle: dict[str, Any]) -> Any:
        """The job's live actor, or None when it is gone.

        Raises:
            StudioError: Ray is missing or the cluster cannot be reached.
        """
        ray = connect(handle.get("address") or self.address, PURPOSE)
        try:
            return ray.get_actor(str(handle.get("name")), namespace=NAMESPACE)
        except ValueError:  # a detached actor's name is released when it ends
            return None

    def is_alive(self, handle: dict[str, Any]) -> bool:
        """True while the job's actor exists (pending for resources or running)."""
        if not handle.get("name"):
            return False
        try:
            return self._actor(handle) is not None
        except StudioError:
            return True  # the cluster cannot be asked now: keep the job rather than lose it

    def kill(self, handle: dict[str, Any]) -> None:
        """Ends the job's actor (and its worker) now; no-op when it is gone."""
        try:
            actor = self._actor(handle)
        except StudioError:
            return
        if actor is not None:
            require_ray(PURPOSE).kill(actor, no_restart=True)
