"""core.jobs.kinds: one module per job kind, named as the kind; the registry of kinds."""
