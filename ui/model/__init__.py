"""Widgets and helpers of the Model page (backbone, cut, head, freezing, summary)."""
