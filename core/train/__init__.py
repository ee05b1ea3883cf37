"""core.train: see docs/ARCHITECTURE.md."""
