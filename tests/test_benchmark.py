"""The benchmark scripts work end to end in their short modes (timings and accuracies are not judged here)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import keras
import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
BENCHMARK = BENCHMARKS / "bench_training.py"
SEED_SPREAD = BENCHMARKS / "seed_spread.py"
BEYOND = BENCHMARKS / "beyond_recipes.py"
THREAD_CAP = BENCHMARKS / "thread_cap.py"

pytestmark = pytest.mark.slow


@pytest.fixture
def run_script(monkeypatch, capsys):
    """run_script(path, *arguments): the script's main() in this process, as its command line would run it.

    In this process TensorFlow is already imported, which a fresh process per
    script would pay for again; bench_training's per-run child processes (there
    for each run's own peak memory) are replaced by calls in this process.
    Returns the exit status and what the script printed.
    """
    monkeypatch.syspath_prepend(str(BENCHMARKS))

    def run(script: Path, *arguments: str) -> SimpleNamespace:
        spec = importlib.util.spec_from_file_location(f"benchmark_{script.stem}", script)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        if hasattr(module, "run_in_child"):
            monkeypatch.setattr(module, "run_in_child", module.train_once)
        monkeypatch.setattr(sys, "argv", [str(script), *arguments])
        capsys.readouterr()
        try:
            returncode = module.main()
        except SystemExit as stop:  # argparse refusing the arguments
            returncode = stop.code
        finally:
            keras.mixed_precision.set_dtype_policy("float32")
        printed = capsys.readouterr()
        return SimpleNamespace(returncode=returncode, stdout=printed.out, stderr=printed.err)

    return run


def test_short_benchmark_prints_and_writes_every_run(tmp_path, run_script):
    """Both ways of training the functional recipe (the Sequential one runs the same code, slower)."""
    report_path = tmp_path / "bench.json"
    done = run_script(BENCHMARK, "--short", "--recipes", "functional", "--json", str(report_path))
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(report_path.read_text())
    assert report["short"] is True and report["cpu"]
    runs = {(r["recipe"], r["way"]): r for r in report["results"]}
    assert set(runs) == {("functional", "recipe float32"), ("functional", "series")}
    for (recipe, way), run in runs.items():
        assert run["epochs"] == 1 and run["training_images"] == 1000
        assert run["seconds_per_epoch"] > 0 and run["peak_memory_mb"] > 100
        assert 0.0 <= run["test_accuracy"] <= 1.0 and run["test_loss"] > 0
        assert f"| {recipe} | {way} | {run['precision']} | 1 |" in done.stdout
    assert runs[("functional", "recipe float32")]["precision"] == "float32"
    assert "speed-up" in done.stdout and "1.00x" in done.stdout


def test_bad_arguments_are_refused(run_script):
    done = run_script(BENCHMARK, "--epochs", "0")
    assert done.returncode == 2 and "--epochs must be at least 1" in done.stderr


def test_short_seed_spread_repeats_a_seed_and_summarises(tmp_path, run_script):
    report_path = tmp_path / "spread.json"
    arguments = ["--short", "--seeds", "5", "5", "6", "--recipes", "functional", "--json", str(report_path)]
    done = run_script(SEED_SPREAD, *arguments)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(report_path.read_text())
    assert report["short"] is True and not list(tmp_path.glob("*.partial"))
    runs = report["runs"]
    assert [(r["recipe"], r["seed"], r["epochs"]) for r in runs] == [("functional", s, 1) for s in (5, 5, 6)]
    assert runs[0]["test_accuracy"] == runs[1]["test_accuracy"]
    assert runs[0]["test_accuracy_per_epoch"] == [round(runs[0]["test_accuracy"], 4)]
    assert all(0.0 <= r["float32_inference_accuracy"] <= 1.0 for r in runs)
    assert "| functional | 3 |" in report["summary"] and report["summary"] in done.stdout


def test_seed_spread_refuses_negative_seeds(run_script):
    done = run_script(SEED_SPREAD, "--seeds", "-1")
    assert done.returncode == 2 and "--seeds" in done.stderr


def run_beyond(*arguments: str) -> subprocess.CompletedProcess:
    """beyond_recipes.py in a process of its own: its runs are child processes, which need a real script."""
    command = [sys.executable, str(BEYOND), *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)


def test_short_beyond_study_scores_only_the_final_networks_on_the_test_set(tmp_path):
    report_path = tmp_path / "beyond.json"
    arguments = ["--short", "--steps", "compact", "augmentation", "--seeds", "1", "2", "--jobs", "2"]
    done = run_beyond(*arguments, "--no-sweep", "--json", str(report_path))
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(report_path.read_text())
    assert report["short"] is True and report["cpu"] and not list(tmp_path.glob("*.partial"))
    assert (report["fit_images"], report["validation_images"], report["jobs"]) == (600, 200, 2)
    runs = report["runs"]
    assert [(r["step"], r["seed"], r["budget"], r["threads"]) for r in runs] == [
        ("compact", 1, 1, 1),
        ("compact", 2, 1, 1),
        ("augmentation", 1, 1, 1),
        ("augmentation", 2, 1, 1),
    ]
    assert all("test_accuracy" not in run for run in runs[:2])  # steps are judged on validation only
    assert all(
        0.0 <= r["test_accuracy"] <= 1.0 and 0.0 <= r["test_accuracy_shifted"] <= 1.0 for r in runs[2:]
    )
    assert all(r["parameters"] == 56_858 and r["tflop"] == round(6 * 4_669_120 * 600 / 1e12, 2) for r in runs)
    ensemble = report["ensemble"]
    assert ensemble["models"] == 2 and ensemble["seeds"] == [1, 2] and 0.0 <= ensemble["test_accuracy"] <= 1.0
    assert "| compact | compact network, AdamW | 2 |" in report["table"]
    assert "| ensemble | average of the 2 final networks | 2 |" in report["table"]
    assert report["table"] in done.stdout and report["sweep_table"] == ""
    # --keep: train one step again and keep the other's runs
    done = run_beyond(
        "--short", "--steps", "compact", "--seeds", "2", "--no-sweep", "--keep", "--json", str(report_path)
    )
    assert done.returncode == 0, done.stderr[-3000:]
    again = json.loads(report_path.read_text())["runs"]
    assert [(r["step"], r["seed"]) for r in again] == [(r["step"], r["seed"]) for r in runs]
    assert again[0] == runs[0] and again[2:] == runs[2:] and again[1]["peak_memory_mb"]


def test_beyond_sweep_table_puts_each_setting_beside_the_final_networks_own(monkeypatch):
    """The sweep's table from made-up runs (training every sweep point, even short, takes a minute)."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location("benchmark_beyond_recipes", BEYOND)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    run = {"validation_accuracy": 0.995, "validation_accuracy_shifted": 0.996, "tflop": 18.5, "minutes": 5.7}
    points = [{**run, "sweep": {"dropout": 0.2}}, {**run, "sweep": {"epochs": 8}, "tflop": 12.3}]
    table = module.sweep_table(points, {**run, "sweep": {}})
    assert "| dropout | 0.2 | 0.9950 | 0.9960 | 18.5 | 5.7 |" in table
    assert "| epochs | 8 | 0.9950 | 0.9960 | 12.3 | 5.7 |" in table
    assert table.count("| final network's |") == 2


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--steps", "dropconnect"], "unknown steps ['dropconnect']"),
        (["--jobs", "0"], "--jobs must be between 1"),
        (["--seeds", "-1"], "--seeds"),
        (["--keep"], "--keep adds to the study in --json PATH"),
    ],
)
def test_beyond_study_refuses_bad_arguments(arguments, message, run_script):
    done = run_script(BEYOND, *arguments)  # refused before any run starts: no child process needed
    assert done.returncode == 2 and message in done.stderr


@pytest.mark.host  # creates a cgroup on this machine: not in make test; run it with pytest -m host
def test_short_thread_cap_runs_both_ways_inside_a_real_cgroup(tmp_path):
    """A separate process: the script makes a cgroup, and its children join it before Python starts.

    Run by hand, as root, after changing helpers/threads.py or benchmarks/thread_cap.py:
    `.venv/bin/python -m pytest -m host tests/test_benchmark.py`.
    """
    report_path = tmp_path / "thread_cap.json"
    environ = {key: value for key, value in os.environ.items() if key != "MNIST_THREADS"}
    command = [sys.executable, str(THREAD_CAP), "--short", "--json", str(report_path)]
    done = subprocess.run(command, capture_output=True, text=True, env=environ, timeout=300, check=False)
    if done.returncode == 1 and "Nothing was measured." in done.stderr:
        pytest.skip(f"no cgroup with a CPU quota can be made here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(report_path.read_text())
    assert report["short"] is True and report["quota_cpus"] == 1.0 and report["epochs"] == 1
    runs = {run["way"]: run for run in report["runs"]}
    cores = os.cpu_count()
    assert (runs["capped"]["intra_op_threads"], runs["capped"]["inter_op_threads"]) == (1, 1)
    assert (runs["uncapped"]["intra_op_threads"], runs["uncapped"]["inter_op_threads"]) == (cores, cores)
    assert runs["uncapped"]["budget"] == f"set by MNIST_THREADS={cores}"
    quota_reason = runs["capped"]["budget"]
    assert quota_reason.startswith("the cgroup quota of 1 CPU (") and runs["uncapped"]["periods"] > 0
    assert runs["uncapped"]["budget_without_override"] == quota_reason  # both ran inside the quota
    cgroup_folder = Path(quota_reason.partition("(")[2].rpartition("/")[0])
    assert not cgroup_folder.exists()  # removed at the end
    assert report["table"] in done.stdout and "| float32 | capped | 1/1 |" in report["table"]
