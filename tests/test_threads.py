"""The thread cap: MNIST_THREADS, the CPUs joblib finds named in the reason, and a real run under taskset."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import joblib
import pytest

from helpers import threads
from helpers.threads import CpuBudget, cpu_budget

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NO_OVERRIDE: dict[str, str] = {}  # an environment without MNIST_THREADS


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("usable", "affinity", "reason"),
    [
        (4, 4, "the host's 4 cores"),
        (2, 2, "the affinity mask allows 2 of the host's 4 cores"),
        (1, 4, "the cgroup CPU quota allows 1 of the host's 4 cores"),
        (1, 2, "the cgroup CPU quota allows 1 of the host's 4 cores"),
    ],
)
def test_the_reason_names_the_limit_that_counts(monkeypatch, usable, affinity, reason):
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(affinity)))
    monkeypatch.setattr(joblib, "cpu_count", lambda: usable)
    assert cpu_budget(NO_OVERRIDE) == CpuBudget(usable, reason)


def test_mnist_threads_overrides_every_limit():
    assert cpu_budget({"MNIST_THREADS": "3"}) == CpuBudget(3, "set by MNIST_THREADS=3")
    assert cpu_budget({"MNIST_THREADS": " 2 "}).threads == 2
    assert cpu_budget({"MNIST_THREADS": ""}) == cpu_budget(NO_OVERRIDE)  # empty is unset


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_bad_mnist_threads_says_what_is_wrong_and_how_to_fix_it(value):
    with pytest.raises(ValueError) as refused:
        cpu_budget({"MNIST_THREADS": value})
    message = str(refused.value)
    assert f"MNIST_THREADS={value!r} is not a valid setting" in message
    assert "whole number of threads, 1 or more" in message and "Unset it" in message


def test_the_budget_was_applied_when_helpers_was_imported():
    applied = threads.applied_budget()
    assert applied is not None and applied.threads >= 1
    if os.environ.get("MNIST_THREADS", "").strip() == "":
        assert applied.threads <= len(os.sched_getaffinity(0))


def test_a_budget_that_comes_too_late_keeps_tensorflows_pools_and_says_so(monkeypatch):
    import tensorflow as tf

    (tf.constant(1) + 1).numpy()  # TensorFlow has run: its pools are fixed from now on
    before = threads.applied_budget()
    pools = tf.config.threading.get_intra_op_parallelism_threads()
    monkeypatch.setenv("MNIST_THREADS", str(pools + 3))
    try:
        with pytest.warns(RuntimeWarning, match="import helpers first"):
            late = threads.apply_cpu_budget()
    finally:
        threads._applied[:] = [before]
    assert late.threads == pools and f"instead of {pools + 3}" in late.reason
    assert tf.config.threading.get_intra_op_parallelism_threads() == pools


def run_python(code: str, *prefix: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "MNIST_THREADS"} | env
    return subprocess.run(
        [*prefix, sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=environ,
        timeout=120,
        check=False,
    )


POOLS = """
import collections, os
import helpers, tensorflow as tf
x = tf.random.normal((256, 256))
(x @ x).numpy()
names = collections.Counter(
    open(f"/proc/self/task/{task}/comm").read().strip() for task in os.listdir("/proc/self/task")
)
print(tf.config.threading.get_intra_op_parallelism_threads(),
      tf.config.threading.get_inter_op_parallelism_threads(), names["tf_Compute"])
print(helpers.threads.applied_budget().reason)
"""


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("taskset") is None, reason="needs taskset (util-linux)")
def test_a_process_pinned_to_one_core_gets_pools_of_one():
    """Under taskset -c 0, TensorFlow's pools are of one thread: set so, and one inter-op thread running."""
    done = run_python(POOLS, "taskset", "-c", "0")
    assert done.returncode == 0, done.stderr[-3000:]
    sizes, reason = done.stdout.strip().splitlines()[-2:]
    assert sizes == "1 1 1"  # intra-op, inter-op, and the inter-op pool's threads (named tf_Compute)
    assert reason.startswith("the affinity mask allows 1 of the host's")


@pytest.mark.slow
def test_a_bad_mnist_threads_stops_the_import_with_its_fix():
    done = run_python("import helpers", MNIST_THREADS="many")
    assert done.returncode != 0
    assert "MNIST_THREADS='many' is not a valid setting" in done.stderr


# benchmarks/thread_cap.py: its parts that need neither root nor TensorFlow.


@pytest.fixture
def thread_cap(monkeypatch):
    """The benchmark script as a module (it imports benchmarks/reporting.py from beside itself)."""
    benchmarks = PROJECT_ROOT / "benchmarks"
    monkeypatch.syspath_prepend(str(benchmarks))
    spec = importlib.util.spec_from_file_location("benchmark_thread_cap", benchmarks / "thread_cap.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_finds_the_cpu_controller_of_each_layout(tmp_path, thread_cap):
    write(tmp_path / "v1" / "cpu,cpuacct" / "cpu.cfs_quota_us", "-1\n")
    write(tmp_path / "v2" / "cgroup.controllers", "cpuset cpu io memory\n")
    write(tmp_path / "v2-no-cpu" / "cgroup.controllers", "io memory\n")
    assert thread_cap.cpu_controller(tmp_path / "v1") == (1, tmp_path / "v1" / "cpu,cpuacct")
    assert thread_cap.cpu_controller(tmp_path / "v2") == (2, tmp_path / "v2")
    with pytest.raises(thread_cap.CgroupError, match="no cgroup CPU controller"):
        thread_cap.cpu_controller(tmp_path / "v2-no-cpu")


def test_benchmark_writes_the_quota_each_version_reads(tmp_path, thread_cap):
    write(tmp_path / "v1" / "cpu" / "cpu.cfs_quota_us", "-1\n")
    made = thread_cap.create_cgroup(tmp_path / "v1", 1.5, "bench")
    assert made == (1, tmp_path / "v1" / "cpu" / "bench")
    assert (made.path / "cpu.shares").read_text() == str(1024 * thread_cap.WEIGHT_FACTOR)
    assert (made.path / "cpu.cfs_quota_us").read_text() == "150000"
    assert (made.path / "cpu.cfs_period_us").read_text() == "100000"
    write(tmp_path / "v2" / "cgroup.controllers", "cpu\n")
    made = thread_cap.create_cgroup(tmp_path / "v2", 0.5, "bench")
    assert (made.path / "cpu.max").read_text() == "50000 100000"
    assert (tmp_path / "v2" / "cgroup.subtree_control").read_text() == "+cpu"


def test_benchmark_refuses_when_it_cannot_make_the_cgroup(tmp_path, thread_cap, capsys):
    existing = tmp_path / "v1" / "cpu" / "taken"
    write(existing / "keep", "")
    write(tmp_path / "v1" / "cpu" / "cpu.cfs_quota_us", "-1\n")
    with pytest.raises(thread_cap.CgroupError, match="cannot create a cgroup"):
        thread_cap.create_cgroup(tmp_path / "v1", 1, "taken")
    assert (existing / "keep").exists()  # a folder it did not make is left alone
    assert thread_cap.main(["--cgroup-root", str(tmp_path / "empty")]) == 1
    stderr = capsys.readouterr().err
    assert "no cgroup CPU controller under" in stderr and "Nothing was measured." in stderr


def test_benchmark_counts_throttling_from_cpu_stat(thread_cap):
    v1_before = thread_cap.parse_cpu_stat("nr_periods 10\nnr_throttled 2\nthrottled_time 500000000\n")
    v1_after = thread_cap.parse_cpu_stat("nr_periods 110\nnr_throttled 42\nthrottled_time 4500000000\n")
    assert thread_cap.throttling(v1_before, v1_after) == {
        "periods": 100,
        "throttled_periods": 40,
        "throttled_seconds": 4.0,
    }
    v2_after = thread_cap.parse_cpu_stat(
        "usage_usec 9\nnr_periods 50\nnr_throttled 5\nthrottled_usec 2500000\n"
    )
    assert thread_cap.throttling({}, v2_after)["throttled_seconds"] == 2.5


def test_benchmark_summary_takes_medians_per_precision_and_way(thread_cap):
    def run(way: str, seconds: float, threads: int) -> dict:
        return {
            "precision": "float32",
            "way": way,
            "intra_op_threads": threads,
            "inter_op_threads": threads,
            "seconds_per_epoch": seconds,
            "cpu_seconds": 50.0,
            "throttled_periods": 3,
            "periods": 9,
            "budget": "the cgroup quota",
        }

    runs = [
        run("uncapped", 30.0, 2),
        run("capped", 20.0, 1),
        run("uncapped", 34.0, 2),
        run("capped", 22.0, 1),
    ]
    rows = thread_cap.summarise(runs)
    assert [(r["way"], r["threads"], r["seconds_per_epoch"], r["runs"]) for r in rows] == [
        ("uncapped", "2/2", 32.0, [30.0, 34.0]),
        ("capped", "1/1", 21.0, [20.0, 22.0]),
    ]
    assert "| float32 | capped | 1/1 | 21.0 | 20.0, 22.0 | 50 | 3 of 9 periods |" in thread_cap.table(rows)
    thread_cap.check_runs(runs, 1.0)
    with pytest.raises(RuntimeError, match="capped run got 1 threads, not 2"):
        thread_cap.check_runs(runs, 1.5)  # a 1.5 CPU quota gives 2 threads
