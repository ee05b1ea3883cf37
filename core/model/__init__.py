"""core.model: see docs/ARCHITECTURE.md."""
