"""Shared code of the MNIST CNN notebook series: data, preprocessing, models, training, figures.

Importing this package first also imports TensorFlow with its start-up log lines
silenced, so notebooks show only what a student needs to read.
"""

from helpers._quiet import import_tensorflow_quietly

import_tensorflow_quietly()

from helpers import beyond, compare, plots  # noqa: E402
from helpers.artifacts import (  # noqa: E402
    ArtifactsFolderError,
    ClassRunsError,
    DamagedRunError,
    ImageFormatMismatchError,
    RunError,
    RunNotReadyError,
    check_artifacts_writable,
    load_history,
    load_model,
    require_runs,
    run_dir,
    save_run,
)
from helpers.data import MnistDataError, keras_cache_path, load_mnist  # noqa: E402
from helpers.display import layer_table, show_source  # noqa: E402
from helpers.epoch_timing import EpochTimer, median_epoch_seconds  # noqa: E402
from helpers.evaluation import (  # noqa: E402
    accuracy_per_digit,
    confidence_text,
    confusion_matrix,
)
from helpers.input_pipeline import EVALUATION_BATCH, batched_dataset  # noqa: E402
from helpers.models import build_functional_cnn, build_sequential_cnn, compile_with_adadelta  # noqa: E402
from helpers.precision import choose_precision  # noqa: E402
from helpers.preprocess import add_channel_axis, input_shape, one_hot, prepare, scale_pixels  # noqa: E402
from helpers.recipe_runs import (  # noqa: E402
    load_recipe_networks,
    load_recipe_records,
    save_recipe_run,
    saved_test_accuracy,
)
from helpers.recipes import FUNCTIONAL, RECIPES, SEQUENTIAL  # noqa: E402
from helpers.run_sizes import epochs_for_mode, exercise_size, training_split_for_mode  # noqa: E402
from helpers.settings import SEED, mode  # noqa: E402
from helpers.training import seed_everything, train  # noqa: E402
from helpers.validation import stratified_holdout  # noqa: E402

__all__ = [
    "EVALUATION_BATCH",
    "FUNCTIONAL",
    "RECIPES",
    "SEED",
    "SEQUENTIAL",
    "ArtifactsFolderError",
    "ClassRunsError",
    "DamagedRunError",
    "EpochTimer",
    "ImageFormatMismatchError",
    "MnistDataError",
    "RunError",
    "RunNotReadyError",
    "accuracy_per_digit",
    "add_channel_axis",
    "beyond",
    "batched_dataset",
    "build_functional_cnn",
    "build_sequential_cnn",
    "check_artifacts_writable",
    "choose_precision",
    "compare",
    "compile_with_adadelta",
    "confidence_text",
    "confusion_matrix",
    "epochs_for_mode",
    "exercise_size",
    "input_shape",
    "keras_cache_path",
    "layer_table",
    "load_history",
    "load_mnist",
    "load_model",
    "load_recipe_networks",
    "load_recipe_records",
    "median_epoch_seconds",
    "mode",
    "one_hot",
    "plots",
    "require_runs",
    "prepare",
    "run_dir",
    "save_recipe_run",
    "save_run",
    "saved_test_accuracy",
    "scale_pixels",
    "seed_everything",
    "stratified_holdout",
    "show_source",
    "train",
    "training_split_for_mode",
]
