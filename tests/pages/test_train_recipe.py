"""AppTest of the Train page's result card: it names the recipe the run trained with.

The runs are written straight into the workspace (no training): the caption is read from the
run's own ``config.json``, so a run whose config differs from today's defaults shows its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from core.config.data import AugmentConfig, DataConfig
from core.config.recipes import demo_config
from core.config.run import RunConfig
from core.config.settings import Settings
from core.config.train import TrainConfig
from core.store.workspace import create_workspace, workspace_store
from tests.helpers.apptest import no_exception, texts

pytestmark = pytest.mark.apptest


def open_finished(new_app: Callable, config: RunConfig):  # returns AppTest
    """A finished run of ``config`` in a new workspace, opened on the Train page by its link."""
    settings = Settings.from_env()
    token = create_workspace(settings)
    store = workspace_store(settings, token)
    run_id = store.create(config)
    store.update_status(run_id, status="finished")
    app = new_app(ws=token, run=run_id).run()
    app.switch_page("app_pages/train.py").run()
    no_exception(app)
    assert "Training finished." in texts(app, "success")
    return app


def recipe_lines(app) -> list[str]:  # the card's recipe caption(s)
    return [text for text in texts(app, "caption") if "ecipe: " in text]


def test_the_demo_run_names_the_recipe_from_its_config(new_app: Callable) -> None:
    config = demo_config("sample")
    # Not the constants: a demo run trained with other settings shows the settings it had.
    config = replace(config, train=replace(config.train, epochs=7, augment_views=4))
    app = open_finished(new_app, config)
    assert recipe_lines(app) == [
        "Demo recipe: MobileNetV2 (ImageNet) at 128 px, centre crop; augmentation on (flip "
        "left-right and top-bottom, rotation up to 180°); 4 cached views per image; 7 epochs "
        "of the head."
    ]


def test_any_run_says_whether_augmentation_and_cached_views_were_used(
    new_app: Callable,
) -> None:
    plain = RunConfig(
        data=DataConfig(path="data", resize_mode="pad", augmentation=AugmentConfig()),
        train=TrainConfig(epochs=1),
        name="plain",
    )
    app = open_finished(new_app, plain)
    assert recipe_lines(app) == [
        "Recipe: MobileNetV2 (ImageNet) at 224 px, padded to a square; no augmentation; "
        "backbone features cached once; 1 epoch of the head."
    ]

    end_to_end = replace(plain, train=TrainConfig(epochs=3, augment_views=0), name="e2e")
    end_to_end = replace(
        end_to_end, data=replace(plain.data, augmentation=AugmentConfig(flip_horizontal=True))
    )
    app = open_finished(new_app, end_to_end)
    assert recipe_lines(app) == [
        "Recipe: MobileNetV2 (ImageNet) at 224 px, padded to a square; augmentation on (flip "
        "left-right); trained end-to-end; 3 epochs of the head."
    ]
