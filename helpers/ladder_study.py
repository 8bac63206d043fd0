"""The stored study of notebook 08's ladder: the results file benchmarks/beyond_recipes.py writes."""

from __future__ import annotations

import json

from helpers.settings import PROJECT_ROOT

# Where benchmarks/beyond_recipes.py's full study is kept, for notebook 08 to show.
LADDER_RESULTS = PROJECT_ROOT / "benchmarks" / "results" / "beyond_recipes.json"


def stored_ladder() -> dict:
    """The benchmark's stored study of every step: its date, CPU, runs and table."""
    try:
        return json.loads(LADDER_RESULTS.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{LADDER_RESULTS} is missing: run `python benchmarks/beyond_recipes.py --json {LADDER_RESULTS}` "
            "to measure the steps (48 minutes on a 2-core CPU), or restore the file with git."
        ) from None
