"""The two networks match their recipes layer for layer, in both precisions."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from helpers.models import build_functional_cnn, build_sequential_cnn, compile_with_adadelta


def layer_plan(model):
    plan = []
    for layer in model.layers:
        config = layer.get_config()
        if isinstance(layer, keras.layers.Conv2D):
            plan.append(("Conv2D", config["filters"], tuple(config["kernel_size"]), config["activation"]))
        elif isinstance(layer, keras.layers.MaxPooling2D):
            plan.append(("MaxPooling2D", tuple(config["pool_size"])))
        elif isinstance(layer, keras.layers.Dropout):
            plan.append(("Dropout", config["rate"]))
        elif isinstance(layer, keras.layers.Dense):
            plan.append(("Dense", config["units"], config["activation"]))
        elif isinstance(layer, keras.layers.Flatten):
            plan.append(("Flatten",))
    return plan


def test_sequential_recipe():
    model = build_sequential_cnn((28, 28, 1))
    assert isinstance(model, keras.Sequential)
    assert layer_plan(model) == [
        ("Conv2D", 32, (3, 3), "relu"),
        ("Conv2D", 64, (3, 3), "relu"),
        ("MaxPooling2D", (2, 2)),
        ("Dropout", 0.25),
        ("Flatten",),
        ("Dense", 128, "relu"),
        ("Dropout", 0.5),
        ("Dense", 10, "softmax"),
    ]
    assert model.count_params() == 1_199_882


def test_functional_recipe():
    model = build_functional_cnn((28, 28, 1))
    assert not isinstance(model, keras.Sequential)
    assert layer_plan(model) == [
        ("Conv2D", 32, (3, 3), "relu"),
        ("Conv2D", 64, (3, 3), "relu"),
        ("MaxPooling2D", (3, 3)),
        ("Dropout", 0.5),
        ("Flatten",),
        ("Dense", 250, "sigmoid"),
        ("Dense", 10, "softmax"),
    ]
    # 320 + 18,496 + (8*8*64*250 + 250) + 2,510
    assert model.count_params() == 1_045_576


@pytest.mark.parametrize("build", [build_sequential_cnn, build_functional_cnn])
def test_mixed_precision_keeps_the_output_in_float32(build):
    model = build((28, 28, 1), "mixed_bfloat16")
    weighted = [layer for layer in model.layers if layer.weights]
    assert all(layer.dtype_policy.name == "mixed_bfloat16" for layer in weighted[:-1])
    assert weighted[-1].dtype_policy.name == "float32"
    assert all(w.dtype == "float32" for w in model.weights)  # weights stay float32
    assert model(np.zeros((2, 28, 28, 1), dtype="float32")).dtype == "float32"


def test_adadelta_learning_rate_is_the_old_default():
    model = compile_with_adadelta(build_sequential_cnn((28, 28, 1)))
    assert isinstance(model.optimizer, keras.optimizers.Adadelta)
    assert float(model.optimizer.learning_rate) == pytest.approx(1.0)
    assert keras.optimizers.Adadelta().get_config()["learning_rate"] == pytest.approx(0.001)
