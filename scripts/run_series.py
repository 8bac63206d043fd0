"""Execute every notebook of the series in order, in a fresh kernel each.

    python scripts/run_series.py --output-dir build/executed   # copies, e.g. for a class
    python scripts/run_series.py --in-place                    # refresh the committed outputs
    python scripts/run_series.py --in-place --only 08_beyond_the_recipes.ipynb   # one of them

The mode comes from MNIST_SERIES_MODE (see helpers.settings); `make series` and
`make notebooks` set it to full. Stops at the first notebook that fails. After each
notebook its kernel reports its peak resident memory (VmHWM), which is printed and,
with --json, written with the notebook's time (benchmarks/kernel_memory.py reads it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


# Run after a notebook's last cell, in its kernel, then removed: the kernel's peak resident memory in MB.
PEAK_MEMORY = (
    "print(next(int(line.split()[1]) for line in open('/proc/self/status') "
    "if line.startswith('VmHWM')) / 1024)"
)


def execute(path: Path, kernel_name: str) -> tuple[nbformat.NotebookNode, float | None]:
    """The executed notebook, and its kernel's peak memory in MB (None where /proc is missing)."""
    notebook = nbformat.read(path, as_version=4)
    probe = nbformat.v4.new_code_cell(PEAK_MEMORY if Path("/proc/self/status").exists() else "")
    notebook.cells.append(probe)
    client = NotebookClient(
        notebook,
        kernel_name=kernel_name,
        extra_arguments=["--IPKernelApp.log_level=ERROR"],  # no transport notices in the console
        timeout=None,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    notebook.cells.pop()
    printed = "".join(output.get("text", "") for output in probe.outputs)
    for cell in notebook.cells:  # keep stored notebooks free of per-run timestamps
        cell.get("metadata", {}).pop("execution", None)
    return notebook, float(printed) if printed.strip() else None


def write_report(path: Path, measured: list[dict]) -> None:
    """The --json report: the mode and, per notebook run so far, its seconds and kernel peak in MB."""
    mode = os.environ.get("MNIST_SERIES_MODE", "full")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"mode": mode, "notebooks": measured}, indent=2) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--output-dir", type=Path, help="write executed copies here")
    where.add_argument("--in-place", action="store_true", help="overwrite the notebooks with their outputs")
    parser.add_argument("--kernel", default="python3", help="Jupyter kernel to run them in")
    parser.add_argument("--json", type=Path, help="write each notebook's seconds and kernel peak memory here")
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="NOTEBOOK",
        help="run only these, e.g. 08_beyond_the_recipes.ipynb (the runs they load must exist in this mode)",
    )
    args = parser.parse_args()

    notebooks = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        print(f"No numbered notebooks found in {NOTEBOOKS}.", file=sys.stderr)
        return 1
    if args.only:
        unknown = sorted(set(args.only) - {path.name for path in notebooks})
        if unknown:
            parser.error(f"no such notebook: {', '.join(unknown)}; choose from {[p.name for p in notebooks]}")
        notebooks = [path for path in notebooks if path.name in args.only]
    if args.output_dir:
        args.output_dir.mkdir(parents=True, exist_ok=True)
    started, measured = time.perf_counter(), []
    for path in notebooks:
        began = time.perf_counter()
        print(f"{path.name} ...", end=" ", flush=True)
        try:
            notebook, peak_mb = execute(path, args.kernel)
        except CellExecutionError as error:
            print("FAILED")  # the --json report keeps the notebooks before this one
            print(error, file=sys.stderr)
            return 1
        target = path if args.in_place else args.output_dir / path.name
        temporary = target.with_suffix(".ipynb.tmp")
        nbformat.write(notebook, temporary)
        temporary.replace(target)
        seconds = time.perf_counter() - began
        print(f"{seconds:.0f} s" + (f", kernel peak {peak_mb:,.0f} MB" if peak_mb else ""))
        measured.append({"notebook": path.name, "seconds": round(seconds, 1), "peak_mb": peak_mb})
        if args.json:  # after every notebook, so a failure later keeps what was measured
            write_report(args.json, measured)
    print(f"{len(notebooks)} notebooks ran in {time.perf_counter() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
