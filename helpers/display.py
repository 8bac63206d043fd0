"""Show code and networks in a notebook compactly: a helper's source, a model's layers."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import keras
from IPython.display import Markdown


def show_source(function: Callable[..., Any]) -> Markdown:
    """The source code of a helper function, rendered as a highlighted code block."""
    return Markdown(f"```python\n{inspect.getsource(function).rstrip()}\n```")


def _shape_text(shape: tuple[int | None, ...]) -> str:
    return " × ".join(str(size) for size in shape[1:])  # leave out the batch axis


def layer_table(model: keras.Model) -> Markdown:
    """A model's layers as one short table (layer, output shape, parameters), with the total.

    Keras's own model.summary() spreads the same facts over a screen and a half
    of box drawing; this fits beside the lesson on a projector.
    """
    rows = ["| # | layer | output shape | parameters |", "| --- | --- | --- | ---: |"]
    number = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        number += 1
        rows.append(
            f"| {number} | `{layer.__class__.__name__}` | {_shape_text(layer.output.shape)} "
            f"| {layer.count_params():,} |"
        )
    input_shape = _shape_text(model.inputs[0].shape)
    rows.append(f"| | **total** (input {input_shape}) | | **{model.count_params():,}** |")
    return Markdown("\n".join(rows))
