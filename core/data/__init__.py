"""core.data: see docs/ARCHITECTURE.md."""
