"""Where the demo's real photos come from, and how they are recognised (``DemoPhotos``).

By default the demo downloads the ants-and-bees set of the PyTorch transfer-learning tutorial
(``hymenoptera_data.zip``, 398 photos that come from ImageNet). The archive's own sha256 cannot
be checked here (this machine is offline), so the pin is a digest of the archive's CONTENTS,
computed from the tutorial's archive as published, extracted (``HYMENOPTERA_CONTENT_SHA256``):
the sha256 of the ``sha256sum`` lines (``<sha256 of the bytes>  <member path>``), one per
file, sorted by path. The same number comes from the shell::

    find hymenoptera_data -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum

``core.data.demo_photos.archive_content_digest`` computes it from a zip before anything is
extracted. A different set is two settings: ``STUDIO_DEMO_PHOTOS_URL`` and
``STUDIO_DEMO_PHOTOS_SHA256`` (its content digest); an empty URL turns the download off, and the
demo uses the drawn shapes (``core.data.sample``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from core.config.base import ConfigMixin, check_range

HYMENOPTERA_URL = "https://download.pytorch.org/tutorial/hymenoptera_data.zip"
# Content digest (see the module docstring) of hymenoptera_data.zip as published: 398 files,
# train/ants 124, train/bees 121, val/ants 70, val/bees 83.
HYMENOPTERA_CONTENT_SHA256 = "5a108f97d3bce1380a9ce668f27cbad193fc4949eae3742814be6880564333ae"
HYMENOPTERA_SOURCE = (
    "Ants and bees: 398 photos (hymenoptera_data.zip) from the PyTorch transfer-learning "
    "tutorial (https://pytorch.org/tutorials/beginner/transfer_learning_tutorial.html), a small "
    "subset of ImageNet. The photos belong to their authors; ImageNet allows their use for "
    "non-commercial research and teaching only."
)
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class DemoPhotos(ConfigMixin):
    """The real-photo demo set: where to download it and the digest it must have.

    Attributes:
        url: an http(s) address of the zip; empty: no download, the drawn shapes are used.
        content_sha256: the content digest the archive must have (lower-case hex).
        source: the set's origin and licence, shown beside the demo.
        timeout_s: seconds to wait for the server to answer (and between two reads).
        max_mb: the largest download accepted.
    """

    url: str = HYMENOPTERA_URL
    content_sha256: str = HYMENOPTERA_CONTENT_SHA256
    source: str = HYMENOPTERA_SOURCE
    timeout_s: float = 10.0
    max_mb: float = 200.0

    def __post_init__(self) -> None:
        if self.url and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"The demo photos address must start with http(s)://, got {self.url}.")
        if not _SHA256.fullmatch(self.content_sha256):
            raise ValueError(
                "The demo photos digest must be 64 lower-case hex digits (a sha256), "
                f"got {self.content_sha256!r}."
            )
        check_range("The demo download timeout", self.timeout_s, 0, 600, low_open=True)
        check_range("The demo download size limit", self.max_mb, 0, 10_000, low_open=True)

    @property
    def enabled(self) -> bool:
        """True when a download is configured."""
        return bool(self.url)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> DemoPhotos:
        """Reads ``STUDIO_DEMO_PHOTOS_URL`` and ``STUDIO_DEMO_PHOTOS_SHA256`` (unset: defaults).

        ``STUDIO_OFFLINE=1`` (a server without internet, ``core.model.weights``) turns the
        download off as an empty URL does.

        Raises:
            ValueError: a value that cannot be used.
        """
        env = os.environ if environ is None else environ
        url = env.get("STUDIO_DEMO_PHOTOS_URL", HYMENOPTERA_URL).strip()
        if env.get("STUDIO_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
            url = ""
        digest = env.get("STUDIO_DEMO_PHOTOS_SHA256", "").strip().lower()
        if url != HYMENOPTERA_URL and not digest and url:
            raise ValueError(
                "STUDIO_DEMO_PHOTOS_URL is set without STUDIO_DEMO_PHOTOS_SHA256: give the "
                "content digest of that archive too."
            )
        source = HYMENOPTERA_SOURCE if url == HYMENOPTERA_URL else f"Demo photos from {url}."
        return cls(url=url, content_sha256=digest or HYMENOPTERA_CONTENT_SHA256, source=source)
