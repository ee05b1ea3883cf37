"""core.store: see docs/ARCHITECTURE.md."""
