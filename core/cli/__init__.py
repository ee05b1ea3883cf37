"""core.cli: see docs/ARCHITECTURE.md."""
