"""TensorBoard logs of every run: ``<run folder>/tensorboard/``, written by Keras's own callback.

Every phase of a run fits with ``keras.callbacks.TensorBoard`` pointed at the run's
``tensorboard`` folder (on the head model when the head trains on cached features, on the whole
network otherwise); Keras writes ``train/`` and ``validation/`` event files with the per-epoch
scalars ``epoch_loss``, ``epoch_accuracy`` (and ``epoch_learning_rate``), step = epoch - 1, so a
fine-tuning phase or a resumed run continues the same curves. Histograms, the graph and the
profiler are off: they cost time on every run and few users look at them.

To watch every run of the studio (all workspaces), install TensorBoard
(``pip install -r requirements-extra.txt``) and run::

    tensorboard --logdir <runs dir>

where ``<runs dir>`` is ``STUDIO_RUNS_DIR`` (default ``runs``); ``--logdir <runs dir>/<workspace>``
shows one workspace, ``--logdir <run folder>`` one run. The studio does not need the
``tensorboard`` package itself: ``read_scalars`` reads the event files with TensorFlow alone.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

TENSORBOARD_DIR = "tensorboard"


def tensorboard_callback(run_folder: Path) -> Any:
    """Keras's TensorBoard callback writing per-epoch scalars to ``<run_folder>/tensorboard``."""
    import keras

    return keras.callbacks.TensorBoard(
        log_dir=str(run_folder / TENSORBOARD_DIR),
        histogram_freq=0,
        write_graph=False,
        write_images=False,
        update_freq="epoch",
        profile_batch=0,
    )


def read_scalars(log_dir: Path) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """Every scalar in the event files under ``log_dir``, read with TensorFlow alone.

    Returns:
        ``{writer: {tag: [(step, value), ...]}}`` with ``writer`` the sub-folder of ``log_dir``
        (``train``, ``validation``), steps in the order they were written.
    """
    import tensorflow as tf
    from tensorflow.core.util import event_pb2

    scalars: dict[str, dict[str, list[tuple[int, float]]]] = defaultdict(lambda: defaultdict(list))
    for file in sorted(log_dir.rglob("events.out.tfevents.*")):
        writer = file.parent.relative_to(log_dir).as_posix()
        for record in tf.data.TFRecordDataset(str(file)):
            event = event_pb2.Event.FromString(record.numpy())
            for value in event.summary.value:
                if value.HasField("tensor"):  # TF2 summaries store scalars as 0-d tensors
                    array = tf.make_ndarray(value.tensor)
                    if array.size != 1 or array.dtype.kind not in "fiu":
                        continue  # not a scalar (an image or a text summary)
                    number = float(array.reshape(()))
                elif value.HasField("simple_value"):
                    number = float(value.simple_value)
                else:
                    continue
                scalars[writer][value.tag].append((int(event.step), number))
    return {writer: dict(tags) for writer, tags in scalars.items()}
