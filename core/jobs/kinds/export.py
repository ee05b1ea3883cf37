"""The ``export`` job kind: export a finished run and check each file against the app.

Parameters (all optional): ``formats`` (list, default every format of
``core.export.exporter.EXPORT_FORMATS``), ``quantise`` (bool), ``data_path`` (dataset folder
for the parity images when the run's own has moved) and ``out_dir`` (default
``core.store.workspace.export_dir``: ``<cache_dir>/exports/<workspace>/<run>``, which the disk
cap accounts for). The result is ``ExportReport.to_dict()``; ``report_from_result`` turns it
back into an ``ExportReport`` for the page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.export.exporter import EXPORT_FORMATS, export_run
from core.export.report import ExportReport
from core.jobs.context import JobContext
from core.store.workspace import export_dir


def run(context: JobContext) -> dict[str, Any]:
    """Exports the job's run with its parity check; returns the report as JSON types."""
    params = context.params
    formats = tuple(params.get("formats") or EXPORT_FORMATS)
    out = params.get("out_dir") or export_dir(context.settings, context.store, context.run_id)
    context.report(0.05, "Exporting and checking each file against the app.")
    report = export_run(
        context.run_dir(),
        Path(out),
        formats,
        quantise=bool(params.get("quantise")),
        data_path=params.get("data_path"),
    )
    context.report(1.0, f"Exported {len(report.files)} file(s).")
    return report.to_dict()


def report_from_result(result: dict[str, Any]) -> ExportReport:
    """The ``ExportReport`` of an export job's ``result.json``."""
    data = dict(result)
    data["out_dir"] = Path(data["out_dir"])
    data["bundle"] = Path(data["bundle"]) if data.get("bundle") else None
    return ExportReport(**data)
