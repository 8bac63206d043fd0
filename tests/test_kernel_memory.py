"""benchmarks/kernel_memory.py and class_memory.py: their reports; helpers.memory: the allocator settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import kernel_memory  # noqa: E402

sys.path.pop(0)


@pytest.mark.parametrize(
    ("mode", "peak", "code"), [("quick", 900.0, 0), ("quick", 1100.0, 1), ("full", 1100.0, 0)]
)
def test_the_report_marks_each_kernel_against_its_modes_goal(tmp_path, monkeypatch, capsys, mode, peak, code):
    series = {"mode": mode, "notebooks": [{"notebook": "01_x.ipynb", "seconds": 9.0, "peak_mb": peak}]}
    (tmp_path / "series.json").write_text(json.dumps(series))
    argv = ["kernel_memory.py", "--from", str(tmp_path / "series.json"), "--json", str(tmp_path / "out.json")]
    monkeypatch.setattr(sys, "argv", argv)
    assert kernel_memory.main() == code
    table = capsys.readouterr().out
    goal = kernel_memory.GOAL_MB[mode]
    assert f"| 01_x.ipynb | 9 | {peak:,.0f} | {'yes' if peak < goal else '**no**'} |" in table
    report = json.loads((tmp_path / "out.json").read_text())
    assert report["mode"] == mode and report["goal_mb"] == goal and report["notebooks"] == series["notebooks"]


sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import class_memory  # noqa: E402

sys.path.pop(0)


def test_a_class_is_sized_from_the_largest_unique_kernel_and_the_pages_shared_once():
    kernels = [
        {"notebook": "05_x.ipynb", "private_mb": 640.0, "shared_mb": 360.0},
        {"notebook": "08_x.ipynb", "private_mb": 760.0, "shared_mb": 350.0},
    ]
    sizes = class_memory.summary({"kernels": kernels}, {"private": 80.0, "shared": 40.0})
    assert sizes["largest_kernel_private_mb"] == 760.0 and sizes["shared_mb"] == 360.0
    # 10 students: 10 x (760 + 80) MB of their own, and the shared pages once
    assert sizes["server_mb"]["10"] == 10 * 840.0 + 360.0
    assert sizes["server_mb"]["100"] == 100 * 840.0 + 360.0


def test_the_class_benchmark_refuses_a_folder_without_the_modes_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["class_memory.py", "--mode", "quick", "--class-runs", str(tmp_path)])
    with pytest.raises(SystemExit):
        class_memory.main()
    assert "holds no quick/ folder of runs" in capsys.readouterr().err


MEMORY_PROBE = (
    "import os; from helpers.memory import return_freed_memory as r; "
    "print(r(), os.environ.get('TF_ONEDNN_USE_SYSTEM_ALLOCATOR', '-'))"
)


def run_probe(**env: str) -> str:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("TF_ONEDNN_USE_SYSTEM_ALLOCATOR", "MALLOC_MMAP_THRESHOLD_", "MNIST_SERIES_MODE")
    }
    result = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE], env={**clean, **env}, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_glibc_takes_the_fixed_mmap_threshold_and_quick_mode_the_system_allocator():
    assert run_probe(MNIST_SERIES_MODE="quick") == "True 1"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
@pytest.mark.parametrize("mode", ["full", "smoke", ""])
def test_full_and_smoke_mode_keep_tensorflows_faster_pool(mode):
    assert run_probe(MNIST_SERIES_MODE=mode) == "True -"


def test_what_the_user_exported_is_kept():
    exported = {"TF_ONEDNN_USE_SYSTEM_ALLOCATOR": "0", "MALLOC_MMAP_THRESHOLD_": "65536"}
    assert run_probe(MNIST_SERIES_MODE="quick", **exported) == "False 0"


def test_the_pipeline_reads_the_arrays_batch_by_batch_and_holds_no_copy():
    import numpy as np

    from helpers.input_pipeline import batched_dataset
    from helpers.preprocess import PreparedSplit

    images = np.arange(7 * 28 * 28, dtype="float32").reshape(7, 28, 28, 1)
    targets = np.eye(10, dtype="float32")[:7]
    dataset = batched_dataset(PreparedSplit(images, targets, np.arange(7)), 3)
    assert int(dataset.cardinality()) == 3
    batches = list(dataset.as_numpy_iterator())
    assert [len(x) for x, _ in batches] == [3, 3, 1]
    np.testing.assert_array_equal(np.concatenate([x for x, _ in batches]), images)
    np.testing.assert_array_equal(np.concatenate([y for _, y in batches]), targets)
    images[0, 0, 0, 0] = -1.0  # read when iterated, not copied when made
    assert next(dataset.as_numpy_iterator())[0][0, 0, 0, 0] == -1.0


def test_shuffled_batches_come_in_the_order_shuffling_the_images_gives():
    import numpy as np
    import tensorflow as tf

    from helpers.input_pipeline import batched_dataset
    from helpers.preprocess import PreparedSplit

    images = np.random.default_rng(0).random((50, 28, 28, 1), dtype="float32")
    targets = np.eye(10, dtype="float32")[np.arange(50) % 10]
    ours = batched_dataset(PreparedSplit(images, targets, np.arange(50) % 10), 8, shuffle_seed=3)
    theirs = tf.data.Dataset.from_tensor_slices((images, targets))
    theirs = theirs.shuffle(50, seed=3, reshuffle_each_iteration=True).batch(8)
    for _ in range(2):  # a fresh order each epoch, the same in both
        for (x, y), (x_too, y_too) in zip(ours.as_numpy_iterator(), theirs.as_numpy_iterator(), strict=True):
            np.testing.assert_array_equal(x, x_too)
            np.testing.assert_array_equal(y, y_too)
