"""The networks notebooks 03 and 04 write out in Keras are the reference networks of helpers.models.

The notebooks show the recipes' layers in their own cells, where students edit
them; benchmarks and tests build the same networks from helpers.models. This
test runs each notebook's cell tagged "network" and compares what it builds
with the reference, layer by layer: type, order, every setting, output shape and
parameter count, under both precisions, so the two cannot drift apart.
"""

from __future__ import annotations

from pathlib import Path

import keras
import nbformat
import pytest

import helpers
from helpers import models

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
CASES = [
    ("03_sequential_cnn.ipynb", models.build_sequential_cnn, 1_199_882),
    ("04_functional_cnn.ipynb", models.build_functional_cnn, 1_045_576),
]


def network_cell(notebook: str) -> str:
    """The source of the one cell tagged "network" in a notebook."""
    cells = [
        cell.source
        for cell in nbformat.read(NOTEBOOKS / notebook, as_version=4).cells
        if "network" in cell.get("metadata", {}).get("tags", [])
    ]
    assert len(cells) == 1, f"{notebook} must have exactly one cell tagged 'network', found {len(cells)}"
    return cells[0]


@pytest.fixture
def global_policy():
    """Set Keras's global dtype policy as the notebooks do, and put float32 back afterwards."""
    yield keras.mixed_precision.set_dtype_policy
    keras.mixed_precision.set_dtype_policy("float32")


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
@pytest.mark.parametrize(("notebook", "reference", "parameters"), CASES)
def test_notebook_network_is_the_reference(notebook, reference, parameters, policy, global_policy):
    global_policy(policy)
    namespace = {"keras": keras, "layers": keras.layers, "helpers": helpers, "input_shape": (28, 28, 1)}
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
