"""Where a backbone's ImageNet weights file is, and can a run get it? Said before Start.

``weights_available`` is cheap (a few file checks and, at most, one short connection attempt)
so the Model page can refuse a backbone whose weights can be neither found nor downloaded,
instead of letting the run fail after Start. The weights are usable when the file is in
``STUDIO_WEIGHTS_DIR`` or in Keras's download cache; otherwise Keras downloads them when the
run builds the model, which needs the internet: ``STUDIO_OFFLINE=1`` says there is none, else a
connection to Keras's download host is tried (its answer is kept for a minute).

Messages never name a server path: the user may be a visitor of a shared server.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from core.config.backbones import get_backbone

WEIGHTS_ENV = "STUDIO_WEIGHTS_DIR"
OFFLINE_ENV = "STUDIO_OFFLINE"
# keras.applications downloads every ImageNet weights file from this host.
DOWNLOAD_HOST = "storage.googleapis.com"
_PROBE_TTL_S = 60.0
_probe: dict[tuple[str, int], tuple[float, bool]] = {}


def offline_weights_path(backbone_id: str) -> Path | None:
    """Returns the weights file in ``STUDIO_WEIGHTS_DIR`` for the backbone, if present."""
    folder = os.environ.get(WEIGHTS_ENV)
    if not folder:
        return None
    path = Path(folder) / get_backbone(backbone_id).weights_file
    return path if path.is_file() else None


def has_offline_weights(backbone_id: str) -> bool:
    """True when ``STUDIO_WEIGHTS_DIR`` holds this backbone's ImageNet no-top weights file."""
    return offline_weights_path(backbone_id) is not None


def keras_cache_dirs() -> list[Path]:
    """The folders where Keras keeps downloaded weights (``$KERAS_HOME/models``, else
    ``~/.keras/models``, and ``/tmp/.keras/models`` where the home folder is read-only)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return [Path(home) / "models", Path("/tmp") / ".keras" / "models"]


def local_weights_path(backbone_id: str) -> Path | None:
    """The backbone's ImageNet no-top weights file on this machine, if any.

    ``STUDIO_WEIGHTS_DIR`` first, then Keras's download cache (a file Keras downloaded
    earlier); None when neither holds it and Keras would have to download it.
    """
    offline = offline_weights_path(backbone_id)
    if offline is not None:
        return offline
    name = get_backbone(backbone_id).weights_file
    return next((d / name for d in keras_cache_dirs() if (d / name).is_file()), None)


@dataclass(frozen=True)
class WeightsAvailability:
    """Whether a backbone's ImageNet weights can be had, and a sentence for the user.

    Attributes:
        ok: True when a run can load them (a local file, or a download that can work).
        local: True when the file is already on this machine.
        message: one plain sentence, naming the file to provide where it is missing.
    """

    ok: bool
    local: bool
    message: str


def offline_by_setting() -> bool:
    """True when ``STUDIO_OFFLINE`` is set to 1/true/yes/on."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def can_download(host: str = DOWNLOAD_HOST, port: int = 443, timeout_s: float = 1.5) -> bool:
    """Whether this machine can reach Keras's download host (False with ``STUDIO_OFFLINE=1``).

    One TCP connection attempt, its answer kept for a minute: the page asks on every rerun.
    """
    if offline_by_setting():
        return False
    now = time.monotonic()
    known = _probe.get((host, port))
    if known is not None and now - known[0] < _PROBE_TTL_S:
        return known[1]
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            reachable = True
    except OSError:  # no DNS, no route, refused, timed out: all mean "cannot download"
        reachable = False
    _probe[(host, port)] = (now, reachable)
    return reachable


def weights_available(backbone_id: str, online: bool | None = None) -> WeightsAvailability:
    """Checks that a run of ``backbone_id`` with ImageNet weights can load them.

    Args:
        backbone_id: a registry id (``efficientnet_b0``).
        online: whether a download can work; None asks ``can_download``.

    Raises:
        ValueError: for an unknown backbone.
    """
    info = get_backbone(backbone_id)
    if offline_weights_path(backbone_id) is not None:
        return WeightsAvailability(
            True, True, f"The ImageNet weights of {info.keras_name} are in the weights folder."
        )
    if local_weights_path(backbone_id) is not None:
        return WeightsAvailability(
            True, True, f"The ImageNet weights of {info.keras_name} are in Keras's cache."
        )
    where = (
        f"put the file '{info.weights_file}' in the folder named by STUDIO_WEIGHTS_DIR "
        "(the server's weights folder)"
    )
    if online if online is not None else can_download():
        return WeightsAvailability(
            True,
            False,
            f"The ImageNet weights of {info.keras_name} are not on this server yet: Keras "
            f"downloads them when the run starts. Without internet access, {where}.",
        )
    return WeightsAvailability(
        False,
        False,
        f"The ImageNet weights of {info.keras_name} are not on this server, and it cannot "
        f"download them: {where}, or choose random weights (no pretraining).",
    )
