"""Safe file and class names: one name that can be created and copied on every system.

Names come from visitors (folders of an uploaded zip, class names typed on the Data page), so
``safe_name`` refuses what cannot be one portable file name (a slash, a control character, a
Windows device name such as ``CON``, more than 255 bytes) with a plain sentence, and
``is_junk`` tells operating-system litter (``__MACOSX``, ``.DS_Store``) from data.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import PurePath

from core.errors import DataError

# Windows device names: a folder called "CON" cannot be created or copied there.
_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{i}" for p in ("COM", "LPT") for i in range(10)}
# Operating-system litter that is never part of a dataset.
JUNK_NAMES = frozenset({"__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini", "._.DS_Store"})


def name_problem(name: str) -> str | None:
    """Why ``name`` (already NFC-normalized and stripped) cannot be a file name, or None."""
    if not name or name in (".", ".."):
        return "is empty or not allowed"
    if "/" in name or "\\" in name:
        return "contains a slash"
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        return "contains control characters"
    if name.split(".")[0].upper().rstrip() in _RESERVED:
        return "is reserved by Windows"
    if name.endswith("."):
        return "ends with a dot"
    try:
        encoded = name.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, e.g. from an undecodable file name
        return "contains characters that are not valid text"
    if len(encoded) > 255:
        return "is too long (more than 255 bytes)"
    return None


def shown_name(name: str) -> str:
    """``name`` quoted for a message, shortened when very long."""
    return repr(name if len(name) <= 60 else name[:40] + "…")


def safe_name(name: str) -> str:
    """Checks that ``name`` can be used as one file or folder name and returns it normalized.

    The name is NFC-normalized (macOS sends decomposed accents) and stripped of outer spaces;
    spaces inside and non-ASCII letters are fine.

    Raises:
        DataError: for an empty name, ".", "..", a path separator, a control character,
            a Windows reserved device name or a name longer than 255 bytes.
    """
    if not isinstance(name, str):
        raise DataError("A name must be text.")
    cleaned = unicodedata.normalize("NFC", name).strip()
    problem = name_problem(cleaned)
    if problem is not None:
        raise DataError(f"The name {shown_name(name)} {problem}; choose a plain name.")
    return cleaned


def is_junk(part: str) -> bool:
    """True for OS metadata (``__MACOSX``, ``.DS_Store``...) and hidden names (``.x``)."""
    return part in JUNK_NAMES or part.startswith(".")


# The server's own folder names for uploads ("zip-20261126-083200-123456"): not the visitor's.
UPLOAD_NAME = re.compile(r"^(zip|upload)-\d{8}-\d{6}-\d{6}$")


def public_dataset_name(path: str | os.PathLike[str]) -> str:
    """The name of a dataset folder as a visitor may see it: never the server path.

    The folder's own name ("hymenoptera_data", "pets" from a zip holding ``pets/``), or
    "uploaded images" for the server-made folder of an upload. Pages, the Runs page's config
    diff, downloads (the bundle's ``config.json``) and the model card use it.

    Args:
        path: the dataset folder (a run config's ``data.path``).
    """
    name = PurePath(str(path)).name
    if not name or UPLOAD_NAME.fullmatch(name):
        return "uploaded images"
    return name
