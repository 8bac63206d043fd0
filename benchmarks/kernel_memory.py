"""Peak memory of each notebook's kernel, for sizing a class's servers (deploy/jupyterhub).

    python benchmarks/kernel_memory.py --mode quick --json benchmarks/results/kernel_memory_quick.json
    python benchmarks/kernel_memory.py --mode full  --json ...   # the whole series: about 30 minutes
    python benchmarks/kernel_memory.py --from build/series.json  # report a run of scripts/run_series.py

Runs notebooks 01 to 08 in order with scripts/run_series.py, each in a fresh
kernel, with their own temporary artifacts folder and copies (the committed
notebooks are not touched), and reports each kernel's peak resident memory
(VmHWM: what the kernel held at its most, shared library pages included) and
its time, against the goals: under 1 GB in quick mode, under 2 GB in full.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from reporting import (
    add_json_option,
    add_precision_option,
    cpu_name,
    heading,
    markdown_table,
    new_parser,
    save_final,
    utc_now,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
GOAL_MB = {"quick": 1024, "full": 2048, "smoke": 1024}


def run_series(mode: str) -> dict:
    """Run the whole series in `mode` in a scratch folder; return run_series.py's --json report."""
    with tempfile.TemporaryDirectory(prefix="kernel-memory-") as scratch:
        report = Path(scratch) / "series.json"
        env = {**os.environ, "MNIST_SERIES_MODE": mode, "MNIST_ARTIFACTS": str(Path(scratch) / "artifacts")}
        env.pop("MNIST_CLASS_RUNS", None)  # every run the series loads is trained here
        command = [sys.executable, str(PROJECT_ROOT / "scripts" / "run_series.py")]
        subprocess.run(
            [*command, "--output-dir", str(Path(scratch) / "executed"), "--json", str(report)],
            env=env,
            check=True,
        )
        return json.loads(report.read_text())


def main() -> int:
    parser = new_parser(__doc__)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--mode", choices=sorted(GOAL_MB), help="run the series in this mode and measure it")
    source.add_argument(
        "--from", dest="from_report", type=Path, help="a report of scripts/run_series.py --json"
    )
    add_precision_option(parser)
    add_json_option(parser, "write the report here as JSON")
    args = parser.parse_args()
    series = json.loads(args.from_report.read_text()) if args.from_report else run_series(args.mode)
    mode, goal = series["mode"], GOAL_MB[series["mode"]]
    report = {
        "date": utc_now(),
        "cpu": cpu_name(),
        "precision": args.precision,
        "mode": mode,
        "goal_mb": goal,
        "notebooks": series["notebooks"],
    }
    print(heading(report["date"], report["cpu"], f"{mode} mode, precision {args.precision}", False))
    rows = [
        (
            n["notebook"],
            f"{n['seconds']:.0f}",
            f"{n['peak_mb']:,.0f}",
            "yes" if n["peak_mb"] < goal else "**no**",
        )
        for n in series["notebooks"]
    ]
    print(markdown_table(["notebook", "seconds", "kernel peak (MB)", f"under {goal:,} MB"], rows))
    save_final(args.json, report)
    return 0 if all(n["peak_mb"] < goal for n in series["notebooks"]) else 1


if __name__ == "__main__":
    sys.exit(main())
