"""Colab: each notebook's set-up cell, and a simulated hosted service that runs 01's and 07's set-up.

The simulation builds what Colab gives a notebook: a fresh virtual environment
with only TensorFlow, Keras, NumPy, Matplotlib and ipywidgets, and a
`google.colab` module already imported. The repository is served as a local
`file://` git URL, which the set-up cell installs the helpers from, as a normal
package (not editable). Then the set-up cells of 01 and 07 run in IPython, in
a working folder of their own, with no MNIST_ARTIFACTS: runs are found under it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
import colab_cells  # noqa: E402

sys.path.pop(0)
URL = re.compile(r"(https?|file|git)://")


def setup_cell(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    (cell,) = [c for c in notebook.cells if colab_cells.TAG in c.metadata.get("tags", [])]
    return cell


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name[:2])
def test_every_notebook_opens_with_the_set_up_cell_pyproject_asks_for(path):
    notebook = nbformat.read(path, as_version=4)
    url = colab_cells.repository_url()
    assert notebook.cells[1] is setup_cell(notebook)  # right under the title
    assert notebook.cells[1].source == colab_cells.setup_source(url)
    assert colab_cells.with_setup(notebook, path.name, url) == notebook, "run scripts/colab_cells.py"


def test_while_the_url_is_unset_no_cell_or_badge_names_one(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\n')
    assert colab_cells.repository_url(pyproject) is None
    unpublished = colab_cells.with_setup(nbformat.read(NOTEBOOKS[0], as_version=4), NOTEBOOKS[0].name, None)
    assert "colab.research.google.com" not in unpublished.cells[0].source  # no badge
    assert not URL.search(unpublished.cells[1].source) and "git+" not in unpublished.cells[1].source
    assert (
        'raise RuntimeError(\n        "This copy of the series names no repository'
        in unpublished.cells[1].source
    )


def test_a_published_github_url_gives_an_install_line_and_a_badge(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project.urls]\nRepository = "https://github.com/someone/mnist-cnn-notebooks"\n')
    url = colab_cells.repository_url(pyproject)
    notebook = colab_cells.with_setup(nbformat.read(NOTEBOOKS[0], as_version=4), NOTEBOOKS[0].name, url)
    assert notebook.cells[0].source.startswith(
        "[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research."
        "google.com/github/someone/mnist-cnn-notebooks/blob/main/notebooks/01_loading_data.ipynb)\n# 01 ·"
    )
    assert 'helpers_source = "git+https://github.com/someone/mnist-cnn-notebooks"' in notebook.cells[1].source
    again = colab_cells.with_setup(notebook, NOTEBOOKS[0].name, None)  # unpublishing removes both again
    assert again.cells[0].source.startswith("# 01 ·") and not URL.search(again.cells[1].source)
    assert max(len(line) for line in notebook.cells[1].source.splitlines()) <= 79


def test_outside_colab_the_cell_does_nothing():
    namespace: dict = {}
    before = set(sys.modules)
    exec(colab_cells.setup_source("file:///nowhere"), namespace)  # noqa: S102
    assert set(namespace) - {"__builtins__"} == {"sys"} and set(sys.modules) - before == set()


FAKE_COLAB = '''
"""A stand-in for Colab's google.colab: records what the notebook asked of it."""
import json, os

def enable_custom_widget_manager():
    with open(os.environ["FAKE_COLAB_CALLS"], "a") as calls:
        calls.write(json.dumps("enable_custom_widget_manager") + "\\n")
'''

RUN_CELLS = """
import json, sys
import google.colab  # Colab imports it before any cell runs
from IPython.core.interactiveshell import InteractiveShell

shell = InteractiveShell.instance()
for code in json.load(open(sys.argv[1])):
    result = shell.run_cell(code)
    if not result.success:
        sys.exit(f"cell failed: {code.splitlines()[0]}")
"""


def served_repository(tmp_path: Path) -> str:
    """The working tree (committed or not, nothing ignored) as a git repository, by file:// URL."""
    files = (
        subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    repository = tmp_path / "repository"
    for name in filter(None, files):
        if (PROJECT_ROOT / name).is_file():
            (repository / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(PROJECT_ROOT / name, repository / name)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid", "-C", str(repository)]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "served"]):
        subprocess.run([*git, *command], check=True)
    return repository.as_uri()


def hosted_environment(tmp_path: Path) -> Path:
    """A fresh venv with only what the service provides, pinned as requirements.txt pins it."""
    provided = ("tensorflow-cpu", "tensorflow", "keras", "numpy", "matplotlib", "ipywidgets")
    lines = (PROJECT_ROOT / "requirements.txt").read_text().splitlines()
    pins = [line for line in lines if re.match(rf"({'|'.join(provided)})[<>=!~; ]", line)]
    venv = tmp_path / "hosted"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    uv = Path(sys.executable).parent / "uv"
    subprocess.run([uv, "pip", "install", "--quiet", "--python", venv / "bin" / "python", *pins], check=True)
    return venv / "bin" / "python"


def set_up_cells(name: str, url: str) -> list[str]:
    """The notebook's Colab cell, with this URL, and its code cells up to and including its Set-up's."""
    notebook = nbformat.read(PROJECT_ROOT / "notebooks" / name, as_version=4)
    cells = [
        c
        for c in notebook.cells
        if c.cell_type == "code" and colab_cells.TAG not in c.metadata.get("tags", [])
    ]
    first = next(i for i, cell in enumerate(cells) if "import helpers" in cell.source)
    return [colab_cells.setup_source(url), *(cell.source for cell in cells[: first + 1])]


@pytest.mark.deploy  # make test-deploy: it builds a virtual environment
@pytest.mark.slow
def test_a_hosted_service_installs_the_helpers_and_runs_the_set_up_of_01_and_07(tmp_path, tiny_model):
    url, python = served_repository(tmp_path), hosted_environment(tmp_path)
    fake = tmp_path / "fake" / "google" / "colab"  # google/ stays a namespace: google.protobuf is there too
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("from . import output\n")
    (fake / "output.py").write_text(FAKE_COLAB)
    content = tmp_path / "content"  # Colab's working folder
    (content / "artifacts" / "smoke").mkdir(parents=True)
    from helpers import artifacts, beyond

    with pytest.MonkeyPatch.context() as patch:  # 07 loads both recipes' runs: tiny ones do for its set-up
        patch.setenv("MNIST_SERIES_MODE", "smoke")
        patch.setenv("MNIST_ARTIFACTS", str(content / "artifacts"))
        for seed, name in enumerate(("sequential", "functional")):
            artifacts.save_run(
                name, tiny_model(seed), {"loss": [1.0]}, {"mode": "smoke", "test_accuracy": 0.5}
            )
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MNIST_", "VIRTUAL_ENV"))}
    env |= {
        "MNIST_SERIES_MODE": "smoke",
        "MNIST_NPZ": os.environ.get("MNIST_NPZ", ""),
        "PYTHONPATH": str(fake.parent.parent),
    }
    env["FAKE_COLAB_CALLS"] = str(tmp_path / "calls.jsonl")
    (tmp_path / "run_cells.py").write_text(RUN_CELLS)
    (tmp_path / "check.py").write_text(
        "import helpers, helpers.handwriting as h\nprint(helpers.__file__)\nprint(len(h.load_samples()))\n"
        "print(len(helpers.beyond.stored_ladder()['runs']))\n"
    )
    for notebook in ("01_loading_data.ipynb", "07_your_own_digits.ipynb"):
        cells = tmp_path / f"{notebook}.json"
        cells.write_text(json.dumps(set_up_cells(notebook, url)))
        ran = subprocess.run(
            [python, tmp_path / "run_cells.py", cells],
            cwd=content,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert ran.returncode == 0, ran.stdout + ran.stderr
        assert "Mode: smoke" in ran.stdout and "Traceback" not in ran.stdout + ran.stderr
    assert "Sequential network: 50.00% of the test digits right" in ran.stdout
    calls = (tmp_path / "calls.jsonl").read_text().splitlines()
    assert calls == ['"enable_custom_widget_manager"'] * 2
    check = subprocess.run(
        [python, tmp_path / "check.py"], cwd=content, env=env, capture_output=True, text=True
    )
    installed, samples, study_runs = check.stdout.split()
    assert Path(installed).is_relative_to(python.parent.parent) and "site-packages" in installed, installed
    assert int(samples) >= 10  # the sample drawings and photos came with the package
    assert int(study_runs) == len(
        json.loads((beyond.RESULTS_FOLDERS[0] / beyond.STUDY).read_text())["runs"]
    )  # notebook 08's study
