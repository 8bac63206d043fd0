"""Shared fixtures: the real MNIST arrays, an environment free of the series' settings, test networks.

When the session includes the browser walkthrough (tests/browser), it starts
at the session's start and runs in the background: JupyterLab's kernels run
while the unit tests do, and between two tests the walkthrough saves the
notebooks that finished and starts those whose saved runs now exist. The
browser tests run last. WALKTHROUGH_RUNS names a folder of smoke-mode runs for
it (make test-notebooks passes the runs its nbval step saved), so that it trains
none; make test runs the browser tests there, the others in a second process.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from lab_session import WALKTHROUGH, WALKTHROUGH_FIXTURES, Walkthrough  # noqa: E402  (tests/browser)

import helpers  # noqa: E402  (imports TensorFlow quietly, before any test module does)
from helpers import data  # noqa: E402

SETTINGS = ("MNIST_SERIES_MODE", "MNIST_PRECISION", "MNIST_ARTIFACTS", "MNIST_CLASS_RUNS", "MNIST_THREADS")
ADVANCE_EVERY_S = 2.0  # how often, at most, the walkthrough looks at its notebooks between tests


def _needs_walkthrough(item: pytest.Item) -> bool:
    return bool(WALKTHROUGH_FIXTURES & set(getattr(item, "fixturenames", ())))


@pytest.hookimpl(trylast=True)  # after -m and -k have deselected what they deselect
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The browser tests go last, so the notebooks run in the background while the other tests run."""
    items.sort(key=_needs_walkthrough)  # a stable sort: each group keeps its order


@pytest.fixture(scope="session", autouse=True)
def walkthrough_in_background(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Start the browser walkthrough at the session's start when a selected test needs it; stop it at the end.

    A failure to start is not raised here: the browser tests meet it again, with
    the fix in its message, when they ask for a notebook.
    """
    if not any(_needs_walkthrough(item) for item in request.session.items):
        yield
        return
    runs = os.environ.get("WALKTHROUGH_RUNS")
    session = Walkthrough(tmp_path_factory.mktemp("jupyterlab"), Path(runs) if runs else None)
    request.config.stash[WALKTHROUGH] = session
    try:
        session.begin()
    except (Exception, pytest.fail.Exception):  # no browser, say: the browser tests meet it again
        pass
    # JupyterLab, its kernels and Chromium started at normal priority; this process, which runs
    # the unit tests from now on, takes what they leave: the notebooks are the suite's longest part.
    os.nice(19)
    try:
        yield
    finally:
        session.close()


_last_advance = [0.0]


def pytest_runtest_teardown(item: pytest.Item) -> None:
    """Between two tests, let a running walkthrough save finished notebooks and start the next ones."""
    session = item.config.stash.get(WALKTHROUGH, None)
    if session is None or time.monotonic() - _last_advance[0] < ADVANCE_EVERY_S:
        return
    _last_advance[0] = time.monotonic()
    try:
        session.advance()
    except Exception:  # advance records each notebook's failure; the browser tests report it
        pass


@pytest.fixture(scope="session")
def real_npz_path():
    """The verified mnist.npz the suite runs on (MNIST_NPZ, else the Keras cache)."""
    helpers.load_mnist()  # fails with the fix in its message if no source has MNIST
    return data.find_local_copy() or data.keras_cache_path()


@pytest.fixture(scope="session")
def real_arrays(real_npz_path):
    with np.load(real_npz_path, allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


@pytest.fixture
def clean_settings(monkeypatch, tmp_path):
    """No series setting from the outer environment; artifacts go to a temporary folder."""
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MNIST_ARTIFACTS", str(tmp_path / "artifacts"))
    return monkeypatch


# --- Saved runs (helpers.artifacts): one tiny model and history for every artifact test ---------------

HISTORY = {"loss": [0.9, 0.5], "val_loss": [0.8, 0.6]}  # what the artifact tests save as a run's history


def _tiny_model(seed: int):
    """A four-input softmax layer: saves and loads in milliseconds, its weights fixed by the seed."""
    import keras  # here, so that this block stands on its own

    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])


@pytest.fixture(scope="session")
def tiny_model():
    """tiny_model(seed) builds the tiny model the artifact tests save and load."""
    return _tiny_model


@pytest.fixture
def run_history():
    """A fresh copy of HISTORY, the per-epoch history the artifact tests save."""
    return {metric: list(values) for metric, values in HISTORY.items()}


# --- Quick mode, trained once: the network a class sees, shared by the tests that need a real one ------


@pytest.fixture(scope="session")
def quick_functional(real_arrays):
    """The functional recipe trained in quick mode as notebook 04 trains it for a class (recipe_training).

    Trained once per session (10,000 images, 3 epochs) in the precision
    MNIST_PRECISION chooses, then the dtype policy goes back to float32.
    """
    import keras
    from lesson_networks import build
    from recipe_training import train

    from helpers import (
        FUNCTIONAL,
        choose_precision,
        compile_with_adadelta,
        prepare,
        seed_everything,
        training_split_for_mode,
    )

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MNIST_SERIES_MODE", "quick")
        policy = choose_precision().policy
        keras.mixed_precision.set_dtype_policy(policy)
        try:
            training = training_split_for_mode(prepare(real_arrays["x_train"], real_arrays["y_train"]))
            test = prepare(real_arrays["x_test"], real_arrays["y_test"])
            seed_everything()
            model = compile_with_adadelta(build("functional", policy))
            return train(FUNCTIONAL, model, training, test, verbose=0)
        finally:
            keras.mixed_precision.set_dtype_policy("float32")
