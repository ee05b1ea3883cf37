"""The web process never loads TensorFlow or Keras by importing the UI.

Every ``ui`` module is imported in a fresh interpreter, which must end with neither
``tensorflow`` nor ``keras`` in ``sys.modules``. A page file (``app_pages``) runs its page when
imported, so it is checked by what it imports instead: Streamlit, ``ui`` and the standard
library only.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PAGE_IMPORTS = {"__future__", "streamlit", "ui"}
# Six worker jobs (each a fresh process importing TensorFlow) and a training: on a loaded
# 2-core machine that took more than the suite's 15 minutes.
TOUR_TIMEOUT_S = 1800


def _modules(package: str) -> list[str]:
    return sorted(
        ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in (REPO_ROOT / package).rglob("*.py")
    )


def test_importing_every_ui_module_loads_no_tensorflow() -> None:
    modules = _modules("ui")
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert len(modules) > 20
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_page_files_import_only_streamlit_and_ui() -> None:
    pages = sorted((REPO_ROOT / "app_pages").glob("*.py"))
    assert len(pages) > 5
    for path in pages:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in PAGE_IMPORTS or top in sys.stdlib_module_names, (path.name, name)


@pytest.mark.timeout(TOUR_TIMEOUT_S + 300)
def test_every_page_driven_through_apptest_loads_no_tensorflow(
    studio_env: Path, tmp_path: Path
) -> None:
    """Data upload and preview, model summary, train form, one prediction, evaluation, the
    presentation page with a photo, runs.

    The tour runs in a fresh interpreter (this pytest process imports Keras for its other
    tests); every model the pages need is built by the workers of the jobs they queue.
    """
    import io
    import os
    import zipfile

    from tests.helpers.eval_pages import png_bytes, workspace_with_run

    token, run_id = workspace_with_run(tmp_path)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as handle:
        for index in range(6):
            handle.writestr(f"red/{index}.png", png_bytes((200, 30 + index, 30)))
            handle.writestr(f"blue/{index}.png", png_bytes((30, 30 + index, 200)))
    (tmp_path / "d.zip").write_bytes(archive.getvalue())
    (tmp_path / "photo.png").write_bytes(png_bytes((210, 30, 30), size=64))
    args = [token, run_id, str(tmp_path / "d.zip"), str(tmp_path / "photo.png")]
    out = subprocess.run(
        [sys.executable, "-m", "tests.helpers.page_tour", *args],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=TOUR_TIMEOUT_S, env=dict(os.environ),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    shown = json.loads(out.stdout.strip().splitlines()[-1])
    for page in ("home", "data", "model", "train", "predict", "evaluate", "present", "runs"):
        assert not shown[page]["exceptions"] and not shown[page]["errors"], (page, shown[page])
    assert shown["data"]["images"] >= 1  # the augmentation preview's pictures
    assert int(shown["model"]["metrics"]["Parameters"].replace(",", "")) > 0
    assert len(shown["predict"]["verdicts"]) == 1
    assert "Accuracy" in shown["evaluate"]["metrics"]
    assert "Right answers" in shown["present"]["metrics"]
    assert len(shown["present"]["verdicts"]) == 1  # the photo, answered on LiteRT
    assert shown["modules"] == []
