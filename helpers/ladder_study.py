"""The stored study of notebook 08: the results files benchmarks/beyond_recipes.py writes."""

from __future__ import annotations

import json
from pathlib import Path

from helpers.settings import PROJECT_ROOT

# Where benchmarks/beyond_recipes.py's results are kept: in a clone, and (the same files, linked in git)
# inside the helpers package, so that helpers installed without the clone (Colab) can show them too.
RESULTS_FOLDERS = (PROJECT_ROOT / "benchmarks" / "results", Path(__file__).resolve().parent / "study")
STUDY, TIMING = "beyond_recipes.json", "beyond_timing_float32.json"
MAKE = {
    STUDY: "MNIST_PRECISION=float32 python benchmarks/beyond_recipes.py --jobs 2 "
    "--json benchmarks/results/beyond_recipes.json (about 65 minutes on a 2-core CPU)",
    TIMING: "MNIST_PRECISION=float32 python benchmarks/beyond_recipes.py --steps augmentation --seeds 1 "
    "--no-sweep --json benchmarks/results/beyond_timing_float32.json (about 5 minutes)",
}


def _stored(name: str) -> dict:
    for folder in RESULTS_FOLDERS:
        if (folder / name).is_file():
            return json.loads((folder / name).read_text())
    raise FileNotFoundError(
        f"{name} is missing from {' and '.join(map(str, RESULTS_FOLDERS))}: restore it with git, "
        f"or measure it again with `{MAKE[name]}`."
    )


def stored_ladder() -> dict:
    """The benchmark's stored study of every step and the sweep: its date, CPU, runs and tables."""
    return _stored(STUDY)


def stored_timing() -> dict:
    """The final network trained alone in float32 with all cores, to time it: the benchmark's report."""
    return _stored(TIMING)
