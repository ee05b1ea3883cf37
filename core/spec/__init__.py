"""core.spec: see docs/ARCHITECTURE.md."""
