"""The networks of notebooks 03, 04 and 08, built from the notebooks' own cells: one source per network.

Each notebook writes its network in a cell tagged "network" (08 also its
augmentation, in cells tagged "augmentation"), where students read and edit it.
Benchmarks and tests run those cells here, once per process, in a namespace that
holds what the notebook has imported by then, and build from the
`build_network` they define. Editing a notebook's cell changes what the
benchmarks train; 08's RandomAffine is registered with Keras by its own cell,
so a saved 08 run loads in any process that has called lesson("beyond").

    from lesson_networks import build             # benchmarks/ on the path
    model = build("sequential", "mixed_bfloat16")
    compact = build("beyond", widths=(12, 24, 24, 36, 48), strength=0)

The training recipes are read from the pages the same way: page_recipe() gives
the constants and functions of a notebook's cells tagged "recipe" (03's and
04's batch size, epochs and learning rate; 08's batch size, epochs, peak
learning rate and weight decay, SHIFTS, predict_with_shifts), and
lesson_recipe() the recipe 03 or 04 trains, for the benchmarks.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat
import numpy as np

import helpers  # before Keras, which the functions import: helpers imports TensorFlow quietly

if TYPE_CHECKING:
    import keras

    from helpers.recipes import Recipe

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
LESSONS = {
    "sequential": "03_sequential_cnn.ipynb",
    "functional": "04_functional_cnn.ipynb",
    "beyond": "08_beyond_the_recipes.ipynb",
}
TAGS = ("augmentation", "network")  # run in the notebook's order: 08's augmentation comes first


def tagged_sources(notebook: str, tags: tuple[str, ...] = TAGS) -> list[str]:
    """The sources of a notebook's cells tagged with one of `tags`, in the notebook's order."""
    cells = nbformat.read(NOTEBOOKS / notebook, as_version=4).cells
    return [cell.source for cell in cells if set(tags) & set(cell.get("metadata", {}).get("tags", []))]


def _is_literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except ValueError:
        return False
    return True


@functools.cache
def page_recipe(name: str = "beyond") -> dict[str, Any]:
    """What notebook `name`'s cells tagged "recipe" define: constants set to literals, and functions.

    Only those statements run, not the training or printing around them, so the
    functions find at run time only helpers, np and keras, and the constants.
    """
    notebook = LESSONS[name]
    sources = tagged_sources(notebook, ("recipe",))
    kept = [
        node
        for source in sources
        for node in ast.parse(source).body
        if isinstance(node, ast.FunctionDef) or (isinstance(node, ast.Assign) and _is_literal(node.value))
    ]
    if not kept:
        raise LookupError(f"{notebook} has no cell tagged 'recipe' that defines constants or functions.")
    import keras

    given = {"helpers": helpers, "np": np, "keras": keras}
    namespace = dict(given)
    exec(compile(ast.Module(body=kept, type_ignores=[]), str(NOTEBOOKS / notebook), "exec"), namespace)
    return {key: value for key, value in namespace.items() if key not in {*given, "__builtins__"}}


@functools.cache
def lesson(name: str) -> dict[str, Any]:
    """The names notebook `name`'s tagged cells define (build_network, 08's RandomAffine, ...), run once."""
    if name not in LESSONS:
        raise ValueError(f"no lesson network is called {name!r}; choose from {sorted(LESSONS)}.")
    import keras
    from keras import layers, ops

    notebook = LESSONS[name]
    namespace: dict[str, Any] = {
        "__name__": f"lesson_networks.{name}",  # the module its classes name, e.g. RandomAffine's
        "keras": keras,
        "layers": layers,
        "ops": ops,
        "math": math,
        "np": np,
        "input_shape": helpers.input_shape(),
    }
    given = sorted(key for key in namespace if not key.startswith("_"))
    try:
        exec(compile("\n\n".join(tagged_sources(notebook)), str(NOTEBOOKS / notebook), "exec"), namespace)
    except Exception as error:
        raise RuntimeError(
            f"{notebook}'s cells tagged {' or '.join(TAGS)} failed to run outside the notebook "
            f"({type(error).__name__}: {error}). They may use only {', '.join(given)} and the names "
            f"they define themselves: define anything else they need in one of them."
        ) from error
    if not callable(namespace.get("build_network")):
        raise LookupError(
            f"{notebook} defines no build_network() in a cell tagged 'network': tag the cell that "
            f"defines it (View > Cell Toolbar > Tags in Jupyter)."
        )
    return namespace


def build(name: str, policy: str = "float32", **settings: Any) -> keras.Model:
    """A fresh network of notebook `name`'s cell, computing under the dtype `policy`.

    `settings` go to the cell's build_network (08's takes widths, dropout and
    strength); the global dtype policy is put back as it was.
    """
    import keras

    previous = keras.mixed_precision.dtype_policy()
    keras.mixed_precision.set_dtype_policy(policy)
    try:
        return lesson(name)["build_network"](**settings)
    finally:
        keras.mixed_precision.set_dtype_policy(previous)


def lesson_recipe(name: str) -> Recipe:
    """The recipe notebook 03 or 04 trains: its page's batch size, epochs and learning rate.

    The published accuracy is the write-up's (helpers.recipes); the checks cells
    hold the page's settings to the write-up's.
    """
    from helpers.recipes import FUNCTIONAL, SEQUENTIAL

    written = {recipe.name: recipe for recipe in (SEQUENTIAL, FUNCTIONAL)}
    if name not in written:
        raise ValueError(f"no recipe is called {name!r}; choose from {sorted(written)}.")
    page = page_recipe(name)
    return dataclasses.replace(
        written[name],
        epochs=page["EPOCHS"],
        batch_size=page["BATCH_SIZE"],
        learning_rate=page["LEARNING_RATE"],
    )
