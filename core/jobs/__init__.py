"""core.jobs: heavy work (training, export, evaluation, batch prediction) in worker processes.

Pages call ``core.jobs.runner.JobRunner`` (``get_runner()``) and poll what it reads back from
the run and job folders. The modules, from the page down:

- ``runner``: the API (submit, resume, stop, cancel, snapshot, job_status, tick);
- ``snapshot``: ``RunSnapshot`` / ``JobStatus``, read from files;
- ``registry``: the cross-process queue (a JSON file under a file lock in ``runs_dir``);
- ``scheduler``: reap dead workers, launch queued jobs, keep queued runs alive;
- ``executor``: the ``Executor`` protocol and ``LocalProcessExecutor`` (a fresh process each);
- ``worker``: ``python -m core.jobs.worker JOB/request.json``, the process that runs a job;
- ``request``, ``context``, ``progress``: the job folder, what a kind gets, ``progress.json``;
- ``kinds``: the registry of job kinds, implemented in ``training``, ``exporting``,
  ``evaluation`` and ``batch_prediction``.
"""
