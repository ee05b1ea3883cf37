"""core.jobs.manager: see docs/ARCHITECTURE.md."""
