"""The head builder of the Model page: conv blocks and dense layers, each with its own settings.

How many blocks and layers there are is chosen outside the page's form (``head_counts``), so
their rows appear as soon as the count changes; each row's settings are inside the form
(``head_fields``) and become a ``core.config.model.HeadConfig`` when the form is submitted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

from core.config.model import ACTIVATIONS, POOLINGS, ConvBlockConfig, DenseConfig, HeadConfig

MAX_CONV_BLOCKS = 3
MAX_DENSE_LAYERS = 3
POOL_SIZES = (0, 2, 3)  # 0 = no pooling after the convolution
KERNEL_SIZES = (1, 3, 5)


def head_counts(current: HeadConfig) -> tuple[int, int]:
    """Numbers of conv blocks and dense layers (outside the form: rows appear at once)."""
    left, right = st.columns(2)
    conv = left.number_input(
        "Conv blocks on the feature map",
        0,
        MAX_CONV_BLOCKS,
        min(len(current.conv_blocks), MAX_CONV_BLOCKS),
        key="model_conv_count",
        help="Extra convolutions on the cut's feature map, before pooling (each with its own "
        "number of filters). Useful with an early cut; none is the usual choice.",
    )
    dense = right.number_input(
        "Dense layers before the output",
        0,
        MAX_DENSE_LAYERS,
        min(len(current.dense), MAX_DENSE_LAYERS),
        key="model_dense_count",
        help="Fully connected layers after pooling, each with its own units and activation.",
    )
    return int(conv), int(dense)


def _conv_rows(count: int, current: HeadConfig) -> list[dict[str, Any]]:
    """One row of fields per conv block: filters, kernel, activation, pooling."""
    return _block_rows(count, current.conv_blocks, _conv_fields)


def _dense_rows(count: int, current: HeadConfig) -> list[dict[str, Any]]:
    """One row of fields per dense layer: units, activation, dropout, batch norm."""
    return _block_rows(count, current.dense, _dense_fields)


_RowFields = Callable[[Sequence[Any], Any, int], dict[str, Any]]


def _block_rows(count: int, previous: Sequence[Any], fields: _RowFields) -> list[dict[str, Any]]:
    """``count`` rows of four columns, each filled by ``fields(columns, old, index)``.

    ``old`` is the block's current settings (the fields' defaults), or None for a block that
    the count just added.
    """
    rows = []
    for index in range(count):
        old = previous[index] if index < len(previous) else None
        rows.append(fields(st.columns(4), old, index))
    return rows


def _activation_field(column: Any, label: str, old: Any, key: str) -> str:
    """The activation picker shared by conv blocks and dense layers (default "relu")."""
    return str(
        column.selectbox(
            label, ACTIVATIONS, index=ACTIVATIONS.index(old.activation if old else "relu"), key=key
        )
    )


def _conv_fields(cols: Sequence[Any], old: ConvBlockConfig | None, index: int) -> dict[str, Any]:
    """Filters, kernel, activation and pooling of conv block ``index``."""
    number = index + 1
    kernel = old.kernel_size if old and old.kernel_size in KERNEL_SIZES else 3
    pool = old.pool_size if old and old.pool_size in POOL_SIZES else 0
    filters = cols[0].number_input(
        f"Filters (block {number})", 1, 2048, old.filters if old else 64,
        key=f"model_conv_filters_{index}",
    )  # fmt: skip
    kernel_size = cols[1].selectbox(
        f"Kernel (block {number})", KERNEL_SIZES, index=KERNEL_SIZES.index(kernel),
        format_func=lambda k: f"{k}×{k}", key=f"model_conv_kernel_{index}",
    )  # fmt: skip
    activation = _activation_field(
        cols[2], f"Activation (block {number})", old, f"model_conv_activation_{index}"
    )
    pool_size = cols[3].selectbox(
        f"Max pooling (block {number})", POOL_SIZES, index=POOL_SIZES.index(pool),
        format_func=lambda p: "none" if p == 0 else f"{p}×{p}", key=f"model_conv_pool_{index}",
    )  # fmt: skip
    return {
        "filters": int(filters),
        "kernel_size": int(kernel_size),
        "activation": activation,
        "pool_size": int(pool_size),
        # "same" keeps the map's size: small maps (3×3 at 96 px) survive several blocks.
        "padding": "same",
    }


def _dense_fields(cols: Sequence[Any], old: DenseConfig | None, index: int) -> dict[str, Any]:
    """Units, activation, dropout and batch norm of dense layer ``index``."""
    number = index + 1
    units = cols[0].number_input(
        f"Units (dense {number})", 1, 4096, old.units if old else 128,
        key=f"model_dense_units_{index}",
    )  # fmt: skip
    activation = _activation_field(
        cols[1], f"Activation (dense {number})", old, f"model_dense_activation_{index}"
    )
    dropout = cols[2].slider(
        f"Dropout (dense {number})", 0.0, 0.9, old.dropout if old else 0.0, 0.05,
        key=f"model_dense_dropout_{index}",
    )  # fmt: skip
    batch_norm = cols[3].checkbox(
        f"BatchNorm (dense {number})", old.batch_norm if old else False,
        key=f"model_dense_bn_{index}",
    )  # fmt: skip
    return {
        "units": int(units),
        "activation": activation,
        "dropout": float(dropout),
        "batch_norm": bool(batch_norm),
    }


def head_fields(current: HeadConfig, conv_count: int, dense_count: int) -> HeadConfig:
    """The head's fields (inside the page's form); returns the HeadConfig they describe.

    Raises:
        ValueError: with a plain sentence when a value is refused by ``core.config.model``.
    """
    st.markdown("**Head** — what is stacked on the cut")
    if conv_count:
        st.caption("Conv blocks, in order (on the feature map of the cut):")
    conv = _conv_rows(conv_count, current)
    pooling = st.selectbox(
        "Pooling (feature map → vector)",
        POOLINGS,
        index=POOLINGS.index(current.pooling),
        key="model_pooling",
    )
    if dense_count:
        st.caption("Dense layers, in order (after pooling):")
    dense = _dense_rows(dense_count, current)
    last_cols = st.columns(2)
    dropout = float(
        last_cols[0].slider("Dropout before the output", 0.0, 0.9, current.dropout, 0.05)
    )
    output = last_cols[1].radio(
        "Output",
        ("softmax", "sigmoid"),
        horizontal=True,
        index=0 if current.output == "softmax" else 1,
    )
    return HeadConfig(
        conv_blocks=tuple(ConvBlockConfig(**row) for row in conv),
        pooling=str(pooling),
        dense=tuple(DenseConfig(**row) for row in dense),
        dropout=dropout,
        output=str(output),
    )
