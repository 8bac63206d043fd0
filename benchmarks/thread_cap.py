"""Benchmark: one recipe's epochs under a one-CPU cgroup quota, with and without the thread cap.

    sudo .venv/bin/python benchmarks/thread_cap.py --json benchmarks/results/thread_cap.json
    sudo .venv/bin/python benchmarks/thread_cap.py --short     # 1 epoch on 1,000 images, one run each way

A shared JupyterHub or a container limits a kernel with a CPU quota, not with
fewer cores: the kernel still sees the host's cores, and TensorFlow sizes its
thread pools from them. This script creates a real cgroup with a quota of
--cpus CPUs (cgroup v1 cpu.cfs_quota_us, or v2 cpu.max), trains the recipe
through recipe_training.train in a child process inside it, and compares two ways:

- "capped": helpers reads the quota and sizes TensorFlow's pools to it;
- "uncapped": MNIST_THREADS set to the host's cores, the pools TensorFlow
  picks by itself.

The cgroup's CPU weight is raised (WEIGHT_FACTOR), so that other processes on
the host do not hold a run below its quota. Each run is a fresh process; the
two ways alternate, --repeats times, per precision. Seconds per epoch are the
median over the epochs after the first (helpers.median_epoch_seconds), then
the median over the repeats. Creating a cgroup needs root and a writable
cgroup file system: where it cannot be created, the script says why and exits
with status 1, measuring nothing. The cgroup is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

from reporting import (  # benchmarks/reporting.py, beside this script
    RECIPE_NAMES,
    SHORT_TEST,
    SHORT_TRAIN,
    add_json_option,
    add_short_option,
    cpu_name,
    heading,
    markdown_table,
    mnist_splits,
    new_parser,
    save_final,
    utc_now,
)

WAYS = ("uncapped", "capped")
PRECISIONS = ("float32", "mixed_bfloat16")
PERIOD_US = 100_000  # the kernel's default scheduling period
# The cgroup's CPU weight, as a multiple of the default (v1 cpu.shares 1024, v2 cpu.weight 100).
# On a host where other processes keep the cores busy, a default weight can hold a run below its
# quota, and the quota never binds; a higher weight lets it reach the quota, and never past it.
WEIGHT_FACTOR = 8
COLUMNS = (
    "precision",
    "way",
    "threads (intra/inter)",
    "s/epoch",
    "runs (s/epoch)",
    "CPU s a run",
    "throttled",
)


class CgroupError(RuntimeError):
    """No cgroup with a CPU quota could be made here; the message says why."""


class Cgroup(NamedTuple):
    version: int  # 1 or 2
    path: Path  # the cgroup's own folder


def cpu_controller(root: Path) -> tuple[int, Path]:
    """Where to make a cgroup with a CPU quota: cgroup v1's cpu hierarchy, else a v2 one with cpu."""
    for name in ("cpu,cpuacct", "cpu"):
        if (root / name / "cpu.cfs_quota_us").exists():
            return 1, root / name
    controllers = root / "cgroup.controllers"
    if controllers.exists() and "cpu" in controllers.read_text().split():
        return 2, root
    raise CgroupError(
        f"no cgroup CPU controller under {root}: neither a v1 cpu hierarchy (cpu/cpu.cfs_quota_us) "
        "nor a v2 hierarchy listing cpu in cgroup.controllers"
    )


def quota_text(version: int, cpus: float) -> tuple[str, str]:
    """The file to write and what to write in it, for a quota of `cpus` CPUs."""
    quota = round(cpus * PERIOD_US)
    if version == 1:
        return "cpu.cfs_quota_us", str(quota)
    return "cpu.max", f"{quota} {PERIOD_US}"


def create_cgroup(root: Path, cpus: float, name: str) -> Cgroup:
    """A new cgroup limited to `cpus` CPUs, or CgroupError saying why it cannot be made."""
    version, mount = cpu_controller(root)
    path = mount / name
    made = False
    try:
        path.mkdir()
        made = True
        if version == 1:
            (path / "cpu.cfs_period_us").write_text(str(PERIOD_US))
            (path / "cpu.shares").write_text(str(1024 * WEIGHT_FACTOR))
        else:
            if not (path / "cpu.max").exists():  # v2 gives a child cpu.max once its parent delegates cpu
                (mount / "cgroup.subtree_control").write_text("+cpu")
            (path / "cpu.weight").write_text(str(100 * WEIGHT_FACTOR))
        filename, text = quota_text(version, cpus)
        (path / filename).write_text(text)
    except OSError as error:
        if made:
            path.rmdir()
        raise CgroupError(
            f"cannot create a cgroup with a CPU quota at {path}: {error}. "
            "Run this script as root on a host whose cgroup file system is writable."
        ) from error
    return Cgroup(version, path)


def remove_cgroup(cgroup: Cgroup) -> None:
    """Remove the cgroup once its processes have gone (the kernel may take a moment to see them go)."""
    for _ in range(50):
        try:
            cgroup.path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:  # still busy
            time.sleep(0.1)
    print(f"could not remove {cgroup.path}; remove it with: rmdir {cgroup.path}", file=sys.stderr)


def parse_cpu_stat(text: str) -> dict[str, int]:
    """The counters of a cgroup's cpu.stat, one "name value" per line."""
    stats = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if value.strip().isdigit():
            stats[name] = int(value)
    return stats


def throttling(before: dict[str, int], after: dict[str, int]) -> dict[str, float]:
    """Periods the quota ran out in, and seconds the cgroup was held back, between two cpu.stat readings."""
    if "throttled_usec" in after:  # v2
        held_back = (after["throttled_usec"] - before.get("throttled_usec", 0)) / 1e6
    else:  # v1, in nanoseconds
        held_back = (after.get("throttled_time", 0) - before.get("throttled_time", 0)) / 1e9
    return {
        "periods": after.get("nr_periods", 0) - before.get("nr_periods", 0),
        "throttled_periods": after.get("nr_throttled", 0) - before.get("nr_throttled", 0),
        "throttled_seconds": round(held_back, 2),
    }


def measure_once(recipe_name: str, images: int, test_images: int, epochs: int, short: bool) -> dict:
    """Train one recipe in this process, which runs inside the cgroup, and return its measurements."""
    import recipe_training
    import tensorflow as tf
    from lesson_networks import build, lesson_recipe

    import helpers
    from helpers import threads

    recipe = lesson_recipe(recipe_name)
    train, test = mnist_splits(short)
    train, test = train.head(images), test.head(test_images)
    helpers.seed_everything()
    precision = helpers.choose_precision()
    model = build(recipe_name, precision.policy)
    helpers.compile_with_adadelta(model, learning_rate=recipe.learning_rate)
    run = recipe_training.train(recipe, model, train, test, epochs=epochs, verbose=0)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "precision": precision.policy,
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
        "budget": threads.applied_budget().reason,
        "budget_without_override": threads.cpu_budget(environ={}).reason,
        "training_images": len(train.images),
        "test_images": len(test.images),
        "epochs": epochs,
        "epoch_seconds": [round(s, 2) for s in run.epoch_seconds],
        "seconds_per_epoch": round(helpers.median_epoch_seconds(run.epoch_seconds), 2),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "test_accuracy": round(run.test_accuracy, 4),
    }


def child_environment(way: str, precision: str, host_cores: int) -> dict[str, str]:
    """The child's environment: the precision, and MNIST_THREADS at the host's cores for "uncapped"."""
    environ = {key: value for key, value in os.environ.items() if key != "MNIST_THREADS"}
    environ["MNIST_PRECISION"] = precision
    if way == "uncapped":
        environ["MNIST_THREADS"] = str(host_cores)
    return environ


def run_in_cgroup(cgroup: Cgroup, way: str, precision: str, args: argparse.Namespace) -> dict:
    """One run in a fresh process of this script that joins the cgroup before it starts Python."""
    command = [sys.executable, __file__, "--child", args.recipe, str(args.images), str(args.test_images)]
    command += ["--epochs", str(args.epochs)] + (["--short"] if args.short else [])
    # The shell joins the cgroup, then becomes the child: every thread it starts is inside the quota.
    joined = ["sh", "-c", 'echo $$ > "$0" && exec "$@"', str(cgroup.path / "cgroup.procs"), *command]
    before = parse_cpu_stat((cgroup.path / "cpu.stat").read_text())
    load_before = os.getloadavg()[0]  # the rest of the host's load: other processes share its cores
    done = subprocess.run(
        joined,
        env=child_environment(way, precision, os.cpu_count() or 1),
        capture_output=True,
        text=True,
        check=False,
    )
    after = parse_cpu_stat((cgroup.path / "cpu.stat").read_text())
    if done.returncode != 0:
        raise RuntimeError(f"{precision} / {way} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    load = {"load_average_before": round(load_before, 2), "load_average_after": round(os.getloadavg()[0], 2)}
    return {"way": way, **result, **throttling(before, after), **load}


def check_runs(runs: list[dict], cpus: float) -> None:
    """Stop if a capped run did not get the quota's threads: then the table would not measure the cap."""
    expected = max(1, math.ceil(cpus))
    for run in runs:
        if run["way"] == "capped" and run["intra_op_threads"] != expected:
            raise RuntimeError(
                f"a capped run got {run['intra_op_threads']} threads, not {expected}: {run['budget']}"
            )


def summarise(runs: list[dict]) -> list[dict]:
    """One row per precision and way: the median seconds per epoch over the repeats, and the rest."""
    rows = []
    for precision in dict.fromkeys(run["precision"] for run in runs):
        for way in WAYS:
            same = [run for run in runs if run["precision"] == precision and run["way"] == way]
            if not same:
                continue
            rows.append(
                {
                    "precision": precision,
                    "way": way,
                    "threads": f"{same[0]['intra_op_threads']}/{same[0]['inter_op_threads']}",
                    "seconds_per_epoch": round(statistics.median(r["seconds_per_epoch"] for r in same), 2),
                    "runs": [r["seconds_per_epoch"] for r in same],
                    "cpu_seconds": round(statistics.median(r["cpu_seconds"] for r in same), 1),
                    "throttled_periods": round(statistics.median(r["throttled_periods"] for r in same)),
                    "periods": round(statistics.median(r["periods"] for r in same)),
                }
            )
    return rows


def table(rows: list[dict]) -> str:
    """Markdown table of the summary rows."""
    cells = [
        [
            r["precision"],
            r["way"],
            r["threads"],
            f"{r['seconds_per_epoch']:.1f}",
            ", ".join(f"{s:.1f}" for s in r["runs"]),
            f"{r['cpu_seconds']:.0f}",
            f"{r['throttled_periods']} of {r['periods']} periods",
        ]
        for r in rows
    ]
    return markdown_table(COLUMNS, cells)


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, checked; --short sets its own sizes."""
    parser = new_parser(__doc__)
    add_short_option(parser)
    add_json_option(parser, "also write the runs and the summary here")
    parser.add_argument("--cpus", type=float, default=1.0, help="the cgroup's CPU quota (default 1)")
    parser.add_argument("--recipe", choices=RECIPE_NAMES, default="functional")
    parser.add_argument("--images", type=int, default=30_000, help="training images (default 30,000)")
    parser.add_argument("--test-images", type=int, default=2_000, help="test images (default 2,000)")
    parser.add_argument(
        "--epochs", type=int, default=2, help="epochs a run; the first is left out (default 2)"
    )
    parser.add_argument("--repeats", type=int, default=2, help="runs each way and precision (default 2)")
    parser.add_argument("--precisions", nargs="+", choices=PRECISIONS, default=["float32"])
    parser.add_argument("--cgroup-root", type=Path, default=Path("/sys/fs/cgroup"), help=argparse.SUPPRESS)
    parser.add_argument("--child", nargs=3, metavar=("RECIPE", "IMAGES", "TEST"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return args
    if args.short:
        args.images, args.test_images, args.epochs, args.repeats = SHORT_TRAIN, SHORT_TEST, 1, 1
    if args.cpus <= 0:
        parser.error("--cpus must be more than 0")
    if min(args.images, args.test_images, args.epochs, args.repeats) < 1:
        parser.error("--images, --test-images, --epochs and --repeats must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    if args.child:
        recipe, images, test_images = args.child
        print(json.dumps(measure_once(recipe, int(images), int(test_images), args.epochs, args.short)))
        return 0

    started = utc_now()
    try:
        cgroup = create_cgroup(args.cgroup_root, args.cpus, f"mnist-thread-cap-{os.getpid()}")
    except CgroupError as error:
        print(f"thread_cap: {error}\nNothing was measured.", file=sys.stderr)
        return 1
    runs: list[dict] = []
    try:
        for precision in args.precisions:
            for repeat in range(args.repeats):
                for way in WAYS:
                    print(f"{precision} / {way} / run {repeat + 1} in {cgroup.path} ...", flush=True)
                    runs.append(run_in_cgroup(cgroup, way, precision, args))
    finally:
        remove_cgroup(cgroup)
    check_runs(runs, args.cpus)
    rows = summarise(runs)
    host_cores = os.cpu_count() or 1
    report = {
        "date": started,
        "cpu": cpu_name(),
        "host_cores": host_cores,
        "cgroup_version": cgroup.version,
        "quota_cpus": args.cpus,
        "cpu_weight_factor": WEIGHT_FACTOR,
        "recipe": args.recipe,
        "training_images": args.images,
        "test_images": args.test_images,
        "epochs": args.epochs,
        "repeats": args.repeats,
        "short": args.short,
        "summary": rows,
        "table": table(rows),
        "runs": runs,
    }
    detail = f"{host_cores} cores, cgroup v{cgroup.version} quota of {args.cpus:g} CPU, {args.recipe} recipe"
    print("\n" + heading(started, report["cpu"], detail, args.short))
    print(report["table"])
    save_final(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
