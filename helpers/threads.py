"""Size TensorFlow's thread pools to the CPUs this process may really use.

TensorFlow sizes its pools from the host's cores. On a shared JupyterHub or in
a container a kernel may use fewer: its affinity mask (``taskset``, cpusets)
lists the cores it may run on, and a cgroup CPU quota caps the CPU time it may
take. A pool larger than that has its threads wait on each other.

What is read:

- the affinity mask, ``os.sched_getaffinity(0)``;
- the process's own cgroups, from ``/proc/self/cgroup``: a cgroup v1 line
  naming the ``cpu`` controller (``N:cpu,cpuacct:/path`` or ``N:cpu:/path``)
  and the cgroup v2 line (``0::/path``);
- the quota of that cgroup and of each of its parents up to the mount point:
  v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` under
  ``/sys/fs/cgroup/cpu,cpuacct`` or ``/sys/fs/cgroup/cpu``, v2 ``cpu.max``
  under ``/sys/fs/cgroup`` (or ``/sys/fs/cgroup/unified`` on a hybrid host).
  A parent's quota caps its children, so the smallest one counts. Where the
  path from ``/proc/self/cgroup`` is not under the mount (a container that
  sees its own cgroup as the root), the mount point's own files are the ones
  that count and are read.

The budget is the smallest of the host's cores, the affinity mask and the
quota rounded up (0.5 CPUs gives 1 thread, 1.5 gives 2). ``MNIST_THREADS``, a
positive whole number, replaces it.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

PROC_CGROUP = Path("/proc/self/cgroup")
CGROUP_ROOT = Path("/sys/fs/cgroup")
VARIABLE = "MNIST_THREADS"


class CpuBudget(NamedTuple):
    threads: int  # the size given to TensorFlow's intra-op and inter-op pools
    reason: str  # where the number comes from, in words, for a notebook or a test to show


class CpuQuota(NamedTuple):
    cpus: float  # quota / period: 1.5 means one and a half CPUs' worth of time
    source: Path  # the file it was read from


class OwnCgroups(NamedTuple):
    v1_controllers: str | None  # e.g. "cpu,cpuacct": names the v1 mount point
    v1_path: str | None  # the cgroup's path inside the v1 cpu hierarchy
    v2_path: str | None  # the cgroup's path inside the v2 hierarchy


def host_cores() -> int:
    """The host's logical cores, the most threads the cap ever gives."""
    return os.cpu_count() or 1


def affinity_cpus() -> int | None:
    """How many cores the affinity mask lets this process run on (None where the OS does not say)."""
    if not hasattr(os, "sched_getaffinity"):  # macOS, Windows
        return None
    return len(os.sched_getaffinity(0))


def v1_quota_cpus(quota: str, period: str) -> float | None:
    """CPUs a cgroup v1 quota allows, from cpu.cfs_quota_us and cpu.cfs_period_us (None: no quota)."""
    try:
        quota_us, period_us = int(quota.strip()), int(period.strip())
    except ValueError:
        return None
    if quota_us <= 0 or period_us <= 0:  # -1 is "no quota"
        return None
    return quota_us / period_us


def v2_max_cpus(cpu_max: str) -> float | None:
    """CPUs a cgroup v2 cpu.max allows, from its "QUOTA PERIOD" line (None: "max", no quota)."""
    fields = cpu_max.split()
    if not fields or fields[0] == "max":
        return None
    period = fields[1] if len(fields) > 1 else "100000"  # the kernel's default period
    return v1_quota_cpus(fields[0], period)


def own_cgroups(proc_cgroup_text: str) -> OwnCgroups:
    """The process's v1 cpu cgroup and v2 cgroup, from the text of /proc/self/cgroup."""
    v1_controllers = v1_path = v2_path = None
    for line in proc_cgroup_text.splitlines():
        number, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if not path:
            continue
        if number == "0" and controllers == "":
            v2_path = path
        elif "cpu" in controllers.split(","):
            v1_controllers, v1_path = controllers, path
    return OwnCgroups(v1_controllers, v1_path, v2_path)


def _up_to_mount(mount: Path, path: str) -> list[Path]:
    """The cgroup's folder under the mount and each parent up to the mount itself, those that exist."""
    folder = mount / path.lstrip("/")
    folders = [folder, *folder.parents]
    return [f for f in folders[: folders.index(mount) + 1] if f.is_dir()]


def _read(path: Path) -> str | None:
    """A cgroup file's text, or None where it is missing or unreadable (no such controller here)."""
    try:
        return path.read_text()
    except OSError:
        return None


def cgroup_quota(proc_cgroup: Path = PROC_CGROUP, cgroup_root: Path = CGROUP_ROOT) -> CpuQuota | None:
    """The smallest CPU quota over this process's cgroups and their parents, v1 and v2 (None: no quota)."""
    text = _read(proc_cgroup)
    if text is None:  # not Linux, or /proc not mounted
        return None
    own = own_cgroups(text)
    quotas: list[CpuQuota] = []
    if own.v1_path is not None:
        mounts = [cgroup_root / name for name in (own.v1_controllers, "cpu,cpuacct", "cpu")]
        mount = next((m for m in mounts if m.is_dir()), None)
        for folder in _up_to_mount(mount, own.v1_path) if mount else []:
            quota, period = _read(folder / "cpu.cfs_quota_us"), _read(folder / "cpu.cfs_period_us")
            cpus = v1_quota_cpus(quota, period) if quota and period else None
            if cpus is not None:
                quotas.append(CpuQuota(cpus, folder / "cpu.cfs_quota_us"))
    if own.v2_path is not None:
        unified = cgroup_root / "unified"
        mount = unified if (unified / "cgroup.controllers").exists() else cgroup_root
        for folder in _up_to_mount(mount, own.v2_path):
            cpu_max = _read(folder / "cpu.max")
            cpus = v2_max_cpus(cpu_max) if cpu_max else None
            if cpus is not None:
                quotas.append(CpuQuota(cpus, folder / "cpu.max"))
    return min(quotas, default=None)


def requested_threads(environ: Mapping[str, str] | None = None) -> int | None:
    """The thread count MNIST_THREADS asks for (None when it is unset or empty)."""
    value = (os.environ if environ is None else environ).get(VARIABLE, "").strip()
    if not value:
        return None
    try:
        threads = int(value)
    except ValueError:
        threads = 0
    if threads < 1:
        raise ValueError(
            f"{VARIABLE}={value!r} is not a valid setting: it must be a whole number of threads, "
            f"1 or more, such as {VARIABLE}=2. Unset it to use the CPUs this process may use."
        )
    return threads


def _cpus(count: float) -> str:
    """A count of CPUs in words, for the reason a budget gives."""
    return f"{count:g} CPU" + ("" if count == 1 else "s")


def cpu_budget(
    *,
    environ: Mapping[str, str] | None = None,
    proc_cgroup: Path = PROC_CGROUP,
    cgroup_root: Path = CGROUP_ROOT,
    affinity: int | None = None,
    host: int | None = None,
) -> CpuBudget:
    """How many threads TensorFlow's pools get, and why: MNIST_THREADS, else the smallest CPU limit.

    ``affinity`` and ``host`` default to what this process reads from the OS;
    tests pass their own, with fake /proc/self/cgroup and cgroup files.
    """
    requested = requested_threads(environ)
    if requested is not None:
        return CpuBudget(requested, f"set by {VARIABLE}={requested}")
    host = host_cores() if host is None else host
    affinity = affinity_cpus() if affinity is None else affinity
    cores = f"{host} core" + ("" if host == 1 else "s")
    limits = [(host, f"the host's {cores}")]
    if affinity is not None and affinity < host:
        limits.append((affinity, f"the affinity mask allows {affinity} of the host's {cores}"))
    quota = cgroup_quota(proc_cgroup, cgroup_root)
    if quota is not None:
        threads = max(1, math.ceil(quota.cpus))
        rounded = "" if threads == quota.cpus else f", rounded up to {threads}"
        limits.append((threads, f"the cgroup quota of {_cpus(quota.cpus)} ({quota.source}){rounded}"))
    # On a tie the most specific limit names the reason: the quota, then the mask, then the host.
    threads, reason = min(reversed(limits), key=lambda limit: limit[0])
    return CpuBudget(threads, reason)


_applied: list[CpuBudget] = []


def apply_cpu_budget() -> CpuBudget:
    """Give TensorFlow's pools cpu_budget() threads; call after importing TensorFlow, before any op runs."""
    import tensorflow as tf

    budget = cpu_budget()
    try:
        tf.config.threading.set_intra_op_parallelism_threads(budget.threads)
        # Inter-op gets the same count, the ratio TensorFlow's own default keeps (both pools sized
        # to the cores): the recipes' networks are a chain of ops, so the inter-op pool mostly
        # overlaps the input pipeline and the training step, and more threads than CPUs only queue.
        tf.config.threading.set_inter_op_parallelism_threads(budget.threads)
    except RuntimeError:  # TensorFlow ran an op before helpers was imported: its pools are fixed
        intra = tf.config.threading.get_intra_op_parallelism_threads()
        budget = CpuBudget(
            intra or host_cores(),
            f"TensorFlow had run before helpers was imported, so its pools kept their size "
            f"instead of {budget.threads} ({budget.reason}); import helpers first to apply it",
        )
        warnings.warn(budget.reason, RuntimeWarning, stacklevel=2)
    _applied[:] = [budget]
    return budget


def applied_budget() -> CpuBudget | None:
    """The budget apply_cpu_budget() gave TensorFlow in this process (None before it ran)."""
    return _applied[0] if _applied else None
