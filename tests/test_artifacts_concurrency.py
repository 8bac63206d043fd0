"""Two saves of one run at once both finish, the last wins, and no clean-up touches a live save."""

from __future__ import annotations

import functools
import multiprocessing
import os
import queue
import time

import keras
import numpy as np
import pytest

from helpers import artifacts

ROUNDS = 20
X = np.linspace(0, 1, 8, dtype="float32").reshape(2, 4)


def tiny_model(seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])


@functools.cache
def expected_output(worker: int) -> np.ndarray:
    """What the model a worker saves gives for X."""
    return np.asarray(tiny_model(worker)(X))


def save_rounds(worker: int, barrier, results) -> None:
    """Save the same run once per round, starting together with the other process each time."""
    model = tiny_model(worker)
    for round_ in range(ROUNDS):
        barrier.wait(timeout=120)  # both start together
        started = time.monotonic()
        try:
            info = {"worker": worker, "round": round_}
            artifacts.save_run("sequential", model, {"loss": [float(round_)]}, info)
            results.put((worker, round_, started, time.monotonic(), None))
        except Exception as error:
            results.put((worker, round_, started, time.monotonic(), f"{type(error).__name__}: {error}"))
        barrier.wait(timeout=120)  # both done; the test process checks the run
        if worker == 0:
            check_round(round_)


def other_kernel(artifacts_root: str, barrier, results) -> None:
    """The second process, a fresh interpreter as a second notebook kernel would be."""
    os.environ["MNIST_ARTIFACTS"] = artifacts_root
    os.environ.pop("MNIST_SERIES_MODE", None)
    results.put("ready")
    save_rounds(1, barrier, results)


def check_round(round_: int) -> None:
    """After both saves of a round: one of the two loads, whole, and nothing else is left."""
    info = artifacts.load_history("sequential")["info"]
    assert info["round"] == round_ and info["worker"] in (0, 1)
    loaded = artifacts.load_model("sequential")
    np.testing.assert_allclose(np.asarray(loaded(X)), expected_output(info["worker"]), rtol=1e-6)
    entries = sorted(p.name for p in artifacts.run_dir("sequential").iterdir())
    assert len(entries) == 2 and entries[0] == artifacts.COMMIT_LOCK, entries


def overlapping_rounds(saves: list[tuple]) -> list[int]:
    """The rounds in which the two saves really ran at the same time."""
    timings = {(worker, round_): (start, end) for worker, round_, start, end, _ in saves}
    return [
        r
        for r in range(ROUNDS)
        if max(timings[0, r][0], timings[1, r][0]) < min(timings[0, r][1], timings[1, r][1])
    ]


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


def test_two_processes_saving_the_same_run_at_once(clean_settings, tmp_path):
    """This process and a spawned one save 'sequential' together, 20 times over."""
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    other = context.Process(target=other_kernel, args=(str(tmp_path / "artifacts"), barrier, results))
    other.start()
    try:
        wait_until_ready(other, results)
        save_rounds(0, barrier, results)
    finally:
        other.join(timeout=60)
        if other.is_alive():
            other.kill()
    saves = [results.get(timeout=10) for _ in range(2 * ROUNDS)]
    with pytest.raises(queue.Empty):
        results.get(timeout=0.1)
    assert [failure for *_, failure in saves if failure] == []
    assert other.exitcode == 0
    assert len(overlapping_rounds(saves)) >= ROUNDS // 4, (
        "the saves hardly overlapped; the test proves little"
    )


def run_folder() -> os.PathLike:
    folder = artifacts.run_dir("sequential")
    folder.mkdir(parents=True)
    return folder


def test_a_live_saves_staging_folder_is_left_alone_and_a_killed_ones_is_removed(clean_settings):
    folder = run_folder()
    live_staging, live_lock, live_fd = artifacts._claim_staging(folder)  # a save still writing
    dead_staging, dead_lock, dead_fd = artifacts._claim_staging(folder)  # a save killed while writing
    (dead_staging / "model.keras").write_bytes(b"half a model")
    os.close(dead_fd)  # what the OS does to a killed process's files: its lock is gone
    try:
        artifacts.save_run("sequential", tiny_model(1), {"loss": [0.5]}, {})
        assert live_staging.is_dir() and live_lock.exists()
        assert not dead_staging.exists() and not dead_lock.exists()
    finally:
        os.close(live_fd)
    artifacts.save_run("sequential", tiny_model(1), {"loss": [0.5]}, {})
    assert not live_staging.exists() and not live_lock.exists()


def test_without_os_locks_only_old_leftovers_are_removed(clean_settings, monkeypatch):
    """Where the file system has no locks, age tells a killed save's leftovers from a live save."""
    monkeypatch.setattr(artifacts, "fcntl", None)
    monkeypatch.setattr(artifacts, "msvcrt", None)
    folder = run_folder()
    fresh, fresh_lock, fresh_fd = artifacts._claim_staging(folder)
    old, old_lock, old_fd = artifacts._claim_staging(folder)
    os.close(fresh_fd)
    os.close(old_fd)
    long_ago = time.time() - artifacts.STALE_AFTER_SECONDS - 60
    for path in (old, old_lock):
        os.utime(path, (long_ago, long_ago))
    artifacts.save_run("sequential", tiny_model(1), {"loss": [0.5]}, {})
    assert fresh.is_dir() and fresh_lock.exists()
    assert not old.exists() and not old_lock.exists()
    assert artifacts.load_history("sequential")["history"] == {"loss": [0.5]}


def test_a_save_whose_new_lock_file_a_clean_up_took_starts_again(clean_settings, monkeypatch):
    """Between creating its lock file and locking it, a save can lose it to another's clean-up."""
    folder = run_folder()
    real_try_lock = artifacts._try_lock
    attempts = []

    def held_by_a_clean_up_the_first_time(fd: int) -> bool | None:
        attempts.append(fd)
        return False if len(attempts) == 1 else real_try_lock(fd)

    monkeypatch.setattr(artifacts, "_try_lock", held_by_a_clean_up_the_first_time)
    staging, lock_path, fd = artifacts._claim_staging(folder)
    try:
        lock_files = sorted(p for p in folder.iterdir() if p.name.endswith(artifacts.LOCK_SUFFIX))
        assert len(lock_files) == 2 and lock_path in lock_files  # it moved on to a new name
        monkeypatch.setattr(artifacts, "_try_lock", real_try_lock)
        other = os.open(lock_path, os.O_RDONLY)
        try:
            assert artifacts._try_lock(other) is False  # and holds that one
        finally:
            os.close(other)
        assert staging.is_dir() and staging.name + artifacts.LOCK_SUFFIX == lock_path.name
    finally:
        os.close(fd)
