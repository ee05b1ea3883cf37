"""Widgets and helpers of the pages: ``ui/<page>.py`` or ``ui/<page>/`` per page; shared ones in
``common``, ``session`` (the URL state), ``choices`` (the steps' choices), ``jobs``,
``run_picker`` and ``model_cache``."""
