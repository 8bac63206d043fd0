"""The networks notebooks 03, 04 and 08 write on the page, as the benchmarks build them, and their saved runs.

benchmarks/lesson_networks.py runs each notebook's cells tagged "network" (and
08's "augmentation") and builds from the build_network they define: there is
no other copy. These tests hold what the notebooks' prose says of the networks,
08's variants that the study trains, and that a saved run of each kind loads in
a fresh process that never ran its notebook, with the same predictions.
"""

from __future__ import annotations

import json

import keras
import lesson_networks
import nbformat
import numpy as np
import pytest
from lesson_networks import LESSONS, build, lesson, lesson_recipe
from support import run_fresh_python

from helpers import artifacts
from helpers.recipes import compile_with_adadelta

# The parameters each notebook's prose states, and whether its network is a keras.Sequential.
NETWORKS = {
    "sequential": (1_199_882, True),
    "functional": (1_045_576, False),
    "beyond": (56_858, False),
}


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
@pytest.mark.parametrize("name", NETWORKS)
def test_each_notebooks_network_builds_in_either_precision_with_float32_probabilities(name, policy):
    parameters, sequential = NETWORKS[name]
    model = build(name, policy)
    assert model.count_params() == parameters and isinstance(model, keras.Sequential) == sequential
    weighted = [layer for layer in model.layers if layer.weights]
    assert all(layer.dtype_policy.name == policy for layer in weighted[:-1])
    assert weighted[-1].dtype_policy.name == "float32"  # the output layer, in any precision
    assert all(weight.dtype == "float32" for weight in model.weights)  # weights stay float32
    assert model(np.zeros((2, 28, 28, 1), dtype="float32")).dtype == "float32"
    assert keras.mixed_precision.dtype_policy().name == "float32"  # build put the global policy back


def test_the_study_builds_08s_variants_from_its_cell():
    """No augmentation (strength 0), narrower widths, dropout, a weaker augmentation: one cell builds them."""
    kinds = lambda model: [type(layer).__name__ for layer in model.layers]  # noqa: E731
    final = build("beyond")
    assert kinds(final)[1] == "RandomAffine" and "Dropout" not in kinds(final)
    assert "RandomAffine" not in kinds(build("beyond", strength=0))
    assert build("beyond", widths=(12, 24, 24, 36, 48)).count_params() < 40_000
    assert kinds(build("beyond", dropout=0.2))[-2] == "Dropout"
    half, full = build("beyond", strength=0.5).layers[1], final.layers[1]
    assert (half.degrees, half.pixels, half.zoom) == (full.degrees / 2, full.pixels / 2, full.zoom / 2)


def test_an_unknown_network_an_untagged_cell_or_a_missing_name_is_named(monkeypatch, tmp_path):
    with pytest.raises(ValueError, match="choose from"):
        lesson("resnet")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("def build_network(): pass")])
    nbformat.write(notebook, tmp_path / "untagged.ipynb")
    monkeypatch.setattr("lesson_networks.NOTEBOOKS", tmp_path)
    monkeypatch.setitem(LESSONS, "untagged", "untagged.ipynb")
    with pytest.raises(LookupError, match="untagged.ipynb defines no build_network.*tagged 'network'"):
        lesson("untagged")
    cell = nbformat.v4.new_code_cell("def build_network(): pass\nBATCH = helpers.EVALUATION_BATCH")
    cell.metadata["tags"] = ["network"]
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), tmp_path / "untagged.ipynb")
    with pytest.raises(RuntimeError, match="'helpers' is not defined.*only input_shape, keras, layers"):
        lesson("untagged")


def test_the_benchmarks_train_by_the_pages_recipe_cell(monkeypatch, tmp_path):
    """lesson_recipe reads 03's and 04's cells tagged "recipe": an edit there changes what is trained."""
    recipes = [lesson_recipe(name) for name in ("sequential", "functional")]
    assert [(recipe.name, recipe.epochs, recipe.batch_size) for recipe in recipes] == [
        ("sequential", 20, 128),
        ("functional", 12, 500),
    ]
    cell = nbformat.v4.new_code_cell("BATCH_SIZE = 64\nEPOCHS = 3\nLEARNING_RATE = 0.5\nepochs = f(EPOCHS)")
    cell.metadata["tags"] = ["recipe"]
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), tmp_path / "edited.ipynb")
    monkeypatch.setattr("lesson_networks.NOTEBOOKS", tmp_path)
    monkeypatch.setitem(LESSONS, "sequential", "edited.ipynb")
    lesson_networks.page_recipe.cache_clear()
    try:
        edited = lesson_recipe("sequential")
    finally:
        lesson_networks.page_recipe.cache_clear()
    assert (edited.epochs, edited.batch_size, edited.learning_rate) == (3, 64, 0.5)
    assert edited.published_accuracy == 0.9922  # the write-up's, from helpers.recipes
    with pytest.raises(ValueError, match="choose from"):
        lesson_recipe("beyond")


# The fresh process: it imports helpers, loads each saved run with helpers.load_model, and predicts.
# Only for 08's run does it first run 08's cells through lesson_networks, for RandomAffine.
FRESH_LOAD = """
import json
import numpy as np
import helpers
names = {names}
images = np.load({images!r})
found = {{}}
for name in names:
    if name == "beyond":
        from lesson_networks import lesson
        page_class = lesson("beyond")["RandomAffine"]
    model = helpers.load_model(name)
    np.save({folder!r} + f"/{{name}}.npy", model.predict(images, verbose=0))
    found[name] = [type(layer).__module__ + "." + type(layer).__name__ for layer in model.layers]
    if name == "beyond":
        found["page class rebuilt it"] = type(model.layers[1]) is page_class
print(json.dumps(found))
"""


@pytest.mark.slow  # trains each network on two batches, and a fresh process imports TensorFlow
def test_every_kind_of_saved_run_loads_in_a_fresh_process_with_the_same_predictions(
    clean_settings, tmp_path, real_arrays
):
    clean_settings.setenv("MNIST_SERIES_MODE", "smoke")
    images = (real_arrays["x_test"][:32] / 255.0).astype("float32")[..., None]
    train_images = (real_arrays["x_train"][:128] / 255.0).astype("float32")[..., None]
    train_targets = keras.utils.to_categorical(real_arrays["y_train"][:128], 10)
    expected = {}
    for name in NETWORKS:
        keras.utils.set_random_seed(1)
        model = compile_with_adadelta(build(name))
        # one epoch of two batches: dropout, batch normalization's averages and 08's augmentation all run
        history = model.fit(train_images, train_targets, batch_size=64, epochs=1, verbose=0).history
        artifacts.save_run(name, model, history, {"mode": "smoke", "test_accuracy": 0.5})
        expected[name] = model.predict(images, verbose=0)
    np.save(tmp_path / "images.npy", images)
    code = FRESH_LOAD.format(names=list(NETWORKS), images=str(tmp_path / "images.npy"), folder=str(tmp_path))
    settings = {"MNIST_SERIES_MODE": "smoke", "MNIST_ARTIFACTS": str(tmp_path / "artifacts")}
    found = json.loads(run_fresh_python(code, settings).splitlines()[-1])
    for name in NETWORKS:
        np.testing.assert_allclose(np.load(tmp_path / f"{name}.npy"), expected[name], rtol=1e-5, atol=1e-7)
    # 08's augmentation was rebuilt by the class its notebook's cell defines, the only one registered
    assert found["beyond"][1] == "lesson_networks.beyond.RandomAffine" and found["page class rebuilt it"]
    assert all(layer.startswith("keras.") for name in ("sequential", "functional") for layer in found[name])
