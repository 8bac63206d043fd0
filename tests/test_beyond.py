"""Notebook 08's building blocks: its augmentation, the study's schedule and shifts, arithmetic, stored study.

The augmentation, the network and the training recipe (constants, SHIFTS,
predict_with_shifts) are 08's own cells, read through lesson_networks; the
schedule and the plan are the study's (benchmarks/study_plan.py), its schedule
checked against 08's schedule cell; shifts, arithmetic and the stored study are
helpers.beyond, which 08 calls.
"""

from __future__ import annotations

from types import SimpleNamespace

import keras
import lesson_networks
import nbformat
import numpy as np
import pytest
import study_plan as plan
from lesson_networks import build, lesson, tagged_sources

from helpers import beyond


def bar_images() -> np.ndarray:
    images = np.zeros((4, 28, 28, 1), dtype="float32")
    images[:, 8:20, 12:16, 0] = 1.0  # a vertical bar
    return images


def test_augmentation_changes_images_only_while_training():
    images = bar_images()
    keras.utils.set_random_seed(1)
    augment = build("beyond").layers[1]  # 08's RandomAffine, at the final network's settings
    np.testing.assert_array_equal(np.asarray(augment(images, training=False)), images)
    changed = np.asarray(augment(images, training=True))
    assert changed.shape == images.shape
    assert np.abs(changed - images).mean() > 0.005
    assert np.abs(changed - images).sum(axis=(1, 2, 3)).min() > 0  # every image is changed, differently
    assert len({round(float(image.sum()), 3) for image in changed}) == 4
    # A zoom of at most 10 % keeps the ink within about 21 % of the original.
    assert np.abs(changed.sum(axis=(1, 2, 3)) / images.sum(axis=(1, 2, 3)) - 1).max() < 0.25


def test_augmentation_turns_shifts_and_zooms_as_its_settings_say(monkeypatch):
    """One pure move at a time, with every random draw in [-1, 1) pinned to 1, the largest move."""
    images = bar_images()
    monkeypatch.setattr(keras.random, "uniform", lambda shape, *args, **kwargs: keras.ops.ones(shape))

    def moved(degrees: float, pixels: float, zoom: float) -> np.ndarray:
        return np.asarray(lesson("beyond")["RandomAffine"](degrees, pixels, zoom)(images, training=True))

    np.testing.assert_allclose(moved(0, 0, 0), images, atol=1e-6)
    np.testing.assert_allclose(moved(0, 2, 0), beyond.shifted(images, 2, 2), atol=1e-6)  # down and right
    zoomed = moved(0, 0, 0.5)  # 1.5 times as large: the bar is 18 rows tall instead of 12
    assert (zoomed[0, :, 14, 0] > 0.5).sum() == 18
    turned = moved(90, 0, 0)  # a quarter turn: the vertical bar lies flat
    assert (turned[0, 14, :, 0] > 0.5).sum() == 12 and (turned[0, :, 14, 0] > 0.5).sum() == 4


def test_shifted_moves_whole_pixels_and_fills_zeros():
    images = np.arange(2 * 28 * 28, dtype="float32").reshape(2, 28, 28, 1) + 1
    down = beyond.shifted(images, 1, 0)
    np.testing.assert_array_equal(down[:, 1:], images[:, :-1])
    assert not down[:, 0].any()
    left = beyond.shifted(images, 0, -1)
    np.testing.assert_array_equal(left[:, :, :-1], images[:, :, 1:])
    assert not left[:, :, -1].any()
    np.testing.assert_array_equal(beyond.shifted(images, 0, 0), images)


def test_shifted_predictions_average_the_five_copies():
    class Centre(keras.Model):
        def call(self, images):  # class 0 where the centre pixel is inked, else class 1
            ink = images[:, 14, 14, 0]
            return keras.ops.stack([ink, 1 - ink] + [keras.ops.zeros_like(ink)] * 8, axis=1)

    images = np.zeros((2, 28, 28, 1), dtype="float32")
    images[0, 14, 14, 0] = 1.0  # one inked pixel: only the unshifted copy keeps it at the centre
    images[1, 10:19, 10:19, 0] = 1.0  # a 9-pixel square: every copy shifted by a few pixels covers it
    expected = np.zeros((2, 10), dtype="float32")
    expected[0, :2] = [0.2, 0.8]  # one copy in five says 0
    expected[1, 0] = 1.0
    np.testing.assert_allclose(plan.predict_with_shifts(Centre(), images), expected, atol=1e-6)


def test_schedule_warms_up_over_a_quarter_then_falls_to_zero():
    schedule = plan.warmup_cosine(total_updates=400)
    rate = lambda step: float(schedule(step))  # noqa: E731
    start, peak = plan.PEAK_LEARNING_RATE / 25, plan.PEAK_LEARNING_RATE
    assert rate(0) == pytest.approx(start)
    assert rate(50) == pytest.approx((start + peak) / 2, rel=0.01)  # linear warm-up
    assert rate(100) == pytest.approx(peak)
    later = [rate(step) for step in range(100, 401, 50)]
    assert later == sorted(later, reverse=True)
    assert rate(250) == pytest.approx(peak / 2, rel=0.01)  # half way down the cosine
    assert rate(400) == pytest.approx(0.0, abs=1e-9)


def test_the_study_schedule_is_08s_schedule_cell():
    """08's cell that sets the schedule, run on a stand-in training set: the study's schedule matches it."""
    (cell,) = [
        source
        for source in tagged_sources(lesson_networks.LESSONS["beyond"], ("recipe",))
        if "CosineDecay" in source
    ]
    page = {"keras": keras, "helpers": SimpleNamespace(epochs_for_mode=lambda epochs: epochs)}
    page["fit"] = SimpleNamespace(images=range(3_000))  # 24 updates per epoch, 12 epochs
    exec(cell, page)
    assert page["updates"] == 288
    study = plan.warmup_cosine(page["updates"])
    steps = range(page["updates"] + 1)
    np.testing.assert_allclose([float(study(s)) for s in steps], [float(page["schedule"](s)) for s in steps])


def test_the_plan_reads_the_recipe_from_the_page(tmp_path, monkeypatch):
    """Constants and functions of the cells tagged "recipe" are read; nothing else in them runs."""
    cells = [
        nbformat.v4.new_code_cell(
            "PEAK = 1e-3\nrate = PEAK * 2\nprint(undefined)", metadata={"tags": ["recipe"]}
        ),
        nbformat.v4.new_code_cell("def peak():\n    return PEAK", metadata={"tags": ["recipe"]}),
        nbformat.v4.new_code_cell("PEAK = 5.0"),  # not tagged: not read
    ]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), tmp_path / lesson_networks.LESSONS["beyond"])
    monkeypatch.setattr(lesson_networks, "NOTEBOOKS", tmp_path)
    recipe = lesson_networks.page_recipe.__wrapped__("beyond")
    assert set(recipe) == {"PEAK", "peak"} and recipe["peak"]() == 1e-3


@pytest.mark.parametrize(("updates", "fraction"), [(1, 0.25), (100, 0.0), (100, 1.0)])
def test_schedule_refuses_runs_it_cannot_plan(updates, fraction):
    with pytest.raises(ValueError, match="at least 2 updates"):
        plan.warmup_cosine(updates, warmup_fraction=fraction)


def test_the_network_and_its_arithmetic():
    model = build("beyond")
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(norms) == 5 and all(layer.momentum == 0.9 for layer in norms)
    # 26x26x16x9 + 24x24x32x16x9 + 10x10x32x32x9 + 8x8x48x32x9 + 2x2x64x48x9 + 64x10
    assert beyond.forward_multiply_adds(model) == 97_344 + 2_654_208 + 921_600 + 884_736 + 110_592 + 640
    assert plan.training_tflop(model, 55_000, 12) == pytest.approx(18.49, abs=0.01)


def test_each_step_builds_and_compiles_what_it_names():
    """The plan's steps become real networks and optimizers: augmentation, smoothing and the average."""
    compact, augmentation, smoothing, ema = (step.compile(step.build(), 100) for step in plan.STEPS)
    kinds = lambda model: {type(layer).__name__ for layer in model.layers}  # noqa: E731
    assert "RandomAffine" not in kinds(compact) and "RandomAffine" in kinds(augmentation)
    assert augmentation.loss.get_config()["label_smoothing"] == 0
    assert smoothing.loss.get_config()["label_smoothing"] == ema.loss.get_config()["label_smoothing"] == 0.1
    assert not smoothing.optimizer.use_ema and ema.optimizer.use_ema
    narrow = next(point for point in plan.SWEEP if point.widths != plan.FINAL.widths)
    assert narrow.build().count_params() < augmentation.count_params()


def test_steps_add_one_idea_each_and_the_sweep_changes_one_setting():
    names = [step.name for step in plan.STEPS]
    assert names == ["compact", "augmentation", "smoothing", "ema"] and plan.FINAL is plan.STEPS[1]
    fields = (
        "augment",
        "strength",
        "widths",
        "dropout",
        "peak",
        "weight_decay",
        "label_smoothing",
        "ema",
        "epochs",
    )
    for point in plan.SWEEP:
        changed = [name for name in fields if getattr(point, name) != getattr(plan.FINAL, name)]
        assert len(changed) == 1 and len(point.sweep) == 1, point.name


def test_the_final_network_is_the_best_step_on_validation():
    """The rule the notebook states: the final network is the step with the best mean over its seeds."""
    study = beyond.stored_ladder()
    steps = [run for run in study["runs"] if not run["sweep"]]
    means = {
        step.name: np.mean([run["validation_accuracy_shifted"] for run in steps if run["step"] == step.name])
        for step in plan.STEPS
    }
    assert max(means, key=means.get) == plan.FINAL.name, means


def test_a_missing_study_says_how_to_make_it(monkeypatch, tmp_path):
    monkeypatch.setattr(beyond, "RESULTS_FOLDERS", (tmp_path,))
    with pytest.raises(FileNotFoundError, match="beyond_recipes.json is missing .* --jobs 2"):
        beyond.stored_ladder()
    with pytest.raises(FileNotFoundError, match="beyond_timing_float32.json is missing .* --no-sweep"):
        beyond.stored_timing()


def test_the_committed_study_covers_every_step_and_the_sweep():
    """Notebook 08 shows this file: a full run (not --short), 3 seeds a step, the sweep and the ensemble."""
    study = beyond.stored_ladder()
    assert not study["short"] and (study["fit_images"], study["validation_images"]) == (55_000, 5_000)
    steps = [run for run in study["runs"] if not run["sweep"]]
    for step in plan.STEPS:
        runs = [run for run in steps if run["step"] == step.name]
        assert len({run["seed"] for run in runs}) >= 3, step.name
        assert f"| {step.name} | {step.change} |" in study["table"]
    assert {run["step"] for run in study["runs"] if run["sweep"]} == {point.name for point in plan.SWEEP}
    assert all(("test_accuracy" in run) == (run["step"] == plan.FINAL.name) for run in study["runs"])
    for run in study["runs"]:
        assert {"tflop", "seed", "step", "budget", "minutes", "validation_accuracy"} <= run.keys()
    assert study["ensemble"]["models"] >= 3


def test_the_stored_timing_is_the_final_network_alone():
    timing = beyond.stored_timing()
    [run] = timing["runs"]
    assert (run["step"], run["threads"], timing["jobs"], run["precision"]) == (
        "augmentation",
        2,
        1,
        "float32",
    )
    assert not timing["short"] and run["tflop"] == pytest.approx(18.49, abs=0.01)
