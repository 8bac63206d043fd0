"""What a class costs a server: several students' kernels measured at once, by USS and PSS.

    python benchmarks/class_memory.py --mode quick --class-runs artifacts \
        --json benchmarks/results/class_memory_quick.json
    python benchmarks/class_memory.py --mode full --class-runs artifacts --notebooks 05 06 07

Starts --students copies (default 3) of scripts/run_series.py at once. Each is a student with an
empty artifacts folder of their own and MNIST_CLASS_RUNS at the teacher's runs (laid out as
`make class-runs` publishes them, <folder>/<mode>/<name>/), running the same notebooks (default
05 to 08), each in a fresh kernel. Every half second it reads every kernel's memory with psutil's
memory_full_info():

- USS, the pages only that kernel holds: what the server gives back when the kernel ends;
- PSS, each page it holds divided by the number of processes holding it;
- RSS, every page it holds; TensorFlow's shared library pages count once in every kernel's RSS,
  though a server holds them once for all kernels;
- private, RSS less its file-backed and shared pages (psutil's `shared`): the memory that is the
  kernel's own whatever else runs. USS counts a library page as the kernel's own whenever no other
  process maps it at that moment, so a kernel running while the others are between notebooks
  shows the libraries in its USS.

One Jupyter server (`jupyter lab`, what each student's single-user server runs) is started alone
and its memory read once it has loaded, and the report gives the server memory for 10, 30 and
100 students: N x (the largest kernel's private memory + one Jupyter server's) + the shared pages
once (the most any kernel held), as if every student's kernel were at its peak at once.
Samples can miss a peak shorter than half a second; kernel_memory.py's VmHWM does not.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
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
NOTEBOOKS = PROJECT_ROOT / "notebooks"
SAMPLE_SECONDS = 0.5
SERVER_SECONDS = 20  # how long the lone Jupyter server is sampled after it starts
CLASS_SIZES = (10, 30, 100)
MB = 1024 * 1024


def notebook_names(numbers: list[str]) -> list[str]:
    """The notebooks' file names from their numbers (05 -> 05_training_curves.ipynb)."""
    names = []
    for number in numbers:
        found = sorted(NOTEBOOKS.glob(f"{number}_*.ipynb"))
        if len(found) != 1:
            raise SystemExit(f"no notebook numbered {number!r} in {NOTEBOOKS}")
        names.append(found[0].name)
    return names


def kernels(student: psutil.Process) -> list[psutil.Process]:
    """The Jupyter kernels a student's run_series.py has started and not yet ended.

    Only its own children: a process a kernel forks carries the kernel's command line
    until it starts another program, and is not a kernel.
    """
    try:
        children = student.children()
    except psutil.NoSuchProcess:
        return []
    found = []
    for child in children:
        try:
            if any("ipykernel" in part for part in child.cmdline()):
                found.append(child)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def memory_mb(process: psutil.Process) -> dict[str, float] | None:
    """RSS, PSS and USS of one process in MB, or None once it has ended."""
    try:
        info = process.memory_full_info()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None
    return {
        "rss": info.rss / MB,
        "pss": info.pss / MB,
        "uss": info.uss / MB,
        "private": (info.rss - info.shared) / MB,
        "shared": info.shared / MB,
    }


def run_students(mode: str, students: int, names: list[str], class_runs: Path, scratch: Path) -> dict:
    """Run the students at once; return each kernel's peaks and the peak of all kernels summed."""
    runs = []
    for student in range(students):
        folder = scratch / f"student-{student + 1}"
        env = {
            **os.environ,
            "MNIST_SERIES_MODE": mode,
            "MNIST_ARTIFACTS": str(folder / "artifacts"),
            "MNIST_CLASS_RUNS": str(class_runs),
        }
        command = [sys.executable, str(PROJECT_ROOT / "scripts" / "run_series.py")]
        command += ["--output-dir", str(folder / "executed"), "--json", str(folder / "series.json")]
        log = open(folder.with_suffix(".log"), "w")  # noqa: SIM115 (closed below, when it ends)
        process = subprocess.Popen(
            [*command, "--only", *names], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        runs.append((psutil.Process(process.pid), process, log, folder))
    order: list[list[int]] = [[] for _ in runs]  # each student's kernels, in the order they started
    peaks: dict[int, dict[str, float]] = {}
    together = {"pss": 0.0, "uss": 0.0, "rss": 0.0, "private": 0.0, "shared": 0.0}
    while any(process.poll() is None for _, process, _, _ in runs):
        now = dict.fromkeys(together, 0.0)
        for student, (parent, _, _, _) in enumerate(runs):
            for kernel in kernels(parent):
                measured = memory_mb(kernel)
                if measured is None:
                    continue
                if kernel.pid not in order[student]:
                    order[student].append(kernel.pid)
                peak = peaks.setdefault(kernel.pid, dict.fromkeys(measured, 0.0))
                for key, value in measured.items():
                    peak[key] = max(peak[key], value)
                    now[key] += value
        if now["pss"] > together["pss"]:
            together = now
        time.sleep(SAMPLE_SECONDS)
    failed = []
    for student, (_, process, log, folder) in enumerate(runs):
        log.close()
        if process.returncode != 0:
            failed.append(f"student {student + 1}: {folder.with_suffix('.log').read_text()[-2000:]}")
    if failed:
        raise SystemExit("A student's notebooks failed:\n" + "\n".join(failed))
    per_notebook = []
    for student, (_, _, _, folder) in enumerate(runs):
        series = json.loads((folder / "series.json").read_text())["notebooks"]
        if len(order[student]) != len(series):
            raise SystemExit(
                f"student {student + 1}: {len(order[student])} kernels sampled for {len(series)} "
                "notebooks; a kernel ended before its first sample (raise the notebooks' work or "
                "lower SAMPLE_SECONDS)"
            )
        for pid, notebook in zip(order[student], series, strict=True):
            per_notebook.append(
                {"student": student + 1, **notebook, **{f"{k}_mb": v for k, v in peaks[pid].items()}}
            )
    return {"kernels": per_notebook, "together": together}


def free_port() -> int:
    """A TCP port nothing listens on now, for the lone Jupyter server."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def jupyter_server_mb(scratch: Path) -> dict[str, float]:
    """The peak RSS, PSS and USS of one `jupyter lab` with no notebook open, over its first seconds."""
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={free_port()}"]
    command += ["--ServerApp.token=", "--ServerApp.ip=127.0.0.1", f"--ServerApp.root_dir={NOTEBOOKS}"]
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(scratch / "runtime")}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = {"rss": 0.0, "pss": 0.0, "uss": 0.0, "private": 0.0, "shared": 0.0}
    try:
        server = psutil.Process(process.pid)
        ends = time.monotonic() + SERVER_SECONDS
        while time.monotonic() < ends and process.poll() is None:
            measured = memory_mb(server)
            if measured:
                peak = {key: max(peak[key], value) for key, value in measured.items()}
            time.sleep(SAMPLE_SECONDS)
    finally:
        process.terminate()
        process.wait(timeout=30)
    return peak


def server_mb(students: int, private_mb: float, jupyter_mb: float, shared_mb: float) -> float:
    """Memory a server needs for `students` kernels at their peak at once, with their Jupyter servers."""
    return students * (private_mb + jupyter_mb) + shared_mb


def summary(measured: dict, jupyter: dict[str, float]) -> dict:
    """The largest kernel's private memory, the shared pages, and the server memory per class size."""
    kernels = measured["kernels"]
    private = max(k["private_mb"] for k in kernels)
    shared = max(k["shared_mb"] for k in kernels)
    return {
        "largest_kernel_private_mb": private,
        "shared_mb": shared,
        "jupyter_server_private_mb": jupyter["private"],
        "server_mb": {str(n): server_mb(n, private, jupyter["private"], shared) for n in CLASS_SIZES},
    }


def print_report(report: dict) -> None:
    """The per-notebook table (largest over students), the kernels together, and the class sizes."""
    print(heading(report["date"], report["cpu"], report["what"], False))
    rows = []
    for name in report["notebooks"]:
        runs = [k for k in report["kernels"] if k["notebook"] == name]
        rows.append(
            (
                name,
                f"{max(k['seconds'] for k in runs):.0f}",
                f"{max(k['peak_mb'] for k in runs):,.0f}",
                f"{max(k['rss_mb'] for k in runs):,.0f}",
                f"{max(k['pss_mb'] for k in runs):,.0f}",
                f"{max(k['uss_mb'] for k in runs):,.0f}",
                f"{max(k['private_mb'] for k in runs):,.0f}",
            )
        )
    header = ["notebook", "seconds", "VmHWM (MB)", "RSS (MB)", "PSS (MB)", "USS (MB)", "private (MB)"]
    print(markdown_table(header, rows))
    together, sizes = report["together"], report["summary"]
    print(
        f"\nAll {report['students']} kernels together at their highest: PSS {together['pss']:,.0f} MB, "
        f"USS {together['uss']:,.0f} MB, RSS {together['rss']:,.0f} MB, "
        f"private {together['private']:,.0f} MB."
    )
    print(
        f"Largest kernel's private memory {sizes['largest_kernel_private_mb']:,.0f} MB; shared pages "
        f"{sizes['shared_mb']:,.0f} MB; one Jupyter server's private memory "
        f"{sizes['jupyter_server_private_mb']:,.0f} MB."
    )
    rows = [(n, f"{mb / 1024:,.1f}") for n, mb in sizes["server_mb"].items()]
    print(markdown_table(["students", "server memory (GB)"], rows))


def main() -> int:
    parser = new_parser(__doc__)
    parser.add_argument("--mode", choices=("full", "quick", "smoke"), required=True)
    parser.add_argument("--class-runs", type=Path, required=True, help="the teacher's runs (make class-runs)")
    parser.add_argument("--students", type=int, default=3)
    parser.add_argument("--notebooks", nargs="+", default=["05", "06", "07", "08"], metavar="NN")
    add_precision_option(parser)
    add_json_option(parser, "write the report here as JSON")
    args = parser.parse_args()
    if args.students < 1:
        parser.error("--students must be 1 or more")
    if not (args.class_runs / args.mode).is_dir():
        parser.error(f"{args.class_runs} holds no {args.mode}/ folder of runs; publish them: make class-runs")
    names = notebook_names(args.notebooks)
    with tempfile.TemporaryDirectory(prefix="class-memory-") as scratch:
        measured = run_students(args.mode, args.students, names, args.class_runs.resolve(), Path(scratch))
        jupyter = jupyter_server_mb(Path(scratch))
    report = {
        "date": utc_now(),
        "cpu": cpu_name(),
        "precision": args.precision,
        "mode": args.mode,
        "students": args.students,
        "notebooks": names,
        "what": f"{args.students} students at once, {args.mode} mode, precision {args.precision}",
        **measured,
        "jupyter_server": jupyter,
    }
    report["summary"] = summary(measured, jupyter)
    print_report(report)
    save_final(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
