"""Widgets and helpers of the pages: ``ui/<page>.py`` or ``ui/<page>/`` per page, shared ones in
``common``, ``session`` and ``run_picker``."""
