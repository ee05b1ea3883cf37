"""The one-file run config: everything a training run needs, stored as ``config.json``.

A ``RunConfig`` bundles the data source, split and augmentation (``DataConfig``), the network
(``ModelConfig``) and how to train it (``TrainConfig``), so the app, the CLI
(``python -m core train --config run.json``) and a resumed run all start from the same JSON file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.config.base import ConfigMixin
from core.config.data import DataConfig
from core.config.model import ModelConfig
from core.config.train import TrainConfig


@dataclass(frozen=True)
class RunConfig(ConfigMixin):
    """Everything one training run needs, stored as ``config.json`` in its run folder."""

    data: DataConfig
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    name: str = ""

    def __post_init__(self) -> None:
        if len(self.name) > 120:
            raise ValueError("A run name can have at most 120 characters.")
