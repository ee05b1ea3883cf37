"""A plain-language sentence for any exception that ended a training run.

The sentence goes to the run's ``status.json`` (the page shows it) and the CLI prints it; the
traceback goes to the run's ``log.txt``.
"""

from __future__ import annotations

from core.data.pipeline import explain_pipeline_error
from core.errors import StudioError


def explain_error(error: BaseException) -> str:
    """A plain-language sentence for any exception that ended a run."""
    if isinstance(error, StudioError):
        return str(error)
    unreadable = explain_pipeline_error(error)  # a file changed after the scan: name it
    if unreadable is not None:
        return unreadable
    if isinstance(error, MemoryError) or type(error).__name__ == "ResourceExhaustedError":
        return (
            "The run ran out of memory. Use a smaller batch size or input size, or cut the "
            "backbone earlier."
        )
    first_line = (str(error).strip().splitlines() or [""])[0][:300]
    if "image" in first_line.lower() or "file" in first_line.lower():
        return f"Training stopped because a file could not be used: {first_line}"
    return (
        f"Training failed unexpectedly ({type(error).__name__}: {first_line}). "
        "The technical details are in the run's log."
    )
