"""The notebooks' plumbing: data, preparation, input pipeline, precision, saved runs, timing, figures.

Importing this package first also imports TensorFlow with its start-up log lines
silenced, so notebooks show only what a student needs to read. Its public names
are the ones the notebooks call.

Where things go:

* helpers/: only what a notebook imports, and what that needs. Data and its
  checks (data, preprocess, validation, run_sizes, input_pipeline), how a run
  computes (settings, precision, threads, memory, seeding, epoch_timing), saved runs
  (artifacts, recipes, recipe_runs), reading results (evaluation, compare,
  display, plots), notebook 07's own digits (handwriting, drawing_pad,
  samples/) and notebook 08's stored study (beyond, study/).
* The networks live in the notebooks only, in cells tagged "network" (08's
  augmentation in cells tagged "augmentation"); benchmarks/lesson_networks.py
  builds them from there for the benchmarks and the tests.
* benchmarks/: measuring and studies, with their own training path
  (recipe_training.py) and 08's study plan (study_plan.py).
* tests/: the tests and what only they use (tests/support.py).
* scripts/: the project's tools (running the series, hand-outs, publishing a
  class's runs, the book).
"""

from helpers._quiet import import_tensorflow_quietly

import_tensorflow_quietly()

from helpers import beyond, compare, plots  # noqa: E402
from helpers.artifacts import (  # noqa: E402
    check_artifacts_writable,
    load_model,
    require_runs,
    save_run,
)
from helpers.data import load_mnist  # noqa: E402
from helpers.display import layer_table, show_source  # noqa: E402
from helpers.epoch_timing import EpochTimer, median_epoch_seconds  # noqa: E402
from helpers.evaluation import (  # noqa: E402
    accuracy_per_digit,
    confidence_text,
    confusion_matrix,
)
from helpers.input_pipeline import EVALUATION_BATCH, batched_dataset  # noqa: E402
from helpers.precision import choose_precision  # noqa: E402
from helpers.preprocess import add_channel_axis, input_shape, one_hot, prepare, scale_pixels  # noqa: E402
from helpers.recipe_runs import (  # noqa: E402
    load_recipe_networks,
    load_recipe_records,
    save_recipe_run,
    saved_test_accuracy,
)
from helpers.recipes import FUNCTIONAL, SEQUENTIAL, compile_with_adadelta  # noqa: E402
from helpers.run_sizes import epochs_for_mode, exercise_size, training_split_for_mode  # noqa: E402
from helpers.seeding import seed_everything  # noqa: E402
from helpers.settings import SEED, mode  # noqa: E402
from helpers.validation import stratified_holdout  # noqa: E402

__all__ = [
    "EVALUATION_BATCH",
    "FUNCTIONAL",
    "SEED",
    "SEQUENTIAL",
    "EpochTimer",
    "accuracy_per_digit",
    "add_channel_axis",
    "batched_dataset",
    "beyond",
    "check_artifacts_writable",
    "choose_precision",
    "compare",
    "compile_with_adadelta",
    "confidence_text",
    "confusion_matrix",
    "epochs_for_mode",
    "exercise_size",
    "input_shape",
    "layer_table",
    "load_mnist",
    "load_model",
    "load_recipe_networks",
    "load_recipe_records",
    "median_epoch_seconds",
    "mode",
    "one_hot",
    "plots",
    "prepare",
    "require_runs",
    "save_recipe_run",
    "save_run",
    "saved_test_accuracy",
    "scale_pixels",
    "seed_everything",
    "show_source",
    "stratified_holdout",
    "training_split_for_mode",
]
