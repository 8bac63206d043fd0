"""What the benchmark scripts share: their command line, the data of a --short run, and their reports.

Nothing here imports TensorFlow at module level, so argument errors and --help
answer at once; the scripts import helpers only once their arguments are checked.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from helpers.preprocess import PreparedSplit

RECIPE_NAMES = ("sequential", "functional")  # lesson_recipe's names, known before TensorFlow loads
# A --short run of the recipes: 1 epoch on the first images of each set, enough to check a script.
SHORT_TRAIN, SHORT_TEST = 1000, 500


def new_parser(description: str) -> argparse.ArgumentParser:
    """A parser whose --help shows the script's docstring as written, line breaks and all."""
    return argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )


def add_short_option(parser: argparse.ArgumentParser, images: str = f"{SHORT_TRAIN:,} images") -> None:
    """--short: one epoch on a few images, to check that the script works end to end."""
    parser.add_argument("--short", action="store_true", help=f"1 epoch on {images}, to check the script")


def add_recipes_option(parser: argparse.ArgumentParser) -> None:
    """--recipes: which of the two recipes to train (default both)."""
    parser.add_argument("--recipes", nargs="+", default=list(RECIPE_NAMES), choices=RECIPE_NAMES)


def add_epochs_option(parser: argparse.ArgumentParser) -> None:
    """--epochs: one number of epochs for every recipe, instead of each recipe's own."""
    parser.add_argument("--epochs", type=int, help="override the recipes' epochs")


def add_json_option(parser: argparse.ArgumentParser, help: str) -> None:
    """--json: the file the report is written to, as well as being printed."""
    parser.add_argument("--json", type=Path, help=help)


def add_precision_option(parser: argparse.ArgumentParser) -> None:
    """--precision: what MNIST_PRECISION was for a run measured elsewhere, recorded with its report."""
    parser.add_argument(
        "--precision",
        default=os.environ.get("MNIST_PRECISION", "auto"),
        help="what MNIST_PRECISION was for the run (recorded with it)",
    )


def refuse_epochs_below_one(parser: argparse.ArgumentParser, epochs: int | None) -> None:
    """Stop with a usage error when --epochs is given as less than 1."""
    if epochs is not None and epochs < 1:
        parser.error("--epochs must be at least 1")


def refuse_negative_seeds(parser: argparse.ArgumentParser, seeds: Iterable[int], option: str) -> None:
    """Stop with a usage error when a seed is negative, which NumPy's seeding refuses."""
    if any(seed < 0 for seed in seeds):
        parser.error(f"{option} must be whole numbers of 0 or more")


def mnist_splits(short: bool) -> tuple[PreparedSplit, PreparedSplit]:
    """MNIST's training and test sets, prepared; if short, only their first SHORT_TRAIN and SHORT_TEST."""
    import helpers

    (x_train, y_train), (x_test, y_test) = helpers.load_mnist()
    train, test = helpers.prepare(x_train, y_train), helpers.prepare(x_test, y_test)
    if short:
        return train.head(SHORT_TRAIN), test.head(SHORT_TEST)
    return train, test


def utc_now() -> str:
    """The current time to the minute, in UTC, to date a report."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())


def cpu_name() -> str:
    """The CPU's model name, as /proc/cpuinfo gives it (or the platform's word for it)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def peak_memory_mb() -> float:
    """The most memory this process has held so far, in MB (Linux reports ru_maxrss in kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def heading(date: str, cpu: str, detail: str, short: bool) -> str:
    """The line above a report's table: when, on what CPU, one detail, and whether it was a short run."""
    return f"{date} on {cpu} ({detail})" + (" [short mode]" if short else "")


def markdown_table(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A Markdown table: a header of `columns`, then one line per row of cells."""
    lines = [_table_line(columns), _table_line(["---"] * len(columns))]
    lines += [_table_line(row) for row in rows]
    return "\n".join(lines)


def _table_line(cells: Sequence[object]) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def write_json(path: Path, report: dict) -> None:
    """Write the report whole or not at all: to a temporary file, then renamed over the old one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(report, indent=2) + "\n")
    partial.replace(path)


def save_progress(path: Path | None, report: dict) -> None:
    """Write the report so far where --json asked, so an interrupted study keeps what it measured."""
    if path:
        write_json(path, report)


def save_final(path: Path | None, report: dict) -> None:
    """Write the finished report where --json asked, and say where."""
    if path:
        write_json(path, report)
        print(f"\nwrote {path}")
