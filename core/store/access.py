"""Who may do what with a workspace link: owners change things, viewers only look.

The access model (the README repeats it):

- **Owner link** (``?ws=<token>``): the token is a secret like the edit link of a shared
  document. Whoever holds it owns the workspace: trains, re-runs, deletes runs, exports,
  uploads, overwrites. Only share it with people who may do all of that.
- **Read-only link** (``?view=<token>``): each workspace can have one view token, made on
  demand by the owner (``core.store.workspace.view_token``) and stored in the workspace
  marker. Whoever holds it sees the runs, their charts and metrics, and downloads models and
  existing export bundles; every action that writes is refused. Renewing the view token
  (``view_token(..., renew=True)``) makes the old read-only link stop working.
- Both tokens are long random strings (the owner token is also signed by the server), so a
  link cannot be guessed, and one kind never works as the other: a view token in ``ws=`` is an
  unknown workspace, an owner token in ``view=`` an unknown read-only link.
- Opening a workspace with a read-only link writes nothing on the server (it does not even
  count as activity of the workspace).

``resolve_workspace`` (in ``core.store.workspace``) turns the URL into a ``WorkspaceAccess``.
Owner-only actions call ``require_owner`` first; as a second line, a viewer's store is a
``ReadOnlyRunStore`` whose writing methods refuse too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from core.config.run import RunConfig
from core.errors import StudioError
from core.store.runs import RunStore

Role = Literal["owner", "viewer"]
OWNER: Role = "owner"
VIEWER: Role = "viewer"


class ReadOnlyError(StudioError):
    """An action that changes a workspace was tried through a read-only link."""


def _refusal(action: str) -> ReadOnlyError:
    return ReadOnlyError(
        f"This is a read-only link, so {action} is not possible here. Only the workspace's "
        "owner link (the one with ws= in the address) can change this workspace."
    )


class ReadOnlyRunStore(RunStore):
    """A run store for a read-only link: listing, loading and reading work; writing refuses."""

    def create(self, config: RunConfig) -> str:
        raise _refusal("starting a run")

    def delete(self, run_id: str) -> None:
        raise _refusal("deleting a run")

    def update_status(self, run_id: str, **updates: Any) -> dict[str, Any]:
        raise _refusal("changing a run")

    def write_json(self, run_id: str, name: str, data: Any) -> None:
        raise _refusal("changing a run")

    def append_log(self, run_id: str, text: str) -> None:
        raise _refusal("changing a run")


def is_read_only(store: RunStore) -> bool:
    """True for the store of a read-only link (job runners check it before queuing)."""
    return isinstance(store, ReadOnlyRunStore)


@dataclass(frozen=True)
class WorkspaceAccess:
    """A resolved workspace link: its run store and what the holder may do.

    Attributes:
        store: the workspace's runs (a ``ReadOnlyRunStore`` for a viewer).
        role: ``"owner"`` (may change everything) or ``"viewer"`` (look and download).
    """

    store: RunStore
    role: Role

    @property
    def is_owner(self) -> bool:
        """True when the link is the owner's."""
        return self.role == OWNER

    @property
    def folder_name(self) -> str:
        """The workspace's folder name (never the token): names its uploads and exports."""
        return self.store.root.name


def require_owner(access: WorkspaceAccess | RunStore, action: str) -> None:
    """Refuses an owner-only action for a read-only link.

    Args:
        access: the resolved link (or just its store).
        action: what is being tried, as it reads in a sentence ("deleting a run",
            "re-running a run", "exporting a model", "uploading a dataset").

    Raises:
        ReadOnlyError: for a viewer, with a plain sentence naming the action.
    """
    store = access.store if isinstance(access, WorkspaceAccess) else access
    role = access.role if isinstance(access, WorkspaceAccess) else OWNER
    if role != OWNER or is_read_only(store):
        raise _refusal(action)
