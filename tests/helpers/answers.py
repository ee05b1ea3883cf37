"""One folder of model answers shared by the studios of many tests (page tests, e2e servers)."""

from __future__ import annotations

from pathlib import Path

from core.store.answers import ANSWERS_FOLDER


def share_answers(cache_dir: Path, answers: Path) -> None:
    """Makes ``cache_dir``'s answers folder a link to ``answers``, shared by every test's studio.

    Answers (a backbone's layers, a model's summary, an augmentation preview) are keyed by the
    question alone and shared by every visitor and server by design (``core.store.answers``):
    sharing them across tests asks each question once per test process instead of once per
    test (a worker process importing TensorFlow each time). ``tests/core/jobs/kinds`` tests the
    answering itself, each test with its own folder.
    """
    link = cache_dir / ANSWERS_FOLDER
    if link.is_symlink():  # already shared (a restarted server keeps its folders)
        return
    cache_dir.mkdir(parents=True, exist_ok=True)
    link.symlink_to(answers, target_is_directory=True)


def keep_answers_private(cache_dir: Path) -> None:
    """Undoes ``share_answers`` for one test that must see an answer missing before it is asked
    for, or that writes answers the other tests must not read."""
    (cache_dir / ANSWERS_FOLDER).unlink()
