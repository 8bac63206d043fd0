"""Size TensorFlow's thread pools to the CPUs this process may really use.

TensorFlow sizes its pools from the host's cores. In a container or under
``taskset`` a kernel may use fewer: a pool larger than that has its threads
wait on each other. joblib.cpu_count() reads the affinity mask and the
container's cgroup CPU quota (v1 or v2, rounded up: 1.5 CPUs gives 2 threads).
It reads the quota of the cgroup mounted at /sys/fs/cgroup, as a container sees
it; a JupyterHub whose kernels share one host sets ``MNIST_THREADS`` instead
(deploy/jupyterhub). ``MNIST_THREADS``, a positive whole number, replaces the
count.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from typing import NamedTuple

import joblib

VARIABLE = "MNIST_THREADS"


class CpuBudget(NamedTuple):
    threads: int  # the size given to TensorFlow's intra-op and inter-op pools
    reason: str  # where the number comes from, in words, for a notebook or a test to show


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


def cpu_budget(environ: Mapping[str, str] | None = None) -> CpuBudget:
    """How many threads TensorFlow's pools get, and why: MNIST_THREADS, else the CPUs this process may use."""
    requested = requested_threads(environ)
    if requested is not None:
        return CpuBudget(requested, f"set by {VARIABLE}={requested}")
    host = os.cpu_count() or 1
    usable = joblib.cpu_count()
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else host
    if usable < affinity:
        return CpuBudget(usable, f"the cgroup CPU quota allows {usable} of the host's {host} cores")
    if usable < host:
        return CpuBudget(usable, f"the affinity mask allows {usable} of the host's {host} cores")
    return CpuBudget(usable, f"the host's {host} cores")


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
            intra or os.cpu_count() or 1,
            f"TensorFlow had run before helpers was imported, so its pools kept their size "
            f"instead of {budget.threads} ({budget.reason}); import helpers first to apply it",
        )
        warnings.warn(budget.reason, RuntimeWarning, stacklevel=2)
    _applied[:] = [budget]
    return budget


def applied_budget() -> CpuBudget | None:
    """The budget apply_cpu_budget() gave TensorFlow in this process (None before it ran)."""
    return _applied[0] if _applied else None
