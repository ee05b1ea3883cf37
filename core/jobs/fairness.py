"""Which queued job goes next: round-robin across workspaces, submission order within one.

One visitor's 500-run sweep must not make everybody else wait behind it. So the queue takes
turns: each workspace's first waiting job comes before any workspace's second, and so on, and
a workspace whose jobs are already running has used that many turns. Between workspaces on
the same turn, the one that started a job longest ago (``last_turn``, kept in the registry)
goes first, then the earlier submission; within a workspace, submission order. With a cap of
one job, another visitor's training starts as soon as the running job ends, whatever waits
before it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Protocol, TypeVar


class QueueEntry(Protocol):
    """What the order needs of a registry entry (``core.jobs.registry.JobEntry``)."""

    workspace: str
    state: str


Entry = TypeVar("Entry", bound=QueueEntry)


def turn_order(
    entries: Sequence[Entry], last_turn: Mapping[str, float] | None = None
) -> list[Entry]:
    """The queued entries of ``entries`` (all, in submission order) in the order they start.

    Args:
        entries: queued and running entries, in submission order.
        last_turn: workspace -> when it last started a job (never: first on a tie).
    """
    turns_taken = Counter(entry.workspace for entry in entries if entry.state == "running")
    last = last_turn or {}
    ranked = []
    for order, entry in enumerate(entry for entry in entries if entry.state == "queued"):
        turn = turns_taken[entry.workspace]
        ranked.append(((turn, last.get(entry.workspace, 0.0), order), entry))
        turns_taken[entry.workspace] += 1
    return [entry for _, entry in sorted(ranked, key=lambda item: item[0])]
