"""Run the test suite's two parts side by side: the unit tests and the classroom walkthrough.

    python scripts/run_tests.py [pytest options...]     # what `make test` runs, after ruff

The walkthrough (tests/browser) leaves one of two cores idle much of the time:
JupyterLab's UI, kernel start-ups and imports, single-threaded cells. The unit
tests (tests/test_*.py, the benchmarks' short modes among them) run beside it
instead of before it. Both parts print their lines as they come, each line
prefixed with the part's name; the exit status is 0 only if both parts passed.
Options given on the command line go to both pytest runs.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TESTS = PROJECT_ROOT / "tests"


def parts() -> dict[str, list[str]]:
    """Each part's name and the pytest arguments that select it (the walkthrough lists each test)."""
    units = sorted(str(path.relative_to(PROJECT_ROOT)) for path in TESTS.glob("test_*.py"))
    return {"units": units, "browser": ["-v", "tests/browser"]}


def relay(name: str, stream, lock: threading.Lock) -> None:
    """Print each line of a part's output, prefixed with its name, as soon as the line is complete."""
    for line in stream:
        with lock:
            print(f"{name:<7}| {line}", end="", flush=True)


def minutes(seconds: float) -> str:
    """A duration as '4 min 05 s'."""
    return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"


def main(options: list[str]) -> int:
    lock = threading.Lock()
    started = time.monotonic()
    runs: dict[str, subprocess.Popen[str]] = {}
    relays = []
    for name, selection in parts().items():
        runs[name] = subprocess.Popen(
            [sys.executable, "-m", "pytest", *selection, *options],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        relay_thread = threading.Thread(target=relay, args=(name, runs[name].stdout, lock), daemon=True)
        relay_thread.start()
        relays.append(relay_thread)

    def stop(signum: int, _frame: object) -> None:
        # Passed on, so each pytest stops its servers, browser and kernels before it exits.
        for run in runs.values():
            if run.poll() is None:
                run.send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    took: dict[str, float] = {}
    while len(took) < len(runs):
        try:
            for name, run in runs.items():
                if name not in took and run.poll() is not None:
                    took[name] = time.monotonic() - started
            time.sleep(0.2)
        except KeyboardInterrupt:  # Ctrl-C reached the children too (same process group): wait for them
            continue
    for relay_thread in relays:
        relay_thread.join()
    print()
    for name, run in runs.items():
        result = "passed" if run.returncode == 0 else f"FAILED (pytest exit status {run.returncode})"
        print(f"{name}: {result}, finished after {minutes(took[name])}")
    print(f"both parts: {minutes(time.monotonic() - started)}")
    return 0 if all(run.returncode == 0 for run in runs.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
