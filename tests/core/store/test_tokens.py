"""Workspace tokens: shape, signing by this server, the private key file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from core.store.tokens import (
    KEY_FILE,
    WorkspaceError,
    is_signed,
    new_signed_token,
    new_token,
    validate_token,
)
from tests.helpers.workspaces import studio_settings


def test_tokens_are_unique_and_valid() -> None:
    tokens = {new_token() for _ in range(50)}
    assert len(tokens) == 50
    assert all(validate_token(token) == token for token in tokens)


@pytest.mark.parametrize(
    "bad", ["", "short", "../" * 10, "a" * 65, "x" * 30 + "/", "é" * 30, None, 123]
)
def test_malformed_tokens_are_refused(bad: object) -> None:
    with pytest.raises(WorkspaceError, match="not valid"):
        validate_token(bad)


def test_signed_tokens_verify_only_with_this_servers_key(tmp_path: Path) -> None:
    here, elsewhere = studio_settings(tmp_path / "a"), studio_settings(tmp_path / "b")
    token = new_signed_token(here)
    assert validate_token(token) == token and len(token) == 48
    assert is_signed(here, token) and not is_signed(elsewhere, token)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert not is_signed(here, new_token()) and not is_signed(here, tampered)
    key = tmp_path / "a" / "runs" / KEY_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert is_signed(here, new_signed_token(here))  # the key is reused, not replaced
