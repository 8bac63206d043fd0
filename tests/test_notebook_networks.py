"""The networks notebooks 03, 04 and 08 write out in Keras are the reference networks of helpers.

The notebooks show the recipes' layers in their own cells, where students edit
them; benchmarks and tests build the same networks from helpers.models (and
helpers.beyond for 08). This test runs each notebook's cells tagged
"augmentation" (08 only) and "network" and compares what it builds
with the reference, layer by layer: type, order, every setting, output shape and
parameter count, under both precisions, so the two cannot drift apart.
"""

from __future__ import annotations

import math
from pathlib import Path

import keras
import nbformat
import pytest

import helpers
from helpers import beyond, models

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
CASES = [
    ("03_sequential_cnn.ipynb", models.build_sequential_cnn, 1_199_882),
    ("04_functional_cnn.ipynb", models.build_functional_cnn, 1_045_576),
    ("08_beyond_the_recipes.ipynb", beyond.build_compact_cnn, 56_858),
]


def tagged_cells(notebook: str, tag: str) -> list[str]:
    """The sources of the cells with `tag` in a notebook."""
    return [
        cell.source
        for cell in nbformat.read(NOTEBOOKS / notebook, as_version=4).cells
        if tag in cell.get("metadata", {}).get("tags", [])
    ]


def network_cell(notebook: str) -> str:
    """The source of the one cell tagged "network" in a notebook, after the cell it needs, if any."""
    cells = tagged_cells(notebook, "network")
    assert len(cells) == 1, f"{notebook} must have exactly one cell tagged 'network', found {len(cells)}"
    return "\n\n".join([*tagged_cells(notebook, "augmentation"), cells[0]])


@pytest.fixture
def global_policy():
    """Set Keras's global dtype policy as the notebooks do, and put float32 back afterwards."""
    yield keras.mixed_precision.set_dtype_policy
    keras.mixed_precision.set_dtype_policy("float32")


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
@pytest.mark.parametrize(("notebook", "reference", "parameters"), CASES)
def test_notebook_network_is_the_reference(notebook, reference, parameters, policy, global_policy):
    global_policy(policy)
    namespace = {"keras": keras, "layers": keras.layers, "ops": keras.ops, "math": math, "helpers": helpers}
    namespace["input_shape"] = (28, 28, 1)
    exec(compile(network_cell(notebook), notebook, "exec"), namespace)
    built = namespace["build_network"]()
    expected = reference((28, 28, 1), policy)
    assert models.architecture(built) == models.architecture(expected)
    assert built.count_params() == expected.count_params() == parameters
    assert type(built) is type(expected)  # Sequential stays Sequential, functional stays functional


def test_architecture_tells_networks_apart():
    """The comparison is sharp: one changed setting, or another precision, makes the architectures differ."""
    reference = models.architecture(models.build_sequential_cnn((28, 28, 1)))
    assert models.architecture(models.build_sequential_cnn((28, 28, 1))) == reference
    changed = models.build_sequential_cnn((28, 28, 1))
    changed.layers[3].rate = 0.3  # the first Dropout
    assert models.architecture(changed) != reference
    assert models.architecture(models.build_sequential_cnn((28, 28, 1), "mixed_bfloat16")) != reference


def test_architecture_sees_the_augmentation_settings():
    """One changed setting of 08's augmentation layer, or none at all, makes the networks differ."""
    reference = models.architecture(beyond.build_compact_cnn((28, 28, 1)))
    assert models.architecture(beyond.build_compact_cnn((28, 28, 1))) == reference
    changed = beyond.build_compact_cnn((28, 28, 1))
    changed.layers[1].degrees = 20.0  # RandomAffine's largest turn
    assert models.architecture(changed) != reference
    assert models.architecture(beyond.build_compact_cnn((28, 28, 1), augment=False)) != reference


def test_the_notebook_augmentation_moves_pixels_as_the_reference_does():
    """08 writes its RandomAffine layer on the page: with the same seed it makes the same copies."""
    namespace = {"keras": keras, "layers": keras.layers, "ops": keras.ops, "math": math, "helpers": helpers}
    namespace["input_shape"] = (28, 28, 1)
    exec(compile("\n\n".join(tagged_cells(CASES[2][0], "augmentation")), "08", "exec"), namespace)
    images = keras.random.uniform((8, 28, 28, 1), seed=3)
    settings = tuple(namespace[name] for name in ("ROTATION", "SHIFT", "ZOOM"))
    assert settings == (beyond.ROTATION_DEGREES, beyond.SHIFT_PIXELS, beyond.ZOOM)
    on_page = namespace["RandomAffine"](*settings, dtype="float32")
    reference = beyond.augmentation()
    on_page.generator = keras.random.SeedGenerator(7)
    reference.generator = keras.random.SeedGenerator(7)
    copies = keras.ops.convert_to_numpy(on_page(images, training=True))
    expected = keras.ops.convert_to_numpy(reference(images, training=True))
    assert (
        abs(copies - expected).max() < 1e-5 and abs(expected - keras.ops.convert_to_numpy(images)).max() > 0.1
    )
