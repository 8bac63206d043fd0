"""The series' settings, read from environment variables in this one place.

MNIST_SERIES_MODE  full (default): the recipes' own epochs on all 60,000 images;
                   quick: a seeded subset and a short run, for a live class;
                   smoke: smaller still, for the test suite (see run_sizes).
MNIST_PRECISION    auto (default): bfloat16 mixed precision where the CPU has
                   native bfloat16 support, float32 elsewhere;
                   mixed_bfloat16 or float32 force one.
MNIST_ARTIFACTS    folder this user's trained models and histories are saved in
                   (default: artifacts/ in the project's root in a clone of the
                   repository, or in the working folder where helpers is an
                   installed package, as in Colab).
MNIST_CLASS_RUNS   a folder of runs a teacher published (make class-runs): the
                   loaders use them where the user has no run of their own.
MNIST_NPZ          an offline copy of mnist.npz (see helpers.data).
"""

from __future__ import annotations

import os
from pathlib import Path

MODES = ("full", "quick", "smoke")
PRECISIONS = ("auto", "mixed_bfloat16", "float32")
# Seeds starting weights, shuffling, dropout and the quick-mode subset, so runs repeat.
# benchmarks/README.md, "Accuracy and seeds", shows what this seed gives and how far others move it.
SEED = 1

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_artifacts_root() -> Path:
    """artifacts/ in the project's root in a clone, else in the working folder (an installed package)."""
    if (PROJECT_ROOT / "notebooks").is_dir():
        return PROJECT_ROOT / "artifacts"
    return Path.cwd() / "artifacts"


def _choice(variable: str, allowed: tuple[str, ...]) -> str:
    value = os.environ.get(variable, allowed[0]).strip().lower() or allowed[0]
    if value not in allowed:
        raise ValueError(
            f"{variable}={os.environ[variable]!r} is not a valid setting. "
            f"Use one of: {', '.join(allowed)} (or unset it for {allowed[0]!r})."
        )
    return value


def mode() -> str:
    """The run mode: 'full' (the recipes as written), 'quick' (class-sized) or 'smoke' (test-sized)."""
    return _choice("MNIST_SERIES_MODE", MODES)


def requested_precision() -> str:
    """The precision asked for: 'auto', 'mixed_bfloat16' or 'float32'."""
    return _choice("MNIST_PRECISION", PRECISIONS)


def describe_artifacts_setting() -> str:
    """How MNIST_ARTIFACTS is set, in words, for error messages about the artifacts folder."""
    value = os.environ.get("MNIST_ARTIFACTS")
    if value:
        return f"MNIST_ARTIFACTS is set to {value!r}"
    return f"MNIST_ARTIFACTS is not set, so the default {default_artifacts_root()} is used"


def artifacts_dir() -> Path:
    """Where trained models and histories of the current mode are kept.

    Quick and full runs keep separate folders, so a CI run never replaces the
    models a class trained in full.
    """
    base = os.environ.get("MNIST_ARTIFACTS")
    root = Path(base).expanduser() if base else default_artifacts_root()
    return root / mode()


def describe_class_runs_setting() -> str:
    """How MNIST_CLASS_RUNS is set, in words, for error messages about the class's runs."""
    return f"MNIST_CLASS_RUNS is set to {os.environ.get('MNIST_CLASS_RUNS', '')!r}"


def class_runs_root() -> Path | None:
    """The folder of the class's published runs (MNIST_CLASS_RUNS), or None when it is not set."""
    value = os.environ.get("MNIST_CLASS_RUNS", "").strip()
    return Path(value).expanduser() if value else None
