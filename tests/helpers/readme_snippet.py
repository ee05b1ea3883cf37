"""Runs the Python code block of an export bundle's README, as a user would paste it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

SNIPPET = re.compile(r"```python\n(.*?)```", re.DOTALL)


def run_readme_snippet(bundle: Path, photo: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Executes the README's code block in the bundle folder on ``photo``; returns its names.

    The block reads ``photo.jpg`` from the current folder, so ``photo`` is copied there under
    that name (PIL reads the content, whatever the extension) and the test moves into it.
    """
    readme = (bundle / "README.md").read_text(encoding="utf-8")
    blocks = SNIPPET.findall(readme)
    assert len(blocks) == 1, "the README should hold exactly one Python block"
    shutil.copy(photo, bundle / "photo.jpg")
    monkeypatch.chdir(bundle)
    namespace: dict[str, Any] = {"__name__": "readme_snippet"}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    return namespace
