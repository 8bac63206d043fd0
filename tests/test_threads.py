"""The thread cap: quota files parsed, the process's own cgroup found, and a real run under taskset."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import threads
from helpers.threads import CpuBudget, cgroup_quota, cpu_budget, own_cgroups, v1_quota_cpus, v2_max_cpus

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NO_OVERRIDE: dict[str, str] = {}  # an environment without MNIST_THREADS

# /proc/self/cgroup as three kinds of host write it.
V1_SPLIT = "9:name=systemd:/\n2:cpuacct:/\n1:cpu:/class/student7\n0::/\n"  # cpu alone, hybrid v2 line
V1_JOINED = "11:memory:/kubepods/pod1\n4:cpu,cpuacct:/kubepods/pod1/box\n1:name=systemd:/x\n"
V2_ONLY = "0::/user.slice/jupyter-student7.scope\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def v1_cgroup(root: Path, folder: str, quota: str, period: str = "100000") -> None:
    write(root / folder / "cpu.cfs_quota_us", quota + "\n")
    write(root / folder / "cpu.cfs_period_us", period + "\n")


def budget(tmp_path: Path, proc_cgroup: str, *, host: int = 2, affinity: int | None = None, **env: str):
    """cpu_budget() of a fake host: its /proc/self/cgroup text, cgroup files under tmp_path/cgroup."""
    affinity = host if affinity is None else affinity
    proc = write(tmp_path / "proc_self_cgroup", proc_cgroup)
    return cpu_budget(
        environ=env, proc_cgroup=proc, cgroup_root=tmp_path / "cgroup", affinity=affinity, host=host
    )


@pytest.mark.parametrize(
    ("quota", "period", "cpus"),
    [
        ("-1", "100000", None),
        ("50000", "100000", 0.5),
        ("150000", "100000", 1.5),
        ("400000", "100000", 4.0),
        ("20000", "10000", 2.0),
        ("garbled", "100000", None),
        ("50000", "0", None),
    ],
)
def test_v1_quota_files_parse(quota, period, cpus):
    assert v1_quota_cpus(quota + "\n", period + "\n") == cpus


@pytest.mark.parametrize(
    ("cpu_max", "cpus"),
    [
        ("max 100000\n", None),
        ("max\n", None),
        ("50000 100000\n", 0.5),
        ("150000 100000\n", 1.5),
        ("800000 100000\n", 8.0),
        ("", None),
    ],
)
def test_v2_cpu_max_parses(cpu_max, cpus):
    assert v2_max_cpus(cpu_max) == cpus


def test_own_cgroups_are_found_in_each_layout():
    assert own_cgroups(V1_SPLIT) == ("cpu", "/class/student7", "/")
    assert own_cgroups(V1_JOINED) == ("cpu,cpuacct", "/kubepods/pod1/box", None)
    assert own_cgroups(V2_ONLY) == (None, None, "/user.slice/jupyter-student7.scope")


def test_no_quota_leaves_the_host_cores(tmp_path):
    v1_cgroup(tmp_path / "cgroup" / "cpu", "", "-1")
    v1_cgroup(tmp_path / "cgroup" / "cpu", "class/student7", "-1")
    assert budget(tmp_path, V1_SPLIT, host=4) == CpuBudget(4, "the host's 4 cores")
    write(tmp_path / "cgroup" / "user.slice" / "jupyter-student7.scope" / "cpu.max", "max 100000\n")
    write(tmp_path / "cgroup" / "cgroup.controllers", "cpu memory\n")
    assert budget(tmp_path, V2_ONLY, host=4).threads == 4


def test_v1_fractional_quota_rounds_up(tmp_path):
    v1_cgroup(tmp_path / "cgroup" / "cpu", "class/student7", "50000")
    found = budget(tmp_path, V1_SPLIT, host=4)
    assert found.threads == 1
    assert "0.5 CPUs" in found.reason and "rounded up to 1" in found.reason
    assert str(tmp_path / "cgroup" / "cpu" / "class" / "student7" / "cpu.cfs_quota_us") in found.reason


def test_v1_joined_controllers_and_a_parents_smaller_quota(tmp_path):
    mount = tmp_path / "cgroup" / "cpu,cpuacct"
    v1_cgroup(mount, "kubepods/pod1/box", "300000")
    v1_cgroup(mount, "kubepods/pod1", "150000")  # the pod's quota caps the container in it
    assert budget(tmp_path, V1_JOINED, host=8).threads == 2


def test_v1_container_that_sees_its_cgroup_as_the_mount(tmp_path):
    v1_cgroup(tmp_path / "cgroup" / "cpu", "", "100000")  # /kubepods/pod1/box is not under this mount
    found = budget(tmp_path, "4:cpu:/kubepods/pod1/box\n", host=8)
    assert found.threads == 1 and str(tmp_path / "cgroup" / "cpu" / "cpu.cfs_quota_us") in found.reason


def test_v2_fractional_quota_rounds_up(tmp_path):
    write(tmp_path / "cgroup" / "cgroup.controllers", "cpu memory\n")
    write(tmp_path / "cgroup" / "user.slice" / "jupyter-student7.scope" / "cpu.max", "150000 100000\n")
    found = budget(tmp_path, V2_ONLY, host=4)
    assert found.threads == 2 and "1.5 CPUs" in found.reason and "rounded up to 2" in found.reason


def test_v2_on_a_hybrid_host_is_read_under_unified(tmp_path):
    write(tmp_path / "cgroup" / "unified" / "cgroup.controllers", "cpu\n")
    write(tmp_path / "cgroup" / "unified" / "cpu.max", "100000 100000\n")
    v1_cgroup(tmp_path / "cgroup" / "cpu", "class/student7", "-1")
    assert budget(tmp_path, V1_SPLIT, host=2).threads == 1


def test_quota_larger_than_the_host_gives_the_host_cores(tmp_path):
    v1_cgroup(tmp_path / "cgroup" / "cpu", "class/student7", "800000")
    assert budget(tmp_path, V1_SPLIT, host=2) == CpuBudget(2, "the host's 2 cores")
    write(tmp_path / "cgroup" / "cgroup.controllers", "cpu\n")
    write(tmp_path / "cgroup" / "user.slice" / "jupyter-student7.scope" / "cpu.max", "800000 100000\n")
    assert budget(tmp_path, V2_ONLY, host=2).threads == 2


def test_quota_equal_to_the_host_is_named(tmp_path):
    v1_cgroup(tmp_path / "cgroup" / "cpu", "class/student7", "150000")
    found = budget(tmp_path, V1_SPLIT, host=2)
    assert found.threads == 2 and "cgroup quota of 1.5 CPUs" in found.reason


def test_affinity_smaller_than_the_host(tmp_path):
    found = budget(tmp_path, V1_SPLIT, host=4, affinity=1)
    assert found == CpuBudget(1, "the affinity mask allows 1 of the host's 4 cores")


def test_the_smallest_of_affinity_and_quota_counts(tmp_path):
    v1_cgroup(tmp_path / "cgroup" / "cpu", "class/student7", "300000")
    assert budget(tmp_path, V1_SPLIT, host=8, affinity=2).threads == 2
    assert budget(tmp_path, V1_SPLIT, host=8, affinity=6).threads == 3


def test_no_proc_cgroup_file_means_no_quota(tmp_path):
    found = cpu_budget(environ=NO_OVERRIDE, proc_cgroup=tmp_path / "missing", affinity=3, host=3)
    assert found.threads == 3
    assert cgroup_quota(tmp_path / "missing", tmp_path) is None


def test_mnist_threads_overrides_every_limit(tmp_path):
    v1_cgroup(tmp_path / "cgroup" / "cpu", "class/student7", "50000")
    assert budget(tmp_path, V1_SPLIT, host=2, MNIST_THREADS="3") == CpuBudget(3, "set by MNIST_THREADS=3")
    assert budget(tmp_path, V1_SPLIT, host=2, MNIST_THREADS=" 2 ").threads == 2
    assert budget(tmp_path, V1_SPLIT, host=2, MNIST_THREADS="").threads == 1  # empty is unset


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_bad_mnist_threads_says_what_is_wrong_and_how_to_fix_it(tmp_path, value):
    with pytest.raises(ValueError) as refused:
        budget(tmp_path, V1_SPLIT, MNIST_THREADS=value)
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
    assert (
        v1_quota_cpus(
            (made.path / "cpu.cfs_quota_us").read_text(), (made.path / "cpu.cfs_period_us").read_text()
        )
        == 1.5
    )
    write(tmp_path / "v2" / "cgroup.controllers", "cpu\n")
    made = thread_cap.create_cgroup(tmp_path / "v2", 0.5, "bench")
    assert v2_max_cpus((made.path / "cpu.max").read_text()) == 0.5
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
