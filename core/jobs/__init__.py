"""core.jobs: the queue machinery that runs heavy work in worker processes.

Pages call ``core.jobs.runner.JobRunner`` (``get_runner()``) and poll what it reads back from
the run and job folders. The modules, from the page down:

- ``runner``: the API (submit, resume, stop, cancel, snapshot, job_status, latest_job, tick);
  ``find``: a job found again by its parameters;
- ``submission``: the job folder and the queue entry of a new job;
- ``snapshot``: ``RunSnapshot`` / ``JobStatus``, read from files;
- ``worker``: ``python -m core.jobs.worker JOB/request.json``, the process that runs one job,
  and the executors that start it by that module name (``executor_named``, ``executor_for``);
- ``scheduler``: reap dead workers, launch queued jobs, keep queued runs alive;
- ``executor`` (a fresh local process per job) and ``ray_executor`` (a Ray actor per job);
- ``registry``: the cross-process queue (a JSON file under a file lock in ``runs_dir``);
- ``request``, ``context``, ``progress``: the job folder, what a kind gets, ``progress.json``;
- ``kinds``: one module per job kind, named as the kind, and their registry.
"""
