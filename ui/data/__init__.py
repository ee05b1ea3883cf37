"""Widgets and helpers of the Data page (sources, loading, report, split and augmentation)."""
