"""Workspace link tokens: their shape, the owner tokens this server signed, the folder names.

An owner token is 32 random URL-safe characters followed by 16 characters of an HMAC-SHA256
over them, keyed by a secret this server keeps in ``<runs_dir>/.workspace-key`` (created once,
readable by the server's user only). The signature lets a token be handed out without
creating anything on disk: ``core.store.workspace.workspace_store`` accepts a signed token whose
folder does not exist yet as an empty workspace, and still refuses a mistyped or foreign token.
Tokens from before signing (32 random characters) stay valid while their folder exists.

A read-only view token (``core.store.access``) has the same shape as an unsigned token; it is
only valid when some workspace marker names it, so it never works as an owner token.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from core.config.settings import Settings
from core.errors import StudioError

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{22,64}$")
KEY_FILE = ".workspace-key"
_RANDOM_CHARS = 32  # secrets.token_urlsafe(24): 192 random bits
_MAC_CHARS = 16  # 96 bits of the HMAC: forging one by guessing is out of reach


class WorkspaceError(StudioError):
    """The workspace (or read-only) link is malformed or unknown."""


def new_token() -> str:
    """Returns an unguessable random token (192 bits, URL-safe); not signed."""
    return secrets.token_urlsafe(24)


def validate_token(token: object) -> str:
    """Returns ``token`` if it has the shape of a workspace token, else raises WorkspaceError."""
    if not isinstance(token, str) or not TOKEN_PATTERN.fullmatch(token):
        raise WorkspaceError(
            "This workspace link is not valid. Open the studio without a workspace in the "
            "address to start a new workspace."
        )
    return token


def folder_digest(token: str) -> str:
    """The 32 hex characters naming a workspace's folders (never the token itself)."""
    return hashlib.sha256(validate_token(token).encode("ascii")).hexdigest()[:32]


def _server_key(settings: Settings) -> bytes:
    """The signing key, created on first use; two processes racing agree on one key."""
    path = Path(settings.runs_dir) / KEY_FILE
    with contextlib.suppress(OSError):
        key = path.read_bytes()
        if len(key) >= 32:
            return key
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f"{KEY_FILE}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(secrets.token_bytes(32))
    try:
        os.link(temp, path)  # fails when another process was first: then its key is used
    except FileExistsError:
        pass
    except OSError:  # a file system without hard links
        if not path.exists():
            os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return path.read_bytes()


def _mac(settings: Settings, random_part: str) -> str:
    digest = hmac.new(_server_key(settings), b"ws:" + random_part.encode("ascii"), "sha256")
    return base64.urlsafe_b64encode(digest.digest()).decode("ascii")[:_MAC_CHARS]


def new_signed_token(settings: Settings) -> str:
    """Returns a new owner token signed by this server (48 URL-safe characters)."""
    random_part = new_token()
    return random_part + _mac(settings, random_part)


def is_signed(settings: Settings, token: str) -> bool:
    """True when ``token`` is an owner token this server (its key) signed."""
    if len(token) != _RANDOM_CHARS + _MAC_CHARS or not TOKEN_PATTERN.fullmatch(token):
        return False
    random_part, mac = token[:_RANDOM_CHARS], token[_RANDOM_CHARS:]
    return hmac.compare_digest(mac, _mac(settings, random_part))
