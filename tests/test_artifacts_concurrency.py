"""Two processes saving the same run at once: both finish, the later wins, and nothing is left over."""

from __future__ import annotations

import multiprocessing
import os
import queue
import time
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import pytest

from helpers import artifacts

ROUNDS = 20
X = np.linspace(0, 1, 8, dtype="float32").reshape(2, 4)


def commit_timer(committed: list[float]) -> Callable:
    """os.replace, also noting in committed when it puts a run.json in place."""
    replace = os.replace

    def timed_replace(source, target, *args, **kwargs):
        replace(source, target, *args, **kwargs)
        if Path(target).name == "run.json":  # under the run's lock: no other save commits meanwhile
            committed.append(time.monotonic())

    return timed_replace


def save_round(worker: int, round_: int, model: keras.Model, committed: list[float]) -> tuple:
    """One save of the run: (worker, round, start, end, commit time, failure or None)."""
    started, failure = time.monotonic(), None
    try:
        artifacts.save_run(
            "sequential", model, {"loss": [float(round_)]}, {"worker": worker, "round": round_}
        )
    except Exception as error:
        failure = f"{type(error).__name__}: {error}"
    return worker, round_, started, time.monotonic(), committed[-1] if committed else None, failure


def other_kernel(artifacts_root: str, model_file: str, barrier, results) -> None:
    """The second process, a fresh interpreter as a second notebook kernel would be."""
    os.environ["MNIST_ARTIFACTS"] = artifacts_root
    os.environ.pop("MNIST_SERIES_MODE", None)
    model, committed = keras.models.load_model(model_file), []
    os.replace = commit_timer(committed)
    results.put("ready")
    for round_ in range(ROUNDS):
        barrier.wait(timeout=120)  # both start together
        results.put(save_round(1, round_, model, committed))
        barrier.wait(timeout=120)  # both done; the test process checks the run before the next round


def wait_until_ready(process, results, timeout: float = 180) -> None:
    """Wait for the spawned process to have imported everything; fail at once if it died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            assert results.get(timeout=0.5) == "ready"
            return
        except queue.Empty:
            if not process.is_alive():
                pytest.fail(f"the second process died while starting (exit code {process.exitcode})")
    pytest.fail("the second process did not start in time")


@pytest.mark.slow  # a second process that imports TensorFlow
def test_two_processes_saving_the_same_run_at_once(clean_settings, monkeypatch, tmp_path, tiny_model):
    """This process and a spawned one save 'sequential' together, 20 times over."""
    models = [tiny_model(0), tiny_model(1)]
    models[1].save(tmp_path / "worker-1.keras")
    expected = [np.asarray(model(X)) for model in models]
    committed: list[float] = []
    monkeypatch.setattr(os, "replace", commit_timer(committed))
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    args = (str(tmp_path / "artifacts"), str(tmp_path / "worker-1.keras"), barrier, results)
    other = context.Process(target=other_kernel, args=args)
    other.start()
    overlapping = 0
    try:
        wait_until_ready(other, results)
        for round_ in range(ROUNDS):
            barrier.wait(timeout=120)
            saves = [save_round(0, round_, models[0], committed)]
            barrier.wait(timeout=120)
            saves.append(results.get(timeout=10))
            assert [failure for *_, failure in saves] == [None, None], saves
            assert [s[:2] for s in saves] == [(0, round_), (1, round_)]
            later = max(saves, key=lambda s: s[4])[0]  # the save whose commit came last
            record = artifacts.load_history("sequential")
            assert record["info"] == {"worker": later, "round": round_}, saves
            np.testing.assert_allclose(
                np.asarray(artifacts.load_model("sequential")(X)), expected[later], rtol=1e-6
            )
            files = sorted(p.name[:6] for p in artifacts.run_dir("sequential").iterdir())
            assert files == [".lock", "model-", "run.js"], files
            overlapping += max(saves[0][2], saves[1][2]) < min(saves[0][3], saves[1][3])
    finally:
        barrier.abort()  # a failed check above frees the other process at once
        other.join(timeout=60)
        if other.is_alive():
            other.kill()
    assert other.exitcode == 0
    assert overlapping >= ROUNDS // 2, "the saves hardly overlapped; the test proves little"
