"""A dataset as a visitor may see it: the folder's name, never the server path (issue 26)."""

from __future__ import annotations

import pytest

from core.data.names import public_dataset_name


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("/srv/studio/datasets/hymenoptera_data", "hymenoptera_data"),
        ("/srv/studio/data/ws-abc/zip-20261126-083200-123456", "uploaded images"),
        ("/srv/studio/data/ws-abc/upload-20261126-083200-123456/", "uploaded images"),
        ("C:/photos/pets", "pets"),
        ("", "uploaded images"),
    ],
)
def test_public_dataset_name(path: str, shown: str) -> None:
    assert public_dataset_name(path) == shown
