"""core.export.exporter: see docs/ARCHITECTURE.md."""
