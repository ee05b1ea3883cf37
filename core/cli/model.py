"""CLI for the model engine: ``backbones``, ``layers``, ``model`` and ``codegen`` sub-commands.

Examples::

    python -m core backbones --json
    python -m core layers vgg16 --size 224 --json
    python -m core model spec.json --classes 3
    python -m core codegen spec.json --classes 3 > build_model.py

Keras is imported only when a model is built, so ``python -m core --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from core.config.backbones import list_backbones
from core.config.model import ModelConfig
from core.model.builder import build_model
from core.model.codegen import generate_code
from core.model.cuts import list_layers
from core.model.summary import summary_rows
from core.model.weights import has_offline_weights


def register(subparsers: Any) -> None:
    """Adds the model engine's sub-commands to the ``python -m core`` parser."""
    backbones = subparsers.add_parser("backbones", help="list the available backbones")
    backbones.add_argument("--json", action="store_true", help="print JSON instead of a table")
    backbones.set_defaults(handler=_backbones)

    layers = subparsers.add_parser("layers", help="list a backbone's layers (cut points)")
    layers.add_argument("backbone", help="backbone id, e.g. vgg16")
    layers.add_argument("--size", type=int, default=None, help="input size (default: native)")
    layers.add_argument("--recommended", action="store_true", help="only recommended cuts")
    layers.add_argument("--json", action="store_true", help="print JSON instead of a table")
    layers.set_defaults(handler=_layers)

    model = subparsers.add_parser("model", help="build a ModelConfig JSON and print its summary")
    model.add_argument("spec", type=Path, help="ModelConfig JSON file")
    model.add_argument("--classes", type=int, required=True, help="number of classes")
    model.add_argument("--json", action="store_true", help="print JSON instead of a table")
    model.set_defaults(handler=_model)

    codegen = subparsers.add_parser("codegen", help="print a Keras script rebuilding a spec")
    codegen.add_argument("spec", type=Path, help="ModelConfig JSON file")
    codegen.add_argument("--classes", type=int, required=True, help="number of classes")
    codegen.set_defaults(handler=_codegen)


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    widths = [max(len(col), *(len(str(row[col])) for row in rows)) for col in columns]
    header = "  ".join(col.ljust(width) for col, width in zip(columns, widths, strict=True))
    lines = [header.rstrip()]
    for row in rows:
        cells = (str(row[col]).ljust(width) for col, width in zip(columns, widths, strict=True))
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _backbones(args: argparse.Namespace) -> int:
    rows = []
    for info in list_backbones():
        row = {
            "id": info.id,
            "keras_name": info.keras_name,
            "family": info.family,
            "preprocess": info.preprocess,
            "default_size": info.default_size,
            "min_size": info.min_size,
            "fixed_size": info.fixed_size,
            "params_no_top": info.params_no_top,
            "imagenet_top1": info.imagenet_top1,
            "weights_file": info.weights_file,
            "offline_weights": has_offline_weights(info.id),
        }
        rows.append(row)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        columns = ["id", "family", "default_size", "min_size", "params_no_top", "imagenet_top1"]
        print(_table(rows, [*columns, "offline_weights"]))
    return 0


def _layers(args: argparse.Namespace) -> int:
    rows = [layer.to_dict() for layer in list_layers(args.backbone, args.size)]
    if args.recommended:
        rows = [row for row in rows if row["recommended"]]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            row["output_shape"] = tuple(row["output_shape"])
            row["recommended"] = "*" if row["recommended"] else ""
        columns = ["position", "name", "type", "output_shape", "params_below", "recommended"]
        print(_table(rows, columns))
    return 0


def _read_spec(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(f"Cannot read the spec file {path}: {error.strerror}.") from error
    return ModelConfig.from_json(text)


def _model(args: argparse.Namespace) -> int:
    built = build_model(_read_spec(args.spec), args.classes)
    rows = summary_rows(built.model)
    counts = built.param_counts()
    if args.json:
        payload = {"layers": rows, "params": counts, "cut_layer": built.cut_layer,
                   "fully_frozen_extractor": built.fully_frozen_extractor}  # fmt: skip
        print(json.dumps(payload, indent=2))
    else:
        print(_table(rows, ["name", "type", "output_shape", "params", "trainable"]))
        print(", ".join(f"{key}: {value:,}" for key, value in counts.items()))
    return 0


def _codegen(args: argparse.Namespace) -> int:
    print(generate_code(_read_spec(args.spec), args.classes))
    return 0
