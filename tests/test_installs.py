"""The installs: requirements.lock pins, with hashes, releases that requirements.txt and pyproject.toml allow.

requirements.txt lists the direct dependencies as ranges; pyproject.toml declares
the helpers' needs (low floors, for Colab) and the tests' as extras; `make lock`
resolves requirements.txt into requirements.lock, which `make install` installs.
The hub's lock (deploy/jupyterhub/requirements.lock) holds the same pins plus the
hub's packages; once the hub is installed, both `make install` and `make
hub-install` install it, so neither removes what the other needs. These tests
catch a range edited without `make lock`, the lists or the two locks drifting
apart, and code that imports a package which arrives only as another's dependency.
"""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOCK = PROJECT_ROOT / "requirements.lock"
HUB_LOCK = PROJECT_ROOT / "deploy" / "jupyterhub" / "requirements.lock"
HUB_REQUIREMENTS = PROJECT_ROOT / "deploy" / "jupyterhub" / "requirements.txt"
PIN = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>[^\s;\\]+)")
# google.colab exists only in Colab (tests/test_colab.py fakes it); nothing installs it.
NOT_INSTALLED = {"google"}


def _requirements_txt(path: Path = PROJECT_ROOT / "requirements.txt") -> list[Requirement]:
    lines = path.read_text().splitlines()
    return [Requirement(line) for line in lines if line.strip() and not line.startswith(("#", "-e"))]


def _pyproject() -> dict[str, list[Requirement]]:
    """The helpers' dependencies under "", and each optional extra under its name."""
    with open(PROJECT_ROOT / "pyproject.toml", "rb") as file:
        project = tomllib.load(file)["project"]
    groups = {"": project["dependencies"], **project.get("optional-dependencies", {})}
    return {name: [Requirement(line) for line in lines] for name, lines in groups.items()}


def _lock_entries(lock: Path = LOCK) -> list[list[str]]:
    """A lock's entries, each the lines from one requirement to the next."""
    entries: list[list[str]] = []
    for line in lock.read_text().splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            entries.append([])
        if entries and line.strip() and not line.lstrip().startswith("#"):
            entries[-1].append(line)
    return entries


def _pins(lock: Path) -> dict[str, str]:
    pins = (PIN.match(entry[0]) for entry in _lock_entries(lock))
    return {canonicalize_name(pin["name"]): pin["version"] for pin in pins if pin}


@pytest.fixture(scope="module")
def locked() -> dict[str, str]:
    return _pins(LOCK)


@pytest.mark.parametrize("lock", [LOCK, HUB_LOCK], ids=["series", "hub"])
def test_every_locked_release_has_its_hashes_and_only_the_project_is_unpinned(lock: Path) -> None:
    entries = _lock_entries(lock)
    unpinned = [entry[0] for entry in entries if not PIN.match(entry[0])]
    assert unpinned == ["-e ."]
    unhashed = [
        entry[0] for entry in entries if PIN.match(entry[0]) and "--hash=sha256:" not in "".join(entry)
    ]
    assert not unhashed, "run `make lock`: these have no hash"


def test_the_lock_pins_a_release_in_every_range_of_requirements_txt(locked: dict[str, str]) -> None:
    outside = {
        str(requirement): locked.get(canonicalize_name(requirement.name))
        for requirement in _requirements_txt()
        if not requirement.specifier.contains(locked.get(canonicalize_name(requirement.name), "0"))
    }
    assert not outside, f"run `make lock`: requirements.txt's ranges against the lock's pins: {outside}"


def test_the_hub_lock_holds_the_series_pins_and_the_hub_ranges(locked: dict[str, str]) -> None:
    hub = _pins(HUB_LOCK)
    changed = {name: (version, hub.get(name)) for name, version in locked.items() if hub.get(name) != version}
    assert not changed, f"run `make lock`: the series' pins against the hub lock's: {changed}"
    outside = {
        str(requirement): hub.get(canonicalize_name(requirement.name))
        for requirement in _requirements_txt(HUB_REQUIREMENTS)
        if not requirement.specifier.contains(hub.get(canonicalize_name(requirement.name), "0"))
    }
    assert not outside, f"run `make lock`: the hub's ranges against its lock's pins: {outside}"


@pytest.mark.parametrize(("hub_installed", "installed"), [(False, LOCK), (True, HUB_LOCK)])
def test_make_install_keeps_the_hub_where_it_is_installed(tmp_path, hub_installed, installed) -> None:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    for stamp in ["bin/python", "bin/uv", ".installed", *([".hub-installed"] if hub_installed else [])]:
        (venv / stamp).touch()
        os.utime(venv / stamp, (0, 0))  # older than every lock: make would install again
    targets = ["install"] + (["hub-install"] if hub_installed else [])
    for target in targets:
        dry = subprocess.run(
            ["make", "-n", "-s", "-C", str(PROJECT_ROOT), f"VENV={venv}", target],
            capture_output=True,
            text=True,
            check=True,
        )
        synced = [line.split()[-1] for line in dry.stdout.splitlines() if " pip sync " in line]
        assert synced and set(synced) == {str(installed.relative_to(PROJECT_ROOT))}, (target, synced)


def test_the_lock_satisfies_pyproject_and_its_extras(locked: dict[str, str]) -> None:
    outside = {
        str(requirement): locked.get(canonicalize_name(requirement.name))
        for requirements in _pyproject().values()
        for requirement in requirements
        if not requirement.specifier.contains(locked.get(canonicalize_name(requirement.name), "0"))
    }
    assert not outside, f"pyproject.toml's ranges against the lock's pins: {outside}"


def test_requirements_txt_and_pyproject_name_the_same_packages() -> None:
    listed = {canonicalize_name(requirement.name) for requirement in _requirements_txt()}
    declared = {canonicalize_name(r.name) for requirements in _pyproject().values() for r in requirements}
    listed.discard("uv")  # it installs the lock; nothing imports it
    assert listed == declared, (
        f"only in requirements.txt: {listed - declared}; only in pyproject: {declared - listed}"
    )


def _third_party_imports(folder: Path) -> dict[str, str]:
    """Each module that folder's Python imports, outside the standard library and the project, to a file."""
    first_party = {path.stem for path in PROJECT_ROOT.rglob("*.py") if ".venv" not in path.parts}
    first_party |= {path.name for path in PROJECT_ROOT.iterdir() if (path / "__init__.py").exists()}
    found: dict[str, str] = {}
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for top in (name.partition(".")[0] for name in names):
                if top not in sys.stdlib_module_names | first_party | NOT_INSTALLED:
                    found.setdefault(top, str(path.relative_to(PROJECT_ROOT)))
    return found


@pytest.mark.parametrize(
    ("folder", "groups"),
    [("helpers", ("", "tensorflow"))]
    + [(folder, ("", "tensorflow", "test")) for folder in ("scripts", "benchmarks", "book", "tests")],
)
def test_every_package_the_code_imports_is_declared(folder: str, groups: tuple[str, ...]) -> None:
    declared = {canonicalize_name(r.name) for group in groups for r in _pyproject()[group]}
    distributions = importlib.metadata.packages_distributions()
    undeclared = {
        module: where
        for module, where in _third_party_imports(PROJECT_ROOT / folder).items()
        if not {canonicalize_name(name) for name in distributions.get(module, [module])} & declared
    }
    assert not undeclared, f"declare these in pyproject.toml and requirements.txt: {undeclared}"


def test_the_readme_says_why_each_direct_dependency_is_there() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme.split("## Why each dependency is there", 1)[1].split("\n## ", 1)[0]
    mine, hub = section.split("For a class (`make hub-install`", 1)
    bullets = [line for line in mine.splitlines() if line.startswith("- ")]
    explained = {
        canonicalize_name(name) for line in bullets for name in re.findall(r"`([\w.-]+)`", line.split(":")[0])
    }
    listed = {canonicalize_name(requirement.name) for requirement in _requirements_txt()}
    assert explained == listed, (
        f"unexplained: {listed - explained}; not in requirements.txt: {explained - listed}"
    )
    hub_lines = (PROJECT_ROOT / "deploy" / "jupyterhub" / "requirements.txt").read_text().splitlines()
    for requirement in (Requirement(line) for line in hub_lines if line.strip() and not line.startswith("#")):
        assert f"`{requirement.name}`" in hub
