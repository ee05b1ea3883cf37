"""The Runs page: the run list and comparison (overview), the export of one run (export)."""
