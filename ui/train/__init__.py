"""Widgets and helpers of the Train page (settings form, live view, result card)."""
