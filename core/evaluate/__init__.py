"""core.evaluate.metrics: see docs/ARCHITECTURE.md."""
