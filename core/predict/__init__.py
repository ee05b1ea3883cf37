"""core.predict: see docs/ARCHITECTURE.md."""
