"""What one export produced: files, parity per format and warnings (``ExportReport``)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any


@dataclasses.dataclass
class ExportReport:
    """What an export produced and how closely each artifact matches the in-app model."""

    out_dir: Path
    files: list[str]
    # artifact format -> max |Δp| against the in-app model (the run's model.keras, loaded)
    parity: dict[str, float]
    parity_images: int
    parity_source: str  # "validation images", "test images" or "random pixel images"
    quantised: dict[str, Any] | None = None
    warnings: list[str] = dataclasses.field(default_factory=list)
    bundle: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (paths as strings)."""
        data = dataclasses.asdict(self)
        data["out_dir"] = str(self.out_dir)
        data["bundle"] = str(self.bundle) if self.bundle else None
        return data
