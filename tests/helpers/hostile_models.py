"""Hostile ``.keras`` files for tests, written by hand in the format Keras 3 saves (no Keras).

A ``.keras`` file is a zip of ``metadata.json``, ``config.json`` and ``model.weights.h5``. These
helpers write configs that Keras would really build (``dense_config``: a Sequential model of
one Dense layer, sized at will), with the weights file left out, empty, swapped, or full of
zeros packed a thousand times smaller, and configs that are not models at all.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

_META = {"keras_version": "3.15.1", "date_saved": "2026-12-01@00:00:00"}


def dense_config(side: int, units: int) -> dict[str, Any]:
    """A Keras 3 Sequential config: ``side`` x ``side`` RGB images, flattened, one Dense layer.

    It has ``dense_params(side, units)`` parameters: 32 px and 100,000 units make 307 million.
    """
    inputs = side * side * 3
    dtype = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
             "registered_name": None}  # fmt: skip
    dense = {
        "module": "keras.layers", "class_name": "Dense", "registered_name": None,
        "config": {"name": "dense", "trainable": True, "dtype": dtype, "units": units,
                   "activation": "linear", "use_bias": True},
        "build_config": {"input_shape": [None, inputs]},
    }  # fmt: skip
    flatten = {
        "module": "keras.layers", "class_name": "Flatten", "registered_name": None,
        "config": {"name": "flatten", "trainable": True, "dtype": dtype,
                   "data_format": "channels_last"},
        "build_config": {"input_shape": [None, side, side, 3]},
    }  # fmt: skip
    first = {
        "module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
        "config": {"batch_shape": [None, side, side, 3], "dtype": "float32", "sparse": False,
                   "ragged": False, "name": "input_layer", "optional": False},
    }  # fmt: skip
    return {
        "module": "keras", "class_name": "Sequential", "registered_name": None,
        "config": {"name": "sequential", "trainable": True, "dtype": dtype,
                   "layers": [first, flatten, dense],
                   "build_input_shape": [None, side, side, 3]},
        "build_config": {"input_shape": [None, side, side, 3]},
    }  # fmt: skip


def write_keras(
    path: Path, config: dict[str, Any] | bytes, members: dict[str, bytes | Path] | None = None
) -> Path:
    """A ``.keras`` zip of ``config`` and ``members`` (name -> bytes, or a file to deflate)."""
    raw = config if isinstance(config, bytes) else json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", json.dumps(_META))
        archive.writestr("config.json", raw)
        for name, data in (members or {}).items():
            if isinstance(data, Path):  # streamed: a big file never sits in memory
                archive.write(data, name, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
            else:
                archive.writestr(name, data)
    return path


def dense_params(side: int, units: int) -> int:
    """Parameters of ``dense_config(side, units)``."""
    return side * side * 3 * units + units


def zero_weights_file(path: Path, side: int, units: int) -> Path:
    """The HDF5 weights of ``dense_config(side, units)``, every value written as zero.

    HDF5 writes the zeros itself (early allocation with fill at allocation), so a file of
    hundreds of MB is made without holding it in memory.
    """
    import h5py

    with h5py.File(path, "w") as weights:
        group = weights.create_group("layers/dense/vars")
        group.attrs["name"] = "dense"
        for index, shape in enumerate([(side * side * 3, units), (units,)]):
            plist = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
            plist.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
            plist.set_fill_time(h5py.h5d.FILL_TIME_ALLOC)
            space = h5py.h5s.create_simple(shape)
            h5py.h5d.create(group.id, str(index).encode(), h5py.h5t.IEEE_F32LE, space, plist)
    return path


def nested_brackets(depth: int) -> bytes:
    """A config.json of ``depth`` nested lists: JSON, but deeper than any parser recursion."""
    return b"[" * depth + b"]" * depth
