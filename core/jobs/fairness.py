"""Which queued job goes next: round-robin across workspaces, submission order within one.

One visitor's 500-run sweep must not make everybody else wait behind it. So the queue takes
turns: each workspace's first waiting job comes before any workspace's second, and so on, and
a workspace whose jobs are already running has used that many turns. Within a workspace, and
between workspaces on the same turn, the earlier submission goes first. With a cap of one job,
another visitor's training starts as soon as the running job ends, whatever waits before it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Protocol, TypeVar


class QueueEntry(Protocol):
    """What the order needs of a registry entry (``core.jobs.registry.JobEntry``)."""

    workspace: str
    state: str


Entry = TypeVar("Entry", bound=QueueEntry)


def turn_order(entries: Sequence[Entry]) -> list[Entry]:
    """The queued entries of ``entries`` (all, in submission order) in the order they start."""
    turns_taken = Counter(entry.workspace for entry in entries if entry.state == "running")
    ranked = []
    for order, entry in enumerate(entry for entry in entries if entry.state == "queued"):
        ranked.append((turns_taken[entry.workspace], order, entry))
        turns_taken[entry.workspace] += 1
    return [entry for _, _, entry in sorted(ranked, key=lambda item: item[:2])]
