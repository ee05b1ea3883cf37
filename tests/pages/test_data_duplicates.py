"""AppTest of the Data page's duplicates check: a planted leak is flagged, dedupe switches data.

The check runs as a ``dataset_duplicates`` job in a worker process; the test waits for it and
reruns the page, as the page's polling fragment would.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.helpers.apptest import no_exception, texts
from tests.pages.job_waits import wait_for_job

pytestmark = pytest.mark.apptest
KIND = "dataset_duplicates"


def patterned_png(seed: int, size: int = 64) -> bytes:
    """A PNG of coarse random blocks: distinct seeds give distant perceptual hashes."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(np.kron(blocks, np.ones((size // 8, size // 8, 1), np.uint8))).save(
        buffer, format="PNG"
    )
    return buffer.getvalue()


def leaky_zip() -> bytes:
    """train/val folders of 12 distinct pictures, plus a copy of a training picture in val."""
    buffer, seed = io.BytesIO(), 0
    with zipfile.ZipFile(buffer, "w") as archive:
        for split, count in (("train", 4), ("val", 2)):
            for name in ("ants", "bees"):
                for index in range(count):
                    seed += 1
                    archive.writestr(f"bugs/{split}/{name}/{name}{index}.png", patterned_png(seed))
        archive.writestr("bugs/val/ants/copy of ants0.png", patterned_png(1))
    return buffer.getvalue()


def metrics(app) -> dict[str, str]:  # AppTest
    return {m.label: str(m.value) for m in app.metric}


def load_zip(new_app: Callable, data: bytes):  # returns an AppTest
    app = new_app().run()
    app.switch_page("app_pages/data.py").run()
    app.segmented_control(key="data_source").set_value("Zip upload").run()
    app.file_uploader(key="data_zip").upload("bugs.zip", data, "application/zip")
    app.run()
    app.button(key="data_zip_load").click().run()
    no_exception(app)
    return app


def check(app) -> None:  # AppTest
    """Presses the check button, waits for the worker, reruns the page."""
    app.button(key="data_duplicates_start").click().run()
    no_exception(app)
    wait_for_job(app.query_params["ws"], None, KIND)
    app.run()
    no_exception(app)


def test_a_planted_leak_is_flagged_and_dedupe_switches_to_a_new_version(
    new_app: Callable, studio_env: Path
) -> None:
    from core.config.settings import Settings
    from core.store.datasets import stored_dataset

    app = load_zip(new_app, leaky_zip())
    assert metrics(app)["Images"] == "13"
    store = _store(app)
    loaded = stored_dataset(Settings.from_env(), store)
    assert loaded is not None
    original = Path(loaded.spec.path)
    check(app)
    warnings = texts(app, "warning")
    assert any(
        "1 near-duplicate pair among 13 images, 1 of them across splits" in w for w in warnings
    )
    assert "Leak: one copy in train, the other in val." in warnings
    captions = texts(app, "caption")
    assert any("copy of ants0.png" in c and c.startswith("val") for c in captions)
    assert any("Similarity 100% (the same file)" in c for c in captions)

    app.button(key="data_dedupe").click().run()
    no_exception(app)
    assert any("Removed 1 duplicate image." in s for s in texts(app, "success"))
    assert metrics(app)["Images"] == "12"
    assert any("(deduplicated)" in c for c in texts(app, "caption"))
    version = stored_dataset(Settings.from_env(), store)
    assert version is not None and Path(version.spec.path) != original
    assert not list(Path(version.spec.path).rglob("copy of ants0.png"))
    assert (original / "val/ants/copy of ants0.png").is_file()  # the original is untouched
    assert len(list(original.rglob("*.png"))) == 13
    assert str(studio_env) not in " ".join(texts(app, "success") + texts(app, "caption"))

    check(app)  # the new version is clean
    assert any("No near-duplicates among the 12 images." in s for s in texts(app, "success"))

    reloaded = new_app(ws=app.query_params["ws"]).run()  # a reload finds the new version
    reloaded.switch_page("app_pages/data.py").run()
    no_exception(reloaded)
    assert metrics(reloaded)["Images"] == "12"


def _store(app):  # AppTest -> RunStore
    from core.config.settings import Settings
    from core.store.workspace import workspace_store

    return workspace_store(Settings.from_env(), app.query_params["ws"])


def test_an_unticked_pair_is_kept_and_a_new_split_hides_the_result(new_app: Callable) -> None:
    app = load_zip(new_app, leaky_zip())
    check(app)
    assert app.button(key="data_dedupe")
    from core.config.settings import Settings
    from tests.helpers.workspaces import plant_versions

    settings, store = Settings.from_env(), _store(app)
    folders = plant_versions(settings, store, 10)  # the most a workspace may keep (default)
    app.button(key="data_dedupe").click().run()  # an 11th version is refused, nothing written
    no_exception(app)
    assert any("already holds 10 saved dataset versions" in e for e in texts(app, "error"))
    assert metrics(app)["Images"] == "13" and plant_versions(settings, store, 10) == folders
    same = [box for box in app.checkbox if str(box.key).startswith("data_dup_same_")]
    assert len(same) == 1 and same[0].value  # ticked by default
    same[0].uncheck().run()  # "these are two different pictures"
    no_exception(app)
    assert not [b for b in app.button if b.key == "data_dedupe"]
    assert any("nothing to remove" in caption for caption in texts(app, "caption"))
    app.slider[0].set_value(0.3)  # another split: the pairs' splits may differ now
    app.button(key="FormSubmitter:data_split_form-Apply split").click().run()
    no_exception(app)
    assert not [b for b in app.button if b.key == "data_dedupe"]
    assert [b for b in app.button if b.key == "data_duplicates_start"]
